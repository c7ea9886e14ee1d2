// The failover state machine (see failover_plan.hpp): which events each pending action
// accepts, and the action each one leads to.
#include "failover/failover_plan.hpp"

#include <algorithm>

#include "failover/placeholders.hpp"

namespace pgr::failover {
namespace {

Action action(ActionKind kind, std::size_t node, std::string reason = {}) {
  Action a;
  a.kind = kind;
  a.node = node;
  a.reason = std::move(reason);
  return a;
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

std::string ms_between(TimePoint from, TimePoint to) {
  return ms(std::chrono::duration_cast<std::chrono::milliseconds>(to - from));
}

std::string tli(std::uint32_t timeline) { return "timeline " + std::to_string(timeline); }

bool is_state_change(ActionKind kind) {
  return kind == ActionKind::fence || kind == ActionKind::detach ||
         kind == ActionKind::mark_following || kind == ActionKind::mark_diverged ||
         kind == ActionKind::attach;
}

bool is_command(ActionKind kind) {
  return kind == ActionKind::run_failover_command || kind == ActionKind::run_follow_command ||
         kind == ActionKind::run_rewind_command;
}

// "exit code 1", "timed out after 60000 ms" or "" for success.
std::string command_failure(const Event& event, std::chrono::milliseconds timeout) {
  if (event.kind == EventKind::command_timed_out || event.kind == EventKind::deadline_passed) {
    return "timed out after " + ms(timeout);
  }
  if (event.exit_code != 0) return "exited with code " + std::to_string(event.exit_code);
  return "";
}

}  // namespace

FailoverPlan::FailoverPlan(PlanInputs inputs) : inputs_(std::move(inputs)) {
  pending_.kind = ActionKind::idle;
}

bool FailoverPlan::finished() const {
  return pending_.kind == ActionKind::done || pending_.kind == ActionKind::abort;
}

Action FailoverPlan::next(const Event& event, TimePoint now) {
  if (!expects(event)) {
    ++ignored_events_;
    return pending_;
  }
  return dispatch(event, now);
}

bool FailoverPlan::expects(const Event& e) const {
  const auto is = [&](EventKind a, EventKind b) { return e.kind == a || e.kind == b; };
  const ActionKind kind = pending_.kind;
  if (kind == ActionKind::idle) return e.kind == EventKind::primary_confirmed_down;
  if (is_state_change(kind)) return e.kind == EventKind::applied;
  // Every action with a deadline takes deadline_passed; for a command it means timed out.
  if (e.kind == EventKind::deadline_passed) {
    return is_command(kind) || kind == ActionKind::promote || kind == ActionKind::repoint ||
           kind == ActionKind::wait_for_writable || kind == ActionKind::wait_for_streaming;
  }
  if (is_command(kind)) return is(EventKind::command_exited, EventKind::command_timed_out);
  switch (kind) {
    case ActionKind::promote:
      return is(EventKind::promote_succeeded, EventKind::promote_failed);
    case ActionKind::wait_for_writable:
      return e.kind == EventKind::candidate_accepts_writes && e.node < inputs_.nodes.size() &&
             e.node != inputs_.failed_primary && (pending_.any_node || e.node == pending_.node);
    case ActionKind::fetch_timeline_history:
      return is(EventKind::timeline_history, EventKind::timeline_history_failed);
    case ActionKind::probe_standby:
      return is(EventKind::standby_position, EventKind::standby_unreachable) &&
             e.node == pending_.node;
    case ActionKind::repoint:
      return is(EventKind::repoint_succeeded, EventKind::repoint_failed) &&
             e.node == pending_.node;
    case ActionKind::wait_for_streaming:
      return e.kind == EventKind::standby_streaming &&
             std::find(awaiting_.begin(), awaiting_.end(), e.node) != awaiting_.end();
    default:
      return false;  // done, abort
  }
}

Action FailoverPlan::dispatch(const Event& event, TimePoint now) {
  switch (pending_.kind) {
    case ActionKind::idle: return start(now);
    case ActionKind::fence:
    case ActionKind::detach:
    case ActionKind::mark_following:
    case ActionKind::mark_diverged:
    case ActionKind::attach: return on_applied(now);
    case ActionKind::promote:
    case ActionKind::run_failover_command: return on_promotion_result(event, now);
    case ActionKind::wait_for_writable: return on_writable(event, now);
    case ActionKind::fetch_timeline_history: return on_history(event, now);
    case ActionKind::probe_standby: return on_position(event, now);
    case ActionKind::repoint:
    case ActionKind::run_follow_command: return on_follow_result(event, now);
    case ActionKind::run_rewind_command: return on_rewind_result(event, now);
    case ActionKind::wait_for_streaming: return on_streaming(event, now);
    case ActionKind::done:
    case ActionKind::abort: return pending_;
  }
  return pending_;
}

Action FailoverPlan::start(TimePoint now) {
  started_at_ = now;
  const FailoverSettings& s = inputs_.settings;
  const std::size_t failed = inputs_.failed_primary;
  if (failed >= inputs_.nodes.size()) {
    return fail("the failed primary is not a configured node", now);
  }
  if (s.mode == FailoverMode::manual) {
    return emit(action(ActionKind::detach, failed,
                       "primary down; failover mode is manual: waiting for an operator"),
                now);
  }
  if (s.mode == FailoverMode::command && s.failover_command.empty()) {
    return fail("failover mode is command but failover_command is empty; no node was promoted",
                now);
  }
  std::vector<CandidateNode> candidates;
  for (std::size_t i = 0; i < inputs_.nodes.size(); ++i) {
    const PlanNode& n = inputs_.nodes[i];
    candidates.push_back({n.name, n.up && i != failed, n.standby, n.system_identifier,
                          n.timeline, n.received_lsn, n.weight});
  }
  const CandidatePolicy policy{s.max_lag_on_failover, s.sync_standby_names, s.sync_needed};
  const CandidateChoice choice = choose_candidate(candidates, inputs_.failed, policy);
  if (!choice.chosen) return fail(choice.reason + "; no node was promoted", now);
  chosen_ = choice.chosen;
  if (s.mode == FailoverMode::command) {
    // Expanded before the fence: a template error stops here with the old primary untouched.
    std::string error;
    auto command = expand(s.failover_command, failed, *chosen_, error);
    if (!command) return fail("failover_command: " + error + "; no node was promoted", now);
    failover_command_ = std::move(*command);
  }
  return emit(action(ActionKind::fence, failed,
                     "primary failed; " + name(*chosen_) + " is being promoted in its place"),
              now);
}

Action FailoverPlan::on_applied(TimePoint now) {
  finish_step(now, "ok");
  switch (pending_.kind) {
    case ActionKind::detach: return finish(FailoverResult::manual, now);
    case ActionKind::fence: return promote_step(now);
    case ActionKind::attach:
      return awaiting_.empty() ? finish(FailoverResult::promoted, now) : wait_for_streaming(now);
    case ActionKind::mark_following:
      // Still pending: it can follow and is to be repointed; otherwise it stays following.
      if (current_follower().result == FollowResult::pending) return repoint_step(now);
      break;
    case ActionKind::mark_diverged: {
      StandbyOutcome& f = current_follower();
      if (inputs_.settings.rewind_command.empty()) break;
      std::string error;
      const auto command = expand(inputs_.settings.rewind_command, f.node, *outcome_.new_primary,
                                  error);
      if (!command) {
        f.detail += "; rewind_command not run: " + error;
        break;
      }
      Action a = action(ActionKind::run_rewind_command, f.node);
      a.command = *command;
      a.timeout = inputs_.settings.command_timeout;
      a.deadline = now + a.timeout;
      return emit(std::move(a), now);
    }
    default: break;
  }
  ++follower_;
  return next_follower(now);
}

Action FailoverPlan::promote_step(TimePoint now) {
  const FailoverSettings& s = inputs_.settings;
  if (s.mode == FailoverMode::builtin) {
    Action a = action(ActionKind::promote, *chosen_);
    a.timeout = s.wait_timeout;
    a.deadline = now + s.wait_timeout;
    return emit(std::move(a), now);
  }
  Action a = action(ActionKind::run_failover_command, *chosen_);
  a.command = failover_command_;
  a.timeout = s.command_timeout;
  a.deadline = now + s.command_timeout;
  return emit(std::move(a), now);
}

Action FailoverPlan::on_promotion_result(const Event& e, TimePoint now) {
  const FailoverSettings& s = inputs_.settings;
  const bool builtin = pending_.kind == ActionKind::promote;
  std::string failure = builtin ? "" : command_failure(e, s.command_timeout);
  if (e.kind == EventKind::promote_failed) failure = e.text.empty() ? "no reason given" : e.text;
  if (builtin && e.kind == EventKind::deadline_passed) {
    failure = "no answer within " + ms(s.wait_timeout);
  }
  if (failure.empty()) {
    finish_step(now, builtin ? "ok" : "exit code 0");
    Action a = action(ActionKind::wait_for_writable, *chosen_);
    a.any_node = !builtin;  // the operator's command may have promoted another node
    a.timeout = builtin ? s.wait_timeout : s.search_primary_timeout;
    a.deadline = now + a.timeout;
    return emit(std::move(a), now);
  }
  finish_step(now, failure);
  const std::string fenced = name(inputs_.failed_primary) + " stays fenced";
  if (builtin) {
    return fail("pg_promote() on " + name(*chosen_) + " failed: " + failure + "; " +
                    name(*chosen_) + " may still finish promoting, " + fenced +
                    ": check the cluster before attaching either",
                now);
  }
  return fail("failover_command " + failure + "; pgrouter promoted no node and " + fenced +
                  ": check the cluster before attaching it",
              now);
}

Action FailoverPlan::on_writable(const Event& e, TimePoint now) {
  const std::size_t failed = inputs_.failed_primary;
  if (e.kind == EventKind::deadline_passed) {
    finish_step(now, "deadline passed");
    return fail("no node accepted writes within " + ms(pending_.timeout) + " of promoting " +
                    name(*chosen_) + "; " + name(failed) + " stays fenced",
                now);
  }
  finish_step(now, name(e.node) + " accepts writes on " + tli(e.timeline));
  if (e.timeline <= inputs_.failed.timeline) {
    return fail(name(e.node) + " accepts writes on " + tli(e.timeline) +
                    ", not newer than the failed primary's " + tli(inputs_.failed.timeline) +
                    ": that is no promotion; nothing was followed and " + name(failed) +
                    " stays fenced",
                now);
  }
  outcome_.new_primary = e.node;
  outcome_.new_timeline = e.timeline;
  const protocol::lsn_t received = inputs_.nodes[e.node].received_lsn;
  if (inputs_.failed.last_known_lsn > received) {
    outcome_.wal_bytes_possibly_lost = inputs_.failed.last_known_lsn - received;
  }
  Action a = action(ActionKind::fetch_timeline_history, e.node);
  a.timeline = e.timeline;
  return emit(std::move(a), now);
}

Action FailoverPlan::on_history(const Event& e, TimePoint now) {
  const std::uint32_t timeline = outcome_.new_timeline;
  if (e.kind == EventKind::timeline_history_failed) {
    history_problem_ = "the history of " + tli(timeline) + " is unavailable: " + e.text;
  } else if (auto parsed = parse_timeline_history(e.text, timeline); !parsed.history) {
    history_problem_ =
        "the history of " + tli(timeline) + " does not parse: " + parsed.error->to_string();
  } else if (std::none_of(parsed.history->ancestors.begin(), parsed.history->ancestors.end(),
                          [&](const TimelineSwitch& s) {
                            return s.timeline == inputs_.failed.timeline;
                          })) {
    // Judging standbys against a lineage that skips the failed primary's timeline would mark
    // them all diverged and run rewind_command on them: too destructive for a surprise.
    history_problem_ = "the history of " + tli(timeline) + " does not contain the failed " +
                       "primary's " + tli(inputs_.failed.timeline);
  } else {
    history_ = std::move(parsed.history);
  }
  finish_step(now, history_ ? "ok" : history_problem_);
  for (std::size_t i = 0; i < inputs_.nodes.size(); ++i) {
    if (i != inputs_.failed_primary && i != *outcome_.new_primary) {
      outcome_.standbys.push_back({i, FollowResult::pending, ""});
    }
  }
  follower_ = 0;
  return next_follower(now);
}

Action FailoverPlan::next_follower(TimePoint now) {
  if (follower_ >= outcome_.standbys.size()) {
    if (awaiting_.empty()) return finish(FailoverResult::promoted, now);
    streaming_deadline_ = now + inputs_.settings.wait_timeout;
    return wait_for_streaming(now);
  }
  StandbyOutcome& f = outcome_.standbys[follower_];
  const std::string primary = name(*outcome_.new_primary);
  if (!history_) {
    f.result = FollowResult::no_history;
    f.detail = history_problem_;
    return emit(action(ActionKind::mark_following, f.node,
                       "to follow " + primary + ", but " + history_problem_),
                now);
  }
  if (!inputs_.nodes[f.node].up) {
    f.result = FollowResult::unreachable;
    f.detail = "down when failover started";
    return emit(action(ActionKind::mark_following, f.node,
                       "down during the failover to " + primary + "; to be repointed when it "
                       "returns"),
                now);
  }
  return emit(action(ActionKind::probe_standby, f.node), now);
}

Action FailoverPlan::on_position(const Event& e, TimePoint now) {
  StandbyOutcome& f = current_follower();
  const std::string primary = name(*outcome_.new_primary);
  if (e.kind == EventKind::standby_unreachable) {
    finish_step(now, "unreachable: " + e.text);
    f.result = FollowResult::unreachable;
    f.detail = e.text;
    return emit(action(ActionKind::mark_following, f.node,
                       "unreachable during the failover to " + primary + " (" + e.text +
                           "); to be repointed when it returns"),
                now);
  }
  const FollowCheck check = check_follow(*history_, e.timeline, e.replay_lsn);
  const std::string where = tli(e.timeline) + " at " + protocol::format_lsn(e.replay_lsn);
  finish_step(now, where + ": " + std::string(to_string(check.verdict)));
  if (check.verdict == FollowVerdict::follows) {
    return emit(action(ActionKind::mark_following, f.node,
                       "following " + primary + " on " + tli(outcome_.new_timeline) +
                           " (was on " + where + ")"),
                now);
  }
  f.result = FollowResult::diverged;
  f.detail = check.verdict == FollowVerdict::diverged
                 ? "on " + where + ", past the switch point " +
                       protocol::format_lsn(check.switchpoint.value_or(0))
                 : "on " + where + ", a timeline not in the history of " +
                       tli(outcome_.new_timeline);
  Action a = action(ActionKind::mark_diverged, f.node, f.detail + ": needs pg_rewind");
  a.switchpoint = check.switchpoint.value_or(0);
  return emit(std::move(a), now);
}

Action FailoverPlan::repoint_step(TimePoint now) {
  const FailoverSettings& s = inputs_.settings;
  StandbyOutcome& f = current_follower();
  const std::size_t primary = *outcome_.new_primary;
  if (s.mode == FailoverMode::builtin) {
    Action a = action(ActionKind::repoint, f.node);
    a.target = primary;
    a.timeout = s.wait_timeout;
    a.deadline = now + s.wait_timeout;
    return emit(std::move(a), now);
  }
  if (s.follow_primary_command.empty()) {
    // As in pgpool-II without follow_primary_command: failover_command is trusted to have
    // repointed the standbys (seed 003's failover.sh does); we only wait for them to stream.
    f.detail = "repointing left to failover_command";
    awaiting_.push_back(f.node);
  } else {
    std::string error;
    const auto command = expand(s.follow_primary_command, f.node, primary, error);
    if (command) {
      Action a = action(ActionKind::run_follow_command, f.node);
      a.command = *command;
      a.timeout = s.command_timeout;
      a.deadline = now + s.command_timeout;
      return emit(std::move(a), now);
    }
    f.result = FollowResult::repoint_failed;
    f.detail = "follow_primary_command: " + error;
  }
  ++follower_;
  return next_follower(now);
}

Action FailoverPlan::on_follow_result(const Event& e, TimePoint now) {
  StandbyOutcome& f = current_follower();
  std::string failure;
  if (e.kind == EventKind::repoint_failed) {
    failure = "repoint failed: " + e.text;
  } else if (pending_.kind == ActionKind::repoint && e.kind == EventKind::deadline_passed) {
    failure = "repoint failed: no answer within " + ms(inputs_.settings.wait_timeout);
  } else if (pending_.kind == ActionKind::run_follow_command) {
    const std::string why = command_failure(e, inputs_.settings.command_timeout);
    if (!why.empty()) failure = "follow_primary_command " + why;
  }
  finish_step(now, failure.empty() ? "ok" : failure);
  if (failure.empty()) {
    awaiting_.push_back(f.node);
  } else {
    f.result = FollowResult::repoint_failed;
    f.detail = failure;
  }
  ++follower_;
  return next_follower(now);
}

Action FailoverPlan::on_rewind_result(const Event& e, TimePoint now) {
  StandbyOutcome& f = current_follower();
  const std::string why = command_failure(e, inputs_.settings.command_timeout);
  finish_step(now, why.empty() ? "exit code 0" : why);
  if (why.empty()) {
    // Rewound and restarted as a standby of the new primary, it is attached if it streams.
    f.detail += "; rewind_command succeeded";
    awaiting_.push_back(f.node);
  } else {
    f.detail += "; rewind_command " + why;
  }
  ++follower_;
  return next_follower(now);
}

Action FailoverPlan::on_streaming(const Event& e, TimePoint now) {
  const std::string primary = name(*outcome_.new_primary);
  const auto outcome_of = [&](std::size_t node) -> StandbyOutcome& {
    return *std::find_if(outcome_.standbys.begin(), outcome_.standbys.end(),
                         [&](const StandbyOutcome& o) { return o.node == node; });
  };
  if (e.kind == EventKind::deadline_passed) {
    finish_step(now, "deadline passed");
    for (const std::size_t node : awaiting_) {
      StandbyOutcome& f = outcome_of(node);
      const std::string late = "not streaming from " + primary + " within " +
                               ms(inputs_.settings.wait_timeout);
      if (f.result == FollowResult::pending) f.result = FollowResult::not_streaming;
      f.detail += f.detail.empty() ? late : "; " + late;
    }
    awaiting_.clear();
    return finish(FailoverResult::promoted, now);
  }
  if (!e.from_primary || e.timeline != outcome_.new_timeline) return pending_;  // not yet
  const std::string how = "streams from " + primary + " on " + tli(outcome_.new_timeline);
  finish_step(now, name(e.node) + " " + how);
  awaiting_.erase(std::find(awaiting_.begin(), awaiting_.end(), e.node));
  outcome_of(e.node).result = FollowResult::attached;
  return emit(action(ActionKind::attach, e.node, how), now);
}

Action FailoverPlan::wait_for_streaming(TimePoint now) {
  Action a = action(ActionKind::wait_for_streaming, *outcome_.new_primary);
  a.nodes = awaiting_;
  a.timeout = inputs_.settings.wait_timeout;
  a.deadline = streaming_deadline_;
  return emit(std::move(a), now);
}

Action FailoverPlan::finish(FailoverResult result, TimePoint now) {
  outcome_.result = result;
  outcome_.summary = summary(now);
  return emit(action(ActionKind::done, outcome_.new_primary.value_or(inputs_.failed_primary),
                     outcome_.summary),
              now);
}

Action FailoverPlan::fail(std::string reason, TimePoint now) {
  outcome_.result = FailoverResult::aborted;
  outcome_.summary = reason;
  return emit(action(ActionKind::abort, inputs_.failed_primary, std::move(reason)), now);
}

Action FailoverPlan::emit(Action a, TimePoint now) {
  pending_ = std::move(a);
  StepRecord step{pending_.kind, pending_.node, now, std::nullopt, ""};
  if (finished()) {
    step.finished = now;
    step.outcome = std::string(to_string(outcome_.result));
  }
  steps_.push_back(std::move(step));
  return pending_;
}

void FailoverPlan::finish_step(TimePoint now, std::string outcome) {
  if (steps_.empty() || steps_.back().finished) return;
  steps_.back().finished = now;
  steps_.back().outcome = std::move(outcome);
}

std::string FailoverPlan::name(std::size_t node) const {
  return node < inputs_.nodes.size() ? inputs_.nodes[node].name : "node #" + std::to_string(node);
}

StandbyOutcome& FailoverPlan::current_follower() { return outcome_.standbys[follower_]; }

std::optional<std::string> FailoverPlan::expand(const std::string& command_template,
                                                std::size_t node, std::size_t new_main,
                                                std::string& error) const {
  const auto values_of = [&](std::size_t i) {
    const PlanNode& n = inputs_.nodes[i];
    return PlaceholderNode{i, n.host, n.port, n.data_directory};
  };
  PlaceholderValues values;
  values.node = values_of(node);
  values.new_main = values_of(new_main);
  values.old_primary = values_of(inputs_.failed_primary);
  // pgpool's "main node": the lowest-numbered node that was up, counting the failed primary.
  values.old_main_id = inputs_.failed_primary;
  for (std::size_t i = 0; i < inputs_.failed_primary; ++i) {
    if (inputs_.nodes[i].up) {
      values.old_main_id = i;
      break;
    }
  }
  auto expanded = expand_command(command_template, values);
  if (expanded.error) error = expanded.error->to_string();
  return expanded.command;
}

std::string FailoverPlan::summary(TimePoint now) const {
  const std::string failed = name(inputs_.failed_primary);
  const std::string took = " after " + ms_between(started_at_, now);
  if (outcome_.result == FailoverResult::manual) {
    return failed + " detached" + took + "; failover mode is manual: waiting for an operator";
  }
  std::string text = name(*outcome_.new_primary) + " promoted to primary on " +
                     tli(outcome_.new_timeline) + took + "; " + failed + " fenced";
  if (chosen_ && *chosen_ != *outcome_.new_primary) {
    text += "; failover_command promoted it instead of " + name(*chosen_);
  }
  for (const StandbyOutcome& f : outcome_.standbys) {
    text += "; " + name(f.node) + " " + std::string(to_string(f.result));
    if (!f.detail.empty()) text += " (" + f.detail + ")";
  }
  if (outcome_.wal_bytes_possibly_lost) {
    text += "; up to " + std::to_string(*outcome_.wal_bytes_possibly_lost) + " bytes of WAL " +
            "acknowledged by " + failed + " may be lost";
  }
  return text;
}

}  // namespace pgr::failover
