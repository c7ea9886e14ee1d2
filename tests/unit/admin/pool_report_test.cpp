// SHOW POOL_POOLS's rows (pgpool_report.hpp): one per pool, host and port from its node,
// sv_total = active + idle, the [pool] settings on every row.
#include <gtest/gtest.h>

#include "admin/pgpool_report.hpp"
#include "tests/unit/admin/admin_fixtures.hpp"

namespace pgr::admin {
namespace {

using Row = std::vector<std::string>;

TEST(PoolReport, OneRowPerPool) {
  const auto s = test::three_nodes_pooled();
  ASSERT_EQ(pool_pools_columns().size(), 12U);
  EXPECT_EQ(pool_pools_columns().front(), "node_id");
  EXPECT_EQ(pool_pools_columns().back(), "max_backend_connections");
  const auto rows = pool_pools_rows(s);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0], (Row{"0", "10.0.0.1", "5432", "shop", "app", "transaction", "0", "3", "2", "5", "0", "20"}));
  EXPECT_EQ(rows[2], (Row{"1", "10.0.0.2", "5432", "shop", "app", "transaction", "2", "20", "0", "20", "1500", "20"}));
  for (const auto& row : rows) EXPECT_EQ(row.size(), pool_pools_columns().size());
}

TEST(PoolReport, NodeNotInTheSnapshotLeavesHostBlank) {
  auto s = test::three_nodes_pooled();
  s.pools = {{7, "db", "u", 1, 0, 0, 0}};
  s.max_backend_connections = 0;
  s.pool_mode = "session";
  EXPECT_EQ(pool_pools_rows(s), (std::vector<Row>{{"7", "", "", "db", "u", "session", "0", "1", "0", "1", "0", "0"}}));
  s.pools.clear();
  EXPECT_TRUE(pool_pools_rows(s).empty());
}

}  // namespace
}  // namespace pgr::admin
