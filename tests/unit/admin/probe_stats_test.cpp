// Probe statistics: counts, retries (failures that did not mark the node down), durations,
// buckets and the time of the last up/down change.
#include <gtest/gtest.h>

#include "admin/cluster_snapshot.hpp"
#include "admin/pgpool_report.hpp"

namespace pgr::admin {
namespace {

using std::chrono::milliseconds;

TEST(ProbeStats, CountsRetriesAndChanges) {
  ProbeStats s;
  record_probe(s, true, milliseconds(4), false, 100);
  record_probe(s, false, milliseconds(1000), false, 101);  // a retry
  record_probe(s, false, milliseconds(2000), true, 102);   // now down
  record_probe(s, true, milliseconds(20), false, 103);
  EXPECT_EQ(s.total, 4u);
  EXPECT_EQ(s.success, 2u);
  EXPECT_EQ(s.fail, 2u);
  EXPECT_EQ(s.retry, 1u);
  EXPECT_EQ(s.max_retry, 2u);
  EXPECT_EQ(s.max_duration_ms, 2000u);
  EXPECT_EQ(s.min_duration_ms, 4u);
  EXPECT_EQ(s.last_failure, 102);
  EXPECT_EQ(s.status_changed, 103);
  EXPECT_EQ(s.duration_buckets[0], 1u);  // <= 5 ms
  EXPECT_EQ(s.duration_buckets[2], 1u);  // <= 25 ms
}

TEST(ProbeStats, HealthCheckRowHasPgpoolsTwentyColumns) {
  NodeSnapshot n;
  n.index = 1;
  n.host = "h";
  n.port = 5433;
  n.serving = true;
  record_probe(n.probes, true, milliseconds(10), false, 100);
  const auto row = health_check_row(n);
  ASSERT_EQ(row.size(), health_check_columns().size());
  EXPECT_EQ(row.size(), 20u);
  EXPECT_EQ(row[0], "1");
  EXPECT_EQ(row[3], "up");
  EXPECT_EQ(row[4], "standby");
  EXPECT_EQ(row[6], "1");
}

}  // namespace
}  // namespace pgr::admin
