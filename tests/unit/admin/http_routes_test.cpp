// HTTP endpoint decisions: /primary and /replica answer 200/503 as HAProxy checks expect,
// ?lag bounds replicas, bad methods and paths get clear errors.
#include <gtest/gtest.h>

#include "admin/http_routes.hpp"
#include "tests/unit/admin/admin_fixtures.hpp"

namespace pgr::admin {
namespace {

HttpAnswer get(const ClusterSnapshot& s, std::string_view target, std::string_view method = "GET") {
  return answer_http(method, target, HttpContext{s, "abc"});
}

TEST(HttpRoutes, PrimaryIs200WithAPrimaryElse503) {
  auto s = test::three_nodes();
  EXPECT_EQ(get(s, "/primary").status, 200u);
  EXPECT_EQ(get(s, "/primary", "OPTIONS").status, 200u);
  EXPECT_EQ(get(s, "/primary", "HEAD").status, 200u);
  s.primary.reset();
  EXPECT_EQ(get(s, "/primary").status, 503u);
  s = test::three_nodes();
  s.nodes[0].serving = false;  // held out or down
  EXPECT_EQ(get(s, "/primary").status, 503u);
}

TEST(HttpRoutes, ReplicaHonoursLag) {
  auto s = test::three_nodes();
  EXPECT_EQ(get(s, "/replica").status, 200u);
  const auto within = get(s, "/replica?lag=16MB");
  EXPECT_EQ(within.status, 200u);
  EXPECT_NE(within.body.find("\"node1\""), std::string::npos);
  EXPECT_EQ(get(s, "/replica?lag=512").status, 503u);  // node1 is 1024 bytes behind
  EXPECT_EQ(get(s, "/replica?lag=lots").status, 400u);
  s.nodes[1].serving = false;
  s.nodes[2].serving = false;
  EXPECT_EQ(get(s, "/replica").status, 503u);
}

TEST(HttpRoutes, HealthClusterMetricsStatusPage) {
  const auto s = test::three_nodes();
  EXPECT_EQ(get(s, "/health").status, 200u);
  const auto cluster = get(s, "/cluster");
  EXPECT_EQ(cluster.status, 200u);
  EXPECT_NE(cluster.body.find("\"nodes\""), std::string::npos);
  const auto metrics = get(s, "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_TRUE(metrics.content_type.starts_with("text/plain"));
  const auto page = get(s, "/");
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("node2"), std::string::npos);
  EXPECT_EQ(page.body.find("<script"), std::string::npos);  // self-contained, no assets
}

TEST(HttpRoutes, BadMethodsAndPaths) {
  const auto s = test::three_nodes();
  EXPECT_EQ(get(s, "/primary", "POST").status, 405u);
  EXPECT_EQ(get(s, "/nope").status, 404u);
}

}  // namespace
}  // namespace pgr::admin
