// LagTracker: byte and time lag of standbys from primary WAL samples.
#include "health/lag_tracker.hpp"

#include <gtest/gtest.h>

namespace pgr::health {
namespace {

using namespace std::chrono_literals;
using time_point = LagTracker::time_point;

time_point at(std::chrono::milliseconds ms) { return time_point{} + 1000h + ms; }

TEST(LagTracker, UnknownWithoutAPrimarySample) {
  LagTracker tracker;
  EXPECT_FALSE(tracker.lag_of(at(0ms), 100).has_value());
}

TEST(LagTracker, CaughtUpStandbyHasNoLagEvenWhenTheClusterIsIdle) {
  LagTracker tracker;
  tracker.record_primary(at(0ms), 500);
  tracker.record_primary(at(1000ms), 500);
  tracker.record_primary(at(60000ms), 500);
  const auto lag = tracker.lag_of(at(60500ms), 500);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->bytes, 0u);
  EXPECT_EQ(lag->time, 0ms);
}

TEST(LagTracker, TimeLagIsMeasuredFromTheNewestFullyReplayedSample) {
  LagTracker tracker;
  // The primary writes steadily: 100 bytes a second.
  for (int s = 0; s <= 10; ++s) tracker.record_primary(at(std::chrono::seconds(s)), 1000u + 100u * static_cast<unsigned>(s));
  // A standby that replays 2 s behind: at t=10 s it has what the primary had at t=8 s.
  const auto lag = tracker.lag_of(at(10s), 1800);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->bytes, 200u);
  EXPECT_EQ(lag->time, 2000ms);
  // Between two samples the bound is the older one: never fresher than proven.
  const auto between = tracker.lag_of(at(10s), 1850);
  ASSERT_TRUE(between);
  EXPECT_EQ(between->bytes, 150u);
  EXPECT_EQ(between->time, 2000ms);
}

TEST(LagTracker, StandbyBehindAllHistoryHasAnUnknownTimeLag) {
  LagTracker tracker(3s);
  for (int s = 0; s <= 10; ++s) tracker.record_primary(at(std::chrono::seconds(s)), 1000u + 100u * static_cast<unsigned>(s));
  const auto lag = tracker.lag_of(at(10s), 10);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->bytes, 2000u - 10u);
  EXPECT_FALSE(lag->time) << "behind every sample kept: only a lower bound is known";
  EXPECT_LE(tracker.sample_count(), 5u) << "old samples are dropped";
}

// Just after start-up the history holds only fresh samples: a standby that has not replayed
// the first one must not look fresh (its lag could be anything).
TEST(LagTracker, StandbyBehindTheFirstSampleRightAfterStartIsUnknown) {
  LagTracker tracker;
  tracker.record_primary(at(0ms), 5000);
  const auto lag = tracker.lag_of(at(20ms), 4000);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->bytes, 1000u);
  EXPECT_FALSE(lag->time);
}

TEST(LagTracker, ALowerPrimaryLsnRestartsHistory) {
  LagTracker tracker;
  tracker.record_primary(at(0ms), 5000);
  tracker.record_primary(at(1000ms), 100);  // a new primary, say after a failover
  EXPECT_EQ(tracker.sample_count(), 1u);
  const auto lag = tracker.lag_of(at(1000ms), 100);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->bytes, 0u);
}

TEST(LagTracker, OutOfOrderSamplesAreIgnored) {
  LagTracker tracker;
  tracker.record_primary(at(2000ms), 300);
  tracker.record_primary(at(1000ms), 200);
  EXPECT_EQ(tracker.sample_count(), 1u);
}

TEST(LagTracker, RunsOfTheSameLsnKeepTheirFirstTime) {
  LagTracker tracker;
  tracker.record_primary(at(0ms), 100);
  tracker.record_primary(at(1000ms), 200);  // written at t=1 s
  tracker.record_primary(at(2000ms), 200);
  tracker.record_primary(at(3000ms), 200);
  tracker.record_primary(at(4000ms), 200);
  EXPECT_EQ(tracker.sample_count(), 3u);
  // Still at 100 at t=4 s: it misses what existed since t=1 s, so it is 4 s stale (fresh as t=0).
  const auto lag = tracker.lag_of(at(4000ms), 100);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->time, 4000ms);
}

}  // namespace
}  // namespace pgr::health

namespace pgr::health {
namespace {

ClusterView two_node_view(std::chrono::milliseconds t, std::uint64_t primary_lsn, std::uint64_t standby_replay) {
  ClusterView view;
  view.nodes.resize(2);
  view.nodes[0].index = 0;
  view.nodes[0].role = NodeRole::primary;
  view.nodes[0].current_lsn = primary_lsn;
  view.nodes[0].last_probe = at(t);
  view.nodes[1].index = 1;
  view.nodes[1].role = NodeRole::standby;
  view.nodes[1].replay_lsn = standby_replay;
  view.nodes[1].last_probe = at(t);
  view.primary = 0;
  return view;
}

TEST(AnnotateLag, FillsStandbyLagFromThePrimarysSamples) {
  LagTracker tracker;
  std::optional<std::size_t> tracked;
  auto first = two_node_view(0ms, 1000, 1000);
  annotate_lag(tracker, tracked, first);
  ASSERT_TRUE(first.nodes[1].lag_bytes && first.nodes[1].lag);
  EXPECT_EQ(*first.nodes[1].lag_bytes, 0u);
  auto second = two_node_view(3000ms, 4000, 1000);
  annotate_lag(tracker, tracked, second);
  EXPECT_EQ(*second.nodes[1].lag_bytes, 3000u);
  EXPECT_EQ(*second.nodes[1].lag, 3000ms);
  EXPECT_FALSE(second.nodes[0].lag_bytes) << "the primary has no lag figure";
}

TEST(AnnotateLag, NoPrimaryMeansUnknownLag) {
  LagTracker tracker;
  std::optional<std::size_t> tracked;
  auto view = two_node_view(0ms, 1000, 1000);
  view.primary.reset();
  annotate_lag(tracker, tracked, view);
  EXPECT_FALSE(view.nodes[1].lag_bytes);
  EXPECT_FALSE(view.nodes[1].lag);
}

TEST(AnnotateLag, AFailedPrimaryProbeAddsNoSample) {
  LagTracker tracker;
  std::optional<std::size_t> tracked;
  auto ok = two_node_view(0ms, 1000, 1000);
  annotate_lag(tracker, tracked, ok);
  auto failed = two_node_view(5000ms, 1000, 1000);
  failed.nodes[0].last_error = "timeout";
  annotate_lag(tracker, tracked, failed);
  EXPECT_EQ(tracker.sample_count(), 1u);
}

}  // namespace
}  // namespace pgr::health

namespace pgr::health {
namespace {

// Probes of different nodes are not simultaneous: a standby probed between two primary
// samples is compared with the primary's position at that moment, not with a later one.
TEST(LagTracker, BytesAreMeasuredAtTheStandbysProbeTime) {
  using namespace std::chrono_literals;
  LagTracker tracker;
  const auto t0 = LagTracker::time_point{} + 1000h;
  tracker.record_primary(t0, 1000);
  tracker.record_primary(t0 + 1s, 2000);
  const auto lag = tracker.lag_of(t0 + 500ms, 1400);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->bytes, 100u);  // the primary was at ~1500 then, not 2000
  const auto later = tracker.lag_of(t0 + 2s, 1400);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->bytes, 600u);  // probed after the newest sample: compared with it
}

}  // namespace
}  // namespace pgr::health
