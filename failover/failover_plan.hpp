// One failover, from "the primary is confirmed down" to "done" or "abort", as a pure state
// machine: the I/O layer feeds events (what happened) with the time, and gets back the next
// action (what to do), in the manner of Boost.MySQL's sansio next_action. No sockets, no
// processes, no clock of its own, so every path is a sequence test.
//
// The sequence: choose the standby to promote (failover/candidate.hpp) → fence the failed
// primary → promote it (builtin: pg_promote; command: failover_command) → wait until a node
// accepts writes on a newer timeline → fetch that timeline's history → for each other standby:
// probe its replay position; at or before its switch point (failover/timeline_history.hpp) →
// mark it following and repoint it (builtin: ALTER SYSTEM; command: follow_primary_command);
// past it → mark it diverged and run rewind_command → wait until the repointed standbys stream
// from the new primary on the new timeline, attaching each as it does → done. Manual mode only
// detaches the failed primary. A failed or timed-out promotion aborts: pgrouter promoted no
// node, the failed primary stays fenced (it may have been half promoted over), and the reason
// says so. The plan never reaches the follow steps before a node accepts writes.
//
// Thread rules: a FailoverPlan belongs to the main thread's failover coordinator, which runs
// at most one at a time (so failover is single-flight by construction). Not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failover/candidate.hpp"
#include "failover/failover_settings.hpp"
#include "failover/timeline_history.hpp"
#include "protocol/lsn.hpp"

namespace pgr::failover {

using TimePoint = std::chrono::steady_clock::time_point;

// A configured backend as the last probe saw it when failover started.
struct PlanNode {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  std::string data_directory;  // "" when not configured
  bool up = false;             // in service per the health checker
  bool standby = false;        // answered in recovery
  std::optional<std::uint64_t> system_identifier;
  std::uint32_t timeline = 0;
  protocol::lsn_t received_lsn = 0;  // pg_last_wal_receive_lsn()
  double weight = 1.0;
};

struct PlanInputs {
  std::vector<PlanNode> nodes;     // configuration order: the index is the node id (%d, %m...)
  std::size_t failed_primary = 0;  // index into nodes
  FailedPrimary failed;            // its identity, timeline and last known LSN
  FailoverSettings settings;
};

enum class EventKind : std::uint8_t {
  primary_confirmed_down,    // starts the plan
  applied,                   // a state change (fence ... attach) is recorded
  promote_succeeded,         // pg_promote() returned true
  promote_failed,            // pg_promote() returned false or failed (text: why)
  command_exited,            // exit_code; a signal counts as 128 + its number
  command_timed_out,         // killed at the action's deadline
  candidate_accepts_writes,  // node answered not in recovery, on timeline
  timeline_history,          // text: the history file's content
  timeline_history_failed,   // text: why it could not be fetched
  standby_position,          // node is on timeline, replayed up to replay_lsn
  standby_unreachable,       // node could not be probed (text: why)
  repoint_succeeded,         // ALTER SYSTEM + pg_reload_conf() done on node
  repoint_failed,            // text: why
  standby_streaming,         // node's WAL receiver streams (from_primary: from the new one)
  deadline_passed,           // the pending action's deadline passed (any action that has
                             // one; for a command it is the same as command_timed_out)
};

struct Event {
  EventKind kind = EventKind::applied;
  std::size_t node = 0;
  std::uint32_t timeline = 0;
  protocol::lsn_t replay_lsn = 0;
  int exit_code = 0;
  bool from_primary = false;
  std::string text;

  static Event primary_confirmed_down();
  static Event applied();
  static Event promote_succeeded();
  static Event promote_failed(std::string reason);
  static Event command_exited(int exit_code);
  static Event command_timed_out();
  static Event candidate_accepts_writes(std::size_t node, std::uint32_t timeline);
  static Event timeline_history(std::string content);
  static Event timeline_history_failed(std::string reason);
  static Event standby_position(std::size_t node, std::uint32_t timeline,
                                protocol::lsn_t replay_lsn);
  static Event standby_unreachable(std::size_t node, std::string reason);
  static Event repoint_succeeded(std::size_t node);
  static Event repoint_failed(std::size_t node, std::string reason);
  static Event standby_streaming(std::size_t node, bool from_primary, std::uint32_t timeline);
  static Event deadline_passed();
};

enum class ActionKind : std::uint8_t {
  idle,  // nothing to do until primary_confirmed_down
  // State changes: record AttachState (fenced, detached, following, diverged, attached) for
  // `node` with `reason` in the routing view and the state file; answer `applied`.
  fence,
  detach,
  mark_following,
  mark_diverged,  // also carries the switchpoint it went past
  attach,
  // Work: each names the events that answer it.
  promote,                 // SELECT pg_promote(true, timeout) on node: promote_succeeded/failed
  run_failover_command,    // /bin/sh -c command, killed at deadline: command_exited/timed_out
  wait_for_writable,       // probe node (any_node: every up node but the failed primary) until
                           // one is not in recovery: candidate_accepts_writes, deadline_passed
  fetch_timeline_history,  // TIMELINE_HISTORY timeline on node: timeline_history(_failed)
  probe_standby,           // timeline + pg_last_wal_replay_lsn(): standby_position/unreachable
  repoint,                 // ALTER SYSTEM SET primary_conninfo (to target), pg_reload_conf()
                           // on node: repoint_succeeded/failed
  run_follow_command,      // as run_failover_command
  run_rewind_command,      // as run_failover_command
  wait_for_streaming,      // probe nodes until deadline: standby_streaming for each, then
                           // deadline_passed; asked again (same deadline) after each attach
  done,                    // finished; reason is the summary (see outcome())
  abort,                   // finished without a new primary; reason says why
};

std::string_view to_string(EventKind kind);
std::string_view to_string(ActionKind kind);

struct Action {
  ActionKind kind = ActionKind::idle;
  std::size_t node = 0;
  std::size_t target = 0;            // repoint: the new primary
  std::uint32_t timeline = 0;        // fetch_timeline_history
  protocol::lsn_t switchpoint = 0;   // mark_diverged
  bool any_node = false;             // wait_for_writable in command mode
  std::vector<std::size_t> nodes;    // wait_for_streaming: still awaited
  std::string command;               // run_*_command: expanded for /bin/sh -c
  std::string reason;                // state changes, done, abort
  std::chrono::milliseconds timeout{0};  // promote (pg_promote's wait) and commands
  TimePoint deadline{};  // promote, repoint, commands, waits: feed deadline_passed then
};

// One action's lifetime, for the log: "promote node1: ok in 812 ms".
struct StepRecord {
  ActionKind kind = ActionKind::idle;
  std::size_t node = 0;
  TimePoint started{};
  std::optional<TimePoint> finished;
  std::string outcome;  // "ok", "exit code 1", "timed out", ...
};

enum class FollowResult : std::uint8_t {
  pending,
  attached,        // streams from the new primary on the new timeline
  not_streaming,   // repointed, but not streaming by the deadline: stays following
  repoint_failed,  // stays following
  unreachable,     // down or not answering: stays following
  diverged,        // stays diverged (rewind_command, if any, has run)
  no_history,      // the new timeline's history was not available: stays following
};

std::string_view to_string(FollowResult result);

struct StandbyOutcome {
  std::size_t node = 0;
  FollowResult result = FollowResult::pending;
  std::string detail;
};

enum class FailoverResult : std::uint8_t { in_progress, promoted, manual, aborted };

std::string_view to_string(FailoverResult result);

struct FailoverOutcome {
  FailoverResult result = FailoverResult::in_progress;
  std::optional<std::size_t> new_primary;
  std::uint32_t new_timeline = 0;
  // The failed primary's last known LSN minus the new primary's received LSN, when positive:
  // acknowledged asynchronous commits that may be lost.
  std::optional<std::uint64_t> wal_bytes_possibly_lost;
  std::vector<StandbyOutcome> standbys;  // every node but the failed and the new primary
  std::string summary;
};

class FailoverPlan {
 public:
  explicit FailoverPlan(PlanInputs inputs);

  // Feeds one event at `now` and returns what to do next. An event the pending action does
  // not expect (a late or unrelated report) is ignored: the pending action comes back
  // unchanged, and ignored_events() counts it. After done/abort every event returns it again.
  [[nodiscard]] Action next(const Event& event, TimePoint now);

  [[nodiscard]] bool finished() const;
  const Action& pending() const { return pending_; }
  const std::vector<StepRecord>& steps() const { return steps_; }
  const FailoverOutcome& outcome() const { return outcome_; }
  const PlanInputs& inputs() const { return inputs_; }
  std::optional<std::size_t> chosen_candidate() const { return chosen_; }
  std::size_t ignored_events() const { return ignored_events_; }

 private:
  bool expects(const Event& event) const;
  Action dispatch(const Event& event, TimePoint now);
  Action start(TimePoint now);
  Action on_applied(TimePoint now);
  Action promote_step(TimePoint now);
  Action on_promotion_result(const Event& event, TimePoint now);
  Action on_writable(const Event& event, TimePoint now);
  Action on_history(const Event& event, TimePoint now);
  Action next_follower(TimePoint now);
  Action on_position(const Event& event, TimePoint now);
  Action repoint_step(TimePoint now);
  Action on_follow_result(const Event& event, TimePoint now);
  Action on_rewind_result(const Event& event, TimePoint now);
  Action on_streaming(const Event& event, TimePoint now);
  Action wait_for_streaming(TimePoint now);
  Action finish(FailoverResult result, TimePoint now);
  Action fail(std::string reason, TimePoint now);

  Action emit(Action action, TimePoint now);
  void finish_step(TimePoint now, std::string outcome);
  std::string name(std::size_t node) const;
  StandbyOutcome& current_follower();
  std::optional<std::string> expand(const std::string& command_template, std::size_t node,
                                    std::size_t new_main, std::string& error) const;
  std::string summary(TimePoint now) const;

  PlanInputs inputs_;
  Action pending_;
  TimePoint started_at_{};
  std::optional<std::size_t> chosen_;
  std::string failover_command_;  // command mode: expanded once the candidate is chosen
  std::optional<TimelineHistory> history_;
  std::string history_problem_;
  std::size_t follower_ = 0;                // index into outcome_.standbys
  std::vector<std::size_t> awaiting_;       // nodes wait_for_streaming still waits for
  TimePoint streaming_deadline_{};
  std::vector<StepRecord> steps_;
  FailoverOutcome outcome_;
  std::size_t ignored_events_ = 0;
};

}  // namespace pgr::failover
