// The failover plan's vocabulary: event constructors and the names of events, actions,
// modes and results, for logs and tests (see failover_plan.hpp).
#include "failover/failover_plan.hpp"

namespace pgr::failover {
namespace {

Event make(EventKind kind, std::size_t node = 0) {
  Event e;
  e.kind = kind;
  e.node = node;
  return e;
}

}  // namespace

Event Event::primary_confirmed_down() { return make(EventKind::primary_confirmed_down); }
Event Event::applied() { return make(EventKind::applied); }
Event Event::promote_succeeded() { return make(EventKind::promote_succeeded); }

Event Event::promote_failed(std::string reason) {
  Event e = make(EventKind::promote_failed);
  e.text = std::move(reason);
  return e;
}

Event Event::command_exited(int exit_code) {
  Event e = make(EventKind::command_exited);
  e.exit_code = exit_code;
  return e;
}

Event Event::command_timed_out() { return make(EventKind::command_timed_out); }

Event Event::candidate_accepts_writes(std::size_t node, std::uint32_t timeline) {
  Event e = make(EventKind::candidate_accepts_writes, node);
  e.timeline = timeline;
  return e;
}

Event Event::timeline_history(std::string content) {
  Event e = make(EventKind::timeline_history);
  e.text = std::move(content);
  return e;
}

Event Event::timeline_history_failed(std::string reason) {
  Event e = make(EventKind::timeline_history_failed);
  e.text = std::move(reason);
  return e;
}

Event Event::standby_position(std::size_t node, std::uint32_t timeline,
                              protocol::lsn_t replay_lsn) {
  Event e = make(EventKind::standby_position, node);
  e.timeline = timeline;
  e.replay_lsn = replay_lsn;
  return e;
}

Event Event::standby_unreachable(std::size_t node, std::string reason) {
  Event e = make(EventKind::standby_unreachable, node);
  e.text = std::move(reason);
  return e;
}

Event Event::repoint_succeeded(std::size_t node) {
  return make(EventKind::repoint_succeeded, node);
}

Event Event::repoint_failed(std::size_t node, std::string reason) {
  Event e = make(EventKind::repoint_failed, node);
  e.text = std::move(reason);
  return e;
}

Event Event::standby_streaming(std::size_t node, bool from_primary, std::uint32_t timeline) {
  Event e = make(EventKind::standby_streaming, node);
  e.from_primary = from_primary;
  e.timeline = timeline;
  return e;
}

Event Event::deadline_passed() { return make(EventKind::deadline_passed); }

std::string_view to_string(EventKind kind) {
  switch (kind) {
    case EventKind::primary_confirmed_down: return "primary_confirmed_down";
    case EventKind::applied: return "applied";
    case EventKind::promote_succeeded: return "promote_succeeded";
    case EventKind::promote_failed: return "promote_failed";
    case EventKind::command_exited: return "command_exited";
    case EventKind::command_timed_out: return "command_timed_out";
    case EventKind::candidate_accepts_writes: return "candidate_accepts_writes";
    case EventKind::timeline_history: return "timeline_history";
    case EventKind::timeline_history_failed: return "timeline_history_failed";
    case EventKind::standby_position: return "standby_position";
    case EventKind::standby_unreachable: return "standby_unreachable";
    case EventKind::repoint_succeeded: return "repoint_succeeded";
    case EventKind::repoint_failed: return "repoint_failed";
    case EventKind::standby_streaming: return "standby_streaming";
    case EventKind::deadline_passed: return "deadline_passed";
  }
  return "?";
}

std::string_view to_string(ActionKind kind) {
  switch (kind) {
    case ActionKind::idle: return "idle";
    case ActionKind::fence: return "fence";
    case ActionKind::detach: return "detach";
    case ActionKind::mark_following: return "mark_following";
    case ActionKind::mark_diverged: return "mark_diverged";
    case ActionKind::attach: return "attach";
    case ActionKind::promote: return "promote";
    case ActionKind::run_failover_command: return "run_failover_command";
    case ActionKind::wait_for_writable: return "wait_for_writable";
    case ActionKind::fetch_timeline_history: return "fetch_timeline_history";
    case ActionKind::probe_standby: return "probe_standby";
    case ActionKind::repoint: return "repoint";
    case ActionKind::run_follow_command: return "run_follow_command";
    case ActionKind::run_rewind_command: return "run_rewind_command";
    case ActionKind::wait_for_streaming: return "wait_for_streaming";
    case ActionKind::done: return "done";
    case ActionKind::abort: return "abort";
  }
  return "?";
}

std::string_view to_string(FollowResult result) {
  switch (result) {
    case FollowResult::pending: return "pending";
    case FollowResult::attached: return "attached";
    case FollowResult::not_streaming: return "not_streaming";
    case FollowResult::repoint_failed: return "repoint_failed";
    case FollowResult::unreachable: return "unreachable";
    case FollowResult::diverged: return "diverged";
    case FollowResult::no_history: return "no_history";
  }
  return "?";
}

std::string_view to_string(FailoverResult result) {
  switch (result) {
    case FailoverResult::in_progress: return "in_progress";
    case FailoverResult::promoted: return "promoted";
    case FailoverResult::manual: return "manual";
    case FailoverResult::aborted: return "aborted";
  }
  return "?";
}

std::string_view to_string(FailoverMode mode) {
  switch (mode) {
    case FailoverMode::builtin: return "builtin";
    case FailoverMode::command: return "command";
    case FailoverMode::manual: return "manual";
  }
  return "?";
}

}  // namespace pgr::failover
