// NodeProbe and HealthChecker against a real, throwaway PostgreSQL 15 that each test starts
// itself (initdb in a fresh temporary directory, a free port, pg_ctl -w) and always tears down.
// Skipped when the server binaries are missing.
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "health/health_checker.hpp"
#include "health/node_probe.hpp"
#include "tests/unit/health/test_io.hpp"

namespace pgr::health {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path pg_bin = "/usr/lib/postgresql/15/bin";

class ThrowawayPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(pg_bin / "initdb")) GTEST_SKIP() << "no PostgreSQL 15 server binaries";
    char pattern[] = "/tmp/pgr-health-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    // initdb refuses to run as root: run the server tools as `postgres`, which owns the dir.
    if (::geteuid() == 0) {
      const passwd* pg = ::getpwnam("postgres");
      if (pg == nullptr) GTEST_SKIP() << "running as root and no postgres user";
      ASSERT_EQ(::chown(dir_.c_str(), pg->pw_uid, pg->pw_gid), 0);
      as_postgres_ = "runuser -u postgres -- ";
    }
    port_ = test::free_port();
    ASSERT_EQ(run(pg_bin / "initdb", "-D " + data() + " -U postgres -A trust -N --no-instructions",
                  "initdb.log"),
              0)
        << "initdb failed, see " << dir_ / "initdb.log";
    start_server();
  }

  void TearDown() override {
    if (started_) stop_server();
    if (!dir_.empty()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  void start_server() {
    // fsync off and a Unix socket in our own directory: fast, and nothing shared with others.
    const std::string options = "-p " + std::to_string(port_) + " -k " + dir_.string() +
                                " -c listen_addresses=127.0.0.1 -c fsync=off";
    ASSERT_EQ(run(pg_bin / "pg_ctl", "-w -D " + data() + " -l " + (dir_ / "server.log").string() +
                                         " -o '" + options + "' start",
                  "pg_ctl.log"),
              0)
        << "pg_ctl start failed, see " << dir_ / "server.log";
    started_ = true;
  }

  void stop_server() {
    EXPECT_EQ(run(pg_bin / "pg_ctl", "-w -m fast -D " + data() + " stop", "pg_ctl.log"), 0);
    started_ = false;
  }

  int run(const fs::path& tool, const std::string& args, const std::string& log) const {
    const std::string command = as_postgres_ + tool.string() + " " + args + " >>" +
                                (dir_ / log).string() + " 2>&1";
    return std::system(command.c_str());
  }

  std::string data() const { return (dir_ / "data").string(); }

  conf::BackendConfig backend() const { return {"node1", "127.0.0.1", port_, 1.0, {}}; }

  static conf::HealthCheckConfig config() {
    conf::HealthCheckConfig c;  // user and database "postgres", trust authentication
    c.timeout = 2000ms;
    c.period = 100ms;
    c.retry_delay = 50ms;
    c.max_retries = 1;
    return c;
  }

  fs::path dir_;
  std::string as_postgres_;
  std::uint16_t port_ = 0;
  bool started_ = false;
};

TEST_F(ThrowawayPostgres, ProbesPrimaryThenFailsWithinTimeoutWhenStopped) {
  boost::asio::io_context ctx;
  NodeProbe probe(ctx.get_executor(), backend(), config());

  const auto first = test::run_awaitable(ctx, probe.probe());
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_FALSE(first.in_recovery);
  EXPECT_EQ(first.timeline, 1u);
  EXPECT_NE(first.system_identifier, 0u);
  EXPECT_GT(first.current_lsn, 0u);
  EXPECT_EQ(first.received_lsn, 0u);
  EXPECT_EQ(first.wal_receiver_status, "");
  EXPECT_FALSE(first.reused_connection);
  EXPECT_TRUE(probe.connected());

  const auto second = test::run_awaitable(ctx, probe.probe());
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_TRUE(second.reused_connection);
  EXPECT_EQ(second.system_identifier, first.system_identifier);
  EXPECT_GE(second.current_lsn, first.current_lsn);

  stop_server();
  const auto down = test::run_awaitable(ctx, probe.probe());
  EXPECT_FALSE(down.ok);
  EXPECT_LT(down.duration, config().timeout);
  EXPECT_NE(down.error.find("Connection refused"), std::string::npos) << down.error;
  EXPECT_FALSE(probe.connected());

  // After a restart the probe logs in again.
  start_server();
  const auto back = test::run_awaitable(ctx, probe.probe());
  ASSERT_TRUE(back.ok) << back.error;
  EXPECT_FALSE(back.reused_connection);
}

TEST_F(ThrowawayPostgres, HealthCheckerPublishesThePrimaryAndItsLoss) {
  boost::asio::io_context ctx;
  std::vector<ClusterViewPtr> published;
  // A period far longer than the test: only the failure report below can start the probes
  // that notice the server is gone.
  auto slow = config();
  slow.period = 60s;
  HealthChecker checker(ctx.get_executor(), {backend()}, slow,
                        [&](ClusterViewPtr view) { published.push_back(std::move(view)); });
  checker.start();
  ASSERT_TRUE(test::run_until(ctx, [&] { return checker.current()->primary.has_value(); },
                              5000ms));
  const auto up = checker.current();
  EXPECT_EQ(up->primary, 0u);
  EXPECT_EQ(up->nodes[0].role, NodeRole::primary);
  EXPECT_EQ(up->nodes[0].status, NodeStatus::up);
  EXPECT_EQ(up->nodes[0].timeline, 1u);
  EXPECT_TRUE(up->nodes[0].system_identifier.has_value());

  stop_server();
  checker.report_backend_failure(0, "server closed the connection unexpectedly");
  ASSERT_TRUE(test::run_until(
      ctx, [&] { return checker.current()->nodes[0].status == NodeStatus::down; }, 5000ms));
  const auto down = checker.current();
  EXPECT_EQ(down->primary, std::nullopt);
  EXPECT_EQ(down->nodes[0].role, NodeRole::primary);  // last known, for failover
  EXPECT_FALSE(down->nodes[0].last_error.empty());
  // On the way it was suspect (one retry) before down.
  bool saw_suspect = false;
  for (const auto& view : published) saw_suspect |= view->nodes[0].status == NodeStatus::suspect;
  EXPECT_TRUE(saw_suspect);
  checker.stop();
}

}  // namespace
}  // namespace pgr::health
