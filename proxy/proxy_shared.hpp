// What all workers share: the applied config, the cancel registry and process-wide counters.
// Thread rules: each Config is immutable, and a reload publishes a new one through the
// ConfigSlot (an atomic pointer); registry is internally locked; counters are atomics
// touched at session start and end only (per node: when a unit is routed and when a link
// opens or closes); per-message counters are per worker (traffic_counters.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/cluster_snapshot.hpp"

#include "conf/config.hpp"
#include "proxy/cancel_registry.hpp"
#include "proxy/connection_limits.hpp"
#include "proxy/pool_budget.hpp"
#include "proxy/tls_context.hpp"
#include "proxy/traffic_counters.hpp"

namespace pgr::proxy {

// Per-node figures: units routed to the node by kind (statement_classifier's read / write /
// other; relaxed atomics bumped by sessions), and its health-check statistics (written by main
// after each probe, read by SHOW POOL_HEALTH_CHECK_STATS; never on the hot path, so a mutex).
struct NodeRouteCounters {
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> others{0};
  std::atomic<std::int64_t> links{0};  // sessions' backend links open to the node now
  // [pool]: idle pooled connections and clients queued for one (all workers), and how long
  // clients waited (a histogram: cumulative counts at k_pool_wait_bounds, sum, count).
  std::atomic<std::int64_t> pool_idle{0};
  std::atomic<std::int64_t> pool_waiting{0};
  static constexpr const auto& k_pool_wait_bounds_us = admin::k_pool_wait_bounds_us;
  std::array<std::atomic<std::uint64_t>, k_pool_wait_bounds_us.size()> pool_wait_buckets{};
  std::atomic<std::uint64_t> pool_wait_count{0};
  std::atomic<std::uint64_t> pool_wait_sum_us{0};
  void observe_pool_wait(std::chrono::microseconds waited) {
    const auto us = waited.count();
    for (std::size_t i = 0; i < k_pool_wait_bounds_us.size(); ++i) {
      if (us <= k_pool_wait_bounds_us[i]) pool_wait_buckets[i].fetch_add(1, std::memory_order_relaxed);
    }
    pool_wait_count.fetch_add(1, std::memory_order_relaxed);
    pool_wait_sum_us.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0)), std::memory_order_relaxed);
  }

  admin::ProbeStats probe_stats() const {
    const std::lock_guard lock(probes_mutex);
    return probes;
  }
  mutable std::mutex probes_mutex;
  admin::ProbeStats probes;  // guarded by probes_mutex
};

// The applied config. Readers (workers, any thread) use `*config` and `config->`: one
// acquire load. publish() (main thread) swaps in a reloaded Config; every Config ever applied
// is kept for the life of the process, so a reference a session took before a reload stays
// valid across its awaits — reloads are rare, and each costs one Config.
class ConfigSlot {
 public:
  const conf::Config& operator*() const { return *current_.load(std::memory_order_acquire); }
  const conf::Config* operator->() const { return current_.load(std::memory_order_acquire); }
  // Main thread only.
  void publish(std::shared_ptr<const conf::Config> config) {
    current_.store(config.get(), std::memory_order_release);
    retained_.push_back(std::move(config));
  }
  const std::shared_ptr<const conf::Config>& shared() const { return retained_.back(); }

 private:
  std::atomic<const conf::Config*> current_{nullptr};
  std::vector<std::shared_ptr<const conf::Config>> retained_;
};

struct ProxyShared {
  ConfigSlot config;
  CancelRegistry cancel_registry;
  TlsSlot tls;               // the [tls] contexts for new connections (rebuilt on reload)
  ConnectionLimits limits;   // per user / database / pending-login counts
  std::atomic<int> client_connections{0};
  std::atomic<std::uint64_t> clients_accepted{0};  // bumped by the listener (main)
  std::atomic<std::uint64_t> next_session_id{1};
  std::string mock_secret;  // random per process: unknown users' fake SCRAM salt
  // A session saw node `index` fail (connect refused, EOF, 57P01, 25006 on the primary).
  // Thread-safe: posts to main, which re-probes the node at once. Unset in unit tests.
  std::function<void(std::size_t index, std::string reason)> report_backend_failure;
  // One per node slot up to conf::k_max_node_slots, allocated before the workers start and
  // never resized (a reload may add nodes while workers count); relaxed atomics.
  std::vector<NodeRouteCounters> route_counters;
  // One per worker (index = Worker::index()), allocated before the workers start.
  std::vector<std::unique_ptr<WorkerCounters>> worker_counters;
  // [pool] max_backend_connections: one budget per node slot (allocated up front, as
  // route_counters), shared by every worker.
  std::vector<NodeBudget> budgets;
  // A client waits for `node`'s budget: every worker closes one idle connection to it it does
  // not need. Thread-safe (posts). Unset in unit tests.
  std::function<void(std::size_t node)> evict_idle;
  // Every worker's pools, summed by (node, database, user). Thread-safe. Unset in unit tests.
  std::function<std::vector<admin::PoolSnapshot>()> pool_rows;
};

}  // namespace pgr::proxy
