// Node slots across reloads (see backend_slots.hpp).
#include "conf/backend_slots.hpp"

#include <algorithm>

namespace pgr::conf {

namespace {

bool same_address(const BackendConfig& a, const BackendConfig& b) {
  return a.host == b.host && a.port == b.port;
}

// Two names must agree; where either side has none, the address alone decides.
bool same_node(const BackendConfig& slot, const BackendConfig& loaded) {
  return same_address(slot, loaded) && (!slot.named || !loaded.named || slot.name == loaded.name);
}

}  // namespace

std::string backend_identity(const BackendConfig& backend) {
  if (backend.named) return backend.name;
  const bool ipv6 = backend.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + backend.host + "]" : backend.host) + ":" + std::to_string(backend.port);
}

std::size_t active_slots(const std::vector<BackendConfig>& slots) {
  return static_cast<std::size_t>(std::count_if(slots.begin(), slots.end(), [](const auto& b) { return !b.removed; }));
}

SlotPlan assign_backend_slots(const std::vector<BackendConfig>& applied, const std::vector<BackendConfig>& loaded) {
  SlotPlan plan;
  plan.slots = applied;
  std::vector<bool> claimed(applied.size(), false);
  // Kept nodes first, so a new node never takes a slot a kept one still holds.
  std::vector<bool> placed(loaded.size(), false);
  for (std::size_t j = 0; j < loaded.size(); ++j) {
    for (std::size_t i = 0; i < applied.size(); ++i) {
      if (claimed[i] || applied[i].removed || !same_node(applied[i], loaded[j])) continue;
      claimed[i] = placed[j] = true;
      BackendConfig& slot = plan.slots[i];
      const std::string name = loaded[j].named ? loaded[j].name : slot.name;
      if (slot.weight != loaded[j].weight || slot.data_directory != loaded[j].data_directory || slot.name != name ||
          slot.named != loaded[j].named) {
        plan.changed.push_back(i);
      }
      slot.weight = loaded[j].weight;
      slot.data_directory = loaded[j].data_directory;
      slot.name = name;
      slot.named = loaded[j].named;
      break;
    }
  }
  for (std::size_t j = 0; j < loaded.size(); ++j) {
    if (placed[j]) continue;
    std::size_t index = plan.slots.size();
    for (std::size_t i = 0; i < applied.size(); ++i) {
      if (!claimed[i] && applied[i].removed && same_node(applied[i], loaded[j])) {
        index = i;
        break;
      }
    }
    BackendConfig backend = loaded[j];
    if (index == plan.slots.size()) {
      if (!backend.named) backend.name = "node" + std::to_string(index);
      plan.slots.push_back(std::move(backend));
      claimed.push_back(true);
    } else {
      if (!backend.named) backend.name = plan.slots[index].name;
      plan.slots[index] = std::move(backend);
      claimed[index] = true;
    }
    plan.added.push_back(index);
  }
  for (std::size_t i = 0; i < applied.size(); ++i) {
    if (claimed[i] || applied[i].removed) continue;
    plan.slots[i].removed = true;
    plan.removed.push_back(i);
  }
  std::sort(plan.added.begin(), plan.added.end());

  if (plan.slots.size() > k_max_node_slots) {
    plan.errors.push_back("backends: more than " + std::to_string(k_max_node_slots) +
                          " node slots (removed nodes keep theirs until a restart)");
  }
  // An unnamed node keeps (or gets) node<slot>, which a named one may already use.
  for (std::size_t i = 0; i < plan.slots.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      const auto& a = plan.slots[k];
      const auto& b = plan.slots[i];
      if (!a.removed && !b.removed && a.name == b.name) {
        plan.errors.push_back("backends: name \"" + b.name + "\" would be used by nodes " + std::to_string(k) +
                              " and " + std::to_string(i) + " (an unnamed backend is named by its index)");
      }
    }
  }
  return plan;
}

}  // namespace pgr::conf
