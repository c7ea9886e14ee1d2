// The `pgrouterctl list` table and the JSON round trip it relies on.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pgr::admin
