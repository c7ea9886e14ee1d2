// The `pgrouterctl list` tables (see list_table.hpp).
#include "admin/list_table.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "admin/pgpool_report.hpp"

namespace pgr::admin {

namespace {

std::string capitalized(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string role_of(const NodeSnapshot& n) {
  if (n.is_primary) return "Primary";
  if (n.role == "unknown") return "-";
  return capitalized(n.role);
}

// A table with a rule above and below the header and the title in the top rule; `right`
// says which columns are right-aligned.
std::string boxed(const std::string& title, const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<std::size_t> width(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) {
    width[c] = headers[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string rule = "+";
  for (const auto w : width) rule.append(w + 2, '-').append("+");
  std::string top = rule;
  if (title.size() < top.size()) {
    top.replace(0, title.size(), title);
  } else {
    top = title;
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      out.append(" ").append(right[c] ? pad + cells[c] : cells[c] + pad).append(" |");
    }
    return out + "\n";
  };
  std::string out = top + "\n" + line(headers) + rule + "\n";
  for (const auto& row : rows) out += line(row);
  out += rule + "\n";
  return out;
}

}  // namespace

std::string node_state(const NodeSnapshot& node) {
  if (!node.held_out.empty()) return node.held_out.substr(0, node.held_out.find(':'));
  if (node.status == "down") return "down";
  if (node.status == "suspect") return "suspect";
  if (node.is_primary) return "running";
  if (node.role == "standby") return node.replication_state.empty() ? "up" : node.replication_state;
  return node.status;
}

std::string format_list(const ClusterSnapshot& s) {
  const std::vector<std::string> headers{"Member", "Host", "Role", "State", "TL", "Lag in MB", "Lag in s",
                                         "Weight", "Reads", "Writes", "Connections"};
  std::vector<std::vector<std::string>> rows;
  const std::vector<bool> right{false, false, false, false, true, true, true, true, true, true, true};
  for (const auto& n : s.nodes) {
    if (n.removed) continue;
    const bool standby = !n.is_primary && n.role == "standby";
    rows.push_back({n.name, n.host + ":" + std::to_string(n.port), role_of(n), node_state(n),
                    n.timeline == 0 ? "" : std::to_string(n.timeline),
                    standby && n.lag_bytes ? fixed(static_cast<double>(*n.lag_bytes) / 1048576.0, 1) : "",
                    standby && n.lag_ms ? fixed(static_cast<double>(*n.lag_ms) / 1000.0, 1) : "",
                    fixed(n.weight, 1), std::to_string(n.traffic.reads), std::to_string(n.traffic.writes),
                    std::to_string(n.traffic.connections)});
  }
  // The title sits in the top rule, as patronictl puts the cluster's name there.
  std::string title = "+ Cluster: pgrouter " + s.version + " (" + std::to_string(s.clients) + " clients";
  if (s.failover_running) title.append(", failover running");
  title.append(") ");
  return boxed(title, headers, rows, right);
}

std::string format_pools(const ClusterSnapshot& s) {
  const auto& headers = pool_pools_columns();
  std::vector<bool> right;  // numbers right, text left
  for (const auto& h : headers) {
    right.push_back(h != "hostname" && h != "database" && h != "username" && h != "pool_mode");
  }
  std::string title = "+ Pools: " + (s.pool_mode.empty() ? std::string("?") : s.pool_mode) + " mode, ";
  title.append(s.max_backend_connections > 0
                   ? "at most " + std::to_string(s.max_backend_connections) + " connections per node "
                   : "no limit per node ");
  return boxed(title, headers, pool_pools_rows(s), right);
}

}  // namespace pgr::admin
