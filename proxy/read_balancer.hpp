// Where a read may go, and which node takes it: a pure decision over the published
// ClusterView. Standbys are eligible when up, weighted above 0, within the lag limits and fresh
// enough for the session (read-your-writes); the primary joins them when primary_reads is on,
// and takes every read no standby can.
//
// Thread rules: free functions over values; called on a session's worker.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "health/cluster_view.hpp"
#include "proxy/read_your_writes.hpp"

namespace pgr::proxy {

struct ReadPolicy {
  bool primary_reads = true;                   // may the primary share reads with standbys
  std::optional<std::uint64_t> max_lag_bytes;  // none: no byte limit
  std::optional<std::chrono::milliseconds> max_lag;
};

enum class ReadRefusal : std::uint8_t { none, not_standby, down, zero_weight, lag_unknown, too_far_behind, not_fresh_for_session };
std::string_view describe(ReadRefusal refusal);

// Why `node` may not take this session's reads (none: it may). Standbys only.
ReadRefusal standby_refusal(const health::ClusterView& view, const health::NodeView& node,
                            const ReadPolicy& policy, ReadYourWrites* session_writes);

struct ReadChoice {
  std::optional<std::size_t> node;  // nullopt: no node at all (no primary, no standby)
  bool fell_back_to_primary = false;  // no standby was eligible
};

// Weighted choice; `random01` in [0, 1) comes from the caller so the choice is testable.
// `excluded[i]` removes node i from the choice (shorter vector: none excluded).
ReadChoice choose_reader(const health::ClusterView& view, const ReadPolicy& policy,
                         ReadYourWrites* session_writes, double random01,
                         const std::vector<bool>& excluded = {});

}  // namespace pgr::proxy
