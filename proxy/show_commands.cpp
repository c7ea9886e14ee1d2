// pgpool-II style SHOW commands (see show_commands.hpp).
#include "proxy/show_commands.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <string>

#include "admin/pgpool_report.hpp"
#include "protocol/messages.hpp"
#include "protocol/sql_lexer.hpp"
#include "pgrouter_version.hpp"

namespace pgr::proxy {

namespace {

enum class Command : std::uint8_t {
  none,
  pool_nodes,
  pool_version,
  pool_health_check_stats,
  pool_backend_stats,
  pool_pools
};

// Asked of every simple-protocol query: most stop at their first word, and none allocates.
Command command_of(std::string_view sql) {
  protocol::SqlLexer lexer(sql);
  std::array<protocol::Token, 3> tokens{};
  std::size_t count = 0;
  for (auto t = lexer.next(); t.kind != protocol::TokenKind::end; t = lexer.next()) {
    if (t.kind == protocol::TokenKind::comment) continue;
    if (count == 0 && !protocol::is_keyword(t, "show")) return Command::none;
    if (count == tokens.size()) return Command::none;  // SHOW pool_x; and no more
    tokens[count++] = t;
  }
  if (count > 0 && tokens[count - 1].kind == protocol::TokenKind::semicolon) --count;
  if (count != 2) return Command::none;
  if (protocol::is_keyword(tokens[1], "pool_nodes")) return Command::pool_nodes;
  if (protocol::is_keyword(tokens[1], "pool_version")) return Command::pool_version;
  if (protocol::is_keyword(tokens[1], "pool_health_check_stats")) return Command::pool_health_check_stats;
  if (protocol::is_keyword(tokens[1], "pool_backend_stats")) return Command::pool_backend_stats;
  if (protocol::is_keyword(tokens[1], "pool_pools")) return Command::pool_pools;
  return Command::none;
}

std::string format_time(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point{}) return "";
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_weight(double weight, double total) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", total > 0 ? weight / total : 0.0);
  return buf;
}

// A standby's replication_sync_state as its primary last reported it in pg_stat_replication
// (matched by application_name = the backend's name): async, potential, sync or quorum.
std::string sync_state_of(const health::ClusterView& view, const health::NodeView& node) {
  if (node.role != health::NodeRole::standby) return "";
  if (const auto* primary = view.primary_node()) {
    for (const auto& replica : primary->replicas) {
      if (replica.application_name == node.name && !replica.sync_state.empty()) {
        return replica.sync_state;
      }
    }
  }
  return "async";
}

void pool_nodes(protocol::byte_buffer& out, const health::ClusterView& view,
                const std::vector<NodeRouteCounters>& counters, std::optional<std::size_t> session_reader) {
  protocol::write_row_description(
      out, {"node_id", "hostname", "port", "status", "pg_status", "lb_weight", "role", "pg_role", "select_cnt",
            "load_balance_node", "replication_delay", "replication_state", "replication_sync_state",
            "last_status_change"});
  double total = 0;
  std::size_t rows = 0;
  for (const auto& node : view.nodes) total += node.removed ? 0 : node.weight;
  for (const auto& node : view.nodes) {
    if (node.removed) continue;  // a slot a reload emptied
    ++rows;
    const bool up = node.status != health::NodeStatus::down;
    const std::string role = view.primary == node.index ? "primary" : std::string(health::to_string(node.role));
    const std::string pg_role = up ? std::string(health::to_string(node.role)) : "unknown";
    const auto reads = node.index < counters.size() ? counters[node.index].reads.load(std::memory_order_relaxed) : 0;
    std::string delay = "0";
    if (node.role == health::NodeRole::standby && node.lag_bytes) delay = std::to_string(*node.lag_bytes);
    std::string replication_state;
    if (node.role == health::NodeRole::standby && !node.wal_receiver_status.empty()) replication_state = node.wal_receiver_status;
    protocol::write_data_row(
        out, {std::to_string(node.index), node.host, std::to_string(node.port), up ? "up" : "down", up ? "up" : "down",
              format_weight(node.weight, total), role, pg_role, std::to_string(reads),
              session_reader == node.index ? "true" : "false", delay, replication_state,
              sync_state_of(view, node), format_time(node.last_probe)});
  }
  protocol::write_command_complete(out, "SELECT " + std::to_string(rows));
}

// The nodes as the admin interfaces see them, from the view and the shared counters.
std::vector<admin::NodeSnapshot> nodes_of(const health::ClusterView& view,
                                          const std::vector<NodeRouteCounters>& counters) {
  std::vector<admin::NodeTraffic> traffic;
  std::vector<admin::ProbeStats> probes;
  for (std::size_t i = 0; i < view.nodes.size() && i < counters.size(); ++i) {
    const auto& c = counters[i];
    traffic.push_back({c.reads.load(std::memory_order_relaxed), c.writes.load(std::memory_order_relaxed),
                       c.others.load(std::memory_order_relaxed), c.links.load(std::memory_order_relaxed)});
    probes.push_back(c.probe_stats());
  }
  auto nodes = admin::snapshot_nodes(view, traffic, {}, probes);
  std::erase_if(nodes, [](const auto& n) { return n.removed; });
  return nodes;
}

void report(protocol::byte_buffer& out, const std::vector<std::string>& columns,
            const std::vector<std::vector<std::string>>& rows) {
  protocol::write_row_description(out, columns);
  for (const auto& row : rows) {
    protocol::write_data_row(out, std::vector<std::optional<std::string>>(row.begin(), row.end()));
  }
  protocol::write_command_complete(out, "SELECT " + std::to_string(rows.size()));
}

}  // namespace

bool is_show_command(std::string_view sql) { return command_of(sql) != Command::none; }

std::optional<protocol::byte_buffer> answer_show_command(std::string_view sql, const health::ClusterView& view,
                                                         const std::vector<NodeRouteCounters>& counters,
                                                         std::optional<std::size_t> session_reader,
                                                         const std::vector<admin::PoolSnapshot>& pools,
                                                         const conf::PoolConfig& pool_config) {
  protocol::byte_buffer out;
  switch (command_of(sql)) {
    case Command::none: return std::nullopt;
    case Command::pool_nodes: pool_nodes(out, view, counters, session_reader); break;
    case Command::pool_version:
      protocol::write_row_description(out, {"pool_version"});
      protocol::write_data_row(out, {std::string("pgrouter ") + pgr::k_version + " (" + pgr::k_git_sha + ")"});
      protocol::write_command_complete(out, "SHOW");
      break;
    case Command::pool_health_check_stats: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& node : nodes_of(view, counters)) rows.push_back(admin::health_check_row(node));
      report(out, admin::health_check_columns(), rows);
      break;
    }
    case Command::pool_backend_stats: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& node : nodes_of(view, counters)) rows.push_back(admin::backend_stats_row(node));
      report(out, admin::backend_stats_columns(), rows);
      break;
    }
    case Command::pool_pools:
      // Every pool, on a removed slot too while its connections drain: host and port from the
      // whole view.
      report(out, admin::pool_pools_columns(),
             admin::pool_pools_rows(admin::snapshot_nodes(view, {}, {}, {}), pools, conf::to_string(pool_config.mode),
                                    pool_config.max_backend_connections));
      break;
  }
  return out;
}

}  // namespace pgr::proxy
