// The coordinator's state and its member functions, shared by coordinator.cpp (decisions,
// state file, overlay) and failover_run.cpp (driving one FailoverPlan). Internal header.
//
// Thread rules: main thread only; no locks.
#pragma once

#include <chrono>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "conf/config.hpp"
#include "coordinator/coordinator.hpp"
#include "failover/attach_state.hpp"
#include "failover/failover_plan.hpp"
#include "failover/fencing.hpp"
#include "failover/sync_standbys.hpp"
#include "failover/timeline_history.hpp"
#include "health/cluster_view.hpp"
#include "health/pg_session.hpp"

namespace pgr::coordinator {

namespace asio = boost::asio;
using steady_clock = std::chrono::steady_clock;

enum class Phase : std::uint8_t { searching, running, failing_over };

struct NodeRecord {
  failover::AttachState state = failover::AttachState::attached;
  std::string reason;
  std::int64_t since = 0;  // seconds since the epoch
  bool job_running = false;  // a repoint or rewind outside a plan is in flight
  steady_clock::time_point last_job{};
  bool evicting = false;  // terminating client sessions on this fenced node
  steady_clock::time_point last_evict{};
};

struct Coordinator::State {
  State(asio::any_io_executor ex, std::shared_ptr<const conf::Config> cfg,
        health::HealthChecker& checker);

  // coordinator.cpp
  void load_state_file();
  void write_state_file();
  void publish_overlay();
  void observe(const health::ClusterView& raw);
  void search(const health::ClusterView& raw);
  void judge_nodes(const health::ClusterView& raw);
  failover::ReturnDecision judge_node(std::size_t index, const health::NodeView& node);
  void set_state(std::size_t index, failover::AttachState state, std::string reason);
  void set_primary(std::optional<std::size_t> index, std::uint32_t timeline);
  void track_sync_standbys(const health::NodeView& primary_node);
  void fetch_history_in_background();
  void start_failover(const health::ClusterView& raw, std::size_t failed);
  void run_node_job(std::size_t index, bool rewind);
  void evict_clients(std::size_t index);
  std::optional<std::size_t> node_at(const std::string& host, std::uint16_t port) const;
  std::string label(std::size_t index) const;
  failover::FailoverSettings settings() const;
  health::PgSessionParams admin_params(std::size_t index) const;
  health::PgSessionParams replication_params(std::size_t index) const;

  // failover_run.cpp
  static asio::awaitable<void> run_failover(std::shared_ptr<State> self,
                                            health::ClusterView raw, std::size_t failed);
  void record_failover(const failover::FailoverOutcome& outcome);

  // operator_requests.cpp
  static asio::awaitable<void> run_promotion(std::shared_ptr<State> self, std::size_t node,
                                             bool switchover, Coordinator::Done done);
  asio::awaitable<std::string> make_read_only(std::size_t node, bool read_only);  // "" = ok
  asio::awaitable<std::string> wait_for_catch_up(std::size_t node, std::size_t old_primary);
  asio::awaitable<failover::Event> execute(const failover::Action& action);
  asio::awaitable<failover::Event> promote(const failover::Action& action);
  asio::awaitable<failover::Event> run_command(const failover::Action& action);
  asio::awaitable<failover::Event> wait_for_writable(const failover::Action& action);
  asio::awaitable<failover::Event> fetch_history(const failover::Action& action);
  asio::awaitable<failover::Event> probe_standby(const failover::Action& action);
  asio::awaitable<failover::Event> wait_for_streaming(const failover::Action& action);
  asio::awaitable<std::string> repoint(std::size_t node, std::size_t target);  // "" = ok
  asio::awaitable<std::string> stop_wal_receiver(std::size_t node);  // "" = ok
  asio::awaitable<void> restore_wal_receivers();
  asio::awaitable<std::optional<std::string>> timeline_history(std::size_t node,
                                                               std::uint32_t timeline,
                                                               std::string& error);
  asio::awaitable<health::ProbeResult> probe(std::size_t node);
  asio::awaitable<bool> sleep_for(std::chrono::milliseconds d);  // false when stopping

  asio::any_io_executor executor;
  std::shared_ptr<const conf::Config> config;
  health::HealthChecker* health;
  std::vector<NodeRecord> nodes;
  Phase phase = Phase::searching;
  std::optional<std::size_t> primary;
  std::uint32_t timeline = 0;
  std::optional<std::uint64_t> system_identifier;
  std::optional<failover::TimelineHistory> history;  // of `timeline`, once fetched
  bool history_fetching = false;
  std::optional<std::string> recorded_primary;
  // The last non-empty set of standbys the primary replicated synchronously to (nullopt:
  // synchronous replication off, or not seen yet). Only these may be promoted.
  std::optional<failover::SyncSet> sync_standbys;
  bool sync_none_logged = false;
  // A primary that failed when no standby could replace it (and that was not fenced): the
  // failover is retried while it stays down, and it is the primary again if it returns.
  std::optional<std::size_t> dead_primary;
  steady_clock::time_point retry_failover_at{};  // from the state file, for the search
  steady_clock::time_point search_started{};
  bool search_timeout_logged = false;
  bool search_waiting_logged = false;
  std::optional<failover::FailoverPlan> plan;  // the running failover, if any
  std::optional<std::size_t> plan_new_primary;
  // Builtin failover first stops every standby's WAL receiver (primary_conninfo = ''): a hung
  // primary that wakes up must not stream WAL its standbys would then have to rewind. The
  // setting each had, by node, to repoint from (or to restore when no node was promoted).
  std::vector<std::optional<std::string>> detached_conninfo;
  std::uint32_t plan_new_timeline = 0;
  steady_clock::time_point failover_started{};
  asio::cancellation_signal cancel;
  bool stopped = false;
  // Operator promotion: the only node the plan may promote; and the mode it runs in (manual
  // mode would only detach).
  std::optional<std::size_t> forced_candidate;
  std::optional<std::size_t> last_primary;  // the latest node set_primary() named
  health::ClusterView last_raw;  // the last view observe() saw
  std::uint64_t failovers = 0;
  std::vector<Coordinator::FailoverRecord> recent_failovers;
  std::weak_ptr<State> shared_from_this_ptr;  // set by Coordinator: coroutines keep State alive
};

}  // namespace pgr::coordinator
