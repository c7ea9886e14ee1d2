// The `pgrouterctl list` tables (nodes, and pools with --pools) and the JSON round trip they
// rely on.
#include <gtest/gtest.h>

#include <algorithm>

#include "admin/cluster_json.hpp"
#include "admin/list_table.hpp"
#include "tests/unit/admin/admin_fixtures.hpp"

namespace pgr::admin {
namespace {

TEST(ListTable, RowsLikePatronictl) {
  auto s = test::three_nodes();
  s.nodes[2].held_out = "detached: detached by an operator";
  s.nodes[2].serving = false;
  const auto text = format_list(s);
  EXPECT_NE(text.find("+ Cluster: pgrouter 0.1.0 (abc)"), std::string::npos) << text;
  EXPECT_NE(text.find("| node0  | 10.0.0.1:5432 | Primary | running   |  1 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| node1  | 10.0.0.2:5432 | Standby | streaming |  1 |       0.0 |      0.2 |"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("| node2  | 10.0.0.3:5432 | Standby | detached  |  1 |      64.0 |"), std::string::npos)
      << text;
}

TEST(ListTable, ConnectionsColumnAndRemovedNodes) {
  auto s = test::three_nodes();
  s.nodes[1].traffic.connections = 7;
  s.nodes[2].removed = true;
  const auto text = format_list(s);
  EXPECT_NE(text.find("| Connections |"), std::string::npos) << text;
  EXPECT_NE(text.find("|           7 |"), std::string::npos) << text;
  EXPECT_EQ(text.find("node2"), std::string::npos) << text;
  std::string error;
  const auto back = snapshot_from_json(to_json(s), error);
  ASSERT_TRUE(back) << error;
  ASSERT_EQ(back->nodes.size(), 2U);  // a removed slot is not in the JSON either
  EXPECT_EQ(back->nodes[1].traffic.connections, 7);
}

TEST(ListTable, JsonRoundTrip) {
  const auto s = test::three_nodes();
  std::string error;
  const auto back = snapshot_from_json(to_json(s), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(format_list(*back), format_list(s));
  EXPECT_FALSE(snapshot_from_json(boost::json::value(3), error));
}

TEST(ListTable, PoolsTableHasShowPoolPoolsColumns) {
  const auto s = test::three_nodes_pooled();
  const auto text = format_pools(s);
  EXPECT_NE(text.find("+ Pools: transaction mode, at most 20 connections per node "), std::string::npos) << text;
  EXPECT_NE(text.find("| node_id | hostname | port | database | username | pool_mode   | cl_waiting | sv_active |"
                      " sv_idle | sv_total | maxwait_us | max_backend_connections |"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("|       0 | 10.0.0.1 | 5432 | shop     | report   | transaction |          0 |         1 |"
                      "       0 |        1 |          0 |                      20 |"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("|       1 | 10.0.0.2 | 5432 | shop     | app      | transaction |          2 |        20 |"
                      "       0 |       20 |       1500 |                      20 |"),
            std::string::npos)
      << text;
  auto unlimited = s;
  unlimited.max_backend_connections = 0;
  unlimited.pools.clear();
  const auto empty = format_pools(unlimited);
  EXPECT_NE(empty.find("+ Pools: transaction mode, no limit per node "), std::string::npos) << empty;
  EXPECT_EQ(std::count(empty.begin(), empty.end(), '\n'), 4) << empty;  // rule, header, rule, rule
}

TEST(ListTable, JsonRoundTripCarriesPools) {
  const auto s = test::three_nodes_pooled();
  std::string error;
  const auto json = to_json(s);
  ASSERT_TRUE(json.as_object().at("pools").is_array());
  EXPECT_EQ(json.as_object().at("pools").as_array().size(), 3U);
  const auto back = snapshot_from_json(json, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->pool_mode, "transaction");
  EXPECT_EQ(back->max_backend_connections, 20);
  ASSERT_EQ(back->pools.size(), 3U);
  EXPECT_EQ(back->pools[2].node, 1U);
  EXPECT_EQ(back->pools[2].database, "shop");
  EXPECT_EQ(back->pools[2].user, "app");
  EXPECT_EQ(back->pools[2].active, 20);
  EXPECT_EQ(back->pools[2].waiting, 2);
  EXPECT_EQ(back->pools[2].max_wait_us, 1500);
  const auto& pool = back->nodes[1].pool;
  EXPECT_EQ(pool.waiting, 2);
  EXPECT_EQ(pool.held, 20);
  EXPECT_EQ(pool.wait_buckets, s.nodes[1].pool.wait_buckets);
  EXPECT_EQ(pool.wait_count, 6U);
  EXPECT_EQ(pool.wait_sum_us, 125'500'000U);
  EXPECT_EQ(back->nodes[0].pool.idle, 2);
  EXPECT_EQ(format_pools(*back), format_pools(s));

  // An older pgrouter sends no pools: still a snapshot, with none.
  auto old = json;
  old.as_object().erase("pools");
  old.as_object().erase("pool_mode");
  const auto without = snapshot_from_json(old, error);
  ASSERT_TRUE(without) << error;
  EXPECT_TRUE(without->pools.empty());
  old.as_object()["pools"] = 3;
  EXPECT_FALSE(snapshot_from_json(old, error));
  EXPECT_EQ(error, "field pools is not an array");
}

}  // namespace
}  // namespace pgr::admin
