// The start-up primary search: one writable node, none, several (split brain), and the
// state file keeping fenced nodes out.
#include "failover/primary_search.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

constexpr std::uint64_t sysid = 7310815242871858913u;

SearchNode writable(std::string name, std::uint32_t tli,
                    AttachState recorded = AttachState::attached) {
  return {std::move(name), true, false, sysid, tli, recorded};
}
SearchNode standby(std::string name, std::uint32_t tli = 1) {
  return {std::move(name), true, true, sysid, tli, AttachState::attached};
}
SearchNode silent(std::string name) { return {std::move(name), false, true, {}, 0, {}}; }

TEST(PrimarySearch, ExactlyOne) {
  const std::vector<SearchNode> nodes{standby("node0"), writable("node1", 1), silent("node2")};
  const auto r = search_primary(nodes, std::nullopt, std::nullopt);
  EXPECT_EQ(r.primary, 1u);
  EXPECT_TRUE(r.to_fence.empty());
}

TEST(PrimarySearch, NoneWaits) {
  const std::vector<SearchNode> nodes{standby("node0"), standby("node1"), silent("node2")};
  const auto r = search_primary(nodes, sysid, std::nullopt);
  EXPECT_EQ(r.primary, std::nullopt);
  EXPECT_FALSE(r.summary.empty());
}

TEST(PrimarySearch, SeveralHighestTimelineWinsOthersFenced) {
  const std::vector<SearchNode> nodes{writable("node0", 1), writable("node1", 2),
                                      standby("node2", 2)};
  const auto r = search_primary(nodes, sysid, std::string("node0"));
  EXPECT_EQ(r.primary, 1u);
  EXPECT_EQ(r.to_fence, std::vector<std::size_t>{0});
}

TEST(PrimarySearch, TieGoesToTheRecordedPrimaryThenLowestIndex) {
  const std::vector<SearchNode> nodes{writable("node0", 2), writable("node1", 2)};
  EXPECT_EQ(search_primary(nodes, sysid, std::string("node1")).primary, 1u);
  EXPECT_EQ(search_primary(nodes, sysid, std::nullopt).primary, 0u);
}

TEST(PrimarySearch, RecordedFencedNodeIsNeverChosen) {
  const std::vector<SearchNode> nodes{writable("node0", 1, AttachState::fenced),
                                      standby("node1", 2)};
  const auto r = search_primary(nodes, sysid, std::string("node1"));
  EXPECT_EQ(r.primary, std::nullopt);
  EXPECT_EQ(r.ignored, std::vector<std::size_t>{0});
}

TEST(PrimarySearch, ForeignSystemIsIgnored) {
  std::vector<SearchNode> nodes{writable("node0", 1), standby("node1")};
  nodes[0].system_identifier = 1;
  EXPECT_EQ(search_primary(nodes, sysid, std::nullopt).primary, std::nullopt);
  EXPECT_EQ(search_primary(nodes, std::nullopt, std::nullopt).primary, 0u);
}

}  // namespace
}  // namespace pgr::failover
