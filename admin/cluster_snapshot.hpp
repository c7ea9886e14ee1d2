// What every admin interface shows: one plain-value picture of the cluster, taken on the main
// thread from the published ClusterView, the shared per-node counters, the health checker's
// probe statistics and the coordinator's failover record. The HTTP endpoints, /metrics,
// pgrouterctl (through JSON), the PCP socket and the status page all render this one struct,
// so they never disagree.
//
// Thread rules: a plain value; built on main, then read anywhere.
#pragma once

#include <cstddef>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "health/cluster_view.hpp"

namespace pgr::admin {

// Health-check figures for one node since start (pgpool-II's SHOW POOL_HEALTH_CHECK_STATS).
struct ProbeStats {
  std::uint64_t total = 0;
  std::uint64_t success = 0;
  std::uint64_t fail = 0;
  std::uint64_t retry = 0;      // failed probes that did not (yet) mark the node down
  std::uint64_t max_retry = 0;  // longest run of failed probes
  std::uint64_t duration_ms_sum = 0;
  std::uint64_t max_duration_ms = 0;
  std::uint64_t min_duration_ms = 0;
  std::int64_t last_probe = 0;  // unix seconds; 0 = never
  std::int64_t last_success = 0;
  std::int64_t last_failure = 0;
  std::uint64_t consecutive_failures = 0;
  bool down = false;                // after the last probe
  std::int64_t status_changed = 0;  // unix seconds of the first probe or the last up/down flip
  // Probe durations per bucket of k_probe_buckets_seconds (not cumulative); longer ones
  // count only in `total`.
  std::array<std::uint64_t, 10> duration_buckets{};
};

inline constexpr std::array<double, 10> k_probe_buckets_seconds{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                0.25,  0.5,  1.0,   2.5,  5.0};

// Counts one probe: `ok`, how long it took, whether the node is down after it, and when.
void record_probe(ProbeStats& stats, bool ok, std::chrono::milliseconds took, bool down_after,
                  std::int64_t now_unix);

// Traffic figures for one node (copied from ProxyShared's atomics).
struct NodeTraffic {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t others = 0;
  std::int64_t connections = 0;  // client sessions' backend links open to the node now
};

// Upper bounds (microseconds) of the pool wait-time histogram's buckets; proxy's
// NodeRouteCounters counts at these same bounds (admin_hub.cpp checks at compile time).
inline constexpr std::array<std::int64_t, 8> k_pool_wait_bounds_us{1'000,     10'000,    100'000,    500'000,
                                                                   1'000'000, 5'000'000, 30'000'000, 120'000'000};

// [pool] figures for one node over every worker (copied from ProxyShared's atomics and the
// node's connection budget). Sessions' links open now are NodeTraffic::connections.
struct NodePoolStats {
  std::int64_t idle = 0;     // pooled connections kept for the next client
  std::int64_t waiting = 0;  // client sessions queued for a connection
  std::int64_t held = 0;     // backend connections pgrouter holds: active, idle, logging in, resetting
  // How long clients waited for a connection: counts at k_pool_wait_bounds_us, CUMULATIVE (a
  // wait counts in every bucket whose bound is >= it); longer waits count only in wait_count.
  std::array<std::uint64_t, k_pool_wait_bounds_us.size()> wait_buckets{};
  std::uint64_t wait_count = 0;
  std::uint64_t wait_sum_us = 0;
};

struct NodeSnapshot {
  std::size_t index = 0;
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  double weight = 0;
  std::string role;    // "primary", "standby", "unknown" as the node answers
  std::string status;  // "up", "suspect", "down" per the probes
  bool is_primary = false;  // the node writes go to
  std::string held_out;     // why failover keeps it out ("detached: ..."), "" when not
  bool serving = false;     // up (or suspect) and not held out: routing may use it
  bool removed = false;     // a slot a reload emptied: only PCP shows it ("unused")
  std::uint32_t timeline = 0;
  std::optional<std::uint64_t> lag_bytes;
  std::optional<std::int64_t> lag_ms;
  std::string replication_state;  // the standby's WAL receiver status
  std::string upstream;           // "host:port" it streams from, "" when none
  std::string last_error;
  std::int64_t last_status_change = 0;  // unix seconds: the last up/down change (else last probe)
  NodeTraffic traffic;
  NodePoolStats pool;
  ProbeStats probes;
};

struct FailoverRecord {
  std::int64_t at = 0;  // unix seconds when it started
  std::int64_t took_ms = 0;
  bool promoted = false;
  std::string summary;
};

// Client-side traffic, summed over the workers at snapshot time.
struct ClientTraffic {
  std::uint64_t bytes_to_server = 0;  // relayed client -> server
  std::uint64_t bytes_to_client = 0;  // relayed server -> client (pgrouter's own replies too)
  std::vector<std::pair<std::string, std::uint64_t>> rejected;  // reason -> clients, every reason
  std::vector<std::pair<std::string, std::uint64_t>> errors;    // SQLSTATE class -> errors, non-zero only
};

// One backend connection pool ([pool]): a node, a database and a user (clients whose other
// startup parameters differ have pools of their own, summed here), over every worker.
struct PoolSnapshot {
  std::size_t node = 0;
  std::string database;
  std::string user;
  int active = 0;   // connections lent to client sessions (or logging in, or being reset)
  int idle = 0;     // connections kept for the next client
  int waiting = 0;  // client sessions queued for a connection
  std::int64_t max_wait_us = 0;  // the longest wait in progress
};

struct ClusterSnapshot {
  std::uint64_t generation = 0;
  std::optional<std::size_t> primary;
  std::vector<NodeSnapshot> nodes;
  std::int64_t clients = 0;
  std::uint64_t clients_accepted = 0;
  ClientTraffic traffic;
  std::uint64_t failovers = 0;
  std::vector<FailoverRecord> recent_failovers;  // newest last, a few at most
  bool failover_running = false;
  std::vector<PoolSnapshot> pools;  // sorted by (node, database, user)
  std::string pool_mode;            // [pool] mode: "none", "session", "transaction"
  int max_backend_connections = 0;  // [pool], per node; 0: no limit
  std::string version;  // "0.1.0 (abc1234)"
  std::int64_t started_at = 0;  // unix seconds

  [[nodiscard]] const NodeSnapshot* find(std::string_view name_or_index) const;
};

// The node part of a snapshot, from a published view; traffic, pool figures and probes by
// node index (missing entries stay zero).
[[nodiscard]] std::vector<NodeSnapshot> snapshot_nodes(const health::ClusterView& view,
                                                       const std::vector<NodeTraffic>& traffic,
                                                       const std::vector<NodePoolStats>& pool,
                                                       const std::vector<ProbeStats>& probes);

}  // namespace pgr::admin
