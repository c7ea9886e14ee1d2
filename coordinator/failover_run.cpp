// One failover, driven (see coordinator.hpp): the FailoverPlan decides, this file does what
// each action asks — state changes, pg_promote(), the operator's commands, probes until a
// node accepts writes, TIMELINE_HISTORY, ALTER SYSTEM primary_conninfo, probes until
// followers stream — and answers with the event the plan expects. Every step is logged with
// its duration; writes resume the moment the new primary accepts them, before any follower
// is repointed.
#include <algorithm>
#include <cmath>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "coordinator/command_runner.hpp"
#include "coordinator/coordinator_state.hpp"
#include "failover/conninfo.hpp"
#include "health/node_probe.hpp"
#include "protocol/lsn.hpp"
#include "support/log.hpp"

namespace pgr::coordinator {
namespace {

using failover::Action;
using failover::ActionKind;
using failover::AttachState;
using failover::Event;
using failover::EventKind;
using std::chrono::milliseconds;

constexpr milliseconds poll_interval{100};
constexpr milliseconds retry_after_abort{3000};

long long ms_since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

milliseconds until(steady_clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()));
}

AttachState state_of(ActionKind kind) {
  switch (kind) {
    case ActionKind::fence: return AttachState::fenced;
    case ActionKind::detach: return AttachState::detached;
    case ActionKind::mark_following: return AttachState::following;
    case ActionKind::mark_diverged: return AttachState::diverged;
    default: return AttachState::attached;
  }
}

std::string describe(const Event& e) {
  std::string text(failover::to_string(e.kind));
  if (e.kind == EventKind::command_exited) text += " " + std::to_string(e.exit_code);
  if (e.kind == EventKind::candidate_accepts_writes || e.kind == EventKind::standby_position ||
      e.kind == EventKind::standby_streaming) {
    text += " timeline " + std::to_string(e.timeline);
  }
  if (e.kind == EventKind::standby_position) text += " at " + protocol::format_lsn(e.replay_lsn);
  if (!e.text.empty() && e.kind != EventKind::timeline_history) text += ": " + e.text;
  return text;
}

}  // namespace

void Coordinator::State::start_failover(const health::ClusterView& raw, std::size_t failed) {
  phase = Phase::failing_over;
  failover_started = steady_clock::now();
  primary.reset();
  publish_overlay();  // writes wait from now on (the health checker applies it at once)
  pgr::log::warn("failover: primary ", label(failed), " confirmed down (",
                 raw.nodes[failed].last_error, "); starting failover, mode ",
                 failover::to_string(settings().mode));
  asio::co_spawn(executor, run_failover(shared_from_this_ptr.lock(), raw, failed),
                 asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr error) {
                   if (!error) return;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     pgr::log::error("failover: ended on an exception: ", e.what());
                   }
                 }));
}

asio::awaitable<void> Coordinator::State::run_failover(std::shared_ptr<State> self,
                                                       health::ClusterView raw,
                                                       std::size_t failed) {
  State& s = *self;
  failover::PlanInputs in;
  for (std::size_t i = 0; i < raw.nodes.size(); ++i) {
    const auto& n = raw.nodes[i];
    const auto& b = s.config->backends[i];
    failover::PlanNode p;
    p.name = n.name;
    p.host = b.host;
    p.port = b.port;
    p.data_directory = b.data_directory.value_or("");
    p.up = i != failed && n.status == health::NodeStatus::up &&
           s.nodes[i].state == AttachState::attached;
    p.standby = n.role == health::NodeRole::standby;
    p.system_identifier = n.system_identifier;
    p.timeline = n.timeline;
    p.received_lsn = n.received_lsn;
    p.weight = n.weight;
    in.nodes.push_back(std::move(p));
  }
  const auto n_timeline = [&raw](std::size_t i) { return raw.nodes[i].timeline; };
  s.detached_conninfo.assign(in.nodes.size(), std::nullopt);
  if (s.settings().mode == failover::FailoverMode::builtin) {
    // A primary that hangs (SIGSTOP, a stalled disk, a cut network) may wake up with commits
    // in flight and stream them: a standby still attached to it would go past the new
    // timeline's switch point and need pg_rewind. Cut every standby off first, then read
    // positions that can no longer move.
    for (std::size_t i = 0; i < in.nodes.size(); ++i) {
      if (!in.nodes[i].up || !in.nodes[i].standby) continue;
      const std::string error = co_await s.stop_wal_receiver(i);
      if (s.stopped) co_return;
      if (!error.empty()) {
        pgr::log::warn("failover: ", s.label(i), ": could not stop its WAL receiver (", error,
                       "); its position may still move");
      }
    }
  }
  // Freeze positions: the last periodic probe may be a period old, and the standby that has
  // received the most must win (every other one can then follow it without a rewind).
  for (std::size_t i = 0; i < in.nodes.size(); ++i) {
    if (!in.nodes[i].up || !in.nodes[i].standby) continue;
    const auto fresh = co_await s.probe(i);
    if (s.stopped) co_return;
    if (!fresh.ok) {
      pgr::log::warn("failover: ", s.label(i), " is no candidate: ", fresh.error);
      in.nodes[i].up = false;
      continue;
    }
    in.nodes[i].standby = fresh.in_recovery;
    // Without a WAL receiver (the primary is gone) the probe's timeline is the last
    // restartpoint's, which may lag: the view's (carried from streaming probes) is newer.
    in.nodes[i].timeline = fresh.received_tli == 0 ? std::max(fresh.timeline, n_timeline(i))
                                                   : fresh.timeline;
    // After a restart a standby has received nothing yet (NULL): what it replayed counts.
    in.nodes[i].received_lsn = std::max(fresh.received_lsn, fresh.replay_lsn);
    pgr::log::info("failover: ", s.label(i), ": received ",
                   protocol::format_lsn(fresh.received_lsn), " on timeline ", fresh.timeline);
  }
  in.failed_primary = failed;
  in.failed.system_identifier =
      s.system_identifier.value_or(raw.nodes[failed].system_identifier.value_or(0));
  in.failed.timeline = raw.nodes[failed].timeline;
  in.failed.last_known_lsn = raw.nodes[failed].current_lsn;
  in.settings = s.settings();
  if (s.sync_standbys) {
    pgr::log::info("failover: only synchronous standbys may be promoted: ",
                   s.sync_standbys->describe());
  }

  s.plan.emplace(std::move(in));
  Action action = s.plan->next(Event::primary_confirmed_down(), steady_clock::now());
  while (!s.plan->finished()) {
    const auto started = steady_clock::now();
    pgr::log::info("failover: step ", failover::to_string(action.kind), " ", s.label(action.node),
                   action.reason.empty() ? "" : " (" + action.reason + ")");
    const Event event = co_await s.execute(action);
    if (s.stopped) co_return;
    pgr::log::info("failover: step ", failover::to_string(action.kind), " ",
                   s.config->backends[action.node].name, ": ", describe(event), " in ",
                   ms_since(started), " ms");
    action = s.plan->next(event, steady_clock::now());
  }
  const auto& outcome = s.plan->outcome();
  const auto took = ms_since(s.failover_started);
  if (outcome.result == failover::FailoverResult::promoted) {
    pgr::log::info("failover: done in ", took, " ms: ", outcome.summary);
    s.phase = Phase::running;
  } else if (outcome.result == failover::FailoverResult::manual) {
    pgr::log::warn("failover: ", outcome.summary);
    s.phase = Phase::searching;
  } else {
    pgr::log::error("failover: aborted after ", took, " ms: ", outcome.summary);
    if (outcome.new_primary) {
      s.phase = Phase::running;
    } else {
      s.phase = Phase::searching;
      s.search_started = steady_clock::now();
      if (s.nodes[failed].state == AttachState::attached) {
        // Nothing was done (no candidate): try again while it stays down.
        s.dead_primary = failed;
        s.retry_failover_at = steady_clock::now() + retry_after_abort;
        pgr::log::warn("failover: ", s.label(failed), " stays the primary if it returns; ",
                       "failover is retried when a standby is up");
      }
    }
  }
  if (!outcome.new_primary) co_await s.restore_wal_receivers();
  s.record_failover(outcome);
  for (const auto& step : s.plan->steps()) {
    const auto step_ms =
        step.finished ? std::chrono::duration_cast<milliseconds>(*step.finished - step.started)
                            .count()
                      : -1;
    pgr::log::info("failover:   ", failover::to_string(step.kind), " ",
                   s.config->backends[std::min(step.node, s.nodes.size() - 1)].name, ": ",
                   step.outcome.empty() ? "-" : step.outcome, " (", step_ms, " ms)");
  }
  s.plan.reset();
}

void Coordinator::State::record_failover(const failover::FailoverOutcome& outcome) {
  ++failovers;
  Coordinator::FailoverRecord record;
  record.at = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count() -
              ms_since(failover_started) / 1000;
  record.took_ms = ms_since(failover_started);
  record.promoted = outcome.result == failover::FailoverResult::promoted;
  record.summary = outcome.summary;
  recent_failovers.push_back(std::move(record));
  if (recent_failovers.size() > 10) recent_failovers.erase(recent_failovers.begin());
}

asio::awaitable<Event> Coordinator::State::execute(const Action& action) {
  switch (action.kind) {
    case ActionKind::fence:
    case ActionKind::detach:
    case ActionKind::mark_following:
    case ActionKind::mark_diverged:
    case ActionKind::attach:
      set_state(action.node, state_of(action.kind), action.reason);
      co_return Event::applied();
    case ActionKind::promote: co_return co_await promote(action);
    case ActionKind::run_failover_command:
    case ActionKind::run_follow_command:
    case ActionKind::run_rewind_command: co_return co_await run_command(action);
    case ActionKind::wait_for_writable: co_return co_await wait_for_writable(action);
    case ActionKind::fetch_timeline_history:
      // The plan has accepted this node as the new primary: writes go there from now on.
      plan_new_primary = action.node;
      plan_new_timeline = action.timeline;
      if (!system_identifier) system_identifier = plan->inputs().failed.system_identifier;
      set_primary(action.node, action.timeline);
      pgr::log::warn("failover: writes go to ", label(action.node), " on timeline ",
                     action.timeline, ", ", ms_since(failover_started),
                     " ms after the failover started");
      co_return co_await fetch_history(action);
    case ActionKind::probe_standby: co_return co_await probe_standby(action);
    case ActionKind::repoint: {
      std::string error = co_await repoint(action.node, action.target);
      if (error.empty()) co_return Event::repoint_succeeded(action.node);
      co_return Event::repoint_failed(action.node, std::move(error));
    }
    case ActionKind::wait_for_streaming: co_return co_await wait_for_streaming(action);
    case ActionKind::idle:
    case ActionKind::done:
    case ActionKind::abort: break;
  }
  co_return Event::applied();
}

asio::awaitable<Event> Coordinator::State::promote(const Action& action) {
  health::PgSession session(executor, admin_params(action.node));
  const auto budget = until(action.deadline);
  const auto seconds = std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(budget).count());
  const auto result = co_await session.query(
      "SELECT pg_catalog.pg_promote(true, " + std::to_string(seconds) + ")",
      budget + milliseconds(1000));
  if (result.ok && result.first_value() == "t") co_return Event::promote_succeeded();
  if (result.ok) {
    co_return Event::promote_failed("pg_promote() returned false: not promoted within " +
                                    std::to_string(seconds) + " s");
  }
  if (result.error.starts_with("timeout")) co_return Event::deadline_passed();
  co_return Event::promote_failed(result.error);
}

asio::awaitable<Event> Coordinator::State::run_command(const Action& action) {
  const char* name = action.kind == ActionKind::run_failover_command ? "failover_command"
                     : action.kind == ActionKind::run_follow_command ? "follow_primary_command"
                                                                     : "rewind_command";
  const auto outcome = co_await run_shell_command(
      executor, std::string(name) + " " + config->backends[action.node].name, action.command,
      action.deadline);
  if (!outcome.started) {
    pgr::log::error("failover: ", name, ": ", outcome.error);
    co_return Event::command_exited(127);
  }
  if (outcome.timed_out) co_return Event::command_timed_out();
  co_return Event::command_exited(outcome.exit_code);
}

asio::awaitable<health::ProbeResult> Coordinator::State::probe(std::size_t node) {
  health::NodeProbe probe(executor, config->backends[node], config->health_check);
  co_return co_await probe.probe();
}

asio::awaitable<bool> Coordinator::State::sleep_for(milliseconds d) {
  asio::steady_timer timer(executor, d);
  (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !stopped;
}

asio::awaitable<Event> Coordinator::State::wait_for_writable(const Action& action) {
  const std::size_t failed = plan->inputs().failed_primary;
  while (true) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i == failed || (!action.any_node && i != action.node)) continue;
      const auto r = co_await probe(i);
      if (stopped) co_return Event::deadline_passed();
      if (r.ok && !r.in_recovery) co_return Event::candidate_accepts_writes(i, r.timeline);
    }
    if (steady_clock::now() >= action.deadline) co_return Event::deadline_passed();
    if (!co_await sleep_for(poll_interval)) co_return Event::deadline_passed();
  }
}

asio::awaitable<std::optional<std::string>> Coordinator::State::timeline_history(
    std::size_t node, std::uint32_t tli, std::string& error) {
  health::PgSession session(executor, replication_params(node));
  const auto timeout = std::max(config->health_check.timeout, milliseconds(5000));
  const auto r = co_await session.query("TIMELINE_HISTORY " + std::to_string(tli), timeout);
  if (!r.ok) {
    error = r.error;
    co_return std::nullopt;
  }
  if (r.rows.size() != 1 || r.rows[0].size() < 2 || !r.rows[0][1]) {
    error = "TIMELINE_HISTORY returned an unexpected result";
    co_return std::nullopt;
  }
  co_return r.rows[0][1];
}

asio::awaitable<Event> Coordinator::State::fetch_history(const Action& action) {
  std::string error;
  auto content = co_await timeline_history(action.node, action.timeline, error);
  if (!content) co_return Event::timeline_history_failed(error);
  if (auto parsed = failover::parse_timeline_history(*content, action.timeline); parsed.history) {
    history = std::move(parsed.history);
  }
  co_return Event::timeline_history(std::move(*content));
}

asio::awaitable<Event> Coordinator::State::probe_standby(const Action& action) {
  const auto r = co_await probe(action.node);
  if (!r.ok) co_return Event::standby_unreachable(action.node, r.error);
  if (!r.in_recovery) co_return Event::standby_unreachable(action.node, "not in recovery");
  co_return Event::standby_position(action.node, r.timeline, r.replay_lsn);
}

asio::awaitable<std::string> Coordinator::State::repoint(std::size_t node, std::size_t target) {
  const auto started = steady_clock::now();
  const auto params = admin_params(node);
  health::PgSession session(executor, params);
  const auto timeout = std::max(config->health_check.timeout, milliseconds(5000));
  const auto old = co_await session.query(
      "SELECT pg_catalog.current_setting('primary_conninfo')", timeout);
  if (!old.ok) co_return "reading primary_conninfo: " + old.error;
  std::string base = old.first_value().value_or("");
  if (base.empty() && node < detached_conninfo.size() && detached_conninfo[node]) {
    base = *detached_conninfo[node];  // cut off at the start of this failover
  }
  const auto& t = config->backends[target];
  const std::string conninfo = failover::repoint_conninfo(
      base, t.host, t.port,
      {params.user, params.password, config->backends[node].name});
  const auto set = co_await session.query(
      "ALTER SYSTEM SET primary_conninfo = " + failover::sql_literal(conninfo), timeout);
  if (!set.ok) co_return "ALTER SYSTEM SET primary_conninfo: " + set.error;
  const auto reload = co_await session.query("SELECT pg_catalog.pg_reload_conf()", timeout);
  if (!reload.ok) co_return "pg_reload_conf(): " + reload.error;
  pgr::log::info("failover: ", label(node), " repointed to ", label(target), " in ",
                 ms_since(started), " ms");
  co_return std::string();
}

asio::awaitable<Event> Coordinator::State::wait_for_streaming(const Action& action) {
  while (true) {
    for (const std::size_t n : action.nodes) {
      const auto r = co_await probe(n);
      if (stopped) co_return Event::deadline_passed();
      if (!r.ok || !r.in_recovery || r.wal_receiver_status != "streaming") continue;
      const bool from_primary = node_at(r.sender_host, r.sender_port) == action.node;
      if (from_primary && r.received_tli == plan_new_timeline) {
        co_return Event::standby_streaming(n, true, r.received_tli);
      }
    }
    if (steady_clock::now() >= action.deadline) co_return Event::deadline_passed();
    if (!co_await sleep_for(milliseconds(200))) co_return Event::deadline_passed();
  }
}

asio::awaitable<std::string> Coordinator::State::stop_wal_receiver(std::size_t node) {
  const auto started = steady_clock::now();
  health::PgSession session(executor, admin_params(node));
  const auto timeout = std::max(config->health_check.timeout, milliseconds(5000));
  const auto old = co_await session.query(
      "SELECT pg_catalog.current_setting('primary_conninfo')", timeout);
  if (!old.ok) co_return "reading primary_conninfo: " + old.error;
  const std::string conninfo = old.first_value().value_or("");
  if (conninfo.empty()) co_return std::string();  // streams from nowhere already
  const auto set = co_await session.query("ALTER SYSTEM SET primary_conninfo = ''", timeout);
  if (!set.ok) co_return "ALTER SYSTEM SET primary_conninfo: " + set.error;
  detached_conninfo[node] = conninfo;
  const auto reload = co_await session.query("SELECT pg_catalog.pg_reload_conf()", timeout);
  if (!reload.ok) co_return "pg_reload_conf(): " + reload.error;
  // The startup process stops the receiver when it next waits for WAL, which it does at once
  // when the primary sends nothing; a standby busy replaying a backlog takes longer.
  const auto deadline =
      steady_clock::now() + std::max(config->health_check.timeout, milliseconds(2000));
  while (true) {
    const auto r = co_await session.query(
        "SELECT count(*) FROM pg_catalog.pg_stat_wal_receiver", timeout);
    if (r.ok && r.first_value() == "0") break;
    if (stopped || steady_clock::now() >= deadline) {
      co_return r.ok ? "the WAL receiver is still running" : "pg_stat_wal_receiver: " + r.error;
    }
    if (!co_await sleep_for(milliseconds(50))) co_return "stopping";
  }
  pgr::log::info("failover: ", label(node), ": WAL receiver stopped in ", ms_since(started),
                 " ms");
  co_return std::string();
}

asio::awaitable<void> Coordinator::State::restore_wal_receivers() {
  for (std::size_t i = 0; i < detached_conninfo.size(); ++i) {
    if (!detached_conninfo[i] || stopped) continue;
    health::PgSession session(executor, admin_params(i));
    const auto timeout = std::max(config->health_check.timeout, milliseconds(5000));
    auto r = co_await session.query(
        "ALTER SYSTEM SET primary_conninfo = " + failover::sql_literal(*detached_conninfo[i]),
        timeout);
    if (r.ok) r = co_await session.query("SELECT pg_catalog.pg_reload_conf()", timeout);
    if (r.ok) {
      pgr::log::info("failover: ", label(i), ": primary_conninfo restored (no node promoted)");
    } else {
      pgr::log::error("failover: ", label(i), ": could not restore primary_conninfo (",
                      r.error, "); it streams from nowhere until repointed");
    }
  }
}

}  // namespace pgr::coordinator
