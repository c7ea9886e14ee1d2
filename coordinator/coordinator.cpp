// The coordinator's decisions outside a running failover (see coordinator.hpp): the start-up
// primary search, judging every answering node against the current primary and timeline,
// the background repoint and rewind jobs those judgements call for, the state file, and the
// overlay imposed on the health checker's view.
#include "coordinator/coordinator.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "coordinator/command_runner.hpp"
#include "coordinator/coordinator_state.hpp"
#include "failover/fencing.hpp"
#include "failover/placeholders.hpp"
#include "failover/primary_search.hpp"
#include "failover/state_file.hpp"
#include "support/log.hpp"

namespace pgr::coordinator {
namespace {

using failover::AttachState;
constexpr auto job_retry_interval = std::chrono::seconds(10);
constexpr auto history_retry_interval = std::chrono::seconds(2);
constexpr auto evict_interval = std::chrono::seconds(5);

// Client sessions on a fenced node: pgrouter's own links left there when it failed over (a
// hung or cut-off primary that came back), and anyone else's. The failover user's sessions
// (pgrouter's probes, operators) stay.
constexpr const char* evict_sql =
    "SELECT pg_catalog.count(pg_catalog.pg_terminate_backend(pid))"
    " FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend'"
    " AND pid <> pg_catalog.pg_backend_pid() AND usename <> current_user";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool answers(const health::NodeView& node) {
  return (node.status == health::NodeStatus::up || node.status == health::NodeStatus::suspect) &&
         node.role != health::NodeRole::unknown;
}

failover::FailoverMode mode_of(conf::FailoverMode mode) {
  switch (mode) {
    case conf::FailoverMode::builtin: return failover::FailoverMode::builtin;
    case conf::FailoverMode::command: return failover::FailoverMode::command;
    case conf::FailoverMode::manual: return failover::FailoverMode::manual;
  }
  return failover::FailoverMode::manual;
}

void log_spawn_error(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    pgr::log::error("failover: a coordinator task ended on an exception: ", e.what());
  }
}

}  // namespace

Coordinator::State::State(asio::any_io_executor ex, std::shared_ptr<const conf::Config> cfg,
                          health::HealthChecker& checker)
    : executor(std::move(ex)), config(std::move(cfg)), health(&checker),
      nodes(config->backends.size()) {}

std::string Coordinator::State::label(std::size_t index) const {
  const auto& b = config->backends[index];
  return b.name + " " + b.host + ":" + std::to_string(b.port);
}

failover::FailoverSettings Coordinator::State::settings() const {
  const conf::FailoverConfig& f = config->failover;
  failover::FailoverSettings s;
  s.mode = mode_of(f.mode);
  s.failover_command = f.failover_command;
  s.follow_primary_command = f.follow_primary_command;
  s.rewind_command = f.rewind_command;
  s.command_timeout = f.command_timeout;
  s.wait_timeout = f.wait_timeout;
  s.search_primary_timeout = f.search_primary_timeout;
  s.max_lag_on_failover = f.max_lag_on_failover;
  s.auto_failback = f.auto_failback;
  if (sync_standbys) {
    s.sync_standby_names = sync_standbys->names;
    s.sync_needed = sync_standbys->needed;
  }
  if (forced_candidate) {
    // An operator's promotion: that node only (the operator's choice, even over the
    // synchronous set; a switchover has waited for it to catch up), and manual mode promotes
    // it with pg_promote.
    s.sync_standby_names = std::vector<std::string>{config->backends[*forced_candidate].name};
    s.sync_needed = 1;
    if (s.mode == failover::FailoverMode::manual) s.mode = failover::FailoverMode::builtin;
  }
  return s;
}

health::PgSessionParams Coordinator::State::admin_params(std::size_t index) const {
  const auto& b = config->backends[index];
  health::PgSessionParams p;
  p.host = b.host;
  p.port = b.port;
  p.user = config->failover.user.value_or(config->health_check.user);
  p.password = config->failover.password ? config->failover.password
                                         : config->health_check.password;
  p.database = config->health_check.database;
  p.tls = config->health_check.tls;
  return p;
}

health::PgSessionParams Coordinator::State::replication_params(std::size_t index) const {
  const auto& b = config->backends[index];
  health::PgSessionParams p;
  p.host = b.host;
  p.port = b.port;
  p.user = config->health_check.user;
  p.password = config->health_check.password;
  p.database = config->health_check.database;
  p.tls = config->health_check.tls;
  p.replication = true;
  return p;
}

std::optional<std::size_t> Coordinator::State::node_at(const std::string& host,
                                                       std::uint16_t port) const {
  for (std::size_t i = 0; i < config->backends.size(); ++i) {
    const auto& b = config->backends[i];
    if (!b.removed && b.host == host && b.port == port) return i;
  }
  return std::nullopt;
}

// -- the state file and the overlay ---------------------------------------------------------

void Coordinator::State::load_state_file() {
  const auto& path = config->failover.state_file;
  if (!path) return;
  auto loaded = failover::load_state_file(*path);
  if (loaded.missing) {
    pgr::log::info("failover: no state file at ", *path, " yet: starting afresh");
    return;
  }
  if (!loaded.state) {
    pgr::log::error("failover: state file unusable, starting afresh: ",
                    loaded.error.value_or("unknown error"));
    return;
  }
  const auto& st = *loaded.state;
  system_identifier = st.system_identifier;
  recorded_primary = st.primary;
  timeline = st.timeline.value_or(0);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto* saved = st.find(config->backends[i].name);
    if (saved == nullptr) continue;
    nodes[i].state = saved->state;
    nodes[i].reason = saved->reason;
    nodes[i].since = saved->since;
    if (saved->state != AttachState::attached) {
      pgr::log::warn("failover: ", label(i), " is ", failover::to_string(saved->state),
                     " per the state file (", saved->reason, "): kept out of service");
    }
  }
  pgr::log::info("failover: state file ", *path, " loaded: primary ",
                 st.primary.value_or("(none)"), ", timeline ", timeline);
}

void Coordinator::State::write_state_file() {
  const auto& path = config->failover.state_file;
  if (!path) return;
  failover::PersistedState st;
  st.system_identifier = system_identifier;
  if (primary) st.primary = config->backends[*primary].name;
  if (timeline != 0) st.timeline = timeline;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& b = config->backends[i];
    if (b.removed) continue;
    st.nodes.push_back({b.name, b.host, b.port, nodes[i].state, nodes[i].reason, nodes[i].since});
  }
  if (auto error = failover::write_state_file_atomically(*path, failover::serialize_state(st))) {
    pgr::log::error("failover: cannot write the state file: ", error->to_string());
  }
}

void Coordinator::State::publish_overlay() {
  if (stopped) return;
  health::ViewOverlay overlay;
  overlay.active = true;
  overlay.primary = primary;
  for (const auto& node : nodes) {
    overlay.held_out.push_back(node.state == AttachState::attached
                                   ? std::string()
                                   : std::string(failover::to_string(node.state)) + ": " +
                                         node.reason);
  }
  health->set_overlay(std::move(overlay));
}

void Coordinator::State::set_state(std::size_t index, AttachState state, std::string reason) {
  NodeRecord& n = nodes[index];
  if (n.state == state && n.reason == reason) return;
  const AttachState before = n.state;
  n.reason = std::move(reason);
  if (before == state) {  // a new reason alone: persisted, not news
    pgr::log::debug("failover: ", label(index), ": still ", failover::to_string(state), " (",
                    n.reason, ")");
    write_state_file();
    return;
  }
  n.state = state;
  n.since = unix_now();
  // On disk before it is announced: whoever reads the log line finds the state file agreeing.
  write_state_file();
  const auto text = std::string(failover::to_string(before)) + " -> " +
                    std::string(failover::to_string(state)) + " (" + n.reason + ")";
  if (state == AttachState::fenced || state == AttachState::diverged) {
    pgr::log::error("failover: ", label(index), ": ", text, ": it gets no traffic");
  } else {
    pgr::log::info("failover: ", label(index), ": ", text);
  }
  publish_overlay();
}

void Coordinator::State::set_primary(std::optional<std::size_t> index, std::uint32_t tli) {
  if (tli != timeline) history.reset();
  primary = index;
  timeline = tli;
  if (index) last_primary = index;
  if (index) {
    NodeRecord& n = nodes[*index];
    if (n.state != AttachState::attached) {
      n.state = AttachState::attached;
      n.since = unix_now();
    }
    n.reason = "the primary";
  }
  write_state_file();
  publish_overlay();
}

void Coordinator::State::track_sync_standbys(const health::NodeView& p) {
  if (p.status != health::NodeStatus::up || p.role != health::NodeRole::primary) return;
  std::vector<failover::ReplicationPeer> peers;
  for (const auto& r : p.replicas) peers.push_back({r.application_name, r.sync_state});
  auto set = failover::sync_set(p.synchronous_standby_names, peers);
  if (!set) {
    if (sync_standbys) {
      pgr::log::info("failover: synchronous replication is off on ", p.name,
                     ": any standby may be promoted");
    }
    sync_standbys.reset();
    return;
  }
  if (set->names.empty()) {
    // Commits wait for a synchronous standby: the last set seen still has every one that
    // was acknowledged. Without one, nobody may be promoted.
    if (!sync_none_logged) {
      sync_none_logged = true;
      pgr::log::warn("failover: ", p.name, " has no synchronous standby streaming (",
                     p.synchronous_standby_names, "); the last set stays the candidates: ",
                     sync_standbys ? sync_standbys->describe() : std::string("(none)"));
    }
    if (!sync_standbys) sync_standbys = std::move(*set);
    return;
  }
  sync_none_logged = false;
  if (!sync_standbys || *sync_standbys != *set) {
    pgr::log::info("failover: synchronous standbys of ", p.name, ": ", set->describe());
    sync_standbys = std::move(*set);
  }
}

// -- decisions on every view ------------------------------------------------------------------

void Coordinator::State::observe(const health::ClusterView& raw) {
  if (stopped) return;
  last_raw = raw;
  switch (phase) {
    case Phase::searching:
      search(raw);
      if (phase == Phase::searching && dead_primary && steady_clock::now() >= retry_failover_at &&
          raw.nodes[*dead_primary].status == health::NodeStatus::down) {
        for (std::size_t i = 0; i < raw.nodes.size(); ++i) {
          if (i != *dead_primary && raw.nodes[i].status == health::NodeStatus::up &&
              raw.nodes[i].role == health::NodeRole::standby &&
              nodes[i].state == AttachState::attached) {
            start_failover(raw, *dead_primary);
            break;
          }
        }
      }
      break;
    case Phase::running:
      if (primary && raw.nodes[*primary].status == health::NodeStatus::down) {
        start_failover(raw, *primary);
      } else {
        if (primary) track_sync_standbys(raw.nodes[*primary]);
        judge_nodes(raw);
      }
      break;
    case Phase::failing_over: break;  // the plan decides until it finishes
  }
}

void Coordinator::State::search(const health::ClusterView& raw) {
  for (const auto& node : raw.nodes) {
    if (!node.removed && node.last_probe == std::chrono::system_clock::time_point{}) return;  // not all probed
  }
  const auto now = steady_clock::now();
  if (search_started == steady_clock::time_point{}) search_started = now;
  std::vector<failover::SearchNode> input;
  for (std::size_t i = 0; i < raw.nodes.size(); ++i) {
    const auto& n = raw.nodes[i];
    input.push_back({n.name, answers(n), n.role != health::NodeRole::primary,
                     n.system_identifier, n.timeline, nodes[i].state});
  }
  const auto result = failover::search_primary(input, system_identifier, recorded_primary);
  if (!result.primary) {
    const auto waited = now - search_started;
    if (!search_waiting_logged) {
      search_waiting_logged = true;
      pgr::log::warn("failover: no primary found (", result.summary, "); waiting up to ",
                     config->failover.search_primary_timeout.count(),
                     "ms for one; reads go on, writes wait");
    } else if (!search_timeout_logged && waited > config->failover.search_primary_timeout) {
      search_timeout_logged = true;
      pgr::log::error("failover: still no primary after search_primary_timeout (",
                      result.summary, "); an operator must promote a node");
    }
    return;
  }
  const std::size_t p = *result.primary;
  pgr::log::info("failover: primary search: ", result.summary);
  if (!system_identifier) system_identifier = raw.nodes[p].system_identifier;
  phase = Phase::running;
  dead_primary.reset();
  search_waiting_logged = false;
  search_timeout_logged = false;
  set_primary(p, raw.nodes[p].timeline);
  for (const std::size_t i : result.to_fence) {
    set_state(i, AttachState::fenced,
              "also accepts writes (timeline " + std::to_string(raw.nodes[i].timeline) +
                  ") while " + raw.nodes[p].name + " is the primary (timeline " +
                  std::to_string(raw.nodes[p].timeline) + "): a false primary");
  }
  for (const std::size_t i : result.ignored) {
    pgr::log::error("failover: ", label(i), " accepts writes but is ",
                    failover::to_string(nodes[i].state), ": it gets no traffic");
  }
  judge_nodes(raw);
}

void Coordinator::State::judge_nodes(const health::ClusterView& raw) {
  if (!primary) return;
  if (!history) fetch_history_in_background();
  for (std::size_t i = 0; i < raw.nodes.size(); ++i) {
    if (i == *primary || !answers(raw.nodes[i])) continue;
    judge_node(i, raw.nodes[i]);
  }
}

failover::ReturnDecision Coordinator::State::judge_node(std::size_t index,
                                                       const health::NodeView& node) {
  failover::ClusterFacts facts;
  facts.primary = config->backends[*primary].name;
  facts.timeline = timeline;
  facts.system_identifier = system_identifier;
  facts.history = history;
  facts.auto_failback = config->failover.auto_failback;
  failover::NodeReport report;
  report.name = node.name;
  report.recorded = nodes[index].state;
  report.in_recovery = node.role == health::NodeRole::standby;
  report.system_identifier = node.system_identifier;
  report.timeline = node.timeline;
  report.replay_lsn = node.replay_lsn;
  report.wal_receiver_status = node.wal_receiver_status;
  if (const auto up = node_at(node.sender_host, node.sender_port)) {
    report.upstream = config->backends[*up].name;
  }
  const auto decision = failover::judge_returning_node(facts, report);
  switch (decision.verdict) {
    case failover::ReturnVerdict::keep: break;
    case failover::ReturnVerdict::attach:
      set_state(index, decision.next_state, decision.reason);
      break;
    case failover::ReturnVerdict::fence:
      set_state(index, decision.next_state, decision.reason);
      if (!report.in_recovery) evict_clients(index);
      break;
    case failover::ReturnVerdict::diverge: {
      const bool fresh = nodes[index].state != AttachState::diverged;
      set_state(index, AttachState::diverged, decision.reason);
      if (fresh && !config->failover.rewind_command.empty()) run_node_job(index, true);
      break;
    }
    case failover::ReturnVerdict::repoint:
      set_state(index, AttachState::following, decision.reason);
      run_node_job(index, false);
      break;
  }
  return decision;
}

void Coordinator::State::fetch_history_in_background() {
  if (history_fetching || !primary) return;
  if (timeline <= 1) {
    history = failover::TimelineHistory{};
    return;
  }
  history_fetching = true;
  auto self = shared_from_this_ptr.lock();
  asio::co_spawn(
      executor,
      [self, node = *primary, tli = timeline]() -> asio::awaitable<void> {
        std::string error;
        auto content = co_await self->timeline_history(node, tli, error);
        self->history_fetching = false;
        if (self->stopped || self->timeline != tli) co_return;
        if (content) {
          auto parsed = failover::parse_timeline_history(*content, tli);
          if (parsed.history) {
            self->history = std::move(parsed.history);
            pgr::log::info("failover: history of timeline ", tli, " fetched from ",
                           self->label(node));
            co_return;
          }
          error = "does not parse: " + parsed.error->to_string();
        }
        pgr::log::warn("failover: history of timeline ", tli, ": ", error, "; retrying");
        (void)co_await self->sleep_for(history_retry_interval);
      },
      log_spawn_error);
}

void Coordinator::State::run_node_job(std::size_t index, bool rewind) {
  NodeRecord& n = nodes[index];
  const auto now = steady_clock::now();
  if (n.job_running || !primary) return;
  if (!rewind && n.last_job != steady_clock::time_point{} && now - n.last_job < job_retry_interval) {
    return;
  }
  n.job_running = true;
  n.last_job = now;
  auto self = shared_from_this_ptr.lock();
  asio::co_spawn(
      executor,
      [self, index, rewind, target = *primary]() -> asio::awaitable<void> {
        const conf::FailoverConfig& f = self->config->failover;
        const bool builtin = f.mode == conf::FailoverMode::builtin;
        const std::string& tmpl = rewind ? f.rewind_command : f.follow_primary_command;
        if (!rewind && builtin) {
          const std::string error = co_await self->repoint(index, target);
          if (!error.empty()) {
            pgr::log::warn("failover: repointing ", self->label(index), " failed: ", error);
          }
        } else if (tmpl.empty()) {
          pgr::log::warn("failover: ", self->label(index),
                         " can follow the primary but no follow_primary_command is set");
        } else {
          const auto values_of = [&](std::size_t i) {
            const auto& b = self->config->backends[i];
            return failover::PlaceholderNode{i, b.host, b.port, b.data_directory.value_or("")};
          };
          failover::PlaceholderValues values;
          values.node = values_of(index);
          values.new_main = values_of(target);
          values.old_main_id = target;
          auto expanded = failover::expand_command(tmpl, values);
          const char* name = rewind ? "rewind_command" : "follow_primary_command";
          if (!expanded.command) {
            pgr::log::error("failover: ", name, ": ", expanded.error->to_string());
          } else {
            const auto outcome = co_await run_shell_command(
                self->executor, std::string(name) + " " + self->config->backends[index].name,
                *expanded.command, steady_clock::now() + f.command_timeout);
            pgr::log::info("failover: ", name, " for ", self->label(index), ": ",
                           outcome.timed_out ? std::string("timed out")
                                             : "exit code " + std::to_string(outcome.exit_code),
                           " after ", outcome.took.count(), " ms");
          }
        }
        self->nodes[index].job_running = false;
        self->nodes[index].last_job = steady_clock::now();
      },
      log_spawn_error);
}

void Coordinator::State::evict_clients(std::size_t index) {
  // A writable fenced node may still hold sessions pgrouter's workers opened before the
  // failover, their units in flight (a COMMIT waiting for a synchronous standby that now
  // follows the new primary never returns). Terminating them fails those units towards the
  // clients (the outcome of a commit in flight is then unknown, never acknowledged: a
  // terminated sync wait sends no reply) and leaves the old primary nothing to write with.
  NodeRecord& n = nodes[index];
  const auto now = steady_clock::now();
  if (n.evicting || (n.last_evict != steady_clock::time_point{} &&
                     now - n.last_evict < evict_interval)) {
    return;
  }
  n.evicting = true;
  n.last_evict = now;
  auto self = shared_from_this_ptr.lock();
  asio::co_spawn(
      executor,
      [self, index]() -> asio::awaitable<void> {
        health::PgSession session(self->executor, self->admin_params(index));
        const auto timeout = std::max(self->config->health_check.timeout,
                                      std::chrono::milliseconds(5000));
        const auto r = co_await session.query(evict_sql, timeout);
        self->nodes[index].evicting = false;
        self->nodes[index].last_evict = steady_clock::now();
        if (self->stopped) co_return;
        if (!r.ok) {
          pgr::log::warn("failover: terminating client sessions on fenced ", self->label(index),
                         " failed: ", r.error);
        } else if (r.first_value().value_or("0") != "0") {
          pgr::log::warn("failover: terminated ", r.first_value().value_or("0"),
                         " client sessions on fenced ", self->label(index));
        }
      },
      log_spawn_error);
}

// -- the public face ----------------------------------------------------------------------------

Coordinator::Coordinator(asio::any_io_executor main_executor,
                         std::shared_ptr<const conf::Config> config,
                         health::HealthChecker& health)
    : state_(std::make_shared<State>(std::move(main_executor), std::move(config), health)) {
  state_->shared_from_this_ptr = state_;
}

Coordinator::~Coordinator() { stop(); }

void Coordinator::start() {
  state_->load_state_file();
  std::weak_ptr<State> weak = state_;
  state_->health->set_observer([weak](const health::ClusterView& raw) {
    if (auto s = weak.lock()) s->observe(raw);
  });
  state_->publish_overlay();
  pgr::log::info("failover: mode ", failover::to_string(state_->settings().mode),
                 state_->config->failover.auto_failback ? ", auto_failback on" : "");
}

void Coordinator::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  state_->cancel.emit(asio::cancellation_type::terminal);
  state_->health->set_observer(nullptr);
}

}  // namespace pgr::coordinator
