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

TEST(ConfigDiff, NewBackendsAndListenNeedARestart) {
  const Config a = base();
  Config b = base();
  b.backends.push_back({"node2", "127.0.0.1", 5434, 1.0, std::nullopt});
  b.proxy.listen = {{"127.0.0.1", 6432}};
  b.health_check.period = std::chrono::milliseconds(500);
  const auto d = diff_configs(a, b);
  EXPECT_EQ(d.restart, (std::vector<std::string>{"proxy.listen", "backends"}));
  EXPECT_EQ(d.live, (std::vector<std::string>{"health_check"}));
  const Config applied = live_part(a, b);
  EXPECT_EQ(applied.backends, a.backends);
  EXPECT_EQ(applied.proxy.listen, a.proxy.listen);
  EXPECT_EQ(applied.health_check.period, std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace pgr::conf
