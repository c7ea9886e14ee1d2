// The start-up primary search (see primary_search.hpp).
#include "failover/primary_search.hpp"

#include <algorithm>

namespace pgr::failover {

SearchResult search_primary(std::span<const SearchNode> nodes,
                            std::optional<std::uint64_t> system_identifier,
                            const std::optional<std::string>& recorded_primary) {
  SearchResult result;
  std::vector<std::size_t> writable;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const SearchNode& n = nodes[i];
    if (!n.answered || n.in_recovery) continue;
    if (system_identifier && n.system_identifier != system_identifier) continue;
    if (n.recorded != AttachState::attached && n.recorded != AttachState::following) {
      result.ignored.push_back(i);
      continue;
    }
    writable.push_back(i);
  }
  if (writable.empty()) {
    result.summary = "no node of the cluster accepts writes";
    return result;
  }
  const auto better = [&](std::size_t a, std::size_t b) {
    if (nodes[a].timeline != nodes[b].timeline) return nodes[a].timeline > nodes[b].timeline;
    const bool ra = recorded_primary == nodes[a].name;
    const bool rb = recorded_primary == nodes[b].name;
    if (ra != rb) return ra;
    return a < b;
  };
  std::sort(writable.begin(), writable.end(), better);
  result.primary = writable.front();
  const SearchNode& chosen = nodes[writable.front()];
  result.summary = chosen.name + " is the primary (timeline " + std::to_string(chosen.timeline) +
                   ")";
  for (std::size_t k = 1; k < writable.size(); ++k) {
    const SearchNode& other = nodes[writable[k]];
    result.to_fence.push_back(writable[k]);
    result.summary += "; " + other.name + " also accepts writes (timeline " +
                      std::to_string(other.timeline) + "): fenced";
  }
  return result;
}

}  // namespace pgr::failover
