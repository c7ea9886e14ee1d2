// What all workers share: the applied config, the cancel registry and process-wide counters.
// Thread rules: config is immutable; registry is internally locked; counters are atomics
// touched at session start and end only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "proxy/cancel_registry.hpp"

namespace pgr::proxy {

// Units routed to one node, by kind (statement_classifier's read / write / other).
struct NodeRouteCounters {
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> others{0};
};

struct ProxyShared {
  std::shared_ptr<const conf::Config> config;
  CancelRegistry cancel_registry;
  std::atomic<int> client_connections{0};
  std::atomic<std::uint64_t> next_session_id{1};
  std::string mock_secret;  // random per process: unknown users' fake SCRAM salt
  // A session saw node `index` fail (connect refused, EOF, 57P01, 25006 on the primary).
  // Thread-safe: posts to main, which re-probes the node at once. Unset in unit tests.
  std::function<void(std::size_t index, std::string reason)> report_backend_failure;
  // One per configured backend, sized before the workers start; relaxed atomics.
  std::vector<NodeRouteCounters> route_counters;
};

}  // namespace pgr::proxy
