// Read eligibility and weighted choice (see read_balancer.hpp).
#include "proxy/read_balancer.hpp"

#include <vector>

namespace pgr::proxy {

std::string_view describe(ReadRefusal refusal) {
  switch (refusal) {
    case ReadRefusal::none: return "eligible";
    case ReadRefusal::not_standby: return "not a standby";
    case ReadRefusal::down: return "down";
    case ReadRefusal::zero_weight: return "weight 0";
    case ReadRefusal::lag_unknown: return "lag unknown";
    case ReadRefusal::too_far_behind: return "over the lag limit";
    case ReadRefusal::not_fresh_for_session: return "has not replayed this session's writes";
  }
  return "?";
}

ReadRefusal standby_refusal(const health::ClusterView& view, const health::NodeView& node,
                            const ReadPolicy& policy, ReadYourWrites* session_writes) {
  if (node.role != health::NodeRole::standby) return ReadRefusal::not_standby;
  if (node.status != health::NodeStatus::up) return ReadRefusal::down;
  if (node.weight <= 0.0) return ReadRefusal::zero_weight;
  if (policy.max_lag_bytes) {
    if (!node.lag_bytes) return ReadRefusal::lag_unknown;
    if (*node.lag_bytes > *policy.max_lag_bytes) return ReadRefusal::too_far_behind;
  }
  if (policy.max_lag) {
    if (!node.lag) return ReadRefusal::lag_unknown;
    if (*node.lag > *policy.max_lag) return ReadRefusal::too_far_behind;
  }
  if (session_writes != nullptr && !session_writes->allows(view, node)) {
    return ReadRefusal::not_fresh_for_session;
  }
  return ReadRefusal::none;
}

ReadChoice choose_reader(const health::ClusterView& view, const ReadPolicy& policy,
                         ReadYourWrites* session_writes, double random01,
                         const std::vector<bool>& excluded) {
  const auto is_excluded = [&](std::size_t i) { return i < excluded.size() && excluded[i]; };
  struct Candidate {
    std::size_t index;
    double weight;
  };
  std::vector<Candidate> candidates;
  double total = 0;
  for (const auto& node : view.nodes) {
    if (is_excluded(node.index)) continue;
    if (standby_refusal(view, node, policy, session_writes) != ReadRefusal::none) continue;
    candidates.push_back({node.index, node.weight});
    total += node.weight;
  }
  const health::NodeView* primary = view.primary_node();
  const bool primary_usable =
      primary != nullptr && primary->status != health::NodeStatus::down && !is_excluded(primary->index);
  if (candidates.empty()) {
    if (!primary_usable) return {};
    return {primary->index, true};
  }
  if (policy.primary_reads && primary_usable && primary->weight > 0.0) {
    candidates.push_back({primary->index, primary->weight});
    total += primary->weight;
  }
  double point = random01 * total;
  for (const auto& c : candidates) {
    if (point < c.weight) return {c.index, false};
    point -= c.weight;
  }
  return {candidates.back().index, false};  // random01 at the top edge of rounding
}

}  // namespace pgr::proxy
