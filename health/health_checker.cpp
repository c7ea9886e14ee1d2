// The health checker's probe loops, transition logs and publication (see health_checker.hpp).
#include "health/health_checker.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "health/cluster_builder.hpp"
#include "health/lag_tracker.hpp"
#include "health/node_probe.hpp"
#include "health/node_state.hpp"
#include "protocol/lsn.hpp"
#include "support/log.hpp"

namespace pgr::health {
namespace {

namespace asio = boost::asio;
using steady_clock = std::chrono::steady_clock;

// "node1 127.0.0.1:15433" (IPv6 hosts in brackets): how every log line names a backend.
std::string node_label(const conf::BackendConfig& backend) {
  const bool ipv6 = backend.host.find(':') != std::string::npos;
  return backend.name + " " + (ipv6 ? "[" + backend.host + "]" : backend.host) + ":" +
         std::to_string(backend.port);
}

std::string describe(const ProbeResult& probe) {
  std::string text = probe.in_recovery ? "standby" : "primary";
  text += ", timeline " + std::to_string(probe.timeline);
  text += ", lsn " + protocol::format_lsn(probe.in_recovery ? probe.received_lsn
                                                            : probe.current_lsn);
  return text;
}

}  // namespace

// Everything the checker knows. Shared (shared_ptr) by the HealthChecker and its probe loops
// so that a loop resuming after the checker is gone finds live memory; touched on the main
// thread only, so no locks.
struct HealthChecker::State {
  // One backend's moving parts. Not movable (timer, signal): held by unique_ptr.
  struct Node {
    Node(asio::any_io_executor executor, NodeStateSettings settings)
        : machine(settings), wake(std::move(executor)) {}
    NodeState machine;
    NodeObservation seen;
    asio::steady_timer wake;  // the loop sleeps on it; cancel() makes it re-read the schedule
    asio::cancellation_signal stop_signal;
    bool probing = false;
  };

  State(asio::any_io_executor ex, std::vector<conf::BackendConfig> nodes_config,
        conf::HealthCheckConfig health, publish_fn publish_view);

  void on_probe_result(std::size_t index, ProbeResult result, std::chrono::system_clock::time_point sent_at);
  void log_transition(std::size_t index, NodeStatus before, const NodeDecision& decision,
                      const ProbeResult& result) const;
  void log_role_change(std::size_t index, const ProbeResult& result) const;
  void rebuild_and_publish(bool notify = true);
  void log_choice(const PrimaryChoice& choice, const ClusterView& view);
  // One backend's probe loop. It owns its NodeProbe (and so the libpq connection) in its
  // frame and shares the checker's state, so it outlives a destroyed HealthChecker safely: it
  // checks `stopped` after every await and then ends without touching anything else.
  static asio::awaitable<void> probe_loop(std::shared_ptr<State> state, std::size_t index);
  static void spawn_probe_loop(const std::shared_ptr<State>& state, std::size_t index);

  asio::any_io_executor executor;
  std::vector<conf::BackendConfig> backends;
  conf::HealthCheckConfig config;
  publish_fn publish;
  observe_fn observe;
  probe_fn probe_observer;
  std::uint64_t config_generation = 0;  // grows with every reconfigure()
  ViewOverlay overlay;
  bool observing = false;  // inside observe(): set_overlay() must not rebuild again
  std::vector<std::unique_ptr<Node>> nodes;  // by backend index; Node is not movable
  std::optional<std::uint64_t> cluster_system_id;
  LagTracker lag_tracker;
  std::optional<std::size_t> lag_primary;  // whose WAL lag_tracker's samples are
  ClusterViewPtr current;
  steady_clock::time_point last_publish{};
  std::vector<std::string> active_warnings;  // logged once each, while they last
  bool started = false;
  bool stopped = false;
};

HealthChecker::State::State(asio::any_io_executor ex,
                            std::vector<conf::BackendConfig> nodes_config,
                            conf::HealthCheckConfig health, publish_fn publish_view)
    : executor(std::move(ex)),
      backends(std::move(nodes_config)),
      config(std::move(health)),
      publish(std::move(publish_view)),
      current(std::make_shared<const ClusterView>(initial_cluster_view(backends))) {
  const NodeStateSettings settings{config.period, config.retry_delay, config.max_retries};
  for (std::size_t i = 0; i < backends.size(); ++i) {
    nodes.push_back(std::make_unique<Node>(executor, settings));
  }
}

void HealthChecker::State::on_probe_result(std::size_t index, ProbeResult result,
                                           std::chrono::system_clock::time_point sent_at) {
  Node& node = *nodes[index];
  const NodeStatus before = node.machine.status();
  const NodeDecision decision = node.machine.on_probe_result(result.ok, steady_clock::now());
  log_transition(index, before, decision, result);
  node.seen.status = decision.status;
  node.seen.last_probe = sent_at;
  if (result.ok) {
    if (node.seen.last_ok) carry_timeline(*node.seen.last_ok, result);
    log_role_change(index, result);
    node.seen.last_error.clear();
    node.seen.last_ok = std::move(result);
  } else {
    node.seen.last_error = std::move(result.error);
  }
  rebuild_and_publish();
}

void HealthChecker::State::log_transition(std::size_t index, NodeStatus before,
                                          const NodeDecision& decision,
                                          const ProbeResult& result) const {
  const std::string label = node_label(backends[index]);
  const auto from = to_string(before);
  const auto to = to_string(decision.status);
  switch (decision.transition) {
    case NodeTransition::first_up:
      pgr::log::info(label, ": up (", describe(result), ")");
      break;
    case NodeTransition::first_down:
      pgr::log::warn(label, ": down (", result.error, ")");
      break;
    case NodeTransition::became_suspect:
      pgr::log::warn(label, ": ", from, " -> ", to, " (", result.error, "); ",
                     config.max_retries, " retries every ", config.retry_delay.count(), "ms");
      break;
    case NodeTransition::went_down:
      pgr::log::warn(label, ": ", from, " -> ", to, " (", result.error, ")");
      break;
    case NodeTransition::recovered:
    case NodeTransition::came_back:
      pgr::log::info(label, ": ", from, " -> ", to, " (", describe(result), ")");
      break;
    case NodeTransition::none:
      if (decision.status == NodeStatus::suspect) {
        pgr::log::warn(label, ": retry ", nodes[index]->machine.failed_retries(), " of ",
                       config.max_retries, " failed (", result.error, ")");
      } else if (!result.ok) {
        pgr::log::debug(label, ": still down (", result.error, ")");
      }
      break;
  }
}

void HealthChecker::State::log_role_change(std::size_t index, const ProbeResult& result) const {
  const auto& previous = nodes[index]->seen.last_ok;
  if (!previous) return;
  if (previous->in_recovery != result.in_recovery || previous->timeline != result.timeline) {
    pgr::log::info(node_label(backends[index]), ": ",
                   previous->in_recovery ? "standby" : "primary", " timeline ",
                   previous->timeline, " -> ", describe(result));
  }
}

void HealthChecker::State::rebuild_and_publish(bool notify) {
  const auto known = cluster_system_id;
  std::vector<NodeObservation> seen;
  seen.reserve(nodes.size());
  for (const auto& node : nodes) seen.push_back(node->seen);
  cluster_system_id = choose_cluster_system_id(seen, known);
  if (!known && cluster_system_id) {
    pgr::log::info("cluster system identifier is ", *cluster_system_id);
  }
  PrimaryChoice choice = choose_primary(seen, cluster_system_id, current->primary);
  // With a coordinator, several writable nodes are its to judge (and fence): the raw view
  // shows them as they answer, and the overlay holds out all but its primary.
  if (overlay.active) choice.excluded_primaries.clear();
  ClusterView view =
      build_cluster_view(current->generation + 1, backends, seen, cluster_system_id, choice);
  if (!overlay.active) log_choice(choice, view);
  annotate_lag(lag_tracker, lag_primary, view);
  if (notify && observe) {
    observing = true;
    observe(view);
    observing = false;
  }
  apply_overlay(view, overlay);

  // Publish what workers act on at once; otherwise (only LSNs moved) at most once a period, so
  // lag figures stay fresh without a post to every worker on every probe.
  const auto now = steady_clock::now();
  if (!differs_for_workers(*current, view) && now - last_publish < config.period) return;
  current = std::make_shared<const ClusterView>(std::move(view));
  last_publish = now;
  if (publish) publish(current);
}

void HealthChecker::State::log_choice(const PrimaryChoice& choice, const ClusterView& view) {
  if (choice.primary != current->primary) {
    if (choice.primary) {
      const NodeView& primary = view.nodes[*choice.primary];
      pgr::log::info("primary is now ", node_label(backends[*choice.primary]), " (timeline ",
                     primary.timeline, ")");
    } else if (current->primary) {
      pgr::log::warn("no primary: writes wait until one is up");
    }
  }
  // Foreign and split-brain nodes: loud, but once per episode rather than once per probe.
  std::vector<std::string> warnings;
  for (const std::size_t i : choice.foreign) {
    warnings.push_back(node_label(backends[i]) + ": never used: " + view.nodes[i].last_error);
  }
  for (const std::size_t i : choice.excluded_primaries) {
    warnings.push_back("split brain: " + node_label(backends[i]) +
                       " is not in recovery either and is kept out of service: " +
                       view.nodes[i].last_error);
  }
  for (const auto& warning : warnings) {
    if (std::find(active_warnings.begin(), active_warnings.end(), warning) ==
        active_warnings.end()) {
      pgr::log::error(warning);
    }
  }
  active_warnings = std::move(warnings);
}

asio::awaitable<void> HealthChecker::State::probe_loop(std::shared_ptr<State> state,
                                                      std::size_t index) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  auto probe = std::make_unique<NodeProbe>(state->executor, state->backends[index], state->config);
  std::uint64_t generation = state->config_generation;
  Node& node = *state->nodes[index];
  while (!state->stopped) {
    if (state->backends[index].removed) {
      // A reload removed this slot: no connection, no probes, until a reload brings it back
      // (reconfigure() wakes the loop).
      probe.reset();
      node.wake.expires_at(steady_clock::time_point::max());
      (void)co_await node.wake.async_wait(use_tuple);
      continue;
    }
    if (!probe || generation != state->config_generation) {  // reloaded: probe with the new settings
      probe = std::make_unique<NodeProbe>(state->executor, state->backends[index], state->config);
      generation = state->config_generation;
    }
    node.probing = true;
    const auto started = steady_clock::now();
    // The probe's time is when its query went out, not when the answer was handled: read-
    // your-writes takes a primary probe stamped after a commit as proof it saw that commit.
    const auto sent_at = std::chrono::system_clock::now();
    ProbeResult result = co_await probe->probe();  // bounded by config.timeout
    node.probing = false;
    if (state->stopped) co_return;
    if (state->backends[index].removed) continue;  // removed while the probe ran
    const bool ok = result.ok;
    state->on_probe_result(index, std::move(result), sent_at);
    if (state->probe_observer) {
      state->probe_observer(index, ok,
                            std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started),
                            node.seen.status == NodeStatus::down);
    }
    // Sleep until the state machine's next probe; a failure report moves that time earlier
    // and cancels the wait, so the loop re-reads it rather than trusting one expiry.
    while (!state->stopped && steady_clock::now() < node.machine.next_probe()) {
      node.wake.expires_at(node.machine.next_probe());
      (void)co_await node.wake.async_wait(use_tuple);
    }
  }
}

HealthChecker::HealthChecker(asio::any_io_executor main_executor,
                             std::vector<conf::BackendConfig> backends,
                             conf::HealthCheckConfig config, publish_fn publish)
    : state_(std::make_shared<State>(std::move(main_executor), std::move(backends),
                                     std::move(config), std::move(publish))) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  if (state_->started || state_->stopped) return;
  state_->started = true;
  for (std::size_t i = 0; i < state_->nodes.size(); ++i) State::spawn_probe_loop(state_, i);
}

void HealthChecker::State::spawn_probe_loop(const std::shared_ptr<State>& state, std::size_t i) {
  auto& node = *state->nodes[i];
  const std::string label = node_label(state->backends[i]);
  asio::co_spawn(
      state->executor, State::probe_loop(state, i),
      asio::bind_cancellation_slot(node.stop_signal.slot(), [label](std::exception_ptr error) {
        // Cancellation at stop() may surface as operation_aborted; anything else is a bug.
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const boost::system::system_error& e) {
          if (e.code() == asio::error::operation_aborted) return;
          pgr::log::error("health: probe loop of ", label, " ended: ", e.what());
        } catch (const std::exception& e) {
          pgr::log::error("health: probe loop of ", label, " ended: ", e.what());
        }
      }));
}

void HealthChecker::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  for (auto& node : state_->nodes) {
    node->wake.cancel();
    node->stop_signal.emit(asio::cancellation_type::terminal);
  }
}

void HealthChecker::set_observer(observe_fn observe) { state_->observe = std::move(observe); }

void HealthChecker::set_probe_observer(probe_fn observe) { state_->probe_observer = std::move(observe); }

void HealthChecker::reconfigure(std::vector<conf::BackendConfig> backends, conf::HealthCheckConfig config) {
  auto& s = *state_;
  if (s.stopped || backends.size() < s.backends.size()) return;  // slots never shrink
  const NodeStateSettings settings{config.period, config.retry_delay, config.max_retries};
  // A slot that starts or stops serving (or changes address) starts over: no state carried.
  std::vector<bool> fresh(backends.size(), true);
  for (std::size_t i = 0; i < s.backends.size(); ++i) {
    const auto& a = s.backends[i];
    const auto& b = backends[i];
    fresh[i] = a.removed != b.removed || a.host != b.host || a.port != b.port;
    if (fresh[i]) pgr::log::info(node_label(b), b.removed ? ": removed from the configuration; no more probes"
                                                          : ": added to the configuration; probing");
  }
  for (std::size_t i = s.backends.size(); i < backends.size(); ++i) {
    pgr::log::info(node_label(backends[i]), ": added to the configuration (node ", i, "); probing");
  }
  s.backends = std::move(backends);
  s.config = std::move(config);
  ++s.config_generation;
  for (std::size_t i = 0; i < s.nodes.size(); ++i) {
    auto& node = *s.nodes[i];
    node.machine.set_settings(settings);
    if (fresh[i]) {
      node.machine = NodeState(settings);
      node.seen = NodeObservation{};
      if (s.lag_primary == i) s.lag_primary.reset();
    }
    if (!node.probing) node.wake.cancel();  // re-read the schedule
  }
  for (std::size_t i = s.nodes.size(); i < s.backends.size(); ++i) {
    s.nodes.push_back(std::make_unique<State::Node>(s.executor, settings));
    if (s.started) State::spawn_probe_loop(state_, i);
  }
  s.rebuild_and_publish(false);
}

void HealthChecker::set_overlay(ViewOverlay overlay) {
  state_->overlay = std::move(overlay);
  if (!state_->observing && !state_->stopped) state_->rebuild_and_publish(false);
}

void HealthChecker::report_backend_failure(std::size_t node_index, std::string reason) {
  if (state_->stopped || node_index >= state_->nodes.size() || state_->backends[node_index].removed) return;
  auto& node = *state_->nodes[node_index];
  const auto before = node.machine.next_probe();
  const auto now = steady_clock::now();
  const NodeDecision decision = node.machine.on_failure_report(now);
  const std::string label = node_label(state_->backends[node_index]);
  if (decision.next_probe == before) {
    pgr::log::debug(label, ": failure reported (", reason, "); a probe is already scheduled");
    return;
  }
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(decision.next_probe - now, steady_clock::duration::zero()));
  pgr::log::info(label, ": failure reported (", reason, "); probing in ", wait.count(), "ms");
  // While a probe is in flight the report is absorbed by it: its result sets the schedule.
  if (!node.probing) node.wake.cancel();
}

ClusterViewPtr HealthChecker::current() const { return state_->current; }

}  // namespace pgr::health
