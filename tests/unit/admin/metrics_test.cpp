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

TEST(Metrics, ConnectionsRejectionsErrorsAndBytes) {
  auto s = test::three_nodes();
  s.nodes[1].traffic.connections = 4;
  s.traffic.bytes_to_server = 100;
  s.traffic.bytes_to_client = 2500;
  s.traffic.rejected = {{"max_connections", 0}, {"auth_failed", 2}};
  s.traffic.errors = {{"22", 1}, {"42", 3}};
  const auto text = render_metrics(s, "abc");
  EXPECT_NE(text.find("# TYPE pgrouter_node_backend_connections gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_node_backend_connections{node=\"node1\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_node_backend_connections{node=\"node0\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_clients_rejected_total{reason=\"auth_failed\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_clients_rejected_total{reason=\"max_connections\"} 0"), std::string::npos);
  EXPECT_NE(text.find("pgrouter_client_errors_total{class=\"42\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_bytes_relayed_total{direction=\"client_to_server\"} 100"), std::string::npos);
  EXPECT_NE(text.find("pgrouter_bytes_relayed_total{direction=\"server_to_client\"} 2500"), std::string::npos);
}

TEST(Metrics, PoolSeries) {
  const auto s = test::three_nodes_pooled();
  const auto text = render_metrics(s, "abc");
  EXPECT_NE(text.find("# TYPE pgrouter_pool_connections gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_connections{node=\"node0\",state=\"active\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_connections{node=\"node0\",state=\"idle\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_held_connections{node=\"node0\"} 6"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_waiting_clients{node=\"node1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_waiting_clients{node=\"node2\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE pgrouter_pool_max_backend_connections gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("\npgrouter_pool_max_backend_connections 20\n"), std::string::npos) << text;
  // The wait histogram: the buckets as counted (cumulative already), +Inf the count, in seconds.
  EXPECT_NE(text.find("# TYPE pgrouter_pool_wait_seconds histogram"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_wait_seconds_bucket{node=\"node1\",le=\"0.001\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrouter_pool_wait_seconds_bucket{node=\"node1\",le=\"0.01\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrouter_pool_wait_seconds_bucket{node=\"node1\",le=\"120\"} 5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrouter_pool_wait_seconds_bucket{node=\"node1\",le=\"+Inf\"} 6\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrouter_pool_wait_seconds_count{node=\"node1\"} 6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_wait_seconds_sum{node=\"node1\"} 125.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrouter_pool_wait_seconds_bucket{node=\"node0\",le=\"+Inf\"} 0\n"), std::string::npos)
      << text;
}

TEST(Metrics, RemovedNodesAreLeftOut) {
  auto s = test::three_nodes();
  s.nodes[2].removed = true;
  const auto text = render_metrics(s, "abc");
  EXPECT_EQ(text.find("node=\"node2\""), std::string::npos) << text;
  EXPECT_NE(text.find("node=\"node1\""), std::string::npos);
}

}  // namespace
}  // namespace pgr::admin
