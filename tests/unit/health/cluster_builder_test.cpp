// Cluster identity, primary choice (split brain, foreign clusters) and ClusterView building.
#include "health/cluster_builder.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pgr::health {
namespace {

constexpr std::uint64_t sysid = 7310815242871858913u;
constexpr std::uint64_t other_sysid = 7000000000000000001u;

NodeObservation node(NodeStatus status, bool in_recovery, std::uint32_t timeline,
                     std::uint64_t system_id = sysid) {
  NodeObservation n;
  n.status = status;
  ProbeResult probe;
  probe.ok = true;
  probe.in_recovery = in_recovery;
  probe.system_identifier = system_id;
  probe.timeline = timeline;
  if (in_recovery) {
    probe.received_lsn = 0x3000100;
    probe.replay_lsn = 0x3000000;
    probe.wal_receiver_status = "streaming";
  } else {
    probe.current_lsn = 0x3000200;
  }
  n.last_ok = probe;
  return n;
}

NodeObservation primary(std::uint32_t tli = 1, NodeStatus s = NodeStatus::up) {
  return node(s, false, tli);
}
NodeObservation standby(std::uint32_t tli = 1, NodeStatus s = NodeStatus::up) {
  return node(s, true, tli);
}
NodeObservation never_answered() { return NodeObservation{}; }

std::vector<conf::BackendConfig> backends(std::size_t n) {
  std::vector<conf::BackendConfig> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back({"node" + std::to_string(i + 1), "127.0.0.1",
                   static_cast<std::uint16_t>(15433 + i), 1.0 + static_cast<double>(i), {}});
  }
  return out;
}

TEST(ClusterSystemId, KnownValueIsKept) {
  const std::vector nodes{node(NodeStatus::up, false, 1, other_sysid)};
  EXPECT_EQ(choose_cluster_system_id(nodes, sysid), sysid);
}

TEST(ClusterSystemId, FromThePrimary) {
  const std::vector nodes{standby(), node(NodeStatus::up, false, 1, other_sysid), primary()};
  // The first (lowest index) node answering as primary decides.
  EXPECT_EQ(choose_cluster_system_id(nodes, std::nullopt), other_sysid);
}

TEST(ClusterSystemId, SuspectPrimaryCountsDownDoesNot) {
  EXPECT_EQ(choose_cluster_system_id(std::vector{primary(1, NodeStatus::suspect)}, std::nullopt),
            sysid);
  EXPECT_EQ(choose_cluster_system_id(std::vector{primary(1, NodeStatus::down), standby()},
                                     std::nullopt),
            std::nullopt);  // one standby of two configured is no majority
}

TEST(ClusterSystemId, MajorityOfConfiguredNodesWithoutPrimary) {
  const auto foreign = node(NodeStatus::up, true, 1, other_sysid);
  EXPECT_EQ(choose_cluster_system_id(std::vector{standby(), standby(), foreign}, std::nullopt),
            sysid);
  EXPECT_EQ(choose_cluster_system_id(std::vector{standby(), foreign}, std::nullopt),
            std::nullopt);
  EXPECT_EQ(choose_cluster_system_id(std::vector{standby(), never_answered(), never_answered()},
                                     std::nullopt),
            std::nullopt);
  EXPECT_EQ(choose_cluster_system_id(std::vector<NodeObservation>{}, std::nullopt),
            std::nullopt);
}

TEST(ChoosePrimary, SinglePrimary) {
  const auto c = choose_primary(std::vector{standby(), primary(), standby()}, sysid, std::nullopt);
  EXPECT_EQ(c.primary, 1u);
  EXPECT_TRUE(c.excluded_primaries.empty());
  EXPECT_TRUE(c.foreign.empty());
}

TEST(ChoosePrimary, NoneWhenOnlyStandbysOrPrimaryDown) {
  EXPECT_EQ(choose_primary(std::vector{standby(), standby()}, sysid, 0).primary, std::nullopt);
  EXPECT_EQ(choose_primary(std::vector{primary(1, NodeStatus::down), standby()}, sysid, 0).primary,
            std::nullopt);
  EXPECT_EQ(choose_primary(std::vector{never_answered()}, std::nullopt, std::nullopt).primary,
            std::nullopt);
}

TEST(ChoosePrimary, SuspectPrimaryStaysPrimary) {
  EXPECT_EQ(
      choose_primary(std::vector{primary(1, NodeStatus::suspect), standby()}, sysid, 0).primary,
      0u);
}

TEST(ChoosePrimary, SplitBrainPicksHighestTimeline) {
  const auto c =
      choose_primary(std::vector{primary(1), standby(2), primary(2), primary(1)}, sysid, 0);
  EXPECT_EQ(c.primary, 2u);
  EXPECT_EQ(c.excluded_primaries, (std::vector<std::size_t>{0, 3}));
}

TEST(ChoosePrimary, SplitBrainTieKeepsPreviousThenLowestIndex) {
  const std::vector nodes{primary(3), primary(3), primary(3)};
  EXPECT_EQ(choose_primary(nodes, sysid, 1).primary, 1u);
  EXPECT_EQ(choose_primary(nodes, sysid, std::nullopt).primary, 0u);
  EXPECT_EQ(choose_primary(nodes, sysid, 7).primary, 0u);
}

TEST(ChoosePrimary, ForeignNodesAreNeverUsed) {
  const auto foreign_primary = node(NodeStatus::up, false, 9, other_sysid);
  const auto foreign_standby = node(NodeStatus::up, true, 1, other_sysid);
  const auto c = choose_primary(std::vector{foreign_primary, primary(1), foreign_standby}, sysid,
                                std::nullopt);
  EXPECT_EQ(c.primary, 1u);
  EXPECT_EQ(c.foreign, (std::vector<std::size_t>{0, 2}));
  EXPECT_TRUE(c.excluded_primaries.empty());
}

TEST(ClusterView, InitialViewListsEveryNodeDownAndUnknown) {
  const auto config = backends(3);
  const auto view = initial_cluster_view(config);
  EXPECT_EQ(view.generation, 0u);
  EXPECT_EQ(view.primary, std::nullopt);
  ASSERT_EQ(view.nodes.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(view.nodes[i].index, i);
    EXPECT_EQ(view.nodes[i].name, config[i].name);
    EXPECT_EQ(view.nodes[i].port, config[i].port);
    EXPECT_EQ(view.nodes[i].status, NodeStatus::down);
    EXPECT_EQ(view.nodes[i].role, NodeRole::unknown);
    EXPECT_EQ(view.nodes[i].system_identifier, std::nullopt);
  }
  EXPECT_EQ(view.primary_node(), nullptr);
}

TEST(ClusterView, BuildCopiesProbeFacts) {
  const auto config = backends(3);
  auto down_primary = primary(1, NodeStatus::down);
  down_primary.last_error = "connection refused";
  const std::vector nodes{down_primary, standby(1), never_answered()};
  const auto choice = choose_primary(nodes, sysid, std::nullopt);
  const auto view = build_cluster_view(5, config, nodes, sysid, choice);
  EXPECT_EQ(view.generation, 5u);
  EXPECT_EQ(view.primary, std::nullopt);
  // A down node keeps its last known role and LSN: failover needs them.
  EXPECT_EQ(view.nodes[0].role, NodeRole::primary);
  EXPECT_EQ(view.nodes[0].status, NodeStatus::down);
  EXPECT_EQ(view.nodes[0].current_lsn, 0x3000200u);
  EXPECT_EQ(view.nodes[0].last_error, "connection refused");
  EXPECT_EQ(view.nodes[1].role, NodeRole::standby);
  EXPECT_EQ(view.nodes[1].status, NodeStatus::up);
  EXPECT_EQ(view.nodes[1].received_lsn, 0x3000100u);
  EXPECT_EQ(view.nodes[1].replay_lsn, 0x3000000u);
  EXPECT_EQ(view.nodes[1].wal_receiver_status, "streaming");
  EXPECT_EQ(view.nodes[1].system_identifier, sysid);
  EXPECT_DOUBLE_EQ(view.nodes[1].weight, 2.0);
  EXPECT_EQ(view.nodes[2].role, NodeRole::unknown);
}

TEST(ClusterView, RemovedSlotIsPublishedDownAndRemoved) {
  auto config = backends(3);
  config[2].removed = true;
  const std::vector nodes{primary(1), standby(1), standby(1)};
  const auto choice = choose_primary(nodes, sysid, std::nullopt);
  const auto view = build_cluster_view(2, config, nodes, sysid, choice);
  ASSERT_EQ(view.nodes.size(), 3u);
  EXPECT_TRUE(view.nodes[2].removed);
  EXPECT_EQ(view.nodes[2].status, NodeStatus::down);
  EXPECT_EQ(view.nodes[2].role, NodeRole::unknown);
  EXPECT_FALSE(view.nodes[1].removed);
  EXPECT_EQ(view.nodes[1].status, NodeStatus::up);
  auto before = build_cluster_view(1, backends(3), nodes, sysid, choice);
  EXPECT_TRUE(differs_for_workers(before, view));
}

TEST(ClusterView, ForeignAndSplitBrainNodesArePublishedDown) {
  const auto config = backends(3);
  const std::vector nodes{primary(1), primary(2), node(NodeStatus::up, true, 1, other_sysid)};
  const auto choice = choose_primary(nodes, sysid, std::nullopt);
  const auto view = build_cluster_view(1, config, nodes, sysid, choice);
  ASSERT_EQ(view.primary, 1u);
  EXPECT_EQ(view.primary_node()->name, "node2");
  EXPECT_EQ(view.nodes[0].status, NodeStatus::down);
  EXPECT_NE(view.nodes[0].last_error.find("also not in recovery"), std::string::npos);
  EXPECT_NE(view.nodes[0].last_error.find("node2"), std::string::npos);
  EXPECT_EQ(view.nodes[2].status, NodeStatus::down);
  EXPECT_NE(view.nodes[2].last_error.find(std::to_string(other_sysid)), std::string::npos);
  EXPECT_NE(view.nodes[2].last_error.find(std::to_string(sysid)), std::string::npos);
}

TEST(ClusterView, DiffersForWorkersOnlyOnWhatWorkersUse) {
  const auto config = backends(2);
  std::vector nodes{primary(1), standby(1)};
  const auto base = build_cluster_view(1, config, nodes, sysid, choose_primary(nodes, sysid, {}));

  auto lsn_moved = nodes;
  lsn_moved[1].last_ok->received_lsn += 1000;
  lsn_moved[0].last_ok->current_lsn += 1000;
  EXPECT_FALSE(differs_for_workers(
      base, build_cluster_view(2, config, lsn_moved, sysid, choose_primary(lsn_moved, sysid, 0))));

  auto status = nodes;
  status[1].status = NodeStatus::suspect;
  EXPECT_TRUE(differs_for_workers(
      base, build_cluster_view(2, config, status, sysid, choose_primary(status, sysid, 0))));

  auto timeline = nodes;
  timeline[1].last_ok->timeline = 2;
  EXPECT_TRUE(differs_for_workers(
      base, build_cluster_view(2, config, timeline, sysid, choose_primary(timeline, sysid, 0))));

  auto promoted = nodes;
  promoted[0].status = NodeStatus::down;
  promoted[1].last_ok->in_recovery = false;
  EXPECT_TRUE(differs_for_workers(
      base, build_cluster_view(2, config, promoted, sysid, choose_primary(promoted, sysid, 0))));
}

// -- the coordinator's overlay ------------------------------------------------------------------

ClusterView three_node_view(std::vector<NodeObservation> nodes) {
  const auto config = backends(nodes.size());
  PrimaryChoice choice = choose_primary(nodes, sysid, {});
  choice.excluded_primaries.clear();  // as the checker builds it when an overlay is active
  return build_cluster_view(1, config, nodes, sysid, choice);
}

TEST(ApplyOverlay, InactiveChangesNothing) {
  auto view = three_node_view({primary(), standby(), standby()});
  const auto before = view;
  apply_overlay(view, ViewOverlay{});
  EXPECT_EQ(view.primary, before.primary);
  EXPECT_FALSE(differs_for_workers(before, view));
}

TEST(ApplyOverlay, NoPrimaryWhileFailingOver) {
  auto view = three_node_view({primary(), standby(), standby()});
  ViewOverlay overlay{true, std::nullopt, {"fenced: old primary", "", ""}};
  apply_overlay(view, overlay);
  EXPECT_EQ(view.primary, std::nullopt);
  EXPECT_EQ(view.nodes[0].status, NodeStatus::down);
  EXPECT_EQ(view.nodes[0].held_out, "fenced: old primary");
  EXPECT_EQ(view.nodes[1].status, NodeStatus::up);
  EXPECT_EQ(view.nodes[1].held_out, "");
}

TEST(ApplyOverlay, CoordinatorPrimaryWinsAndFalsePrimaryIsHeldOut) {
  // node1 was just promoted (the probe still says standby); node0 is back and writable.
  auto view = three_node_view({primary(1), standby(1), standby(1)});
  ViewOverlay overlay{true, std::size_t{1}, {}};
  apply_overlay(view, overlay);
  EXPECT_EQ(view.primary, 1u);
  EXPECT_EQ(view.nodes[1].role, NodeRole::primary);
  EXPECT_EQ(view.nodes[1].status, NodeStatus::up);
  EXPECT_EQ(view.nodes[0].status, NodeStatus::down);
  EXPECT_NE(view.nodes[0].held_out, "");
  EXPECT_EQ(view.nodes[2].status, NodeStatus::up);
}

TEST(ApplyOverlay, PrimaryThatIsDownIsNotPublished) {
  auto view = three_node_view({primary(1, NodeStatus::down), standby(), standby()});
  apply_overlay(view, ViewOverlay{true, std::size_t{0}, {}});
  EXPECT_EQ(view.primary, std::nullopt);
}

TEST(ApplyOverlay, HeldOutStandbyIsDown) {
  auto view = three_node_view({primary(), standby(), standby()});
  apply_overlay(view, ViewOverlay{true, std::size_t{0}, {"", "", "diverged: past 0/5000060"}});
  EXPECT_EQ(view.primary, 0u);
  EXPECT_EQ(view.nodes[2].status, NodeStatus::down);
  EXPECT_EQ(view.nodes[2].held_out, "diverged: past 0/5000060");
}

}  // namespace
}  // namespace pgr::health
