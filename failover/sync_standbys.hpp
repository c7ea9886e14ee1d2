// Which standbys hold every acknowledged commit, from what the primary says about its own
// synchronous replication: its synchronous_standby_names setting and pg_stat_replication's
// application_name and sync_state per standby. Pure: the health probe reads both on the
// primary, the coordinator keeps the last set seen and hands it to the failover plan, so only
// a standby of that set may be promoted (Patroni's synchronous mode).
//
// Priority mode ('FIRST n (...)', 'n (...)', 'a, b'): every standby shown as 'sync' has every
// acknowledged commit, so any one of them will do. Quorum mode ('ANY k (...)'): a commit is
// acknowledged once k of the m standbys shown as 'quorum' have it, so no single one is sure
// to; comparing at least m - k + 1 of them (the one with the highest received LSN wins) is.
//
// Thread rules: free functions over values; callable from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgr::failover {

// One row of pg_stat_replication on the primary.
struct ReplicationPeer {
  std::string application_name;  // a backend is matched by name: set application_name so
  std::string sync_state;        // async, potential, sync, quorum
};

struct SyncSet {
  std::vector<std::string> names;  // the standbys that may be promoted
  std::size_t needed = 1;          // how many of them must be up and compared at failover
  std::string describe() const;    // "ANY 1 of node1, node2 (2 needed)"
  bool quorum = false;
  std::size_t quorum_k = 0;        // k of ANY k (quorum mode only)
  bool operator==(const SyncSet&) const = default;
};

// The k of 'ANY k (...)'; nullopt for any other form (priority mode, empty, unparsable).
[[nodiscard]] std::optional<std::size_t> quorum_count(std::string_view synchronous_standby_names);

// nullopt: synchronous replication is off (the setting is empty), any standby may be promoted.
// Otherwise the standbys that hold every acknowledged commit right now; an empty `names` when
// none does (no synchronous standby streams: commits wait, and the caller should keep the
// last non-empty set it saw).
[[nodiscard]] std::optional<SyncSet> sync_set(std::string_view synchronous_standby_names,
                                              std::span<const ReplicationPeer> peers);

}  // namespace pgr::failover
