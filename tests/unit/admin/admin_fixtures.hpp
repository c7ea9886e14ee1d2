// A small cluster snapshot for the admin tests: node0 primary, node1 and node2 standbys.
#pragma once

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin::test {

ClusterSnapshot three_nodes();

}  // namespace pgr::admin::test
