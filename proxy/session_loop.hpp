// The logged-in life of a client session: client messages are grouped into units (a Query, a
// FunctionCall, or the extended-query messages up to a Sync), each unit is routed by the pure
// planner (route_planner.hpp) to one node, and replies come back to the client in exactly the
// order it sent its units. One backend link per node, opened lazily as the client's user; the
// session's settings and prepared statements follow it onto every link (session_state.hpp).
//
// Ordering rule: units may be pipelined to the link that has outstanding replies; a unit for
// another node waits until every earlier unit's ReadyForQuery has reached the client.
//
// Failures: a link that fails takes down only the units in flight on it (they get an
// ErrorResponse and ReadyForQuery); the session carries on with the other links and opens a
// new one (with its settings) when needed. An idle session therefore survives a backend
// restart or a failover.
//
// Thread rules: runs on the session's worker; all sockets belong to it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "protocol/frame_scanner.hpp"
#include "protocol/statement_classifier.hpp"
#include "proxy/asio.hpp"
#include "proxy/backend_link.hpp"
#include "proxy/backend_login.hpp"
#include "proxy/credentials.hpp"
#include "proxy/route_planner.hpp"
#include "proxy/session_error.hpp"
#include "proxy/session_state.hpp"
#include "proxy/socket_events.hpp"
#include "support/split_mix.hpp"

namespace pgr::proxy {

class Worker;

struct SessionStats {
  std::uint64_t client_bytes = 0;   // written to backends
  std::uint64_t backend_bytes = 0;  // written to the client
};

enum class SessionEnd : std::uint8_t {
  client_terminated,      // the client sent Terminate
  client_closed,          // EOF or error on the client socket
  client_protocol_error,  // a malformed client message (not forwarded)
  backend_closed,         // a backend failed half-way through a reply to the client
};

struct SessionIdentity {
  std::string tag;  // for logs: "C-12 user@peer db=..."
  StartupParameters parameters;
  // Shared by the worker's sessions of the same user (CredentialsCache): one copy, not one each.
  std::shared_ptr<const BackendCredentials> credentials;
  protocol::CancelRequest cancel_key;  // what the client holds
  bool read_only_port = false;
};

struct LoopOutcome {
  SessionEnd end = SessionEnd::client_closed;
  std::string reason;
  // Set when the client should get a FATAL before the close (and its stream allows one).
  std::optional<SessionError> tell_client;
};

class SessionLoop {
 public:
  SessionLoop(Worker& worker, Transport& client, StreamBuffer& client_buffer, SessionIdentity identity,
              SessionStats& stats);
  ~SessionLoop();
  SessionLoop(const SessionLoop&) = delete;
  SessionLoop& operator=(const SessionLoop&) = delete;

  // The backend the session logged in through (its ParameterStatus went to the client).
  void adopt(std::unique_ptr<BackendLink> link);
  // Runs until the session ends; then outcome() says how. (Not returned: a coroutine's result
  // would take room in its frame and its caller's for the whole session.)
  awaitable<void> run();
  LoopOutcome& outcome() { return *outcome_; }  // set by end(), the only way out of run()
  // pgrouter is stopping: the loop ends at its next wake-up.
  void shutdown();
  // A new ClusterView: a session with units in flight looks at it at once, and so does one
  // holding a link to a node a reload removed (it closes that link once idle).
  void on_view_changed();

 private:
  struct PendingUnit {
    RouteDecision decision;
    UnitFacts facts;
    RoutingState routing_before;  // restored if the unit cannot run after all
  };

  // run()'s first and last steps, out of its frame (which lasts the whole session).
  void begin();
  awaitable<void> wind_down();

  // Reading and writing.
  void park_buffers();
  void take_write_buffer();
  bool read_client();
  bool read_link(BackendLink& link);
  bool flush_client();
  bool flush_link(BackendLink& link);
  void arm_waits();
  void cancel_abandoned_work(const BackendLink& link);

  // Backend replies.
  bool process_link_input(BackendLink& link);
  void finish_group(BackendLink& link, char status);
  void fail_link(std::size_t node, std::string_view reason);

  // Client units.
  bool process_client_input();
  enum class Gather : std::uint8_t { ready, need_more };
  Gather gather_facts(char first_type, UnitFacts& facts);
  bool other_links_busy(std::size_t node) const;
  bool any_visible_outstanding() const;
  awaitable<BackendLink*> ensure_link(std::size_t node);
  // An idle connection from the pool, taken at once (nullptr: ensure_link must wait for one).
  BackendLink* take_idle_link(std::size_t node);
  // A connection from the pool becomes this session's link to `node`.
  BackendLink* install_link(std::size_t node, std::unique_ptr<BackendLink> link);
  const std::string& pool_key_for(std::size_t node);
  // Transaction pooling: links whose transaction is over go back to the pool.
  void release_idle_links();
  bool releasable(const BackendLink& link) const;
  void release_link(std::size_t node, bool reset);
  // Transaction pooling: a statement newly prepared on `link` may push the least recently
  // used one out of its bounded cache.
  void trim_statement_cache(BackendLink& link, ResponseGroup& group);
  void prepare_link(BackendLink& link, bool open_side);
  void forward_in_unit(BackendLink& link, char type, protocol::bytes_view framed, protocol::bytes_view body);
  void dispatch_unit(BackendLink& link, const PendingUnit& unit, char type, protocol::bytes_view framed,
                     protocol::bytes_view body);
  void close_side_transaction();
  void answer_locally(const protocol::byte_buffer& reply, bool then_ready);
  void refuse_unit(std::string_view sqlstate, std::string message, std::string detail);
  bool answer_show(std::string_view sql);
  bool answer_parses_locally();
  void answer_in_lost_transaction(char type, protocol::bytes_view body, const UnitFacts& facts);
  void note_view_change();
  // Per-node vectors cover `nodes` (a reload may add nodes; they grow on this worker).
  void grow_nodes(std::size_t nodes);
  void count_link_open(BackendLink& link);
  void close_idle_link(std::size_t node, std::string_view why);
  [[nodiscard]] bool drain_removed_links();  // true when it closed or failed a link
  RoutingPolicy policy() const;
  protocol::Classification classify(std::string_view sql);  // through the worker's memo

  BackendLink* link_for(std::size_t node) { return node < links_.size() ? links_[node].get() : nullptr; }
  void end(SessionEnd end, std::string reason, std::optional<SessionError> tell = std::nullopt);

  Worker& worker_;
  Transport& client_;
  StreamBuffer& client_in_;
  SessionIdentity identity_;
  SessionStats& stats_;
  Waker waker_;
  std::shared_ptr<Readiness> client_ready_ = std::make_shared<Readiness>();
  protocol::FrameScanner client_scanner_;
  protocol::byte_buffer client_out_;
  std::size_t client_out_begin_ = 0;
  bool client_eof_ = false;
  bool client_mid_message_ = false;  // a streamed backend message is half-way to the client
  char client_status_ = 'I';         // the last ReadyForQuery status the client saw

  std::vector<std::unique_ptr<BackendLink>> links_;  // by node index
  conf::PoolMode pool_mode_ = conf::PoolMode::session;  // restart-only: fixed for the session
  std::vector<std::string> pool_keys_;                // by node, computed once
  // Rarely set, so behind pointers: an idle session's loop is what 10,000 idle clients cost.
  std::unique_ptr<SessionError> pool_error_;          // why ensure_link found no connection
  std::vector<std::unique_ptr<BackendLink>> retired_;  // closed while the loop may still hold them
  std::vector<bool> excluded_;                       // nodes that just failed this session
  std::vector<std::chrono::system_clock::time_point> excluded_at_;
  // By node: a link to a node a reload removed, with replies still to come, closes once idle
  // or fails at this deadline (now + wait_timeout when the removal was seen).
  std::vector<std::optional<std::chrono::steady_clock::time_point>> drain_until_;
  bool draining_ = false;
  std::uint64_t view_generation_ = 0;

  RoutingState routing_;
  SettingsLog settings_;
  PreparedStatements prepared_;
  std::map<std::string, std::size_t, std::less<>> portals_;  // portal -> node, within a transaction
  std::vector<std::string> write_functions_;
  protocol::ClassifierOptions classifier_options_;
  SplitMix64 random_;

  std::optional<std::size_t> unit_link_;  // an extended unit routed there, Sync not yet sent
  std::optional<std::size_t> copy_link_;  // where COPY data goes (the last unit's node)
  std::unique_ptr<PendingUnit> pending_;  // planned, waiting for its preconditions
  std::optional<std::size_t> open_link_for_;  // pending_ needs a link there: run() opens it
  bool link_attempted_ = false;               // ensure_link ran for pending_ (it may have failed)
  std::optional<std::chrono::steady_clock::time_point> primary_wait_since_;
  std::optional<std::chrono::steady_clock::time_point> wake_at_;
  bool discard_until_sync_ = false;       // a refused extended unit: drop up to its Sync
  bool txn_lost_ = false;                 // the link holding the client's transaction failed
  std::string txn_lost_on_;
  std::optional<std::size_t> cancel_node_;

  bool ended_ = false;
  bool shutting_down_ = false;
  std::unique_ptr<LoopOutcome> outcome_;  // once ended
};

}  // namespace pgr::proxy
