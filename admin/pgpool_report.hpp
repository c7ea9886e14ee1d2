// pgpool-II's reports on a node, from the snapshot: the rows of SHOW POOL_HEALTH_CHECK_STATS
// and SHOW POOL_BACKEND_STATS, and pcp_node_info's record; and pgrouter's SHOW POOL_POOLS (one
// row per backend connection pool). The SQL commands on the client port, the PCP socket and
// pgrouterctl use these, so they always agree.
//
// Thread rules: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "admin/cluster_snapshot.hpp"
#include "admin/pcp_codec.hpp"

namespace pgr::admin {

// "YYYY-MM-DD HH:MM:SS" in local time, "" for 0.
[[nodiscard]] std::string format_unix_time(std::int64_t unix_seconds);

// "up" when routing may use the node, else "down" (pgpool's status column).
[[nodiscard]] std::string pgpool_status(const NodeSnapshot& node);
// "primary" for the node writes go to, else "standby" (pgpool's role column).
[[nodiscard]] std::string pgpool_role(const NodeSnapshot& node);

[[nodiscard]] const std::vector<std::string>& health_check_columns();
[[nodiscard]] std::vector<std::string> health_check_row(const NodeSnapshot& node);

[[nodiscard]] const std::vector<std::string>& backend_stats_columns();
[[nodiscard]] std::vector<std::string> backend_stats_row(const NodeSnapshot& node);

// SHOW POOL_POOLS and `pgrouterctl list --pools`: per pool its node (hostname and port from
// `nodes`, matched by index; blank for a node not there), database, user, clients waiting,
// connections active / idle / both, the longest wait in progress, and the [pool] settings.
[[nodiscard]] const std::vector<std::string>& pool_pools_columns();
[[nodiscard]] std::vector<std::vector<std::string>> pool_pools_rows(const std::vector<NodeSnapshot>& nodes,
                                                                    const std::vector<PoolSnapshot>& pools,
                                                                    std::string_view pool_mode,
                                                                    int max_backend_connections);
[[nodiscard]] std::vector<std::vector<std::string>> pool_pools_rows(const ClusterSnapshot& snapshot);

// `total_weight`: the sum over all nodes, to report the node's share as pgpool does.
[[nodiscard]] pcp::NodeInfo pcp_node_info(const NodeSnapshot& node, double total_weight);

}  // namespace pgr::admin
