// A small cluster snapshot for the admin tests: node0 primary, node1 and node2 standbys.
#pragma once

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin::test {

ClusterSnapshot three_nodes();
// three_nodes() in [pool] transaction mode (at most 20 per node) with three pools: app@shop
// and report@shop on node0, app@shop on node1 (two clients waiting there).
ClusterSnapshot three_nodes_pooled();

}  // namespace pgr::admin::test
