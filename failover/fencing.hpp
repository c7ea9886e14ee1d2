// Rules for a node that shows up again (after being down, at startup against the state file,
// or on each probe while it is out of service): may it carry traffic, must it be repointed,
// or is it fenced (an old or false primary, a foreign or newer-timeline node) or diverged
// (needs pg_rewind)? Pure: the caller passes what it believes and what the probe said.
//
// Thread rules: free functions over values; callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "failover/attach_state.hpp"
#include "failover/timeline_history.hpp"
#include "protocol/lsn.hpp"

namespace pgr::failover {

// What pgrouter believes now.
struct ClusterFacts {
  std::optional<std::string> primary;              // the current primary's name; nullopt: none
  std::uint32_t timeline = 0;                      // the current timeline
  std::optional<std::uint64_t> system_identifier;  // the cluster's; nullopt: not known yet
  std::optional<TimelineHistory> history;          // the current timeline's, once fetched
  bool auto_failback = false;  // may fenced and diverged nodes come back by themselves
};

// What the probe of the returning node said, and how it was recorded.
struct NodeReport {
  std::string name;
  AttachState recorded = AttachState::attached;  // its state in the state file
  bool in_recovery = false;
  std::optional<std::uint64_t> system_identifier;
  std::uint32_t timeline = 0;
  protocol::lsn_t replay_lsn = 0;  // standby: pg_last_wal_replay_lsn()
  std::string wal_receiver_status;  // pg_stat_wal_receiver.status; "" when none runs
  // The configured node its WAL receiver streams from (the caller matches sender_host and
  // sender_port of pg_stat_wal_receiver); nullopt when none, or not a configured node.
  std::optional<std::string> upstream;
};

enum class ReturnVerdict : std::uint8_t {
  attach,   // give it traffic (record attached)
  repoint,  // it can follow the primary without a rewind: repoint it (record following)
  keep,     // no change for now: keep its recorded state and judge the next probe
  fence,    // no traffic (record fenced)
  diverge,  // no traffic until rewound (record diverged; run rewind_command if configured)
};

std::string_view to_string(ReturnVerdict verdict);

struct ReturnDecision {
  ReturnVerdict verdict = ReturnVerdict::keep;
  AttachState next_state = AttachState::attached;  // what to record (the old state for keep)
  std::string reason;  // for the log and the state file: "node0: writable while node1 is ..."
};

// The rules, first match wins:
//  1. another system identifier → fence; an unknown one → keep.
//  2. the current primary itself → attach when writable on the current timeline, else keep
//     (a primary that went into recovery is for primary detection, not for fencing).
//  3. writable (not in recovery) → fence as a false primary; keep when there is no primary.
//  4. a standby on a timeline newer than the current one → fence.
//  5. recorded detached → keep: only an operator re-attaches it.
//  6. on the current timeline, streaming from the primary → attach (fenced and diverged nodes
//     only with auto_failback); otherwise keep.
//  7. on an older timeline: past the switch point, or not in the history → diverge; else,
//     streaming from the primary → keep (it is switching timelines); else → repoint (fenced
//     and diverged nodes only with auto_failback). Unknown history → keep.
[[nodiscard]] ReturnDecision judge_returning_node(const ClusterFacts& facts,
                                                  const NodeReport& node);

}  // namespace pgr::failover
