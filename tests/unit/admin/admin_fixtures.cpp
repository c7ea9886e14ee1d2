// The admin tests' snapshot (see admin_fixtures.hpp).
#include "tests/unit/admin/admin_fixtures.hpp"

namespace pgr::admin::test {

ClusterSnapshot three_nodes() {
  ClusterSnapshot s;
  s.version = "0.1.0 (abc)";
  s.primary = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    NodeSnapshot n;
    n.index = i;
    n.name = "node" + std::to_string(i);
    n.host = "10.0.0." + std::to_string(i + 1);
    n.port = 5432;
    n.weight = 1.0;
    n.role = i == 0 ? "primary" : "standby";
    n.status = "up";
    n.is_primary = i == 0;
    n.serving = true;
    n.timeline = 1;
    if (i != 0) {
      n.lag_bytes = i == 1 ? 1024 : 64ULL * 1024 * 1024;
      n.lag_ms = 200;
      n.replication_state = "streaming";
    }
    n.traffic = {10 * (i + 1), i == 0 ? 7U : 0U, 1};
    s.nodes.push_back(n);
  }
  return s;
}

ClusterSnapshot three_nodes_pooled() {
  auto s = three_nodes();
  s.pool_mode = "transaction";
  s.max_backend_connections = 20;
  s.pools = {{0, "shop", "app", 3, 2, 0, 0}, {0, "shop", "report", 1, 0, 0, 0}, {1, "shop", "app", 20, 0, 2, 1500}};
  s.nodes[0].traffic.connections = 4;
  s.nodes[0].pool = {2, 0, 6, {}, 0, 0};
  s.nodes[1].traffic.connections = 20;
  s.nodes[1].pool = {0, 2, 20, {1, 3, 5, 5, 5, 5, 5, 5}, 6, 125'500'000};
  return s;
}

}  // namespace pgr::admin::test
