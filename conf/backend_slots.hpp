// Node slots across reloads: which backends a reloaded file adds, removes or keeps, and the
// index each one has. A node's index (its slot) is what PCP (pcp_node_info N), SHOW POOL_NODES,
// the state file's records and every per-node vector use, so a reload keeps the index of every
// node it does not change:
//   - a node is identified by its name when the file names it, else by host:port: a kept node
//     has the same host and port and, when both the slot and the file name it, the same name;
//     it keeps its slot and takes its new weight, data directory and name (an unnamed one
//     keeps node<slot>);
//   - a node no longer in the file leaves its slot "removed" (never probed nor routed to);
//   - a new node takes back the removed slot of the same identity and address if there is one,
//     else it is appended (index = number of slots); an unnamed one is named node<slot>;
//   - a changed host or port under the same name is a removal and an addition.
//
// Thread rules: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf {

// Slots are never reused by another node, so repeated reloads may grow them; this bounds it.
inline constexpr std::size_t k_max_node_slots = 128;

struct SlotPlan {
  std::vector<BackendConfig> slots;  // the applied config's new `backends`
  std::vector<std::size_t> added;    // slots that start serving (new or returning)
  std::vector<std::size_t> removed;  // slots that stop serving
  std::vector<std::size_t> changed;  // kept slots with a new weight, data directory or name
  std::vector<std::string> errors;   // non-empty: the plan must not be applied
};

// "name" for a named backend, "host:port" otherwise.
[[nodiscard]] std::string backend_identity(const BackendConfig& backend);

// `applied`: the applied config's slots; `loaded`: a newly loaded file's backends, in order.
[[nodiscard]] SlotPlan assign_backend_slots(const std::vector<BackendConfig>& applied,
                                            const std::vector<BackendConfig>& loaded);

// Nodes that may serve: not removed.
[[nodiscard]] std::size_t active_slots(const std::vector<BackendConfig>& slots);

}  // namespace pgr::conf
