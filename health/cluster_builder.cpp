// Cluster identity, primary choice and ClusterView building (see cluster_builder.hpp).
#include "health/cluster_builder.hpp"

#include <algorithm>
#include <map>

namespace pgr::health {
namespace {

bool is_primary_like(const NodeObservation& node) {
  return in_service(node) && node.last_ok && !node.last_ok->in_recovery;
}

bool same_cluster(const NodeObservation& node, std::optional<std::uint64_t> cluster_system_id) {
  return !cluster_system_id || !node.last_ok ||
         node.last_ok->system_identifier == *cluster_system_id;
}

NodeView view_of(std::size_t index, const conf::BackendConfig& backend,
                 const NodeObservation& node) {
  NodeView view;
  view.index = index;
  view.name = backend.name;
  view.host = backend.host;
  view.port = backend.port;
  view.weight = backend.weight;
  view.status = node.status;
  view.last_error = node.last_error;
  view.last_probe = node.last_probe;
  if (backend.removed) {
    view.removed = true;
    view.status = NodeStatus::down;
    view.last_error = "removed from the configuration";
    return view;
  }
  if (const auto& probe = node.last_ok) {
    view.role = probe->in_recovery ? NodeRole::standby : NodeRole::primary;
    view.system_identifier = probe->system_identifier;
    view.timeline = probe->timeline;
    view.current_lsn = probe->current_lsn;
    view.received_lsn = probe->received_lsn;
    view.replay_lsn = probe->replay_lsn;
    view.wal_receiver_status = probe->wal_receiver_status;
    view.sender_host = probe->sender_host;
    view.sender_port = probe->sender_port;
    view.received_tli = probe->received_tli;
    view.synchronous_standby_names = probe->synchronous_standby_names;
    view.replicas = probe->replicas;
  }
  return view;
}

}  // namespace

bool in_service(const NodeObservation& node) {
  return node.status == NodeStatus::up || node.status == NodeStatus::suspect;
}

std::optional<std::uint64_t> choose_cluster_system_id(std::span<const NodeObservation> nodes,
                                                      std::optional<std::uint64_t> known) {
  if (known) return known;
  for (const auto& node : nodes) {
    if (is_primary_like(node)) return node.last_ok->system_identifier;
  }
  // No primary answers: only a majority of the configured nodes may define the cluster, so a
  // lone stray standby cannot decide it.
  std::map<std::uint64_t, std::size_t> votes;
  for (const auto& node : nodes) {
    if (in_service(node) && node.last_ok) ++votes[node.last_ok->system_identifier];
  }
  for (const auto& [system_id, count] : votes) {
    if (count * 2 > nodes.size()) return system_id;
  }
  return std::nullopt;
}

PrimaryChoice choose_primary(std::span<const NodeObservation> nodes,
                             std::optional<std::uint64_t> cluster_system_id,
                             std::optional<std::size_t> previous_primary) {
  PrimaryChoice choice;
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (!in_service(nodes[i]) || !nodes[i].last_ok) continue;
    if (!same_cluster(nodes[i], cluster_system_id)) {
      choice.foreign.push_back(i);
    } else if (!nodes[i].last_ok->in_recovery) {
      candidates.push_back(i);
    }
  }
  if (candidates.empty()) return choice;

  // "Better" = higher timeline, then the previous primary, then the lower index.
  const auto better = [&](std::size_t a, std::size_t b) {
    const auto ta = nodes[a].last_ok->timeline;
    const auto tb = nodes[b].last_ok->timeline;
    if (ta != tb) return ta > tb;
    if (previous_primary == a || previous_primary == b) return previous_primary == a;
    return a < b;
  };
  const std::size_t best = *std::min_element(candidates.begin(), candidates.end(), better);
  choice.primary = best;
  for (const std::size_t i : candidates) {
    if (i != best) choice.excluded_primaries.push_back(i);
  }
  return choice;
}

ClusterView initial_cluster_view(std::span<const conf::BackendConfig> backends) {
  ClusterView view;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    view.nodes.push_back(view_of(i, backends[i], NodeObservation{}));
  }
  return view;
}

ClusterView build_cluster_view(std::uint64_t generation,
                               std::span<const conf::BackendConfig> backends,
                               std::span<const NodeObservation> nodes,
                               std::optional<std::uint64_t> cluster_system_id,
                               const PrimaryChoice& choice) {
  ClusterView view;
  view.generation = generation;
  view.primary = choice.primary;
  const std::size_t count = std::min(backends.size(), nodes.size());
  for (std::size_t i = 0; i < count; ++i) view.nodes.push_back(view_of(i, backends[i], nodes[i]));

  for (const std::size_t i : choice.foreign) {
    NodeView& node = view.nodes[i];
    node.status = NodeStatus::down;
    node.last_error = "system identifier " + std::to_string(*node.system_identifier) +
                      " differs from the cluster's " + std::to_string(*cluster_system_id);
  }
  for (const std::size_t i : choice.excluded_primaries) {
    NodeView& node = view.nodes[i];
    const NodeView& chosen = view.nodes[*choice.primary];
    node.status = NodeStatus::down;
    // No LSN here: the text must stay the same from probe to probe (it is logged on change).
    node.last_error = "also not in recovery (timeline " + std::to_string(node.timeline) + "); " +
                      chosen.name + " (timeline " + std::to_string(chosen.timeline) +
                      ") is the primary";
  }
  return view;
}

void apply_overlay(ClusterView& view, const ViewOverlay& overlay) {
  if (!overlay.active) return;
  const auto serving = [](const NodeView& node) {
    return node.status == NodeStatus::up || node.status == NodeStatus::suspect;
  };
  view.primary.reset();
  if (overlay.primary && *overlay.primary < view.nodes.size() &&
      serving(view.nodes[*overlay.primary])) {
    view.primary = overlay.primary;
    view.nodes[*overlay.primary].role = NodeRole::primary;
  }
  for (std::size_t i = 0; i < view.nodes.size(); ++i) {
    NodeView& node = view.nodes[i];
    if (view.primary == i) continue;
    if (i < overlay.held_out.size() && !overlay.held_out[i].empty()) {
      node.held_out = overlay.held_out[i];
    } else if (serving(node) && node.role == NodeRole::primary) {
      node.held_out = "not in recovery, but not the primary";
    }
    if (!node.held_out.empty()) node.status = NodeStatus::down;
  }
}

bool differs_for_workers(const ClusterView& before, const ClusterView& after) {
  if (before.primary != after.primary || before.nodes.size() != after.nodes.size()) return true;
  for (std::size_t i = 0; i < before.nodes.size(); ++i) {
    const NodeView& a = before.nodes[i];
    const NodeView& b = after.nodes[i];
    if (a.role != b.role || a.status != b.status || a.timeline != b.timeline ||
        a.system_identifier != b.system_identifier || a.weight != b.weight || a.held_out != b.held_out ||
        a.removed != b.removed) {
      return true;
    }
  }
  return false;
}

}  // namespace pgr::health
