// The per-node health state machine: up -> suspect -> down -> up, driven by probe outcomes.
// Pure: no clock and no I/O of its own; callers pass `now`, and every decision comes back as
// data (new status, transition, when to probe next), so the thresholds are unit-tested with a
// fake clock.
//
// Thread rules: plain value owned by the health checker on the main thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "health/cluster_view.hpp"

namespace pgr::health {

struct NodeStateSettings {
  std::chrono::milliseconds period{2'000};       // between probes of a settled node
  std::chrono::milliseconds retry_delay{1'000};  // between retries of a suspect node
  int max_retries = 0;  // failed retries after the first failure before a node is down
};

// What changed, for logs and for the checker to act on.
enum class NodeTransition : std::uint8_t {
  none,
  first_up,      // the first probe ever succeeded
  first_down,    // the first probe ever failed (and no retries are configured or left)
  became_suspect,  // up -> suspect: a probe failed, retries pending
  went_down,     // up or suspect -> down
  recovered,     // suspect -> up: a retry succeeded
  came_back,     // down -> up
};

std::string_view to_string(NodeTransition transition);

struct NodeDecision {
  NodeStatus status = NodeStatus::down;
  NodeTransition transition = NodeTransition::none;
  std::chrono::steady_clock::time_point next_probe{};  // <= now means "probe at once"
};

class NodeState {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit NodeState(NodeStateSettings settings) : settings_(settings) {}
  // A reload: the new period, retries and delay apply from the next decision.
  void set_settings(NodeStateSettings settings) { settings_ = settings; }

  // Feeds one probe outcome. A node starts down and unprobed.
  NodeDecision on_probe_result(bool ok, time_point now);

  // A worker saw this backend fail. On an up node this asks for a probe at once — but no
  // sooner than k_report_probe_gap (or retry_delay, if shorter) after the previous probe
  // result, so a burst of reports from many sessions costs one probe, not a storm, and a dead
  // primary is seen within a tenth of a second of its sessions breaking. It never changes the status by itself: only probes
  // mark a node down (and so only probes can start a failover). On a suspect node a retry is
  // already scheduled, and a down node is out of service: their schedules stay as they are.
  NodeDecision on_failure_report(time_point now);
  static constexpr std::chrono::milliseconds k_report_probe_gap{100};

  NodeStatus status() const { return status_; }
  bool probed() const { return probed_; }
  int failed_retries() const { return failed_retries_; }
  time_point next_probe() const { return next_probe_; }

 private:
  NodeDecision decide(NodeTransition transition) const {
    return {status_, transition, next_probe_};
  }

  NodeStateSettings settings_;
  NodeStatus status_ = NodeStatus::down;
  bool probed_ = false;
  int failed_retries_ = 0;  // retries that failed since the node became suspect
  time_point next_probe_{};  // epoch: the first probe is due at once
  time_point last_result_{};
};

}  // namespace pgr::health
