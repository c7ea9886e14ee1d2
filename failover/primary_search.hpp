// Which node is the primary when pgrouter starts (or after a failover that promoted none):
// the pure decision over the first probe of every node and the state file. Exactly one
// writable node of the cluster → it; none → wait (reads go on); several → the one on the
// highest timeline (then the recorded primary, then the lowest index), and every other
// writable node is to be fenced and reported loudly. Nodes recorded fenced, diverged or
// detached are never chosen: a restarted pgrouter keeps the old primary out.
//
// Thread rules: free functions over values; callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "failover/attach_state.hpp"

namespace pgr::failover {

struct SearchNode {
  std::string name;
  bool answered = false;     // its last probe succeeded and it is in service
  bool in_recovery = true;
  std::optional<std::uint64_t> system_identifier;
  std::uint32_t timeline = 0;
  AttachState recorded = AttachState::attached;
};

struct SearchResult {
  std::optional<std::size_t> primary;  // nullopt: none found, keep waiting
  std::vector<std::size_t> to_fence;   // other writable nodes of the cluster (split brain)
  std::vector<std::size_t> ignored;    // writable, but recorded fenced/diverged/detached
  std::string summary;                 // for the log
};

[[nodiscard]] SearchResult search_primary(std::span<const SearchNode> nodes,
                                          std::optional<std::uint64_t> system_identifier,
                                          const std::optional<std::string>& recorded_primary);

}  // namespace pgr::failover
