// pgpool-II style node reports (see pgpool_report.hpp).
#include "admin/pgpool_report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace pgr::admin {

namespace {

std::string fixed(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", value);
  return buf;
}

}  // namespace

std::string format_unix_time(std::int64_t unix_seconds) {
  if (unix_seconds == 0) return "";
  const std::time_t t = unix_seconds;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string pgpool_status(const NodeSnapshot& node) { return node.serving ? "up" : "down"; }

std::string pgpool_role(const NodeSnapshot& node) {
  if (node.is_primary) return "primary";
  return "standby";
}

const std::vector<std::string>& health_check_columns() {
  static const std::vector<std::string> columns{
      "node_id", "hostname", "port", "status", "role", "last_status_change", "total_count",
      "success_count", "fail_count", "skip_count", "retry_count", "average_retry_count",
      "max_retry_count", "max_duration", "min_duration", "average_duration", "last_health_check",
      "last_successful_health_check", "last_skip_health_check", "last_failed_health_check"};
  return columns;
}

std::vector<std::string> health_check_row(const NodeSnapshot& n) {
  const auto& p = n.probes;
  const double average_retry = p.fail == 0 ? 0.0 : static_cast<double>(p.retry) / static_cast<double>(p.fail);
  const double average_ms = p.total == 0 ? 0.0 : static_cast<double>(p.duration_ms_sum) / static_cast<double>(p.total);
  return {std::to_string(n.index), n.host, std::to_string(n.port), pgpool_status(n), pgpool_role(n),
          format_unix_time(n.last_status_change), std::to_string(p.total), std::to_string(p.success),
          std::to_string(p.fail), "0", std::to_string(p.retry), fixed(average_retry),
          std::to_string(p.max_retry), std::to_string(p.max_duration_ms), std::to_string(p.min_duration_ms),
          fixed(average_ms), format_unix_time(p.last_probe), format_unix_time(p.last_success), "",
          format_unix_time(p.last_failure)};
}

const std::vector<std::string>& backend_stats_columns() {
  // pgpool-II splits writes into insert/update/delete/ddl; pgrouter's classifier knows
  // read, write and other, so those are the counters (see ARCHITECTURE.md, Admin).
  static const std::vector<std::string> columns{"node_id", "hostname", "port",      "status",
                                                "role",    "select_cnt", "write_cnt", "other_cnt"};
  return columns;
}

std::vector<std::string> backend_stats_row(const NodeSnapshot& n) {
  return {std::to_string(n.index), n.host, std::to_string(n.port), pgpool_status(n), pgpool_role(n),
          std::to_string(n.traffic.reads), std::to_string(n.traffic.writes), std::to_string(n.traffic.others)};
}

const std::vector<std::string>& pool_pools_columns() {
  // PgBouncer's SHOW POOLS names (cl_waiting, sv_active, sv_idle, maxwait_us) where they mean
  // the same; sv_active counts connections logging in or being reset too.
  static const std::vector<std::string> columns{"node_id",    "hostname",  "port",    "database",
                                                "username",   "pool_mode", "cl_waiting", "sv_active",
                                                "sv_idle",    "sv_total",  "maxwait_us", "max_backend_connections"};
  return columns;
}

std::vector<std::vector<std::string>> pool_pools_rows(const std::vector<NodeSnapshot>& nodes,
                                                      const std::vector<PoolSnapshot>& pools,
                                                      std::string_view pool_mode, int max_backend_connections) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(pools.size());
  for (const auto& p : pools) {
    const auto node = std::find_if(nodes.begin(), nodes.end(), [&p](const auto& n) { return n.index == p.node; });
    const bool known = node != nodes.end();
    rows.push_back({std::to_string(p.node), known ? node->host : "", known ? std::to_string(node->port) : "",
                    p.database, p.user, std::string(pool_mode), std::to_string(p.waiting), std::to_string(p.active),
                    std::to_string(p.idle), std::to_string(p.active + p.idle), std::to_string(p.max_wait_us),
                    std::to_string(max_backend_connections)});
  }
  return rows;
}

std::vector<std::vector<std::string>> pool_pools_rows(const ClusterSnapshot& s) {
  return pool_pools_rows(s.nodes, s.pools, s.pool_mode, s.max_backend_connections);
}

pcp::NodeInfo pcp_node_info(const NodeSnapshot& n, double total_weight) {
  pcp::NodeInfo info;
  info.host = n.host;
  info.port = n.port;
  info.status = n.removed ? 0 : n.serving ? 2 : 3;  // 0: pgpool's "unused" slot
  info.pg_status = n.role == "unknown" ? "down" : "up";
  info.weight = total_weight > 0 ? n.weight / total_weight : 0.0;
  info.role = n.is_primary ? 2 : 3;
  info.pg_role = n.role;
  info.delay = n.lag_bytes.value_or(0);
  info.replication_state = n.is_primary ? "" : n.replication_state;
  info.replication_sync_state = n.is_primary || n.role != "standby" ? "" : "async";
  info.status_changed = n.last_status_change;
  return info;
}

}  // namespace pgr::admin
