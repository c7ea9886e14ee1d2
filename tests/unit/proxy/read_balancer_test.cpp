// Read routing decisions: eligibility, weights, lag limits, fallback, read-your-writes.
#include "proxy/read_balancer.hpp"

#include <gtest/gtest.h>

#include "tests/unit/proxy/cluster_view_support.hpp"

#include <map>

namespace pgr::proxy {
namespace {

using namespace std::chrono_literals;
using health::ClusterView;
using health::NodeRole;
using health::NodeStatus;
using health::NodeView;
using time_point = std::chrono::system_clock::time_point;

using test::at;
using test::cluster;
using test::node;

// The primary's probe at `t` saw WAL position `lsn`.
void primary_probed(ClusterView& v, std::chrono::milliseconds t, std::uint64_t lsn) {
  v.nodes[0].last_probe = at(t);
  v.nodes[0].current_lsn = lsn;
}

ReadPolicy policy(bool primary_reads, std::optional<std::uint64_t> max_lag_bytes = std::nullopt,
                  std::optional<std::chrono::milliseconds> max_lag = std::nullopt) {
  ReadPolicy p;
  p.primary_reads = primary_reads;
  p.max_lag_bytes = max_lag_bytes;
  p.max_lag = max_lag;
  return p;
}

std::map<std::size_t, int> spread(const ClusterView& v, const ReadPolicy& p, int draws = 1000) {
  std::map<std::size_t, int> hits;
  for (int i = 0; i < draws; ++i) {
    const auto c = choose_reader(v, p, nullptr, (i + 0.5) / draws);
    if (c.node) ++hits[*c.node];
  }
  return hits;
}

TEST(ReadBalancer, StandbysShareReadsByWeightAndThePrimaryNoneWithoutPrimaryReads) {
  const auto hits = spread(cluster(1.0, 3.0), policy(false));
  EXPECT_EQ(hits.count(0), 0u);
  EXPECT_NEAR(hits.at(1), 250, 250 * 0.2);
  EXPECT_NEAR(hits.at(2), 750, 750 * 0.2);
}

TEST(ReadBalancer, PrimaryJoinsWithPrimaryReads) {
  const auto hits = spread(cluster(1.0, 1.0), policy(true));
  EXPECT_NEAR(hits.at(0), 333, 333 * 0.2);
  EXPECT_NEAR(hits.at(1), 333, 333 * 0.2);
  EXPECT_NEAR(hits.at(2), 333, 333 * 0.2);
}

TEST(ReadBalancer, ZeroWeightAndDownStandbysGetNothing) {
  auto v = cluster(0.0, 1.0);
  v.nodes[2].status = NodeStatus::down;
  const auto c = choose_reader(v, policy(false), nullptr, 0.3);
  ASSERT_TRUE(c.node);
  EXPECT_EQ(*c.node, 0u);
  EXPECT_TRUE(c.fell_back_to_primary);
  EXPECT_EQ(standby_refusal(v, v.nodes[1], {}, nullptr), ReadRefusal::zero_weight);
  EXPECT_EQ(standby_refusal(v, v.nodes[2], {}, nullptr), ReadRefusal::down);
  EXPECT_EQ(standby_refusal(v, v.nodes[0], {}, nullptr), ReadRefusal::not_standby);
}

TEST(ReadBalancer, LagLimitsExcludeAStandbyBehind) {
  auto v = cluster();
  v.nodes[1].lag_bytes = 64u << 20;
  v.nodes[1].lag = 2500ms;
  const ReadPolicy by_time = policy(false, std::nullopt, 1000ms);
  EXPECT_EQ(standby_refusal(v, v.nodes[1], by_time, nullptr), ReadRefusal::too_far_behind);
  EXPECT_EQ(spread(v, by_time).count(1), 0u);
  const ReadPolicy by_bytes = policy(false, 16u << 20);
  EXPECT_EQ(standby_refusal(v, v.nodes[1], by_bytes, nullptr), ReadRefusal::too_far_behind);
  const ReadPolicy loose = policy(false, 128u << 20, 5000ms);
  EXPECT_EQ(standby_refusal(v, v.nodes[1], loose, nullptr), ReadRefusal::none);
}

TEST(ReadBalancer, UnknownLagIsNotEligibleWhenALimitIsSet) {
  auto v = cluster();
  v.nodes[1].lag.reset();
  v.nodes[1].lag_bytes.reset();
  EXPECT_EQ(standby_refusal(v, v.nodes[1], policy(true, std::nullopt, 1000ms), nullptr), ReadRefusal::lag_unknown);
  EXPECT_EQ(standby_refusal(v, v.nodes[1], {}, nullptr), ReadRefusal::none);
}

TEST(ReadBalancer, NoPrimaryAndNoStandbyMeansNoNode) {
  auto v = cluster();
  v.primary.reset();
  v.nodes[0].role = NodeRole::unknown;
  v.nodes[0].status = NodeStatus::down;
  v.nodes[1].status = NodeStatus::down;
  v.nodes[2].status = NodeStatus::down;
  EXPECT_FALSE(choose_reader(v, {}, nullptr, 0.5).node);
}

TEST(ReadYourWrites, ReadsGoToThePrimaryUntilAProbeAfterTheCommit) {
  auto v = cluster();
  ReadYourWrites writes;
  writes.on_write_committed(at(500ms));  // after the last probe (t=0)
  EXPECT_EQ(standby_refusal(v, v.nodes[1], {}, &writes), ReadRefusal::not_fresh_for_session);
  const auto c = choose_reader(v, policy(false), &writes, 0.7);
  EXPECT_EQ(*c.node, 0u);
  EXPECT_TRUE(c.fell_back_to_primary);
  EXPECT_TRUE(writes.allows(v, v.nodes[0])) << "the primary is always fresh";
}

TEST(ReadYourWrites, AStandbyThatReplayedThePostCommitPositionServesReads) {
  auto v = cluster();
  ReadYourWrites writes;
  writes.on_write_committed(at(500ms));
  // The next primary probe (t=1 s) saw LSN 2000; node1 has replayed it, node2 has not.
  primary_probed(v, 1000ms, 2000);
  v.nodes[1].replay_lsn = 2000;
  v.nodes[2].replay_lsn = 1500;
  EXPECT_EQ(standby_refusal(v, v.nodes[1], {}, &writes), ReadRefusal::none);
  EXPECT_EQ(standby_refusal(v, v.nodes[2], {}, &writes), ReadRefusal::not_fresh_for_session);
  EXPECT_FALSE(writes.pending());
  EXPECT_EQ(writes.required_lsn(), 2000u);
  // Later primary progress (other sessions' writes) does not raise this session's requirement.
  primary_probed(v, 2000ms, 9000);
  EXPECT_EQ(standby_refusal(v, v.nodes[1], {}, &writes), ReadRefusal::none);
}

TEST(ReadYourWrites, AFailedPrimaryProbeDoesNotResolveTheCommit) {
  auto v = cluster();
  ReadYourWrites writes;
  writes.on_write_committed(at(500ms));
  v.nodes[0].last_probe = at(1000ms);
  v.nodes[0].last_error = "timeout";
  EXPECT_EQ(standby_refusal(v, v.nodes[1], {}, &writes), ReadRefusal::not_fresh_for_session);
  EXPECT_TRUE(writes.pending());
}

TEST(ReadYourWrites, ANewerCommitWaitsForANewerProbe) {
  auto v = cluster();
  ReadYourWrites writes;
  writes.on_write_committed(at(500ms));
  primary_probed(v, 1000ms, 2000);
  v.nodes[1].replay_lsn = 2000;
  EXPECT_TRUE(writes.allows(v, v.nodes[1]));
  writes.on_write_committed(at(1500ms));
  EXPECT_FALSE(writes.allows(v, v.nodes[1]));
}

}  // namespace
}  // namespace pgr::proxy
