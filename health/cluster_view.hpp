// The node state main publishes to workers: an immutable snapshot, swapped by pointer.
// Built on the main thread only; workers hold a shared_ptr<const ClusterView> and read it
// between events, so reading node state on the hot path is a pointer dereference.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "health/probe_result.hpp"

namespace pgr::health {

enum class NodeRole : std::uint8_t { unknown, primary, standby };
// up: answering probes; suspect: a probe failed, retries pending; down: out of service.
enum class NodeStatus : std::uint8_t { up, suspect, down };

std::string_view to_string(NodeRole role);
std::string_view to_string(NodeStatus status);

struct NodeView {
  std::size_t index = 0;  // position in Config::backends
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  double weight = 1.0;

  NodeRole role = NodeRole::unknown;
  NodeStatus status = NodeStatus::down;
  std::optional<std::uint64_t> system_identifier;
  std::uint32_t timeline = 0;
  std::uint64_t current_lsn = 0;   // primary: pg_current_wal_lsn()
  std::uint64_t received_lsn = 0;  // standby: pg_last_wal_receive_lsn()
  std::uint64_t replay_lsn = 0;    // standby: pg_last_wal_replay_lsn()
  std::string wal_receiver_status;  // standby: pg_stat_wal_receiver.status, "" when none
  std::string sender_host;          // standby: pg_stat_wal_receiver.sender_host, "" when none
  std::uint16_t sender_port = 0;    // standby: pg_stat_wal_receiver.sender_port, 0 when none
  std::uint32_t received_tli = 0;   // standby: pg_stat_wal_receiver.received_tli, 0 when none
  // Standby only, from health/lag_tracker.hpp: bytes of WAL the primary has that this node
  // has not replayed, and an upper bound on how stale its data is. nullopt while unknown (no
  // primary sampled yet): a router must then treat the node as too far behind.
  std::optional<std::uint64_t> lag_bytes;
  std::optional<std::chrono::milliseconds> lag;
  // Primary: synchronous_standby_names and pg_stat_replication (see probe_result.hpp).
  std::string synchronous_standby_names;
  std::vector<ReplicaState> replicas;
  std::string last_error;           // the last failed probe's reason, "" after a success
  // Why failover keeps this node out of service whatever it answers ("fenced: ...",
  // "diverged: ...", "following: ..."); "" when it may serve. A held-out node is published
  // with status down, so routing needs no other test.
  std::string held_out;
  // A node slot a reload emptied (conf/backend_slots.hpp): published down, never probed, never
  // routed to; its index is not reused by another node. Admin output leaves it out.
  bool removed = false;
  std::chrono::system_clock::time_point last_probe{};
};

struct ClusterView {
  std::uint64_t generation = 0;  // grows with every publication
  std::vector<NodeView> nodes;
  std::optional<std::size_t> primary;  // index of the node writes go to, if any

  const NodeView* primary_node() const { return primary ? &nodes[*primary] : nullptr; }
};

using ClusterViewPtr = std::shared_ptr<const ClusterView>;

}  // namespace pgr::health
