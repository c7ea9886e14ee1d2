// The node state machine with a fake clock: every transition, retry counts, thresholds and
// failure reports.
#include "health/node_state.hpp"

#include <gtest/gtest.h>

namespace pgr::health {
namespace {

using namespace std::chrono_literals;
using time_point = NodeState::time_point;

constexpr auto period = 2000ms;
constexpr auto retry_delay = 500ms;

NodeStateSettings settings(int max_retries) { return {period, retry_delay, max_retries}; }

// A fake clock: an arbitrary origin, moved by hand.
struct Clock {
  time_point now = time_point{} + 1000s;
  time_point advance(std::chrono::milliseconds by) { return now += by; }
};

TEST(NodeState, StartsDownUnprobedAndDueAtOnce) {
  const NodeState state(settings(2));
  EXPECT_EQ(state.status(), NodeStatus::down);
  EXPECT_FALSE(state.probed());
  EXPECT_EQ(state.next_probe(), time_point{});
}

TEST(NodeState, FirstSuccessIsFirstUp) {
  Clock clock;
  NodeState state(settings(2));
  const auto d = state.on_probe_result(true, clock.now);
  EXPECT_EQ(d.status, NodeStatus::up);
  EXPECT_EQ(d.transition, NodeTransition::first_up);
  EXPECT_EQ(d.next_probe, clock.now + period);
  EXPECT_TRUE(state.probed());
}

TEST(NodeState, FirstFailureIsFirstDownWithoutRetries) {
  Clock clock;
  NodeState state(settings(3));
  const auto d = state.on_probe_result(false, clock.now);
  EXPECT_EQ(d.status, NodeStatus::down);
  EXPECT_EQ(d.transition, NodeTransition::first_down);
  EXPECT_EQ(d.next_probe, clock.now + period);
  // Later failures while down are quiet.
  const auto again = state.on_probe_result(false, clock.advance(period));
  EXPECT_EQ(again.transition, NodeTransition::none);
  EXPECT_EQ(again.status, NodeStatus::down);
}

TEST(NodeState, SuccessWhileUpIsQuiet) {
  Clock clock;
  NodeState state(settings(1));
  (void)state.on_probe_result(true, clock.now);
  const auto d = state.on_probe_result(true, clock.advance(period));
  EXPECT_EQ(d.status, NodeStatus::up);
  EXPECT_EQ(d.transition, NodeTransition::none);
  EXPECT_EQ(d.next_probe, clock.now + period);
}

TEST(NodeState, NoRetriesMeansUpToDownAtOnce) {
  Clock clock;
  NodeState state(settings(0));
  (void)state.on_probe_result(true, clock.now);
  const auto d = state.on_probe_result(false, clock.advance(period));
  EXPECT_EQ(d.status, NodeStatus::down);
  EXPECT_EQ(d.transition, NodeTransition::went_down);
  EXPECT_EQ(d.next_probe, clock.now + period);
}

TEST(NodeState, RetriesThenDown) {
  for (int max_retries = 1; max_retries <= 4; ++max_retries) {
    SCOPED_TRACE(max_retries);
    Clock clock;
    NodeState state(settings(max_retries));
    (void)state.on_probe_result(true, clock.now);

    auto d = state.on_probe_result(false, clock.advance(period));
    EXPECT_EQ(d.status, NodeStatus::suspect);
    EXPECT_EQ(d.transition, NodeTransition::became_suspect);
    EXPECT_EQ(d.next_probe, clock.now + retry_delay);

    for (int retry = 1; retry < max_retries; ++retry) {
      d = state.on_probe_result(false, clock.advance(retry_delay));
      EXPECT_EQ(d.status, NodeStatus::suspect);
      EXPECT_EQ(d.transition, NodeTransition::none);
      EXPECT_EQ(d.next_probe, clock.now + retry_delay);
      EXPECT_EQ(state.failed_retries(), retry);
    }
    d = state.on_probe_result(false, clock.advance(retry_delay));
    EXPECT_EQ(d.status, NodeStatus::down);
    EXPECT_EQ(d.transition, NodeTransition::went_down);
    EXPECT_EQ(d.next_probe, clock.now + period);
  }
}

TEST(NodeState, SuspectRecoversOnSuccessAndRetriesReset) {
  Clock clock;
  NodeState state(settings(3));
  (void)state.on_probe_result(true, clock.now);
  (void)state.on_probe_result(false, clock.advance(period));
  (void)state.on_probe_result(false, clock.advance(retry_delay));
  EXPECT_EQ(state.failed_retries(), 1);
  const auto d = state.on_probe_result(true, clock.advance(retry_delay));
  EXPECT_EQ(d.status, NodeStatus::up);
  EXPECT_EQ(d.transition, NodeTransition::recovered);
  EXPECT_EQ(d.next_probe, clock.now + period);
  EXPECT_EQ(state.failed_retries(), 0);
  // A new failure episode gets the full retry budget again.
  (void)state.on_probe_result(false, clock.advance(period));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(state.on_probe_result(false, clock.advance(retry_delay)).status,
              NodeStatus::suspect);
  }
  EXPECT_EQ(state.on_probe_result(false, clock.advance(retry_delay)).status, NodeStatus::down);
}

TEST(NodeState, DownComesBack) {
  Clock clock;
  NodeState state(settings(0));
  (void)state.on_probe_result(true, clock.now);
  (void)state.on_probe_result(false, clock.advance(period));
  const auto d = state.on_probe_result(true, clock.advance(period));
  EXPECT_EQ(d.status, NodeStatus::up);
  EXPECT_EQ(d.transition, NodeTransition::came_back);
}

TEST(NodeState, FirstDownThenUpIsCameBack) {
  Clock clock;
  NodeState state(settings(2));
  (void)state.on_probe_result(false, clock.now);
  EXPECT_EQ(state.on_probe_result(true, clock.advance(period)).transition,
            NodeTransition::came_back);
}

TEST(NodeState, FailureReportOnUpNodeAsksForProbeNowButKeepsStatus) {
  Clock clock;
  NodeState state(settings(2));
  (void)state.on_probe_result(true, clock.now);
  const auto d = state.on_failure_report(clock.advance(1500ms));
  EXPECT_EQ(d.status, NodeStatus::up);
  EXPECT_EQ(d.transition, NodeTransition::none);
  EXPECT_EQ(d.next_probe, clock.now);
  // Reports alone never take a node down, however many.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(state.on_failure_report(clock.now).status, NodeStatus::up);
}

TEST(NodeState, FailureReportsAreRateLimited) {
  Clock clock;
  NodeState state(settings(2));
  (void)state.on_probe_result(true, clock.now);
  const time_point last_result = clock.now;
  // 10ms after a probe: the next one waits until the report gap after it, not period.
  const auto d = state.on_failure_report(clock.advance(10ms));
  EXPECT_EQ(d.next_probe, last_result + NodeState::k_report_probe_gap);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(state.on_failure_report(clock.now).next_probe, last_result + NodeState::k_report_probe_gap);
  }
  // A retry_delay shorter than the gap is the limit instead.
  NodeState quick(NodeStateSettings{1000ms, 20ms, 1});
  (void)quick.on_probe_result(true, clock.now);
  const time_point quick_result = clock.now;
  EXPECT_EQ(quick.on_failure_report(clock.advance(5ms)).next_probe, quick_result + 20ms);
  // A report never pushes a probe later than already scheduled.
  NodeState soon(NodeStateSettings{50ms, 1000ms, 1});
  (void)soon.on_probe_result(true, clock.now);
  EXPECT_EQ(soon.on_failure_report(clock.now).next_probe, clock.now + 50ms);
}

TEST(NodeState, FailureReportOnSuspectOrDownKeepsSchedule) {
  Clock clock;
  NodeState suspect(settings(2));
  (void)suspect.on_probe_result(true, clock.now);
  const auto s = suspect.on_probe_result(false, clock.advance(period));
  EXPECT_EQ(suspect.on_failure_report(clock.advance(10ms)).next_probe, s.next_probe);
  EXPECT_EQ(suspect.status(), NodeStatus::suspect);

  NodeState down(settings(0));
  const auto d = down.on_probe_result(false, clock.now);
  EXPECT_EQ(down.on_failure_report(clock.advance(10ms)).next_probe, d.next_probe);
  EXPECT_EQ(down.status(), NodeStatus::down);
}

TEST(NodeState, UnprobedNodeReportDoesNotDelayFirstProbe) {
  Clock clock;
  NodeState state(settings(1));
  EXPECT_EQ(state.on_failure_report(clock.now).next_probe, time_point{});
}

TEST(NodeState, TransitionNames) {
  EXPECT_EQ(to_string(NodeTransition::came_back), "came_back");
  EXPECT_EQ(to_string(NodeTransition::became_suspect), "became_suspect");
  EXPECT_EQ(to_string(NodeStatus::suspect), "suspect");
  EXPECT_EQ(to_string(NodeRole::standby), "standby");
}

}  // namespace
}  // namespace pgr::health
