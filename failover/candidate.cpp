// The choice of the standby to promote (see candidate.hpp).
#include "failover/candidate.hpp"

#include <algorithm>

namespace pgr::failover {
namespace {

std::optional<RejectedCandidate> check(std::size_t index, const CandidateNode& node,
                                       const FailedPrimary& failed,
                                       const CandidatePolicy& policy) {
  const auto reject = [&](Rejection why, std::string what) {
    return std::optional<RejectedCandidate>(
        RejectedCandidate{index, why, node.name + ": " + std::move(what)});
  };
  if (!node.up) return reject(Rejection::not_up, "not up");
  if (!node.standby) return reject(Rejection::not_standby, "not a standby");
  if (node.system_identifier != failed.system_identifier) {
    return reject(Rejection::other_system, "system identifier differs from the primary's");
  }
  if (node.timeline != failed.timeline) {
    return reject(Rejection::other_timeline, "on timeline " + std::to_string(node.timeline) +
                                                 ", the primary was on " +
                                                 std::to_string(failed.timeline));
  }
  const std::uint64_t lag =
      failed.last_known_lsn > node.received_lsn ? failed.last_known_lsn - node.received_lsn : 0;
  if (policy.max_lag_bytes && lag > *policy.max_lag_bytes) {
    return reject(Rejection::too_far_behind, std::to_string(lag) + " bytes behind (max " +
                                                 std::to_string(*policy.max_lag_bytes) + ")");
  }
  if (const auto& sync = policy.sync_standby_names) {
    if (std::find(sync->begin(), sync->end(), node.name) == sync->end()) {
      return reject(Rejection::not_sync_standby, "not a synchronous standby");
    }
  }
  return std::nullopt;
}

// Strict "a is a better candidate than b": received LSN, then weight, then name.
bool better(const CandidateNode& a, const CandidateNode& b) {
  if (a.received_lsn != b.received_lsn) return a.received_lsn > b.received_lsn;
  if (a.weight > b.weight || a.weight < b.weight) return a.weight > b.weight;
  return a.name < b.name;
}

}  // namespace

std::string_view to_string(Rejection rejection) {
  switch (rejection) {
    case Rejection::not_up: return "not_up";
    case Rejection::not_standby: return "not_standby";
    case Rejection::other_system: return "other_system";
    case Rejection::other_timeline: return "other_timeline";
    case Rejection::too_far_behind: return "too_far_behind";
    case Rejection::not_sync_standby: return "not_sync_standby";
    case Rejection::sync_quorum_incomplete: return "sync_quorum_incomplete";
  }
  return "?";
}

CandidateChoice choose_candidate(std::span<const CandidateNode> candidates,
                                 const FailedPrimary& failed, const CandidatePolicy& policy) {
  CandidateChoice choice;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (auto rejected = check(i, candidates[i], failed, policy)) {
      choice.rejected.push_back(std::move(*rejected));
    } else if (!choice.chosen || better(candidates[i], candidates[*choice.chosen])) {
      choice.chosen = i;
    }
  }
  if (choice.chosen && policy.sync_standby_names) {
    // Quorum commit: the best of fewer than `sync_needed` qualifying synchronous standbys may
    // lack commits that only the others acknowledged. Promote nobody rather than lose them.
    const std::size_t qualifying = candidates.size() - choice.rejected.size();
    if (qualifying < policy.sync_needed) {
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        const bool rejected = std::any_of(choice.rejected.begin(), choice.rejected.end(),
                                          [i](const RejectedCandidate& r) { return r.index == i; });
        if (!rejected) {
          choice.rejected.push_back(RejectedCandidate{
              i, Rejection::sync_quorum_incomplete,
              candidates[i].name + ": only " + std::to_string(qualifying) + " of the " +
                  std::to_string(policy.sync_needed) +
                  " synchronous standbys needed to be sure of every commit qualify"});
        }
      }
      choice.chosen.reset();
    }
  }
  if (choice.chosen) return choice;
  if (candidates.empty()) {
    choice.reason = "no standby is configured";
    return choice;
  }
  choice.reason = "no standby qualifies:";
  for (const RejectedCandidate& rejected : choice.rejected) {
    choice.reason += (&rejected == &choice.rejected.front() ? " " : "; ") + rejected.detail;
  }
  return choice;
}

}  // namespace pgr::failover
