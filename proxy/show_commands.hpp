// SQL commands pgrouter answers itself on the client port, pgpool-II style: SHOW POOL_NODES
// (pgpool-II 4.3's columns, same meanings), SHOW POOL_VERSION, SHOW POOL_HEALTH_CHECK_STATS
// (pgpool's columns), SHOW POOL_BACKEND_STATS (select/write/other counts per node) and
// SHOW POOL_POOLS (pgrouter's backend connection pools, admin/pgpool_report.hpp's columns).
// Answers are whole result sets (RowDescription, DataRows, CommandComplete) without the
// ReadyForQuery.
//
// Thread rules: pure functions over the published view and the shared counters.
#pragma once

#include "admin/cluster_snapshot.hpp"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "health/cluster_view.hpp"
#include "protocol/byte_io.hpp"
#include "proxy/proxy_shared.hpp"

namespace pgr::proxy {

// True for a simple query pgrouter answers itself ("SHOW POOL_NODES", any case, optional ';').
bool is_show_command(std::string_view sql);

// The result set for `sql`, or nullopt when it is not one of ours. `session_reader` marks the
// node this session reads from (pgpool's load_balance_node); `pools` are every worker's pools
// now (ProxyShared::pool_rows) and `pool_config` the applied [pool] section.
std::optional<protocol::byte_buffer> answer_show_command(std::string_view sql, const health::ClusterView& view,
                                                         const std::vector<NodeRouteCounters>& counters,
                                                         std::optional<std::size_t> session_reader,
                                                         const std::vector<admin::PoolSnapshot>& pools,
                                                         const conf::PoolConfig& pool_config);

}  // namespace pgr::proxy
