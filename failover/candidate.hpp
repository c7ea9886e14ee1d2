// Which standby to promote when the primary is down: the pure choice, over values captured from
// the last probes. Highest received LSN first (promotion replays all received WAL, so the
// winner's switchpoint is past every other live standby's position and all of them can follow
// it without a rewind), then weight, then name.
//
// Thread rules: free functions over values; callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/lsn.hpp"

namespace pgr::failover {

struct CandidateNode {
  std::string name;
  bool up = false;       // in service per the health checker
  bool standby = false;  // answered in recovery (the failed primary itself is not a candidate)
  std::optional<std::uint64_t> system_identifier;
  std::uint32_t timeline = 0;
  protocol::lsn_t received_lsn = 0;  // pg_last_wal_receive_lsn()
  double weight = 1.0;
};

struct FailedPrimary {
  std::uint64_t system_identifier = 0;
  std::uint32_t timeline = 0;
  protocol::lsn_t last_known_lsn = 0;  // its pg_current_wal_lsn() at the last good probe
};

struct CandidatePolicy {
  // Skip standbys more than this many bytes behind the failed primary's last known LSN
  // (Patroni's maximum_lag_on_failover); nullopt: no limit.
  std::optional<std::uint64_t> max_lag_bytes;
  // Only these may be promoted (synchronous mode: only they hold every acknowledged commit);
  // nullopt: any standby. An empty list allows none.
  std::optional<std::vector<std::string>> sync_standby_names;
  // With sync_standby_names: how many of them must qualify for any to be chosen (quorum
  // commit 'ANY k' of m standbys: m - k + 1, see failover/sync_standbys.hpp); else ignored.
  std::size_t sync_needed = 1;
};

enum class Rejection : std::uint8_t {
  not_up,
  not_standby,
  other_system,
  other_timeline,
  too_far_behind,
  not_sync_standby,
  sync_quorum_incomplete,  // too few synchronous standbys qualify to be sure of any
};

std::string_view to_string(Rejection rejection);

struct RejectedCandidate {
  std::size_t index = 0;
  Rejection why = Rejection::not_up;
  std::string detail;  // "node2: 5242880 bytes behind (max 1048576)"
};

struct CandidateChoice {
  std::optional<std::size_t> chosen;       // index into the candidates
  std::vector<RejectedCandidate> rejected;  // every candidate that did not qualify, in order
  std::string reason;  // when none is chosen: why, naming every candidate; "" otherwise
};

[[nodiscard]] CandidateChoice choose_candidate(std::span<const CandidateNode> candidates,
                                               const FailedPrimary& failed,
                                               const CandidatePolicy& policy);

}  // namespace pgr::failover
