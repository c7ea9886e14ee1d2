// The standbys that hold every acknowledged commit: priority and quorum modes, the m - k + 1
// rule, rows not visible to the health user, and synchronous replication switched off.
#include "failover/sync_standbys.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

TEST(SyncStandbys, QuorumCount) {
  EXPECT_EQ(quorum_count("ANY 1 (node0, node1, node2)"), 1u);
  EXPECT_EQ(quorum_count("  any 2 (a, b, c)"), 2u);
  EXPECT_EQ(quorum_count("ANY\t3 (\"a b\", c)"), 3u);
  EXPECT_EQ(quorum_count("FIRST 1 (a, b)"), std::nullopt);
  EXPECT_EQ(quorum_count("1 (a, b)"), std::nullopt);
  EXPECT_EQ(quorum_count("any_node"), std::nullopt);  // a standby called any_node, FIRST 1
  EXPECT_EQ(quorum_count("ANY"), std::nullopt);
  EXPECT_EQ(quorum_count(""), std::nullopt);
}

TEST(SyncStandbys, OffWhenTheSettingIsEmpty) {
  const std::vector<ReplicationPeer> peers{{"node1", "async"}};
  EXPECT_EQ(sync_set("", peers), std::nullopt);
  EXPECT_EQ(sync_set("  ", peers), std::nullopt);
}

TEST(SyncStandbys, PriorityModeAnySyncStandbyWillDo) {
  const std::vector<ReplicationPeer> peers{
      {"node2", "potential"}, {"node1", "sync"}, {"node3", "async"}};
  const auto set = sync_set("FIRST 1 (node1, node2)", peers);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->names, std::vector<std::string>{"node1"});
  EXPECT_EQ(set->needed, 1u);
  EXPECT_FALSE(set->quorum);

  const std::vector<ReplicationPeer> two{{"b", "sync"}, {"a", "sync"}, {"c", "potential"}};
  const auto set2 = sync_set("2 (a, b, c)", two);
  EXPECT_EQ(set2->names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(set2->needed, 1u);
  EXPECT_EQ(set2->describe(), "sync: a, b (1 needed)");
}

TEST(SyncStandbys, QuorumModeNeedsMMinusKPlusOne) {
  const std::vector<ReplicationPeer> peers{{"node1", "quorum"}, {"node2", "quorum"}};
  const auto set = sync_set("ANY 1 (node0, node1, node2)", peers);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->names, (std::vector<std::string>{"node1", "node2"}));
  EXPECT_EQ(set->needed, 2u);  // a commit may be on node1 alone or on node2 alone
  EXPECT_EQ(set->describe(), "ANY 1 of node1, node2 (2 needed)");

  const std::vector<ReplicationPeer> one{{"node2", "quorum"}, {"node1", "async"}};
  EXPECT_EQ(sync_set("ANY 1 (node0, node2)", one)->needed, 1u);

  const std::vector<ReplicationPeer> three{{"a", "quorum"}, {"b", "quorum"}, {"c", "quorum"}};
  EXPECT_EQ(sync_set("ANY 2 (a, b, c)", three)->needed, 2u);
}

TEST(SyncStandbys, NoneStreamingGivesAnEmptySet) {
  // Rows the health user may not read have no sync_state: skipped.
  const std::vector<ReplicationPeer> peers{{"node1", ""}, {"node2", "async"}};
  const auto set = sync_set("ANY 1 (node1)", peers);
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->names.empty());
  EXPECT_EQ(sync_set("node1", std::vector<ReplicationPeer>{})->names.size(), 0u);
}

TEST(SyncStandbys, QuorumShortOfKStillNeedsEveryMember) {
  const std::vector<ReplicationPeer> peers{{"a", "quorum"}};
  const auto set = sync_set("ANY 2 (a, b)", peers);  // commits wait: at least compare a
  EXPECT_EQ(set->needed, 1u);
}

}  // namespace
}  // namespace pgr::failover
