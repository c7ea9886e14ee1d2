// Reload diffs: which changes apply live, which need a restart, and what a reload applies.
#include <gtest/gtest.h>

#include "conf/config_diff.hpp"

namespace pgr::conf {
namespace {

Config base() {
  Config c;
  c.backends = {{"node0", "127.0.0.1", 5432, 1.0, std::nullopt}, {"node1", "127.0.0.1", 5433, 1.0, std::nullopt}};
  return c;
}

TEST(ConfigDiff, WeightsAndLoadBalanceAreLive) {
  const Config a = base();
  Config b = base();
  b.backends[1].weight = 3.0;
  b.load_balance.primary_reads = false;
  b.proxy.log_level = LogLevel::debug;
  const auto d = diff_configs(a, b);
  EXPECT_EQ(d.live, (std::vector<std::string>{"proxy.log_level", "load_balance", "backends[1].weight"}));
  EXPECT_TRUE(d.restart.empty());
  EXPECT_EQ(live_part(a, b), b);
}

TEST(ConfigDiff, ListenNeedsARestartWhileBackendsAreAddedLive) {
  const Config a = base();
  Config b = base();
  b.backends.push_back({"node2", "127.0.0.1", 5434, 1.0, std::nullopt});
  b.proxy.listen = {{"127.0.0.1", 6432}};
  b.health_check.period = std::chrono::milliseconds(500);
  const auto d = diff_configs(a, b);
  EXPECT_EQ(d.restart, (std::vector<std::string>{"proxy.listen"}));
  EXPECT_EQ(d.live, (std::vector<std::string>{"health_check", "backends: added node2 (node 2, 127.0.0.1:5434)"}));
  EXPECT_TRUE(d.errors.empty());
  const Config applied = live_part(a, b);
  EXPECT_EQ(applied.backends, b.backends);
  EXPECT_EQ(applied.proxy.listen, a.proxy.listen);
  EXPECT_EQ(applied.health_check.period, std::chrono::milliseconds(500));
}

TEST(ConfigDiff, RemovingABackendLeavesItsSlot) {
  const Config a = base();
  Config b = base();
  b.backends.erase(b.backends.begin());
  const auto d = diff_configs(a, b);
  EXPECT_EQ(d.live, (std::vector<std::string>{"backends: removed node0 (node 0, 127.0.0.1:5432)"}));
  const Config applied = live_part(a, b);
  ASSERT_EQ(applied.backends.size(), 2U);
  EXPECT_TRUE(applied.backends[0].removed);
  EXPECT_FALSE(applied.backends[1].removed);
  EXPECT_EQ(applied.backends[1].name, "node1");
  // The same file again changes nothing.
  const auto again = diff_configs(applied, b);
  EXPECT_TRUE(again.live.empty());
  EXPECT_TRUE(again.restart.empty());
}

}  // namespace
}  // namespace pgr::conf
