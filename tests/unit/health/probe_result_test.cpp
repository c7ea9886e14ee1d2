// Parsing the probe query's row: roles, timeline fallbacks, signed system identifiers, NULLs.
#include "health/probe_result.hpp"

#include <array>
#include <optional>
#include <string_view>

#include <gtest/gtest.h>

namespace pgr::health {
namespace {

using Row = std::array<std::optional<std::string_view>, probe_column_count>;
using C = ProbeColumn;

std::optional<std::string_view>& at(Row& row, C column) {
  return row[static_cast<std::size_t>(column)];
}

// Rows as PostgreSQL 15 returns them (values taken from real servers).
Row primary_row() {
  Row row;
  at(row, C::in_recovery) = "f";
  at(row, C::system_identifier) = "7310815242871858913";
  at(row, C::current_lsn) = "0/3000EA8";
  at(row, C::walfile_timeline) = "00000001";
  at(row, C::checkpoint_timeline) = "1";
  return row;
}

Row standby_row() {
  Row row;
  at(row, C::in_recovery) = "t";
  at(row, C::system_identifier) = "7310815242871858913";
  at(row, C::received_lsn) = "0/3000EA8";
  at(row, C::replay_lsn) = "0/3000E00";
  at(row, C::wal_receiver_status) = "streaming";
  at(row, C::received_tli) = "3";
  at(row, C::checkpoint_timeline) = "2";
  return row;
}

TEST(ProbeResult, Primary) {
  const auto r = parse_probe_row(primary_row());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.in_recovery);
  EXPECT_EQ(r.system_identifier, 7310815242871858913u);
  EXPECT_EQ(r.timeline, 1u);
  EXPECT_EQ(r.current_lsn, 0x3000EA8u);
  EXPECT_EQ(r.received_lsn, 0u);
  EXPECT_EQ(r.wal_receiver_status, "");
}

TEST(ProbeResult, PrimaryTimelineComesFromWalFileNotCheckpoint) {
  // Right after a promotion the last checkpoint still names the old timeline.
  auto row = primary_row();
  at(row, C::walfile_timeline) = "0000000A";
  at(row, C::checkpoint_timeline) = "9";
  EXPECT_EQ(parse_probe_row(row).timeline, 10u);
}

TEST(ProbeResult, PrimaryFallsBackToCheckpointTimeline) {
  auto row = primary_row();
  at(row, C::walfile_timeline) = std::nullopt;
  at(row, C::checkpoint_timeline) = "4";
  EXPECT_EQ(parse_probe_row(row).timeline, 4u);
  at(row, C::walfile_timeline) = "zz";
  EXPECT_EQ(parse_probe_row(row).timeline, 4u);
}

TEST(ProbeResult, Standby) {
  const auto r = parse_probe_row(standby_row());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.in_recovery);
  EXPECT_EQ(r.timeline, 3u);  // received_tli, not the checkpoint's
  EXPECT_EQ(r.received_lsn, 0x3000EA8u);
  EXPECT_EQ(r.replay_lsn, 0x3000E00u);
  EXPECT_EQ(r.current_lsn, 0u);
  EXPECT_EQ(r.wal_receiver_status, "streaming");
}

TEST(ProbeResult, StandbyWithoutWalReceiverUsesCheckpointTimeline) {
  // pg_stat_wal_receiver is empty while no receiver runs (and its columns are NULL for roles
  // without pg_read_all_stats).
  auto row = standby_row();
  at(row, C::wal_receiver_status) = std::nullopt;
  at(row, C::received_tli) = std::nullopt;
  at(row, C::received_lsn) = std::nullopt;
  const auto r = parse_probe_row(row);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.timeline, 2u);
  EXPECT_EQ(r.wal_receiver_status, "");
  EXPECT_EQ(r.received_lsn, 0u);
}

TEST(ProbeResult, NegativeSystemIdentifierIsTheUnsignedValue) {
  auto row = primary_row();
  at(row, C::system_identifier) = "-1";
  const auto r = parse_probe_row(row);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.system_identifier, 0xFFFFFFFFFFFFFFFFu);
}

TEST(ProbeResult, Malformed) {
  struct Case {
    const char* name;
    C column;
    std::optional<std::string_view> value;
  };
  const Case cases[] = {
      {"recovery null", C::in_recovery, std::nullopt},
      {"recovery word", C::in_recovery, "true"},
      {"sysid null", C::system_identifier, std::nullopt},
      {"sysid zero", C::system_identifier, "0"},
      {"sysid junk", C::system_identifier, "12x"},
      {"lsn junk", C::current_lsn, "3000EA8"},
      {"no timeline", C::checkpoint_timeline, "0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto row = primary_row();
    at(row, c.column) = c.value;
    if (c.column == C::checkpoint_timeline) at(row, C::walfile_timeline) = std::nullopt;
    const auto r = parse_probe_row(row);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
  }
  const std::array<std::optional<std::string_view>, 2> short_row{};
  EXPECT_FALSE(parse_probe_row(short_row).ok);
}

TEST(ProbeResult, WalReceiverSender) {
  auto row = standby_row();
  at(row, C::sender_host) = "10.0.0.5";
  at(row, C::sender_port) = "5433";
  const auto r = parse_probe_row(row);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.sender_host, "10.0.0.5");
  EXPECT_EQ(r.sender_port, 5433);
  EXPECT_EQ(r.received_tli, 3u);
  const auto none = parse_probe_row(primary_row());
  EXPECT_EQ(none.sender_host, "");
  EXPECT_EQ(none.sender_port, 0);
  EXPECT_EQ(none.received_tli, 0u);
}

TEST(ProbeResult, QueryNamesEveryColumnItParses) {
  // A cheap guard that the query and the column enum move together.
  const std::string_view query = probe_query;
  EXPECT_NE(query.find("pg_is_in_recovery()"), std::string_view::npos);
  EXPECT_NE(query.find("pg_control_system()"), std::string_view::npos);
  EXPECT_NE(query.find("pg_walfile_name"), std::string_view::npos);
  EXPECT_NE(query.find("received_tli"), std::string_view::npos);
  EXPECT_NE(query.find("pg_control_checkpoint()"), std::string_view::npos);
  EXPECT_NE(query.find("sender_host"), std::string_view::npos);
  EXPECT_NE(query.find("sender_port"), std::string_view::npos);
}

}  // namespace
}  // namespace pgr::health

namespace pgr::health {
namespace {

// A standby that followed a promotion to timeline 2 and then lost its upstream: its WAL
// receiver is gone and the last checkpoint still names timeline 1. It must not look as if it
// were back on timeline 1 (that reads as "replayed past the switch point": diverged).
TEST(KeepKnownTimeline, AStandbyWithoutReceiverKeepsItsTimeline) {
  auto streaming = standby_row();
  at(streaming, C::received_tli) = "2";
  at(streaming, C::checkpoint_timeline) = "1";
  at(streaming, C::postmaster_start) = "2026-11-22 06:13:40+00";
  const auto before = parse_probe_row(streaming);
  ASSERT_EQ(before.timeline, 2u);

  auto orphaned = streaming;
  at(orphaned, C::wal_receiver_status) = std::nullopt;
  at(orphaned, C::received_tli) = std::nullopt;
  auto after = parse_probe_row(orphaned);
  ASSERT_EQ(after.timeline, 1u) << "the raw fallback is the checkpoint's";
  keep_known_timeline(after, before);
  EXPECT_EQ(after.timeline, 2u);
}

TEST(KeepKnownTimeline, ARestartForgetsIt) {
  auto streaming = standby_row();
  at(streaming, C::received_tli) = "2";
  at(streaming, C::checkpoint_timeline) = "1";
  at(streaming, C::postmaster_start) = "2026-11-22 06:13:40+00";
  const auto before = parse_probe_row(streaming);
  auto restarted = streaming;
  at(restarted, C::received_tli) = std::nullopt;
  at(restarted, C::postmaster_start) = "2026-11-22 06:20:00+00";
  auto after = parse_probe_row(restarted);
  keep_known_timeline(after, before);
  EXPECT_EQ(after.timeline, 1u) << "a restarted node (re-cloned, rewound) is taken as it is";
}

TEST(KeepKnownTimeline, AReceiverOrAPrimaryIsBelieved) {
  auto streaming = standby_row();
  at(streaming, C::received_tli) = "3";
  at(streaming, C::postmaster_start) = "t0";
  const auto before = parse_probe_row(streaming);
  auto lower = streaming;
  at(lower, C::received_tli) = "2";  // a receiver's word wins, even downwards
  auto after = parse_probe_row(lower);
  keep_known_timeline(after, before);
  EXPECT_EQ(after.timeline, 2u);
  auto primary = primary_row();
  at(primary, C::postmaster_start) = "t0";
  auto promoted = parse_probe_row(primary);
  keep_known_timeline(promoted, before);
  EXPECT_EQ(promoted.timeline, 1u);
}

}  // namespace
}  // namespace pgr::health
