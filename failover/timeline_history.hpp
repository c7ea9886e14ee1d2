// Timeline history files (pg_wal/0000000N.history, or TIMELINE_HISTORY N over replication):
// parsing their content, and the question a follower needs answered — can a standby on
// timeline T at replay position R switch to timeline N without a rewind?
// Pure: text in, values out.
//
// Thread rules: free functions over values; callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/lsn.hpp"

namespace pgr::failover {

// One line of a history file: `timeline` was left for its child at `switchpoint`.
struct TimelineSwitch {
  std::uint32_t timeline = 0;
  protocol::lsn_t switchpoint = 0;
  std::string reason;  // free text PostgreSQL wrote ("no recovery target specified")
};

struct TimelineHistory {
  std::uint32_t timeline = 1;             // N: the timeline whose history this is
  std::vector<TimelineSwitch> ancestors;  // oldest first; timelines strictly increasing, < N
};

struct HistoryError {
  int line = 0;  // 1-based; 0 when the problem is the file as a whole
  std::string problem;
  std::string to_string() const;  // "line 3: ..." or the problem alone
};

struct HistoryParseResult {
  std::optional<TimelineHistory> history;  // nullopt exactly when error is set
  std::optional<HistoryError> error;
};

// Parses the content of timeline `timeline`'s history file. Lines are
// "parentTLI<TAB>switchpoint<TAB>reason" with a %X/%X switchpoint; blank lines and lines
// starting with '#' (after leading blanks) are ignored; the reason may be missing. Timeline 1
// has no file: pass "" to get an empty history.
[[nodiscard]] HistoryParseResult parse_timeline_history(std::string_view content,
                                                        std::uint32_t timeline);

enum class FollowVerdict : std::uint8_t {
  follows,           // the standby can switch to timeline N as it is (or is on it already)
  diverged,          // it replayed past the point where its timeline forked: needs pg_rewind
  unknown_timeline,  // its timeline is not in N's lineage (or is newer than N)
};

struct FollowCheck {
  FollowVerdict verdict = FollowVerdict::unknown_timeline;
  // Where the standby's timeline ended in N's lineage; nullopt when it is N itself or unknown.
  std::optional<protocol::lsn_t> switchpoint;
};

// A standby on `standby_timeline` that replayed up to `replay_lsn` follows timeline N without a
// rewind only if its timeline is N, or is in N's history and replay_lsn <= the switchpoint
// where it ended (PostgreSQL's own test when it rescans for a newer timeline).
[[nodiscard]] FollowCheck check_follow(const TimelineHistory& history,
                                       std::uint32_t standby_timeline,
                                       protocol::lsn_t replay_lsn);

std::string_view to_string(FollowVerdict verdict);

}  // namespace pgr::failover
