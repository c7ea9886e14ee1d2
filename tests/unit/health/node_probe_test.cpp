// NodeProbe against sockets that fail on purpose (no PostgreSQL needed): a closed port, and a
// listener that never answers — the probe must fail within its timeout with a clear error.
#include "health/node_probe.hpp"

#include <gtest/gtest.h>

#include "tests/unit/health/test_io.hpp"

namespace pgr::health {
namespace {

using namespace std::chrono_literals;

conf::HealthCheckConfig quick_config(std::chrono::milliseconds timeout) {
  conf::HealthCheckConfig config;
  config.timeout = timeout;
  config.password = "s3cret pass'word";  // must never show up in an error
  return config;
}

TEST(NodeProbe, RefusedConnectionFailsFastWithLibpqReason) {
  boost::asio::io_context ctx;
  NodeProbe probe(ctx.get_executor(), {"node1", "127.0.0.1", test::free_port(), 1.0, {}},
                  quick_config(2000ms));
  const auto result = test::run_awaitable(ctx, probe.probe());
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("Connection refused"), std::string::npos) << result.error;
  EXPECT_EQ(result.error.find('\n'), std::string::npos);
  EXPECT_EQ(result.error.find("s3cret"), std::string::npos);
  EXPECT_LT(result.duration, 1000ms);
  EXPECT_FALSE(probe.connected());
}

TEST(NodeProbe, SilentServerTimesOutWhileConnecting) {
  boost::asio::io_context ctx;
  // Listening but never accepting: the kernel completes the TCP handshake, nobody answers.
  boost::asio::ip::tcp::acceptor silent(
      ctx, boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  NodeProbe probe(ctx.get_executor(), {"node1", "127.0.0.1", silent.local_endpoint().port(), 1.0, {}},
                  quick_config(300ms));
  const auto result = test::run_awaitable(ctx, probe.probe());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "timeout after 300ms connecting");
  EXPECT_GE(result.duration, 300ms);
  EXPECT_LT(result.duration, 800ms);
  EXPECT_FALSE(probe.connected());
  // A second probe starts afresh and times out the same way.
  const auto again = test::run_awaitable(ctx, probe.probe());
  EXPECT_EQ(again.error, "timeout after 300ms connecting");
}

TEST(NodeProbe, UnresolvableHostNameFails) {
  boost::asio::io_context ctx;
  NodeProbe probe(ctx.get_executor(), {"node1", "no-such-host.invalid", 5432, 1.0, {}},
                  quick_config(3000ms));
  const auto result = test::run_awaitable(ctx, probe.probe());
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.error.empty());
}

TEST(NodeProbe, HostNameIsResolvedBeforeLibpq) {
  boost::asio::io_context ctx;
  NodeProbe probe(ctx.get_executor(), {"node1", "localhost", test::free_port(), 1.0, {}},
                  quick_config(2000ms));
  const auto result = test::run_awaitable(ctx, probe.probe());
  EXPECT_FALSE(result.ok);
  // libpq names the address we resolved and passed as hostaddr.
  EXPECT_NE(result.error.find("\"127.0.0.1\""), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("Connection refused"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace pgr::health
