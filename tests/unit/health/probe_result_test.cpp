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

TEST(ProbeResult, PrimarySynchronousReplication) {
  auto row = primary_row();
  at(row, C::synchronous_standby_names) = "ANY 1 (node1, node2)";
  at(row, C::replicas) = "node1\tquorum\nnode2\tquorum\nodd\tname\tasync\nno-tab";
  const auto r = parse_probe_row(row);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.synchronous_standby_names, "ANY 1 (node1, node2)");
  ASSERT_EQ(r.replicas.size(), 3u);
  EXPECT_EQ(r.replicas[0], (ReplicaState{"node1", "quorum"}));
  EXPECT_EQ(r.replicas[1], (ReplicaState{"node2", "quorum"}));
  EXPECT_EQ(r.replicas[2], (ReplicaState{"odd\tname", "async"}));

  const auto none = parse_probe_row(primary_row());  // NULL: no standby connected
  EXPECT_TRUE(none.replicas.empty());
  EXPECT_EQ(none.synchronous_standby_names, "");
}

TEST(ProbeResult, StandbyWithoutWalReceiverKeepsTheTimelineItStreamedOn) {
  auto previous = parse_probe_row(standby_row());  // streaming on timeline 3
  auto row = standby_row();
  at(row, C::wal_receiver_status) = std::nullopt;  // the primary died: no WAL receiver
  at(row, C::received_tli) = std::nullopt;
  auto fresh = parse_probe_row(row);
  ASSERT_EQ(fresh.timeline, 2u);  // the last restartpoint's
  fresh.reused_connection = true;
  carry_timeline(previous, fresh);
  EXPECT_EQ(fresh.timeline, 3u);

  auto reconnected = parse_probe_row(row);  // a new connection: the server may have changed
  carry_timeline(previous, reconnected);
  EXPECT_EQ(reconnected.timeline, 2u);

  auto streaming = parse_probe_row(standby_row());  // a live WAL receiver is believed as is
  at(row, C::received_tli) = "3";
  streaming.reused_connection = true;
  previous.timeline = 5;
  carry_timeline(previous, streaming);
  EXPECT_EQ(streaming.timeline, 3u);
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
