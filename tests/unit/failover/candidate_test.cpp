// Choosing the standby to promote: ordering, every rejection, lag limits, sync standbys.
#include "failover/candidate.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

constexpr std::uint64_t sysid = 7310815242871858913u;
const FailedPrimary failed{sysid, 2, 0x5000000};

CandidateNode standby(std::string name, protocol::lsn_t received, double weight = 1.0) {
  return {std::move(name), true, true, sysid, 2, received, weight};
}

TEST(Candidate, Ordering) {
  struct Case {
    const char* name;
    std::vector<CandidateNode> nodes;
    std::size_t expected;
  };
  const std::vector<Case> cases{
      {"highest received LSN wins over weight",
       {standby("a", 0x4000000, 10.0), standby("b", 0x4800000, 1.0)}, 1},
      {"equal LSN: higher weight", {standby("a", 0x4000000, 1.0), standby("b", 0x4000000, 2.0)}, 1},
      {"equal LSN and weight: name", {standby("b", 0x4000000), standby("a", 0x4000000)}, 1},
      {"single", {standby("only", 0x1)}, 0},
      {"ahead of the primary's last known LSN", {standby("a", 0x4000000), standby("b", 0x6000000)},
       1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto choice = choose_candidate(c.nodes, failed, {});
    EXPECT_EQ(choice.chosen, c.expected);
    EXPECT_TRUE(choice.reason.empty());
    EXPECT_TRUE(choice.rejected.empty());
  }
}

TEST(Candidate, Rejections) {
  auto down = standby("down", 0x4F00000);
  down.up = false;
  auto old_primary = standby("old", 0x5000000);
  old_primary.standby = false;
  auto foreign = standby("foreign", 0x4F00000);
  foreign.system_identifier = 42;
  auto unknown_id = standby("noid", 0x4F00000);
  unknown_id.system_identifier.reset();
  auto other_tli = standby("tli1", 0x4F00000);
  other_tli.timeline = 1;
  const std::vector nodes{down, old_primary, foreign, unknown_id, other_tli, standby("ok", 0x10)};

  const auto choice = choose_candidate(nodes, failed, {});
  EXPECT_EQ(choice.chosen, 5u);
  ASSERT_EQ(choice.rejected.size(), 5u);
  const Rejection expected[] = {Rejection::not_up, Rejection::not_standby, Rejection::other_system,
                                Rejection::other_system, Rejection::other_timeline};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(choice.rejected[i].index, i);
    EXPECT_EQ(choice.rejected[i].why, expected[i]) << to_string(choice.rejected[i].why);
    EXPECT_EQ(choice.rejected[i].detail.rfind(nodes[i].name + ": ", 0), 0u);
  }
}

TEST(Candidate, MaxLag) {
  const std::vector nodes{standby("far", 0x4000000), standby("near", 0x4FFFF00)};
  CandidatePolicy policy;
  policy.max_lag_bytes = 0x100;
  auto choice = choose_candidate(nodes, failed, policy);
  EXPECT_EQ(choice.chosen, 1u);
  ASSERT_EQ(choice.rejected.size(), 1u);
  EXPECT_EQ(choice.rejected[0].why, Rejection::too_far_behind);
  EXPECT_NE(choice.rejected[0].detail.find("16777216 bytes behind (max 256)"), std::string::npos)
      << choice.rejected[0].detail;

  policy.max_lag_bytes = 0xFF;  // one byte short for "near"
  choice = choose_candidate(nodes, failed, policy);
  EXPECT_EQ(choice.chosen, std::nullopt);
  EXPECT_NE(choice.reason.find("far: "), std::string::npos);
  EXPECT_NE(choice.reason.find("; near: "), std::string::npos) << choice.reason;

  policy.max_lag_bytes = 0;  // only a standby that has everything
  EXPECT_EQ(choose_candidate(std::vector{standby("full", 0x5000000)}, failed, policy).chosen, 0u);
}

TEST(Candidate, SyncStandbysOnly) {
  const std::vector nodes{standby("async", 0x4F00000), standby("sync", 0x4000000)};
  CandidatePolicy policy;
  policy.sync_standby_names = std::vector<std::string>{"sync"};
  auto choice = choose_candidate(nodes, failed, policy);
  EXPECT_EQ(choice.chosen, 1u);
  ASSERT_EQ(choice.rejected.size(), 1u);
  EXPECT_EQ(choice.rejected[0].why, Rejection::not_sync_standby);

  policy.sync_standby_names = std::vector<std::string>{};
  choice = choose_candidate(nodes, failed, policy);
  EXPECT_EQ(choice.chosen, std::nullopt);
  EXPECT_EQ(choice.rejected.size(), 2u);
}

TEST(Candidate, QuorumCommitNeedsEnoughSyncStandbysToCompare) {
  // ANY 1 of {a, b}: a commit may sit on a alone or on b alone. With b down, a (however far
  // it has received) may lack what only b acknowledged: promote nobody.
  auto down = standby("b", 0x5000000);
  down.up = false;
  const std::vector nodes{standby("a", 0x4000000), down, standby("async", 0x4F00000)};
  CandidatePolicy policy;
  policy.sync_standby_names = std::vector<std::string>{"a", "b"};
  policy.sync_needed = 2;
  auto choice = choose_candidate(nodes, failed, policy);
  EXPECT_EQ(choice.chosen, std::nullopt);
  ASSERT_EQ(choice.rejected.size(), 3u);
  EXPECT_EQ(choice.rejected[2].index, 0u);
  EXPECT_EQ(choice.rejected[2].why, Rejection::sync_quorum_incomplete);
  EXPECT_NE(choice.reason.find("only 1 of the 2"), std::string::npos) << choice.reason;

  // Both up: the one that received the most wins.
  const std::vector both{standby("a", 0x4000000), standby("b", 0x4800000)};
  choice = choose_candidate(both, failed, policy);
  EXPECT_EQ(choice.chosen, 1u);

  // Priority mode (needed 1): one sync standby up is enough.
  policy.sync_needed = 1;
  EXPECT_EQ(choose_candidate(nodes, failed, policy).chosen, 0u);
}

TEST(Candidate, NoneConfigured) {
  const auto choice = choose_candidate(std::vector<CandidateNode>{}, failed, {});
  EXPECT_EQ(choice.chosen, std::nullopt);
  EXPECT_EQ(choice.reason, "no standby is configured");
}

}  // namespace
}  // namespace pgr::failover
