// ClusterViews for the proxy's routing tests: node0 the primary, node1 and node2 standbys,
// everything replayed up to LSN 1000 at time at(0ms).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "health/cluster_view.hpp"

namespace pgr::proxy::test {

using time_point = std::chrono::system_clock::time_point;

inline time_point at(std::chrono::milliseconds ms) {
  return time_point{} + std::chrono::hours(1000) + ms;
}

inline health::NodeView node(std::size_t index, health::NodeRole role, double weight, std::uint64_t lsn) {
  using health::NodeRole;
  health::NodeView n;
  n.index = index;
  n.name = "node" + std::to_string(index);
  n.role = role;
  n.status = health::NodeStatus::up;
  n.weight = weight;
  n.current_lsn = role == NodeRole::primary ? lsn : 0;
  n.replay_lsn = role == NodeRole::standby ? lsn : 0;
  n.lag_bytes = role == NodeRole::standby ? std::optional<std::uint64_t>(0) : std::nullopt;
  n.lag = role == NodeRole::standby ? std::optional(std::chrono::milliseconds(0)) : std::nullopt;
  n.last_probe = at(std::chrono::milliseconds(0));
  return n;
}

inline health::ClusterView cluster(double w1 = 1.0, double w2 = 1.0) {
  using health::NodeRole;
  health::ClusterView v;
  v.nodes = {node(0, NodeRole::primary, 1.0, 1000), node(1, NodeRole::standby, w1, 1000),
             node(2, NodeRole::standby, w2, 1000)};
  v.primary = 0;
  return v;
}

}  // namespace pgr::proxy::test
