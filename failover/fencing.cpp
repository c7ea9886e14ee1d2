// Rules for a returning node (see fencing.hpp).
#include "failover/fencing.hpp"

namespace pgr::failover {
namespace {

ReturnDecision decide(ReturnVerdict verdict, AttachState state, const NodeReport& node,
                      const std::string& why) {
  return {verdict, state, node.name + ": " + why};
}

ReturnDecision keep(const NodeReport& node, const std::string& why) {
  return decide(ReturnVerdict::keep, node.recorded, node, why);
}

bool streams_from_primary(const ClusterFacts& facts, const NodeReport& node) {
  return node.wal_receiver_status == "streaming" && node.upstream && facts.primary &&
         *node.upstream == *facts.primary;
}

// Fenced and diverged nodes come back only with auto_failback; following and attached ones
// are part of an ordinary follow.
bool may_return(const ClusterFacts& facts, const NodeReport& node) {
  return facts.auto_failback ||
         (node.recorded != AttachState::fenced && node.recorded != AttachState::diverged);
}

std::string tli(std::uint32_t timeline) { return "timeline " + std::to_string(timeline); }

ReturnDecision judge_writable(const ClusterFacts& facts, const NodeReport& node) {
  if (!facts.primary) {
    return keep(node, "writable on " + tli(node.timeline) +
                          " while pgrouter has no primary: left to primary detection");
  }
  return decide(ReturnVerdict::fence, AttachState::fenced, node,
                "writable on " + tli(node.timeline) + " while " + *facts.primary +
                    " is the primary on " + tli(facts.timeline) + ": a false primary");
}

ReturnDecision judge_current_timeline(const ClusterFacts& facts, const NodeReport& node) {
  if (!streams_from_primary(facts, node)) {
    const std::string status = node.wal_receiver_status.empty() ? "none" : node.wal_receiver_status;
    return keep(node, "not streaming from " + *facts.primary + " (WAL receiver " + status +
                          ", upstream " + node.upstream.value_or("unknown") + ")");
  }
  if (!may_return(facts, node)) {
    return keep(node, "streams from " + *facts.primary + " on " + tli(facts.timeline) +
                          ", but auto_failback is off");
  }
  return decide(ReturnVerdict::attach, AttachState::attached, node,
                "streams from " + *facts.primary + " on " + tli(facts.timeline));
}

ReturnDecision judge_older_timeline(const ClusterFacts& facts, const NodeReport& node) {
  if (!facts.history) return keep(node, "the history of " + tli(facts.timeline) + " is unknown");
  const FollowCheck check = check_follow(*facts.history, node.timeline, node.replay_lsn);
  if (check.verdict == FollowVerdict::unknown_timeline) {
    return decide(ReturnVerdict::diverge, AttachState::diverged, node,
                  tli(node.timeline) + " is not in the history of " + tli(facts.timeline) +
                      ": needs pg_rewind or a new base backup");
  }
  const std::string where = "on " + tli(node.timeline) + " at " +
                            protocol::format_lsn(node.replay_lsn) + ", switch point " +
                            protocol::format_lsn(check.switchpoint.value_or(0));
  if (check.verdict == FollowVerdict::diverged) {
    return decide(ReturnVerdict::diverge, AttachState::diverged, node,
                  where + ": replayed past the switch point, needs pg_rewind");
  }
  if (streams_from_primary(facts, node)) {
    return keep(node, where + ": streaming from " + *facts.primary + ", switching timelines");
  }
  if (!may_return(facts, node)) {
    return keep(node, where + ": could follow " + *facts.primary + ", but auto_failback is off");
  }
  return decide(ReturnVerdict::repoint, AttachState::following, node,
                where + ": repoint it to " + *facts.primary);
}

}  // namespace

std::string_view to_string(ReturnVerdict verdict) {
  switch (verdict) {
    case ReturnVerdict::attach: return "attach";
    case ReturnVerdict::repoint: return "repoint";
    case ReturnVerdict::keep: return "keep";
    case ReturnVerdict::fence: return "fence";
    case ReturnVerdict::diverge: return "diverge";
  }
  return "?";
}

ReturnDecision judge_returning_node(const ClusterFacts& facts, const NodeReport& node) {
  if (facts.system_identifier) {
    if (!node.system_identifier) return keep(node, "system identifier not known yet");
    if (*node.system_identifier != *facts.system_identifier) {
      return decide(ReturnVerdict::fence, AttachState::fenced, node,
                    "system identifier " + std::to_string(*node.system_identifier) +
                        " is not the cluster's " + std::to_string(*facts.system_identifier));
    }
  }
  if (facts.primary && node.name == *facts.primary) {
    if (!node.in_recovery && node.timeline == facts.timeline) {
      return decide(ReturnVerdict::attach, AttachState::attached, node,
                    "the primary, writable on " + tli(facts.timeline));
    }
    return keep(node, std::string("the recorded primary is ") +
                          (node.in_recovery ? "in recovery" : "writable") + " on " +
                          tli(node.timeline) + ", expected writable on " + tli(facts.timeline));
  }
  if (!node.in_recovery) return judge_writable(facts, node);
  if (node.timeline > facts.timeline) {
    return decide(ReturnVerdict::fence, AttachState::fenced, node,
                  "a standby on " + tli(node.timeline) + ", newer than the cluster's " +
                      tli(facts.timeline) + ": it follows another primary");
  }
  if (node.recorded == AttachState::detached) {
    return keep(node, "detached by an operator; only an operator re-attaches it");
  }
  if (!facts.primary) return keep(node, "there is no primary to follow");
  if (node.timeline == facts.timeline) return judge_current_timeline(facts, node);
  return judge_older_timeline(facts, node);
}

}  // namespace pgr::failover
