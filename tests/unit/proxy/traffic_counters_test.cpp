// Per-worker traffic counters: SQLSTATE classes, login failure reasons, and summing workers.
#include "proxy/traffic_counters.hpp"

#include <gtest/gtest.h>

namespace pgr::proxy {
namespace {

TEST(TrafficCounters, SqlstateClasses) {
  EXPECT_EQ(sqlstate_class_index("00000"), 0U);
  EXPECT_EQ(sqlstate_class_text(sqlstate_class_index("22012")), "22");
  EXPECT_EQ(sqlstate_class_text(sqlstate_class_index("42P01")), "42");
  EXPECT_EQ(sqlstate_class_text(sqlstate_class_index("XX000")), "XX");
  EXPECT_EQ(sqlstate_class_text(sqlstate_class_index("HV000")), "HV");
  EXPECT_EQ(sqlstate_class_index(""), k_error_classes);
  EXPECT_EQ(sqlstate_class_index("2"), k_error_classes);
  EXPECT_EQ(sqlstate_class_index("a2000"), k_error_classes);  // lower case is not a SQLSTATE
  EXPECT_EQ(sqlstate_class_text(k_error_classes), "??");
  for (std::size_t i = 0; i < k_error_classes; ++i) {
    ASSERT_EQ(sqlstate_class_index(sqlstate_class_text(i) + "000"), i);
  }
}

TEST(TrafficCounters, LoginFailureReasons) {
  EXPECT_EQ(login_failure_reason("28P01"), RejectReason::auth_failed);
  EXPECT_EQ(login_failure_reason("28000"), RejectReason::auth_failed);
  EXPECT_EQ(login_failure_reason("53300"), RejectReason::max_connections);
  EXPECT_EQ(login_failure_reason("08P01"), RejectReason::protocol_error);
  EXPECT_EQ(to_string(RejectReason::no_backend), "no_backend");
}

TEST(TrafficCounters, WorkersAreSummed) {
  WorkerCounters a;
  WorkerCounters b;
  a.add_to_server(10);
  b.add_to_server(5);
  b.add_to_client(7);
  a.count_error("22012");
  b.count_error("22003");
  b.count_error("42601");
  a.count_error("");
  b.count_rejection(RejectReason::auth_failed);
  admin::ClientTraffic sum;
  add_worker_traffic(a, sum);
  add_worker_traffic(b, sum);
  EXPECT_EQ(sum.bytes_to_server, 15U);
  EXPECT_EQ(sum.bytes_to_client, 7U);
  using Pairs = std::vector<std::pair<std::string, std::uint64_t>>;
  EXPECT_EQ(sum.errors, (Pairs{{"22", 2}, {"42", 1}, {"??", 1}}));
  ASSERT_EQ(sum.rejected.size(), k_reject_reasons);
  EXPECT_EQ(sum.rejected[static_cast<std::size_t>(RejectReason::auth_failed)], (std::pair<std::string, std::uint64_t>{"auth_failed", 1}));
  EXPECT_EQ(sum.rejected[0].second, 0U);
}

}  // namespace
}  // namespace pgr::proxy
