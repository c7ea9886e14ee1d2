// The health checker: on the main thread, one probe loop per backend feeding its NodeState,
// and after every probe a new ClusterView handed to the publish callback (which posts it to
// the workers).
//
// Thread rules: everything here runs on the main thread's executor — construct, start(),
// stop(), report_backend_failure() and current() must be called there, and the publish
// callback is invoked there. Workers never call in directly: they post their failure reports
// to main. The probe loops share ownership of the checker's state, so destroying the
// HealthChecker (which stops it) while a probe is in flight is safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "conf/config.hpp"
#include "health/cluster_builder.hpp"
#include "health/cluster_view.hpp"
#include "health/probe_result.hpp"

namespace pgr::health {

class HealthChecker {
 public:
  using publish_fn = std::function<void(ClusterViewPtr)>;
  // Sees every view the probes produce, before the overlay and before publication (which is
  // rate-limited): the failover coordinator's input. It may call set_overlay(), which then
  // applies to that same view.
  using observe_fn = std::function<void(const ClusterView& raw)>;
  // After every probe: the node, whether it answered, how long it took, whether the node is
  // down now. For statistics (SHOW POOL_HEALTH_CHECK_STATS, metrics).
  using probe_fn = std::function<void(std::size_t index, bool ok, std::chrono::milliseconds took, bool down)>;

  HealthChecker(boost::asio::any_io_executor main_executor,
                std::vector<conf::BackendConfig> backends, conf::HealthCheckConfig config,
                publish_fn publish);
  ~HealthChecker();  // stop()s
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Spawns the probe loops; the first probes start at once. Once only: later calls do nothing.
  void start();
  // Cancels every probe and wait. Safe to call twice; after it no callback runs.
  void stop();
  // Installs the observer (before start()).
  void set_observer(observe_fn observe);
  void set_probe_observer(probe_fn observe);
  // A reload: new weights and data directories, new health_check settings, and node slots
  // added or removed (conf/backend_slots.hpp; `backends` never has fewer slots than before).
  // Probes in flight finish with the old settings; the next ones use the new (a changed user,
  // password or database reconnects). An added slot is probed at once, from a fresh state; a
  // removed one stops being probed and is published down and `removed`. Main thread only.
  void reconfigure(std::vector<conf::BackendConfig> backends, conf::HealthCheckConfig config);
  // Replaces the overlay (cluster_builder.hpp) and republishes at once when that changes
  // what workers see. Main thread only.
  void set_overlay(ViewOverlay overlay);
  // A worker saw this backend fail: probe it now (rate-limited by retry_delay). Never marks the
  // node down by itself — only probes do. Main thread only.
  void report_backend_failure(std::size_t node_index, std::string reason);
  // The last published view; never null. Before the first publication: generation 0, every
  // node present, down, role unknown.
  ClusterViewPtr current() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace pgr::health
