// Parsing the health probe query's answer (see probe_result.hpp).
#include "health/probe_result.hpp"

#include <algorithm>
#include <charconv>

namespace pgr::health {

const char* const probe_query =
    "SELECT r.in_recovery,"
    " (SELECT system_identifier FROM pg_catalog.pg_control_system()),"
    " CASE WHEN NOT r.in_recovery THEN pg_catalog.pg_current_wal_lsn() END,"
    " CASE WHEN NOT r.in_recovery THEN pg_catalog.substr("
    "pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8) END,"
    " CASE WHEN r.in_recovery THEN pg_catalog.pg_last_wal_receive_lsn() END,"
    " CASE WHEN r.in_recovery THEN pg_catalog.pg_last_wal_replay_lsn() END,"
    " w.status, w.received_tli,"
    " (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()),"
    " w.sender_host, w.sender_port,"
    " CASE WHEN NOT r.in_recovery THEN"
    " pg_catalog.current_setting('synchronous_standby_names') END,"
    " CASE WHEN NOT r.in_recovery THEN (SELECT pg_catalog.string_agg("
    "s.application_name || E'\\t' || s.sync_state, E'\\n')"
    " FROM pg_catalog.pg_stat_replication AS s) END"
    " FROM (SELECT pg_catalog.pg_is_in_recovery() AS in_recovery) AS r"
    " LEFT JOIN pg_catalog.pg_stat_wal_receiver AS w ON true";

namespace {

template <typename T>
std::optional<T> parse_number(std::string_view text, int base) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// A timeline is a positive uint32; 0 means "not known".
std::uint32_t parse_timeline(const std::optional<std::string_view>& text, int base) {
  if (!text) return 0;
  return parse_number<std::uint32_t>(*text, base).value_or(0);
}

ProbeResult failed(std::string error) {
  ProbeResult result;
  result.error = std::move(error);
  return result;
}

}  // namespace

ProbeResult parse_probe_row(std::span<const std::optional<std::string_view>> row) {
  if (row.size() != probe_column_count) return failed("probe query returned an unexpected row");
  const auto col = [&row](ProbeColumn c) { return row[static_cast<std::size_t>(c)]; };

  ProbeResult result;
  const auto recovery = col(ProbeColumn::in_recovery);
  if (!recovery || (*recovery != "t" && *recovery != "f")) {
    return failed("probe query: bad pg_is_in_recovery() value");
  }
  result.in_recovery = *recovery == "t";

  // pg_control_system() returns the unsigned identifier as a signed bigint.
  const auto sysid_text = col(ProbeColumn::system_identifier);
  const auto sysid = sysid_text ? parse_number<std::int64_t>(*sysid_text, 10) : std::nullopt;
  if (!sysid || *sysid == 0) return failed("probe query: bad system_identifier");
  result.system_identifier = static_cast<std::uint64_t>(*sysid);

  const auto lsn = [&col](ProbeColumn c) -> std::optional<protocol::lsn_t> {
    const auto text = col(c);
    if (!text) return protocol::lsn_t{0};  // NULL: not applicable to this role, or no WAL yet
    return protocol::parse_lsn(*text);
  };
  const auto current = lsn(ProbeColumn::current_lsn);
  const auto received = lsn(ProbeColumn::received_lsn);
  const auto replay = lsn(ProbeColumn::replay_lsn);
  if (!current || !received || !replay) return failed("probe query: malformed LSN");
  result.current_lsn = *current;
  result.received_lsn = *received;
  result.replay_lsn = *replay;

  if (const auto status = col(ProbeColumn::wal_receiver_status)) {
    result.wal_receiver_status = std::string(*status);
  }
  result.received_tli = parse_timeline(col(ProbeColumn::received_tli), 10);
  if (const auto host = col(ProbeColumn::sender_host)) result.sender_host = std::string(*host);
  if (const auto port = col(ProbeColumn::sender_port)) {
    result.sender_port = parse_number<std::uint16_t>(*port, 10).value_or(0);
  }

  if (const auto names = col(ProbeColumn::synchronous_standby_names)) {
    result.synchronous_standby_names = std::string(*names);
  }
  if (auto lines = col(ProbeColumn::replicas)) {
    // application_name is ASCII-printable (PostgreSQL replaces anything else with '?'), so
    // tabs and newlines only ever separate fields and rows.
    while (!lines->empty()) {
      const std::size_t end = std::min(lines->find('\n'), lines->size());
      const std::string_view line = lines->substr(0, end);
      lines->remove_prefix(std::min(end + 1, lines->size()));
      const std::size_t tab = line.rfind('\t');
      if (tab == std::string_view::npos) continue;
      result.replicas.push_back(
          {std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
    }
  }

  const std::uint32_t live_timeline =
      result.in_recovery ? parse_timeline(col(ProbeColumn::received_tli), 10)
                         : parse_timeline(col(ProbeColumn::walfile_timeline), 16);
  result.timeline = live_timeline != 0
                        ? live_timeline
                        : parse_timeline(col(ProbeColumn::checkpoint_timeline), 10);
  if (result.timeline == 0) return failed("probe query: no timeline");

  result.ok = true;
  return result;
}

void carry_timeline(const ProbeResult& previous, ProbeResult& fresh) {
  if (!fresh.ok || !fresh.in_recovery || fresh.received_tli != 0 || !fresh.reused_connection) {
    return;
  }
  if (previous.ok && previous.system_identifier == fresh.system_identifier &&
      previous.timeline > fresh.timeline) {
    fresh.timeline = previous.timeline;
  }
}

}  // namespace pgr::health
