// What one health probe learned about one node, and the pure parsing of the probe query's
// row into it. No I/O here: node_probe.cpp runs the query, this file reads its answer, so the
// parsing (timeline fallbacks, signed system identifiers, NULL columns) is unit-tested alone.
//
// Thread rules: plain values; built on the main thread and copied freely.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/lsn.hpp"

namespace pgr::health {

// Primary only: one row of pg_stat_replication (which standby, and how synchronous it is).
struct ReplicaState {
  std::string application_name;
  std::string sync_state;  // async, potential, sync, quorum; "" when not visible
  bool operator==(const ReplicaState&) const = default;
};

struct ProbeResult {
  bool ok = false;
  std::string error;  // why the probe failed, "" when ok; never contains the password

  bool in_recovery = false;
  std::uint64_t system_identifier = 0;
  std::uint32_t timeline = 0;
  protocol::lsn_t current_lsn = 0;   // primary only: pg_current_wal_lsn()
  protocol::lsn_t received_lsn = 0;  // standby only: pg_last_wal_receive_lsn(), 0 if NULL
  protocol::lsn_t replay_lsn = 0;    // standby only: pg_last_wal_replay_lsn(), 0 if NULL
  std::string wal_receiver_status;   // standby: pg_stat_wal_receiver.status, "" when none
  // Standby: where its WAL receiver streams from (pg_stat_wal_receiver sender_host and
  // sender_port; "" and 0 when none runs) and the timeline it receives (0 when none).
  std::string sender_host;
  std::uint16_t sender_port = 0;
  std::uint32_t received_tli = 0;
  // Primary only: its synchronous_standby_names ("" when off or on a standby) and its
  // pg_stat_replication rows, so failover can promote only a standby that has every
  // acknowledged commit (failover/sync_standbys.hpp).
  std::string synchronous_standby_names;
  std::vector<ReplicaState> replicas;
  bool reused_connection = false;    // the query ran on the connection kept from last time
  std::chrono::steady_clock::duration duration{};
};

// The probe query, one round trip. Every column is text; see probe_columns below.
// Privileges (checked on PostgreSQL 15): every function used here is executable by PUBLIC
// (pg_is_in_recovery, pg_control_system, pg_control_checkpoint, pg_current_wal_lsn,
// pg_walfile_name, pg_last_wal_receive_lsn, pg_last_wal_replay_lsn). The exception is
// pg_stat_wal_receiver: a role that is neither superuser nor a member of pg_read_all_stats
// (pg_monitor includes it) sees the row with status and received_tli NULL. The probe still
// works then (the timeline falls back to the last checkpoint's), but the wal receiver status
// reads "" and the timeline can lag a fresh timeline switch: give the health user pg_monitor.
// Functions that fail during recovery (pg_current_wal_lsn, pg_walfile_name) sit behind CASE
// on pg_is_in_recovery(), which evaluates lazily for volatile functions. pg_stat_replication's
// sync_state is likewise NULL without pg_read_all_stats: such rows are skipped, so failover in
// a synchronous cluster then finds no synchronous standby to promote.
extern const char* const probe_query;

// Column order of probe_query.
enum class ProbeColumn : std::size_t {
  in_recovery,
  system_identifier,
  current_lsn,
  walfile_timeline,  // first 8 hex digits of the current WAL file name (primary only)
  received_lsn,
  replay_lsn,
  wal_receiver_status,
  received_tli,
  checkpoint_timeline,
  sender_host,
  sender_port,
  synchronous_standby_names,  // primary only
  replicas,                   // primary only: "name<TAB>sync_state" lines
  count_
};
inline constexpr std::size_t probe_column_count = static_cast<std::size_t>(ProbeColumn::count_);

// Fills the role, identity, timeline and LSN fields of a ProbeResult from one row (nullopt =
// SQL NULL). Sets ok=false with an error naming the column when the row makes no sense.
// Timeline choice: on a primary the current WAL file's timeline (pg_control_checkpoint() lags
// right after a promotion until the next checkpoint); on a standby the WAL receiver's
// received_tli; the last checkpoint's timeline when those are missing.
[[nodiscard]] ProbeResult parse_probe_row(std::span<const std::optional<std::string_view>> row);

// A standby whose WAL receiver is not running (its primary just died, say) reports the last
// restartpoint's timeline, which can lag its replay by whole timelines: judged on it, a
// healthy standby looks diverged and stops being a failover candidate. When the probe ran on
// the connection kept from `previous` (the server did not restart, so its timeline cannot
// have gone back), keep the newer timeline `previous` saw.
void carry_timeline(const ProbeResult& previous, ProbeResult& fresh);

}  // namespace pgr::health
