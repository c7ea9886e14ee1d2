// One client session, from the first byte to the close: the startup packet (SSLRequest,
// GSSENCRequest and CancelRequest included), client authentication, the backend login as
// the same user, then the relay. The coroutine frame owns the session: sockets by value.
//
// Thread rules: created and run on one worker; shutdown() is called on that worker too.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/startup.hpp"
#include "proxy/asio.hpp"
#include "proxy/backend_login.hpp"
#include "proxy/connection_limits.hpp"
#include "proxy/credentials.hpp"
#include "proxy/session_loop.hpp"
#include "proxy/session_error.hpp"
#include "proxy/stream_buffer.hpp"
#include "proxy/transport.hpp"

namespace pgr::proxy {

class Worker;

class ClientSession {
 public:
  ClientSession(Worker& worker, tcp::socket client, std::uint64_t id, bool read_only_port);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // The session's two stages, run one after the other by run_client_session (not a run()
  // coroutine here: each coroutine frame lasts the whole session). log_in's frame (timer,
  // credentials, errors) is freed before serve() settles in for hours.
  awaitable<bool> log_in();  // true: logged in, with a backend
  awaitable<void> serve();
  // pgrouter is stopping: interrupt whatever the session waits on; it ends with 57P01.
  void shutdown();
  // The worker has a new ClusterView (worker thread).
  void on_view_changed();

 private:
  struct Quiet {};  // end without a word (cancel requests, clients that just left)
  using StartupResult = std::variant<protocol::StartupMessage, SessionError, Quiet>;
  using LoginResult = std::variant<BackendCredentials, SessionError, Quiet>;
  struct LoginWatch {  // shared with the client_login_timeout timer's handler
    bool running = true;
    bool timed_out = false;
  };

  awaitable<LoginResult> login_phase();  // the startup packet and the authentication
  awaitable<StartupResult> read_startup();
  awaitable<std::variant<protocol::StartupPacket, SessionError, Quiet>> read_startup_packet();
  // TLS from the client: after 'S' to an SSLRequest, or direct (a ClientHello first).
  awaitable<std::optional<std::variant<SessionError, Quiet>>> start_client_tls(bool direct);
  awaitable<bool> client_starts_with_tls();
  awaitable<void> forward_cancel(const protocol::CancelRequest& request);
  awaitable<LoginResult> authenticate(const protocol::StartupMessage& startup);
  awaitable<std::optional<BackendEndpoint>> wait_for_primary(std::chrono::milliseconds limit);
  // The node the session logs in through: the primary (a standby on the read-only port, or
  // when no primary appears in time), as an index into the view.
  awaitable<std::optional<std::size_t>> choose_login_node(const std::vector<bool>& excluded);
  // One login attempt; on failure the error and, when the connection itself failed, the node.
  awaitable<std::optional<std::pair<SessionError, std::optional<std::size_t>>>> try_login_node(
      const BackendCredentials& credentials, const std::vector<bool>& excluded);
  awaitable<std::optional<SessionError>> open_backend(const BackendCredentials& credentials);
  SessionIdentity take_identity();
  awaitable<void> send_fatal(const SessionError& error);
  awaitable<void> refuse_after_startup(const SessionError& error);
  static constexpr std::chrono::milliseconds k_refusal_startup_timeout{2'000};
  void finish(std::string_view reason);

  Worker& worker_;
  Transport client_;
  std::unique_ptr<BackendLink> login_;  // from the pool, until the session loop takes it
  std::size_t login_node_ = 0;
  std::shared_ptr<const BackendCredentials> credentials_;  // from the login, for the loop
  SessionLoop* loop_ = nullptr;  // while serving
  std::uint64_t id_;
  std::string tag_;
  std::string peer_;
  std::string user_;
  std::string database_;
  StartupParameters parameters_;
  StreamBuffer client_buffer_;
  protocol::byte_buffer auth_reply_;  // sent with AuthenticationOk (or the login's error)
  std::optional<protocol::CancelRequest> cancel_key_;
  std::string backend_name_;
  SessionStats stats_;
  std::chrono::steady_clock::time_point started_;
  bool counted_ = false;
  bool shutting_down_ = false;
  bool logged_in_ = false;
  bool read_only_port_ = false;
  std::optional<ConnectionLimits::Lease> user_db_lease_;  // while logged in
};

// Spawned by the listener on the worker that owns `client`.
awaitable<void> run_client_session(Worker& worker, tcp::socket client, bool read_only_port);

}  // namespace pgr::proxy
