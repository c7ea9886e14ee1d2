// `pgrouterctl list`: the cluster as a table in the manner of `patronictl list` — one row per
// node with its role, state, timeline, lag (MB and seconds), weight and the statements routed
// to it; with --pools, the backend connection pools below it (SHOW POOL_POOLS's columns).
//
// Thread rules: pure functions.
#pragma once

#include <string>

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin {

// What the State column says: "running" (the primary), the WAL receiver's state or "up"
// (a standby), "down", or why failover holds the node out ("detached", "fenced", ...).
[[nodiscard]] std::string node_state(const NodeSnapshot& node);

[[nodiscard]] std::string format_list(const ClusterSnapshot& snapshot);
// One row per pool, pgpool_report.hpp's pool_pools_rows; the mode and limit in the title.
[[nodiscard]] std::string format_pools(const ClusterSnapshot& snapshot);

}  // namespace pgr::admin
