// Building the admin snapshot from a published view (see cluster_snapshot.hpp).
#include "admin/cluster_snapshot.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace pgr::admin {

void record_probe(ProbeStats& stats, bool ok, std::chrono::milliseconds took, bool down_after,
                  std::int64_t now_unix) {
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count()));
  if (stats.total == 0 || stats.down != down_after) stats.status_changed = now_unix;
  stats.down = down_after;
  ++stats.total;
  stats.duration_ms_sum += ms;
  stats.max_duration_ms = std::max(stats.max_duration_ms, ms);
  stats.min_duration_ms = stats.total == 1 ? ms : std::min(stats.min_duration_ms, ms);
  stats.last_probe = now_unix;
  for (std::size_t i = 0; i < k_probe_buckets_seconds.size(); ++i) {
    if (static_cast<double>(ms) / 1000.0 <= k_probe_buckets_seconds[i]) {
      ++stats.duration_buckets[i];
      break;
    }
  }
  if (ok) {
    ++stats.success;
    stats.last_success = now_unix;
    stats.consecutive_failures = 0;
    return;
  }
  ++stats.fail;
  stats.last_failure = now_unix;
  ++stats.consecutive_failures;
  stats.max_retry = std::max(stats.max_retry, stats.consecutive_failures);
  if (!down_after) ++stats.retry;
}

const NodeSnapshot* ClusterSnapshot::find(std::string_view name_or_index) const {
  for (const auto& node : nodes) {
    if (!node.removed && node.name == name_or_index) return &node;
  }
  std::size_t index = 0;
  const auto* end = name_or_index.data() + name_or_index.size();
  const auto [ptr, ec] = std::from_chars(name_or_index.data(), end, index);
  if (ec == std::errc() && ptr == end && !name_or_index.empty() && index < nodes.size()) {
    return &nodes[index];
  }
  return nullptr;
}

std::vector<NodeSnapshot> snapshot_nodes(const health::ClusterView& view,
                                         const std::vector<NodeTraffic>& traffic,
                                         const std::vector<NodePoolStats>& pool,
                                         const std::vector<ProbeStats>& probes) {
  std::vector<NodeSnapshot> out;
  out.reserve(view.nodes.size());
  for (const auto& n : view.nodes) {
    NodeSnapshot s;
    s.index = n.index;
    s.name = n.name;
    s.host = n.host;
    s.port = n.port;
    s.weight = n.weight;
    s.role = std::string(health::to_string(n.role));
    s.held_out = n.held_out;
    // A held-out node is published down; say "up" when it answers all the same.
    s.status = std::string(health::to_string(n.status));
    if (!n.held_out.empty() && n.role != health::NodeRole::unknown) s.status = "up";
    s.is_primary = view.primary == n.index;
    s.serving = n.status != health::NodeStatus::down && n.held_out.empty();
    s.removed = n.removed;
    s.timeline = n.timeline;
    s.lag_bytes = n.lag_bytes;
    if (n.lag) s.lag_ms = n.lag->count();
    s.replication_state = n.wal_receiver_status;
    if (!n.sender_host.empty()) s.upstream = n.sender_host + ":" + std::to_string(n.sender_port);
    s.last_error = n.last_error;
    if (n.last_probe != std::chrono::system_clock::time_point{}) {
      s.last_status_change =
          std::chrono::duration_cast<std::chrono::seconds>(n.last_probe.time_since_epoch()).count();
    }
    if (n.index < traffic.size()) s.traffic = traffic[n.index];
    if (n.index < pool.size()) s.pool = pool[n.index];
    if (n.index < probes.size()) {
      s.probes = probes[n.index];
      if (s.probes.status_changed != 0) s.last_status_change = s.probes.status_changed;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace pgr::admin
