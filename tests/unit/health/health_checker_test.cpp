// HealthChecker mechanics without PostgreSQL: nodes on closed ports are published down, the
// first publication comes at once, reports trigger probes, and stop() really stops callbacks.
#include "health/health_checker.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/health/test_io.hpp"

namespace pgr::health {
namespace {

using namespace std::chrono_literals;

conf::HealthCheckConfig fast_config() {
  conf::HealthCheckConfig config;
  config.period = 100ms;
  config.timeout = 500ms;
  config.retry_delay = 50ms;
  config.max_retries = 1;
  return config;
}

std::vector<conf::BackendConfig> closed_backends(std::size_t n) {
  std::vector<conf::BackendConfig> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back({"node" + std::to_string(i + 1), "127.0.0.1", test::free_port(), 1.0, {}});
  }
  return out;
}

TEST(HealthChecker, CurrentBeforeStartIsGenerationZeroWithEveryNode) {
  boost::asio::io_context ctx;
  HealthChecker checker(ctx.get_executor(), closed_backends(2), fast_config(), nullptr);
  const auto view = checker.current();
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->generation, 0u);
  ASSERT_EQ(view->nodes.size(), 2u);
  EXPECT_EQ(view->nodes[1].name, "node2");
  EXPECT_EQ(view->nodes[1].status, NodeStatus::down);
  EXPECT_EQ(view->nodes[1].role, NodeRole::unknown);
}

TEST(HealthChecker, UnreachableNodesArePublishedDownWithTheReason) {
  boost::asio::io_context ctx;
  std::vector<ClusterViewPtr> published;
  HealthChecker checker(ctx.get_executor(), closed_backends(2), fast_config(),
                        [&](ClusterViewPtr view) { published.push_back(std::move(view)); });
  checker.start();
  checker.start();  // once only
  ASSERT_TRUE(test::run_until(ctx, [&] {
    return !published.empty() && !published.back()->nodes[1].last_error.empty();
  }, 2000ms));
  const auto& view = *published.back();
  EXPECT_EQ(view.primary, std::nullopt);
  EXPECT_EQ(view.nodes[0].status, NodeStatus::down);
  EXPECT_NE(view.nodes[1].last_error.find("Connection refused"), std::string::npos);
  EXPECT_EQ(checker.current(), published.back());
  for (std::size_t i = 1; i < published.size(); ++i) {
    EXPECT_EQ(published[i]->generation, published[i - 1]->generation + 1);
  }
  EXPECT_GE(published.front()->generation, 1u);
  checker.stop();
}

TEST(HealthChecker, NoCallbackAfterStopAndStopTwiceIsSafe) {
  boost::asio::io_context ctx;
  int calls = 0;
  HealthChecker checker(ctx.get_executor(), closed_backends(3), fast_config(),
                        [&](const ClusterViewPtr&) { ++calls; });
  checker.start();
  ASSERT_TRUE(test::run_until(ctx, [&] { return calls > 0; }, 2000ms));
  checker.stop();
  checker.stop();
  const int at_stop = calls;
  checker.report_backend_failure(0, "ignored after stop");
  ctx.restart();
  ctx.run_for(300ms);
  EXPECT_EQ(calls, at_stop);
  EXPECT_TRUE(ctx.stopped()) << "probe loops should have ended";
}

TEST(HealthChecker, DestroyedWhileProbesAreInFlight) {
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor silent(
      ctx, boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  int calls = 0;
  {
    std::vector<conf::BackendConfig> backends{
        {"silent", "127.0.0.1", silent.local_endpoint().port(), 1.0, {}}};
    HealthChecker checker(ctx.get_executor(), backends, fast_config(),
                          [&](const ClusterViewPtr&) { ++calls; });
    checker.start();
    ctx.run_for(50ms);  // the probe is now waiting on the silent server
  }
  ctx.restart();
  ctx.run_for(1000ms);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(ctx.stopped());
}

TEST(HealthChecker, FailureReportsAreHarmlessForAnyIndex) {
  boost::asio::io_context ctx;
  HealthChecker checker(ctx.get_executor(), closed_backends(1), fast_config(), nullptr);
  checker.report_backend_failure(0, "before start");
  checker.report_backend_failure(7, "no such node");
  checker.start();
  checker.report_backend_failure(0, "right after start");
  ctx.run_for(200ms);
  EXPECT_EQ(checker.current()->nodes[0].status, NodeStatus::down);
  checker.stop();
}

TEST(HealthChecker, ReconfigureAddsAndRemovesSlots) {
  boost::asio::io_context ctx;
  std::vector<ClusterViewPtr> published;
  auto backends = closed_backends(1);
  HealthChecker checker(ctx.get_executor(), backends, fast_config(),
                        [&](ClusterViewPtr view) { published.push_back(std::move(view)); });
  checker.start();
  ASSERT_TRUE(test::run_until(ctx, [&] { return !published.empty(); }, 2000ms));

  // An added slot is published at once and probed (its probe fails: a closed port).
  backends.push_back(closed_backends(1).front());
  backends.back().name = "added";
  checker.reconfigure(backends, fast_config());
  ASSERT_EQ(checker.current()->nodes.size(), 2u);
  EXPECT_EQ(checker.current()->nodes[1].name, "added");
  EXPECT_FALSE(checker.current()->nodes[1].removed);
  ASSERT_TRUE(test::run_until(ctx, [&] {
    return checker.current()->nodes[1].last_error.find("Connection refused") != std::string::npos;
  }, 2000ms));

  // A removed slot is published down and removed, and its probes stop.
  backends[1].removed = true;
  checker.reconfigure(backends, fast_config());
  ASSERT_EQ(checker.current()->nodes.size(), 2u);
  EXPECT_TRUE(checker.current()->nodes[1].removed);
  ctx.run_for(400ms);
  const auto view = checker.current();
  EXPECT_TRUE(view->nodes[1].removed);
  EXPECT_EQ(view->nodes[1].last_probe, std::chrono::system_clock::time_point{});  // never probed since
  EXPECT_NE(view->nodes[0].last_probe, std::chrono::system_clock::time_point{});
  checker.report_backend_failure(1, "a removed slot is ignored");

  // Fewer slots than before is not a reload the checker accepts.
  checker.reconfigure(closed_backends(1), fast_config());
  EXPECT_EQ(checker.current()->nodes.size(), 2u);
  checker.stop();
}

}  // namespace
}  // namespace pgr::health
