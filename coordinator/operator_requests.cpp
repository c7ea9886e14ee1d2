// What operators ask of the coordinator through the admin interfaces (see coordinator.hpp):
// detach, attach, promote and switchover. All of it goes through the same state, overlay and
// failover plan as automatic failover, so an operator's act and pgrouter's own never race:
// everything runs on main, and a promotion is refused while a failover runs.
#include <algorithm>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

#include "coordinator/coordinator_state.hpp"
#include "health/node_probe.hpp"
#include "protocol/lsn.hpp"
#include "support/log.hpp"

namespace pgr::coordinator {

namespace {

using failover::AttachState;
using std::chrono::milliseconds;
using Result = Coordinator::Result;

constexpr milliseconds catch_up_poll{100};

bool answers(const health::NodeView& node) {
  return node.status != health::NodeStatus::down && node.role != health::NodeRole::unknown;
}

}  // namespace

Result Coordinator::detach(std::size_t index) {
  State& s = *state_;
  if (index >= s.nodes.size()) return {false, "no such node"};
  if (s.config->backends[index].removed) return {false, s.label(index) + " was removed from the configuration"};
  if (s.phase == Phase::failing_over) return {false, "a failover is running; try again when it is over"};
  if (s.primary == index) {
    return {false, s.label(index) + " is the primary: promote another node (with a switchover) to take it out"};
  }
  if (s.nodes[index].state == AttachState::detached) return {true, s.label(index) + " is already detached"};
  s.set_state(index, AttachState::detached, "detached by an operator");
  return {true, s.label(index) + " detached: it gets no new statements"};
}

Result Coordinator::attach(std::size_t index) {
  State& s = *state_;
  if (index >= s.nodes.size()) return {false, "no such node"};
  if (s.config->backends[index].removed) return {false, s.label(index) + " was removed from the configuration"};
  if (s.phase == Phase::failing_over) return {false, "a failover is running; try again when it is over"};
  const AttachState before = s.nodes[index].state;
  if (before == AttachState::attached) return {true, s.label(index) + " is already attached"};
  if (index >= s.last_raw.nodes.size() || !answers(s.last_raw.nodes[index])) {
    return {false, s.label(index) + " does not answer probes; it stays " +
                       std::string(failover::to_string(before))};
  }
  if (!s.primary) return {false, "there is no primary for " + s.label(index) + " to follow"};
  // The operator's word replaces detached/fenced/diverged: the node is judged as any
  // returning node that should follow the primary, and attached only if it does.
  s.set_state(index, AttachState::following, "attach requested by an operator");
  const auto decision = s.judge_node(index, s.last_raw.nodes[index]);
  const AttachState after = s.nodes[index].state;
  if (after == AttachState::attached) return {true, s.label(index) + " attached: " + decision.reason};
  if (after == AttachState::following) {
    return {true, s.label(index) + " will be attached once it follows the primary: " + decision.reason};
  }
  return {false, s.label(index) + " not attached: " + std::string(failover::to_string(after)) + " (" +
                     decision.reason + ")"};
}

void Coordinator::promote(std::size_t index, bool switchover, Done done) {
  State& s = *state_;
  const auto refuse = [&](std::string why) { done(Result{false, std::move(why)}); };
  if (index >= s.nodes.size()) return refuse("no such node");
  if (s.config->backends[index].removed) return refuse(s.label(index) + " was removed from the configuration");
  if (s.stopped) return refuse("pgrouter is stopping");
  if (s.phase == Phase::failing_over) return refuse("a failover is running; try again when it is over");
  if (s.primary == index) return refuse(s.label(index) + " is already the primary");
  // Without a primary (manual mode after a failure, or a failed failover) the last one is
  // replaced: the promotion is then a failover onto the chosen node.
  if (!s.primary && !s.last_primary) return refuse("no primary is known to take over from");
  if (index >= s.last_raw.nodes.size() || s.last_raw.nodes[index].status != health::NodeStatus::up ||
      s.last_raw.nodes[index].role != health::NodeRole::standby) {
    return refuse(s.label(index) + " is not an answering standby");
  }
  if (s.nodes[index].state != AttachState::attached) {
    return refuse(s.label(index) + " is " + std::string(failover::to_string(s.nodes[index].state)) +
                  ": attach it first");
  }
  asio::co_spawn(s.executor, State::run_promotion(state_, index, switchover, std::move(done)),
                 asio::bind_cancellation_slot(s.cancel.slot(), [](std::exception_ptr error) {
                   if (!error) return;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     pgr::log::error("failover: promotion ended on an exception: ", e.what());
                   }
                 }));
}

void Coordinator::set_config(std::shared_ptr<const conf::Config> config) {
  State& s = *state_;
  const std::size_t before = s.nodes.size();
  s.config = std::move(config);
  const auto& backends = s.config->backends;
  if (backends.size() > s.nodes.size()) s.nodes.resize(backends.size());
  bool changed = s.nodes.size() != before;
  for (std::size_t i = 0; i < before && i < backends.size(); ++i) {
    // A removed slot forgets what failover recorded of its node; a node that comes back to
    // it is judged afresh.
    if (backends[i].removed && s.nodes[i].state != AttachState::attached) {
      s.nodes[i] = NodeRecord{};
      changed = true;
    }
    if (backends[i].removed && s.dead_primary == i) s.dead_primary.reset();
  }
  if (changed) {
    s.write_state_file();
    s.publish_overlay();
  }
}

Coordinator::Stats Coordinator::stats() const {
  return {state_->failovers, state_->phase == Phase::failing_over, state_->recent_failovers};
}

asio::awaitable<std::string> Coordinator::State::make_read_only(std::size_t node, bool read_only) {
  health::PgSession session(executor, admin_params(node));
  const auto timeout = std::max(config->health_check.timeout, milliseconds(5000));
  const std::string set = read_only ? "ALTER SYSTEM SET default_transaction_read_only = on"
                                    : "ALTER SYSTEM RESET default_transaction_read_only";
  if (auto r = co_await session.query(set, timeout); !r.ok) co_return set + ": " + r.error;
  if (auto r = co_await session.query("SELECT pg_catalog.pg_reload_conf()", timeout); !r.ok) {
    co_return "pg_reload_conf(): " + r.error;
  }
  if (!read_only) co_return std::string();
  // Sessions already open keep their read-write default: end them (pgrouter's own idle
  // sessions reconnect where the view says on their next statement).
  const auto ended = co_await session.query(
      "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity "
      "WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()",
      timeout);
  if (!ended.ok) co_return "ending client sessions: " + ended.error;
  pgr::log::info("failover: ", label(node), " is read-only now; ", ended.first_value().value_or("0"),
                 " client sessions ended");
  co_return std::string();
}

asio::awaitable<std::string> Coordinator::State::wait_for_catch_up(std::size_t node, std::size_t old_primary) {
  const auto deadline = steady_clock::now() + config->failover.wait_timeout;
  health::PgSession session(executor, admin_params(old_primary));
  const auto timeout = std::max(config->health_check.timeout, milliseconds(5000));
  // A checkpoint-free marker: the old primary's position once nothing writes any more.
  const auto lsn = co_await session.query("SELECT pg_catalog.pg_current_wal_lsn()::text", timeout);
  if (!lsn.ok || !lsn.first_value()) co_return "reading the old primary's WAL position: " + lsn.error;
  const auto target = protocol::parse_lsn(*lsn.first_value());
  if (!target) co_return "unexpected WAL position " + *lsn.first_value();
  while (true) {
    const auto r = co_await probe(node);
    if (stopped) co_return "pgrouter is stopping";
    if (r.ok && r.in_recovery && r.replay_lsn >= *target) {
      pgr::log::info("failover: ", label(node), " replayed ", protocol::format_lsn(r.replay_lsn),
                     ", the old primary's last position ", protocol::format_lsn(*target));
      co_return std::string();
    }
    if (steady_clock::now() >= deadline) {
      co_return label(node) + " did not replay up to " + protocol::format_lsn(*target) + " within wait_timeout (at " +
          protocol::format_lsn(r.replay_lsn) + ")";
    }
    if (!co_await sleep_for(catch_up_poll)) co_return "pgrouter is stopping";
  }
}

asio::awaitable<void> Coordinator::State::run_promotion(std::shared_ptr<State> self, std::size_t node,
                                                        bool switchover, Coordinator::Done done) {
  State& s = *self;
  const bool had_primary = s.primary.has_value();
  const std::size_t old = s.primary ? *s.primary : *s.last_primary;
  const bool old_answers = had_primary && old < s.last_raw.nodes.size() && answers(s.last_raw.nodes[old]);
  pgr::log::warn("failover: an operator asked for ", switchover ? "a switchover" : "a promotion", " to ",
                 s.label(node), " from ", s.label(old));
  s.phase = Phase::failing_over;
  s.failover_started = steady_clock::now();
  s.primary.reset();
  s.publish_overlay();  // writes wait from now on
  if (old_answers) {
    std::string error = co_await s.make_read_only(old, true);
    if (error.empty() && switchover) error = co_await s.wait_for_catch_up(node, old);
    if (s.stopped) co_return;
    if (!error.empty()) {
      pgr::log::error("failover: ", switchover ? "switchover" : "promotion", " abandoned: ", error,
                      "; ", s.label(old), " stays the primary");
      (void)co_await s.make_read_only(old, false);
      s.phase = Phase::running;
      s.set_primary(old, s.timeline);
      done(Result{false, std::string(switchover ? "switchover" : "promotion") + " abandoned: " + error});
      co_return;
    }
  } else {
    pgr::log::warn("failover: ", s.label(old), had_primary ? " does not answer" : " is not the primary any more",
                   ": the promotion is a failover");
  }
  s.forced_candidate = node;
  health::ClusterView raw = s.last_raw;
  co_await run_failover(self, std::move(raw), old);
  s.forced_candidate.reset();
  if (s.stopped) co_return;
  const bool promoted = s.primary == node;
  const auto summary = s.recent_failovers.empty() ? std::string() : s.recent_failovers.back().summary;
  if (promoted && old_answers && !s.config->failover.rewind_command.empty() &&
      s.config->backends[old].data_directory) {
    // The old primary is fenced; the operator's rewind_command turns it into a standby.
    s.set_state(old, AttachState::diverged, "the old primary after a switchover: rewind_command runs");
    s.run_node_job(old, true);
  }
  done(Result{promoted, promoted ? s.label(node) + " is the primary: " + summary
                                 : "promotion of " + s.label(node) + " failed: " + summary});
}

}  // namespace pgr::coordinator
