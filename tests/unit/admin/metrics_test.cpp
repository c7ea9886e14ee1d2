// Metrics: every name is pgrouter_..., counters end in _total, and the text has the series
// with their labels.
#include <gtest/gtest.h>

#include "admin/metrics.hpp"
#include "tests/unit/admin/admin_fixtures.hpp"

namespace pgr::admin {
namespace {

TEST(Metrics, NamesFollowTheConvention) {
  for (const auto& m : metric_table()) {
    EXPECT_TRUE(m.name.starts_with("pgrouter_")) << m.name;
    EXPECT_EQ(m.type == MetricType::counter, m.name.ends_with("_total")) << m.name;
    EXPECT_FALSE(m.help.empty()) << m.name;
  }
}

TEST(Metrics, TextCarriesNodeSeries) {
  auto s = test::three_nodes();
  s.nodes[0].probes.total = 3;
  s.nodes[0].probes.duration_buckets[2] = 3;
  s.nodes[0].probes.duration_ms_sum = 30;
  const auto text = render_metrics(s, "abc");
  EXPECT_NE(text.find("# TYPE pgrouter_node_statements_routed_total counter"), std::string::npos);
  EXPECT_NE(text.find("pgrouter_node_statements_routed_total{node=\"node0\",kind=\"read\"} 10"), std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrouter_node_up{node=\"node2\"} 1"), std::string::npos);
  EXPECT_NE(text.find("pgrouter_node_lag_bytes{node=\"node2\"} 67108864"), std::string::npos);
  EXPECT_NE(text.find("pgrouter_health_check_duration_seconds_bucket{node=\"node0\",le=\"0.025\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrouter_build_info{version=\"0.1.0\",git_sha=\"abc\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace pgr::admin
