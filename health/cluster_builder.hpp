// The pure half of the health checker: from what the probes saw of every node to the cluster's
// identity, its primary and the ClusterView published to workers. No I/O and no clock, so the
// rules (foreign clusters, split brain, what workers must hear about) are unit-tested alone.
//
// Thread rules: free functions over values; the health checker calls them on the main thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "health/cluster_view.hpp"
#include "health/probe_result.hpp"

namespace pgr::health {

// What the checker knows of one node.
struct NodeObservation {
  NodeStatus status = NodeStatus::down;  // from its NodeState
  std::optional<ProbeResult> last_ok;    // the last successful probe: role, identity, LSNs
  std::string last_error;                // the last failed probe's reason, "" after a success
  std::chrono::system_clock::time_point last_probe{};
};

// A node still in service: up, or suspect with retries pending. A suspect node keeps its role
// (a primary stays the primary through a blip); only a probe-confirmed down takes it out.
[[nodiscard]] bool in_service(const NodeObservation& node);

// The cluster's system identifier. Once known it never changes (a foreign cluster must not take
// over by answering first after a restart): `known` is returned as is. Otherwise it is taken
// from the lowest-index in-service node that is not in recovery, or else from a strict majority
// of all configured nodes agreeing on one value; nullopt while neither holds.
[[nodiscard]] std::optional<std::uint64_t> choose_cluster_system_id(
    std::span<const NodeObservation> nodes, std::optional<std::uint64_t> known);

struct PrimaryChoice {
  std::optional<std::size_t> primary;
  // Other in-service, same-cluster nodes also not in recovery (split brain). They are kept out
  // of service: the chosen one has the highest timeline; theirs are forks that need a rewind.
  std::vector<std::size_t> excluded_primaries;
  // In-service nodes whose system identifier differs from the cluster's: never used.
  std::vector<std::size_t> foreign;
};

// The primary is the single in-service node of the cluster not in recovery. With several: the
// highest timeline, then the previous primary (no flapping between equals), then the lowest
// index. None: nullopt (writes wait).
[[nodiscard]] PrimaryChoice choose_primary(std::span<const NodeObservation> nodes,
                                           std::optional<std::uint64_t> cluster_system_id,
                                           std::optional<std::size_t> previous_primary);

// Generation 0, every backend present, down, role unknown: the view before any probe.
// A removed slot (conf::BackendConfig::removed) is always published down and `removed`.
[[nodiscard]] ClusterView initial_cluster_view(std::span<const conf::BackendConfig> backends);

// Role, identity, timeline and LSNs come from each node's last successful probe (kept while it
// is down: failover needs the failed primary's last known LSN). Foreign and excluded nodes are
// published as down with last_error saying why.
[[nodiscard]] ClusterView build_cluster_view(std::uint64_t generation,
                                             std::span<const conf::BackendConfig> backends,
                                             std::span<const NodeObservation> nodes,
                                             std::optional<std::uint64_t> cluster_system_id,
                                             const PrimaryChoice& choice);

// What the failover coordinator imposes on the view the probes produce: it alone decides the
// primary (none while it searches or fails over), and it holds nodes out of service (fenced,
// diverged, following a new primary) whatever they answer.
struct ViewOverlay {
  bool active = false;  // false: no coordinator; the probes' own primary choice stands
  std::optional<std::size_t> primary;  // the coordinator's primary; nullopt: none for now
  std::vector<std::string> held_out;   // per node index: why it may not serve; "" = it may
};

// Applies `overlay` to a view built by build_cluster_view. The primary becomes the overlay's
// (published as role primary, as the coordinator has seen it accept writes) while it is in
// service; a held-out node, and any other in-service node not in recovery (a false primary),
// is published with status down and held_out saying why.
void apply_overlay(ClusterView& view, const ViewOverlay& overlay);

// True when a worker would act differently: the primary, or any node's role, status,
// timeline, system identifier, weight, held-out reason or removal changed, or the node count. LSNs and errors alone do not count.
[[nodiscard]] bool differs_for_workers(const ClusterView& before, const ClusterView& after);

}  // namespace pgr::health
