// Prometheus metrics (see metrics.hpp).
#include "admin/metrics.hpp"

#include <array>
#include <limits>
#include <map>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace pgr::admin {

namespace {

// clang-format off
constexpr std::array k_metrics{
  MetricDef{"pgrouter_build_info", MetricType::gauge, "Always 1; the version and git commit are labels."},
  MetricDef{"pgrouter_node_up", MetricType::gauge, "1 when the node answers probes and failover lets it serve."},
  MetricDef{"pgrouter_node_role", MetricType::gauge, "1 for the node's current role (primary: writes go there; standby; unknown)."},
  MetricDef{"pgrouter_node_timeline", MetricType::gauge, "The node's timeline, 0 while unknown."},
  MetricDef{"pgrouter_node_lag_bytes", MetricType::gauge, "Standby: WAL bytes the primary has that it has not replayed."},
  MetricDef{"pgrouter_node_lag_seconds", MetricType::gauge, "Standby: an upper bound on how stale its data is."},
  MetricDef{"pgrouter_node_statements_routed_total", MetricType::counter, "Statements (units) routed to the node, by kind: read, write, other."},
  MetricDef{"pgrouter_node_backend_connections", MetricType::gauge, "Client sessions' backend connections (links) open to the node now."},
  MetricDef{"pgrouter_pool_connections", MetricType::gauge, "[pool] backend connections to the node, by state: active (lent to client sessions), idle (kept for the next client)."},
  MetricDef{"pgrouter_pool_held_connections", MetricType::gauge, "Backend connections pgrouter holds to the node (active, idle, logging in, being reset): what max_backend_connections limits."},
  MetricDef{"pgrouter_pool_waiting_clients", MetricType::gauge, "Client sessions queued for a backend connection to the node."},
  MetricDef{"pgrouter_pool_wait_seconds", MetricType::histogram, "How long client sessions waited for a backend connection to the node."},
  MetricDef{"pgrouter_pool_max_backend_connections", MetricType::gauge, "[pool] max_backend_connections: the most backend connections per node; 0: no limit."},
  MetricDef{"pgrouter_health_check_duration_seconds", MetricType::histogram, "Duration of health-check probes."},
  MetricDef{"pgrouter_health_checks_total", MetricType::counter, "Health-check probes run."},
  MetricDef{"pgrouter_health_check_failures_total", MetricType::counter, "Health-check probes that failed."},
  MetricDef{"pgrouter_clients_connected", MetricType::gauge, "Client connections open now."},
  MetricDef{"pgrouter_clients_accepted_total", MetricType::counter, "Client connections accepted."},
  MetricDef{"pgrouter_clients_rejected_total", MetricType::counter, "Client connections turned away before their session began, by reason: max_connections, login_timeout, auth_failed, protocol_error, no_backend."},
  MetricDef{"pgrouter_client_errors_total", MetricType::counter, "ErrorResponses sent to clients (the servers' and pgrouter's own), by SQLSTATE class (its first two characters)."},
  MetricDef{"pgrouter_bytes_relayed_total", MetricType::counter, "Bytes relayed, by direction: client_to_server, server_to_client."},
  MetricDef{"pgrouter_failovers_total", MetricType::counter, "Failovers run (automatic and operator promotions)."},
  MetricDef{"pgrouter_last_failover_duration_seconds", MetricType::gauge, "Duration of the last failover; absent before the first."},
};
// clang-format on

prometheus::MetricType to_prometheus(MetricType type) {
  switch (type) {
    case MetricType::counter: return prometheus::MetricType::Counter;
    case MetricType::gauge: return prometheus::MetricType::Gauge;
    case MetricType::histogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

using Labels = std::vector<prometheus::ClientMetric::Label>;

class Families {
 public:
  Families() {
    for (const auto& def : k_metrics) {
      prometheus::MetricFamily family;
      family.name = std::string(def.name);
      family.help = std::string(def.help);
      family.type = to_prometheus(def.type);
      index_.emplace(def.name, families_.size());
      families_.push_back(std::move(family));
    }
  }

  void add(std::string_view name, Labels labels, double value) {
    auto& family = families_.at(index_.at(name));
    prometheus::ClientMetric metric;
    metric.label = std::move(labels);
    if (family.type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(std::move(metric));
  }

  // `buckets`: (cumulative count, upper bound in seconds), bounds rising; +Inf is `count`.
  void add_histogram(std::string_view name, Labels labels, std::uint64_t count, double sum_seconds,
                     const std::vector<prometheus::ClientMetric::Bucket>& buckets) {
    auto& family = families_.at(index_.at(name));
    prometheus::ClientMetric metric;
    metric.label = std::move(labels);
    metric.histogram.sample_count = count;
    metric.histogram.sample_sum = sum_seconds;
    metric.histogram.bucket = buckets;
    metric.histogram.bucket.push_back({count, std::numeric_limits<double>::infinity()});
    family.metric.push_back(std::move(metric));
  }

  // Probe durations: ProbeStats counts each probe in one bucket only.
  void add_histogram(std::string_view name, Labels labels, const ProbeStats& stats) {
    std::vector<prometheus::ClientMetric::Bucket> buckets;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < k_probe_buckets_seconds.size(); ++i) {
      cumulative += stats.duration_buckets[i];
      buckets.push_back({cumulative, k_probe_buckets_seconds[i]});
    }
    add_histogram(name, std::move(labels), stats.total, static_cast<double>(stats.duration_ms_sum) / 1000.0,
                  buckets);
  }

  // Pool waits: NodePoolStats's buckets are cumulative already.
  void add_histogram(std::string_view name, Labels labels, const NodePoolStats& pool) {
    std::vector<prometheus::ClientMetric::Bucket> buckets;
    for (std::size_t i = 0; i < k_pool_wait_bounds_us.size(); ++i) {
      buckets.push_back({pool.wait_buckets[i], static_cast<double>(k_pool_wait_bounds_us[i]) / 1e6});
    }
    add_histogram(name, std::move(labels), pool.wait_count, static_cast<double>(pool.wait_sum_us) / 1e6, buckets);
  }

  std::vector<prometheus::MetricFamily> take() {
    std::vector<prometheus::MetricFamily> out;
    for (auto& family : families_) {
      if (!family.metric.empty()) out.push_back(std::move(family));
    }
    return out;
  }

 private:
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string_view, std::size_t> index_;
};

}  // namespace

std::span<const MetricDef> metric_table() { return k_metrics; }

std::string render_metrics(const ClusterSnapshot& s, std::string_view git_sha) {
  Families f;
  const auto version = s.version.substr(0, s.version.find(' '));
  f.add("pgrouter_build_info", {{"version", version}, {"git_sha", std::string(git_sha)}}, 1);
  for (const auto& n : s.nodes) {
    if (n.removed) continue;
    const auto node = [&n](Labels extra = {}) {
      Labels labels{{"node", n.name}};
      labels.insert(labels.end(), extra.begin(), extra.end());
      return labels;
    };
    f.add("pgrouter_node_up", node(), n.serving ? 1 : 0);
    const std::string role = n.is_primary ? "primary" : n.role == "standby" ? "standby" : "unknown";
    for (const char* r : {"primary", "standby", "unknown"}) {
      f.add("pgrouter_node_role", node({{"role", r}}), role == r ? 1 : 0);
    }
    f.add("pgrouter_node_timeline", node(), n.timeline);
    if (n.lag_bytes) f.add("pgrouter_node_lag_bytes", node(), static_cast<double>(*n.lag_bytes));
    if (n.lag_ms) f.add("pgrouter_node_lag_seconds", node(), static_cast<double>(*n.lag_ms) / 1000.0);
    f.add("pgrouter_node_statements_routed_total", node({{"kind", "read"}}),
          static_cast<double>(n.traffic.reads));
    f.add("pgrouter_node_statements_routed_total", node({{"kind", "write"}}),
          static_cast<double>(n.traffic.writes));
    f.add("pgrouter_node_statements_routed_total", node({{"kind", "other"}}),
          static_cast<double>(n.traffic.others));
    f.add("pgrouter_node_backend_connections", node(), static_cast<double>(n.traffic.connections));
    f.add("pgrouter_pool_connections", node({{"state", "active"}}), static_cast<double>(n.traffic.connections));
    f.add("pgrouter_pool_connections", node({{"state", "idle"}}), static_cast<double>(n.pool.idle));
    f.add("pgrouter_pool_held_connections", node(), static_cast<double>(n.pool.held));
    f.add("pgrouter_pool_waiting_clients", node(), static_cast<double>(n.pool.waiting));
    f.add_histogram("pgrouter_pool_wait_seconds", node(), n.pool);
    f.add_histogram("pgrouter_health_check_duration_seconds", node(), n.probes);
    f.add("pgrouter_health_checks_total", node(), static_cast<double>(n.probes.total));
    f.add("pgrouter_health_check_failures_total", node(), static_cast<double>(n.probes.fail));
  }
  f.add("pgrouter_pool_max_backend_connections", {}, s.max_backend_connections);
  f.add("pgrouter_clients_connected", {}, static_cast<double>(s.clients));
  f.add("pgrouter_clients_accepted_total", {}, static_cast<double>(s.clients_accepted));
  for (const auto& [reason, count] : s.traffic.rejected) {
    f.add("pgrouter_clients_rejected_total", {{"reason", reason}}, static_cast<double>(count));
  }
  for (const auto& [sqlstate_class, count] : s.traffic.errors) {
    f.add("pgrouter_client_errors_total", {{"class", sqlstate_class}}, static_cast<double>(count));
  }
  f.add("pgrouter_bytes_relayed_total", {{"direction", "client_to_server"}}, static_cast<double>(s.traffic.bytes_to_server));
  f.add("pgrouter_bytes_relayed_total", {{"direction", "server_to_client"}}, static_cast<double>(s.traffic.bytes_to_client));
  f.add("pgrouter_failovers_total", {}, static_cast<double>(s.failovers));
  if (!s.recent_failovers.empty()) {
    f.add("pgrouter_last_failover_duration_seconds", {},
          static_cast<double>(s.recent_failovers.back().took_ms) / 1000.0);
  }
  return prometheus::TextSerializer().Serialize(f.take());
}

}  // namespace pgr::admin
