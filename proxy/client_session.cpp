// One client session (see client_session.hpp).
#include "proxy/client_session.hpp"

#include <cassert>
#include <random>

#include <openssl/x509.h>

#include "protocol/messages.hpp"
#include "protocol/secure_random.hpp"
#include "proxy/access_check.hpp"
#include "conf/hba.hpp"
#include "proxy/client_auth.hpp"
#include "proxy/message_reader.hpp"
#include "proxy/read_balancer.hpp"
#include "proxy/secret_lookup.hpp"
#include "proxy/worker.hpp"
#include "support/log.hpp"
#include "support/split_mix.hpp"

namespace pgr::proxy {

namespace {
namespace sqlstate = protocol::sqlstate;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;

constexpr std::size_t k_startup_buffer = 512;
// A client may negotiate encryption twice (SSL then GSS, or the reverse) before starting.
constexpr int k_max_negotiations = 2;

// The TLS record type of a handshake: a ClientHello sent without an SSLRequest (PG17 direct TLS).
constexpr std::uint8_t k_tls_handshake_record = 0x16;

std::array<std::uint8_t, 16> mapped_address(const asio::ip::address& a) {
  if (a.is_v4()) return asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()).to_bytes();
  return a.to_v6().to_bytes();
}

std::optional<std::string> certificate_cn(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  char cn[256];
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof cn) return std::nullopt;
  return std::string(cn, static_cast<std::size_t>(n));
}

std::string describe_peer(const tcp::socket& socket) {
  error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string format_duration(std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1) + "s";
}
}  // namespace

ClientSession::ClientSession(Worker& worker, tcp::socket client, std::uint64_t id, bool read_only_port)
    : worker_(worker), client_(std::move(client)), id_(id), client_buffer_(k_startup_buffer),
      started_(std::chrono::steady_clock::now()), read_only_port_(read_only_port) {
  peer_ = describe_peer(client_.socket());
  tag_ = "C-" + std::to_string(id_) + " " + peer_;
  worker_.add_session(this);
}

ClientSession::~ClientSession() {
  if (cancel_key_) worker_.shared().cancel_registry.release(*cancel_key_);
  if (counted_) worker_.shared().client_connections.fetch_sub(1, std::memory_order_relaxed);
  worker_.remove_session(this);
}

void ClientSession::shutdown() {
  shutting_down_ = true;
  error_code ec;
  client_.cancel(ec);
  if (login_) login_->socket.cancel(ec);
  if (loop_ != nullptr) loop_->shutdown();
}

void ClientSession::on_view_changed() {
  if (loop_ != nullptr) loop_->on_view_changed();
}

awaitable<void> ClientSession::send_fatal(const SessionError& error) {
  // After a successful exchange the client first gets its last message (the server's proof),
  // then the error, as from PostgreSQL when a check after authentication fails.
  protocol::byte_buffer out = std::exchange(auth_reply_, {});
  write_fatal(out, error);
  worker_.counters().count_error(error.sqlstate);
  co_await asio::async_write(client_, asio::buffer(out), nothrow_awaitable);
}

awaitable<bool> ClientSession::log_in() {
  const auto& config = *worker_.shared().config;
  counted_ = true;
  if (worker_.shared().client_connections.fetch_add(1, std::memory_order_relaxed) >=
      config.proxy.max_client_connections) {
    log::warn(tag_, ": rejected, max_client_connections (", config.proxy.max_client_connections, ") reached");
    worker_.counters().count_rejection(RejectReason::max_connections);
    co_await refuse_after_startup(SessionError::make(sqlstate::too_many_connections, "sorry, too many clients already"));
    co_return false;
  }
  // Held until the client has authenticated (a local: the login's frame goes with it).
  auto pending_login = worker_.shared().limits.begin_login(config.proxy.max_pending_logins);
  if (!pending_login) {
    log::warn(tag_, ": rejected, max_pending_logins (", config.proxy.max_pending_logins, ") reached");
    worker_.counters().count_rejection(RejectReason::max_connections);
    co_await refuse_after_startup(
        SessionError::make(sqlstate::too_many_connections, "sorry, too many clients are logging in already"));
    co_return false;
  }

  // Everything before the client is authenticated runs under client_login_timeout. When it
  // passes, the client's socket is shut for reading and its waits are cancelled: a wait on the
  // client fails at once, and any later read finds the end of the stream (a step on a backend,
  // the auth_query lookup, ends by its own timeout first). This costs less than a parallel
  // group of the login and the timer, which spawns a coroutine and takes a trip through the
  // event loop per login. The flag outlives the session: a timer that fired just as the login
  // ended may run its handler after that.
  const auto watch = std::make_shared<LoginWatch>();
  asio::steady_timer login_deadline(client_.get_executor(), config.proxy.client_login_timeout);
  login_deadline.async_wait([watch, &socket = client_.socket()](const error_code& ec) {
    if (ec || !watch->running) return;
    watch->timed_out = true;
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_receive, ignored);
    socket.cancel(ignored);
  });
  LoginResult phase = co_await login_phase();
  watch->running = false;
  login_deadline.cancel();

  if (watch->timed_out) {
    log::info(tag_, ": closed, not logged in within client_login_timeout");
    worker_.counters().count_rejection(RejectReason::login_timeout);
    co_await send_fatal(SessionError::make(sqlstate::connection_failure, "canceling authentication due to timeout"));
    co_return false;
  }
  if (std::holds_alternative<Quiet>(phase)) co_return false;
  if (auto* err = std::get_if<SessionError>(&phase)) {
    log::info(tag_, ": login failed: ", err->sqlstate, " ", err->message);
    if (!shutting_down_) worker_.counters().count_rejection(login_failure_reason(err->sqlstate));
    if (!shutting_down_) co_await send_fatal(*err);
    co_return false;
  }

  credentials_ = worker_.credentials().intern(user_, std::move(std::get<BackendCredentials>(phase)));
  pending_login.reset();
  std::string refusal;
  user_db_lease_ = worker_.shared().limits.acquire(user_, database_, config.proxy.max_user_connections,
                                                   config.proxy.max_db_connections, refusal);
  if (!user_db_lease_) {
    log::warn(tag_, ": rejected, ", refusal);
    worker_.counters().count_rejection(RejectReason::max_connections);
    co_await send_fatal(SessionError::make(sqlstate::too_many_connections, refusal));
    co_return false;
  }
  if (auto err = co_await open_backend(*credentials_)) {
    log::warn(tag_, ": backend login failed: ", err->sqlstate, " ", err->message);
    worker_.counters().count_rejection(err->sqlstate.starts_with("28") ? RejectReason::auth_failed
                                                                        : RejectReason::no_backend);
    co_await send_fatal(*err);
    co_return false;
  }
  co_return true;
}

awaitable<ClientSession::LoginResult> ClientSession::login_phase() {
  auto startup = co_await read_startup();
  if (auto* err = std::get_if<SessionError>(&startup)) co_return std::move(*err);
  if (std::holds_alternative<Quiet>(startup)) co_return Quiet{};
  co_return co_await authenticate(std::get<protocol::StartupMessage>(startup));
}

// A client refused for a limit still gets its SSLRequest answered and its startup packet
// read, as PostgreSQL does, so that it sees the 53300 (libpq reads an ErrorResponse in place
// of the SSLRequest's answer as a broken server), and a CancelRequest is still forwarded:
// cancelling must work when the router is full. Bounded by a short deadline.
awaitable<void> ClientSession::refuse_after_startup(const SessionError& error) {
  const auto limit = std::min<std::chrono::milliseconds>(worker_.shared().config->proxy.client_login_timeout,
                                                         k_refusal_startup_timeout);
  asio::steady_timer deadline(client_.get_executor(), limit);
  auto startup = co_await (read_startup() || deadline.async_wait(nothrow_awaitable));
  if (std::holds_alternative<timer_fired>(startup) || std::holds_alternative<Quiet>(startup) || shutting_down_) {
    co_return;
  }
  co_await send_fatal(error);
}

awaitable<ClientSession::StartupResult> ClientSession::read_startup() {
  if (co_await client_starts_with_tls()) {
    if (auto failed = co_await start_client_tls(true)) {
      if (auto* err = std::get_if<SessionError>(&*failed)) co_return std::move(*err);
      co_return Quiet{};
    }
  }
  for (int negotiations = 0;; ++negotiations) {
    auto packet = co_await read_startup_packet();
    if (auto* err = std::get_if<SessionError>(&packet)) co_return std::move(*err);
    if (std::holds_alternative<Quiet>(packet)) co_return Quiet{};
    auto& decoded = std::get<protocol::StartupPacket>(packet);
    if (auto* startup = std::get_if<protocol::StartupMessage>(&decoded)) co_return std::move(*startup);
    if (auto* cancel = std::get_if<protocol::CancelRequest>(&decoded)) {
      co_await forward_cancel(*cancel);
      co_return Quiet{};
    }
    if (negotiations >= k_max_negotiations) {
      co_return SessionError::make(sqlstate::protocol_violation, "too many encryption requests");
    }
    if (client_buffer_.unread().size() > 0) {
      // Bytes sent before our answer could be injected by a man in the middle
      // (CVE-2021-23214): refuse rather than interpret them.
      co_return SessionError::make(sqlstate::protocol_violation, "unexpected data after an encryption request");
    }
    if (client_.is_tls()) {
      co_return SessionError::make(sqlstate::protocol_violation, "encryption request on an encrypted connection");
    }
    if (std::holds_alternative<protocol::SslRequest>(decoded) &&
        worker_.shared().config->tls.client_mode != conf::ClientTlsMode::disable) {
      if (auto failed = co_await start_client_tls(false)) {
        if (auto* err = std::get_if<SessionError>(&*failed)) co_return std::move(*err);
        co_return Quiet{};
      }
      continue;
    }
    // GSSENCRequest (or SSLRequest with TLS off): 'N', and the client goes on in plaintext.
    const std::uint8_t no = 'N';
    auto [ec, n] = co_await asio::async_write(client_, asio::buffer(&no, 1), nothrow_awaitable);
    if (ec) co_return Quiet{};
  }
}

awaitable<bool> ClientSession::client_starts_with_tls() {
  if (worker_.shared().config->tls.client_mode == conf::ClientTlsMode::disable) co_return false;
  // Peek, so that OpenSSL reads the ClientHello itself from the socket.
  auto [wec] = co_await client_.socket().async_wait(tcp::socket::wait_read, nothrow_awaitable);
  if (wec) co_return false;
  std::uint8_t first = 0;
  error_code ec;
  const auto n = client_.socket().receive(asio::buffer(&first, 1), tcp::socket::message_peek, ec);
  co_return !ec && n == 1 && first == k_tls_handshake_record;
}

awaitable<std::optional<std::variant<SessionError, ClientSession::Quiet>>> ClientSession::start_client_tls(
    bool direct) {
  const auto contexts = worker_.shared().tls.get();
  if (!contexts || !contexts->clients) co_return Quiet{};
  if (!direct) {
    const std::uint8_t yes = 'S';
    auto [ec, n] = co_await asio::async_write(client_, asio::buffer(&yes, 1), nothrow_awaitable);
    if (ec) co_return Quiet{};
  }
  if (auto failed = co_await client_.accept_tls(contexts->clients.get())) {
    // Whatever the client sent before the handshake (plaintext injected after the SSLRequest)
    // fails the handshake here, so it is never read as protocol.
    log::info(tag_, ": closed: ", *failed);
    co_return Quiet{};
  }
  if (direct) {
    const unsigned char* alpn = nullptr;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(client_.ssl(), &alpn, &alpn_length);
    if (alpn_length == 0) {
      co_return SessionError::make(sqlstate::protocol_violation,
                                   "direct SSL connection established without ALPN protocol negotiation extension");
    }
  }
  log::debug(tag_, ": TLS ", SSL_get_version(client_.ssl()), " ", SSL_get_cipher_name(client_.ssl()),
             direct ? " (direct)" : "");
  co_return std::nullopt;
}

awaitable<std::variant<protocol::StartupPacket, SessionError, ClientSession::Quiet>>
ClientSession::read_startup_packet() {
  auto& buf = client_buffer_;
  std::optional<std::uint32_t> length;
  for (;;) {
    if (!length) {
      if (auto peeked = protocol::peek_startup_length(buf.unread())) {
        if (peeked->error) co_return SessionError::make(peeked->error->sqlstate, peeked->error->message);
        length = peeked->length;
        buf.reserve_unread(*length);
      }
    }
    if (length && buf.unread().size() >= *length) break;
    if (buf.free_space() == 0) buf.reserve_unread(buf.data.size() * 2);
    auto [ec, n] = co_await client_.async_read_some(
        asio::buffer(buf.data.data() + buf.end, buf.free_space()), nothrow_awaitable);
    if (ec) co_return Quiet{};  // the client went away before saying anything useful
    buf.end += n;
  }
  auto decoded = protocol::decode_startup(buf.unread().first(*length));
  buf.begin += *length;
  if (auto* err = std::get_if<protocol::StartupError>(&decoded)) {
    co_return SessionError::make(err->sqlstate, err->message);
  }
  co_return std::move(std::get<protocol::StartupPacket>(decoded));
}

awaitable<void> ClientSession::forward_cancel(const protocol::CancelRequest& request) {
  const auto target = worker_.shared().cancel_registry.find(request);
  if (!target) {
    log::debug(tag_, ": cancel request with an unknown key ignored");
    co_return;
  }
  // A named endpoint, not a temporary inside the co_await: GCC 12 destroys such temporaries
  // wrongly across the suspension (ASan: bad-free).
  const BackendEndpoint endpoint{"cancel target", target->host, target->port};
  const auto timeout = worker_.shared().config->proxy.backend_connect_timeout;
  const std::string error = co_await send_cancel_request(endpoint, target->backend_key, timeout);
  if (!error.empty()) {
    log::warn(tag_, ": could not forward cancel request: ", error);
    co_return;
  }
  log::info(tag_, ": cancel request forwarded to backend pid ", target->backend_key.process_id);
}

awaitable<ClientSession::LoginResult> ClientSession::authenticate(const protocol::StartupMessage& startup) {
  const auto& config = *worker_.shared().config;
  parameters_ = startup.parameters;
  user_ = *startup.find("user");
  const std::string* database = startup.find("database");
  database_ = database && !database->empty() ? *database : user_;
  tag_ = "C-" + std::to_string(id_) + " " + user_ + "@" + peer_ + " db=" + database_;

  if (startup.needs_negotiation()) {
    protocol::byte_buffer out;
    protocol::write_negotiate_protocol_version(out, startup);
    auto [ec, n] = co_await asio::async_write(client_, asio::buffer(out), nothrow_awaitable);
    if (ec) co_return Quiet{};
  }

  AccessFacts facts;
  facts.tls = client_.is_tls();
  facts.user = user_;
  facts.database = database_;
  error_code ec;
  const auto remote = client_.socket().remote_endpoint(ec);
  const auto local = client_.socket().local_endpoint(ec);
  if (!ec) {
    facts.host = remote.address().to_string();
    facts.address = mapped_address(remote.address());
    facts.local_address = mapped_address(local.address());
  }
  if (facts.tls) {
    facts.certificate_verified =
        SSL_get0_peer_certificate(client_.ssl()) != nullptr && SSL_get_verify_result(client_.ssl()) == X509_V_OK;
    facts.cert_cn = certificate_cn(client_.ssl());
  }
  auto access = check_access(config, facts);
  if (auto* err = std::get_if<SessionError>(&access)) co_return std::move(*err);
  const auto method = std::get<conf::AuthMethod>(access);

  std::optional<BackendEndpoint> primary;
  if (!config.auth.users.contains(user_) && config.auth.auth_user) {
    primary = co_await wait_for_primary(config.proxy.backend_connect_timeout);
  }
  auto secret = co_await lookup_secret(config, primary ? &*primary : nullptr, user_, database_,
                                       worker_.shared().tls.get());
  if (auto* err = std::get_if<SessionError>(&secret)) co_return std::move(*err);

  MessageReader reader(protocol::Direction::frontend, protocol::k_small_message_limit);
  ClientAuthRequest request{method, user_,
                                  std::get<std::optional<std::string>>(secret),
                                  worker_.shared().mock_secret, std::nullopt};
  if (client_.is_tls()) request.channel_binding = tls_server_end_point(SSL_get_certificate(client_.ssl()));
  reader.buffer() = std::move(client_buffer_);
  auto result = co_await authenticate_client(client_, reader, request, auth_reply_);
  client_buffer_ = std::move(reader.buffer());
  if (auto* creds = std::get_if<BackendCredentials>(&result)) co_return std::move(*creds);
  co_return std::move(std::get<SessionError>(result));
}

awaitable<std::optional<BackendEndpoint>> ClientSession::wait_for_primary(milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  asio::steady_timer poll(client_.get_executor());
  for (;;) {
    const auto& view = worker_.view();
    if (const auto* node = view->primary_node(); node && node->status == health::NodeStatus::up) {
      co_return BackendEndpoint{node->name, node->host, node->port};
    }
    if (shutting_down_ || std::chrono::steady_clock::now() >= deadline) co_return std::nullopt;
    poll.expires_after(milliseconds(50));
    co_await poll.async_wait(nothrow_awaitable);
  }
}

awaitable<std::optional<std::size_t>> ClientSession::choose_login_node(const std::vector<bool>& excluded) {
  const auto& config = *worker_.shared().config;
  const auto pick_standby = [this, &excluded]() -> std::optional<std::size_t> {
    ReadPolicy policy;
    policy.primary_reads = false;
    policy.max_lag = worker_.shared().config->load_balance.max_lag;
    policy.max_lag_bytes = worker_.shared().config->load_balance.max_lag_bytes;
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    SplitMix64 random(protocol::secure_random_value<std::uint64_t>());
    const auto choice = choose_reader(*worker_.view(), policy, nullptr, uniform(random), excluded);
    if (!choice.node || choice.fell_back_to_primary) return std::nullopt;
    return choice.node;
  };
  if (read_only_port_) co_return pick_standby();
  if (const auto primary = co_await wait_for_primary(config.proxy.backend_connect_timeout)) {
    const auto& view = *worker_.view();
    for (const auto& node : view.nodes) {
      if (node.name == primary->name && !(node.index < excluded.size() && excluded[node.index])) co_return node.index;
    }
  }
  // No primary (a failover, or start-up): serve reads from a standby meanwhile; writes wait
  // for a primary in the session loop.
  co_return pick_standby();
}

awaitable<std::optional<SessionError>> ClientSession::open_backend(const BackendCredentials& credentials) {
  std::vector<bool> excluded(worker_.view()->nodes.size(), false);
  for (std::size_t attempt = 0;; ++attempt) {
    auto failed = co_await try_login_node(credentials, excluded);
    if (!failed) co_return std::nullopt;
    // A node that refused the connection (a primary that just died, before the probes saw
    // it): tell main, and try the next best node rather than fail the client's login.
    if (!failed->second || attempt + 1 >= excluded.size() || shutting_down_) co_return std::move(failed->first);
    log::info(tag_, ": login via ", worker_.view()->nodes[*failed->second].name, " failed (", failed->first.message,
              "); trying another node");
    if (const auto& report = worker_.shared().report_backend_failure) report(*failed->second, failed->first.message);
    excluded[*failed->second] = true;
  }
}

awaitable<std::optional<std::pair<SessionError, std::optional<std::size_t>>>> ClientSession::try_login_node(
    const BackendCredentials& credentials, const std::vector<bool>& excluded) {
  using Failure = std::pair<SessionError, std::optional<std::size_t>>;
  const auto node = co_await choose_login_node(excluded);
  if (!node) {
    if (read_only_port_) {
      co_return Failure{SessionError::make(sqlstate::cannot_connect_now, "no standby server is available",
                                           "This is pgrouter's read-only port; it only uses hot standbys."),
                        std::nullopt};
    }
    co_return Failure{SessionError::make(sqlstate::cannot_connect_now, "no primary server is available",
                                         "pgrouter has not found a node that accepts writes."),
                      std::nullopt};
  }
  const auto& view_node = worker_.view()->nodes[*node];
  const BackendEndpoint endpoint{view_node.name, view_node.host, view_node.port};
  // Through the pool: a connection another session left (same user, database and startup
  // parameters), or a new login, or a wait for the node's budget.
  PoolRequest request{*node, pool_key(*node, parameters_), &parameters_, &credentials, tag_};
  auto acquired = co_await worker_.pool().acquire(std::move(request));
  if (auto* failure = std::get_if<PoolFailure>(&acquired)) {
    // The backend's own answer (a wrong password, a missing database) goes to the client as
    // it is; a connection that failed (refused, reset, timed out) names the node to skip.
    const bool node_failed = failure->node_failed;
    co_return Failure{std::move(failure->error), node_failed ? std::optional<std::size_t>(*node) : std::nullopt};
  }
  auto backend = std::move(std::get<std::unique_ptr<BackendLink>>(acquired));
  backend_name_ = endpoint.name;
  login_node_ = *node;

  cancel_key_ = worker_.shared().cancel_registry.issue_key();
  worker_.shared().cancel_registry.set_target(*cancel_key_, CancelTarget{endpoint.host, endpoint.port, backend->backend_key});

  protocol::byte_buffer out = std::exchange(auth_reply_, {});  // SCRAM's final message, if any
  protocol::write_authentication_ok(out);
  out.insert(out.end(), backend->login_status.begin(), backend->login_status.end());
  protocol::write_backend_key_data(out, *cancel_key_);
  protocol::write_ready_for_query(out, backend->transaction_status);
  auto [ec, n] = co_await asio::async_write(client_, asio::buffer(out), nothrow_awaitable);
  if (ec) {
    worker_.pool().release(std::move(backend), false);
    co_return Failure{SessionError::make(sqlstate::connection_failure, "client went away during login"), std::nullopt};
  }
  logged_in_ = true;
  log::info(tag_, ": session start on ", backend_name_, " (", endpoint.host, ":", endpoint.port, ", backend pid ",
            backend->backend_key.process_id, read_only_port_ ? ", read-only port)" : ")");
  login_ = std::move(backend);
  co_return std::nullopt;
}

SessionIdentity ClientSession::take_identity() {
  SessionIdentity identity;
  identity.tag = tag_;
  identity.parameters = std::move(parameters_);  // the loop's own from here on
  identity.credentials = std::move(credentials_);
  identity.cancel_key = *cancel_key_;
  identity.read_only_port = read_only_port_;
  return identity;
}

awaitable<void> ClientSession::serve() {
  SessionLoop loop(worker_, client_, client_buffer_, take_identity(), stats_);
  loop.adopt(std::move(login_));
  loop_ = &loop;
  co_await loop.run();
  auto& outcome = loop.outcome();
  loop_ = nullptr;
  if (shutting_down_) {
    outcome.reason = "pgrouter shutting down";
    outcome.tell_client = SessionError::make(sqlstate::admin_shutdown, "terminating connection due to administrator command");
  }
  const bool client_gone = outcome.end == SessionEnd::client_closed && !shutting_down_;
  if (outcome.tell_client && !client_gone) {
    error_code ec;
    client_.non_blocking(false, ec);
    co_await send_fatal(*outcome.tell_client);
  }
  finish(outcome.reason);
}

void ClientSession::finish(std::string_view reason) {
  log::info(tag_, ": session end after ", format_duration(std::chrono::steady_clock::now() - started_),
            " (", reason, "), client->server ", stats_.client_bytes, " bytes, server->client ",
            stats_.backend_bytes, " bytes");
}

awaitable<void> run_client_session(Worker& worker, tcp::socket client, bool read_only_port) {
  const auto id = worker.shared().next_session_id.fetch_add(1, std::memory_order_relaxed);
  co_await asio::this_coro::throw_if_cancelled(false);
  ClientSession session(worker, std::move(client), id, read_only_port);
  try {
    // (Not `if (co_await session.log_in())`: GCC 12 miscompiles that; log_in ran with a wrong
    // `this`.)
    const bool logged_in = co_await session.log_in();
    if (logged_in) co_await session.serve();
  } catch (const std::exception& e) {
    // Nothing in a session is expected to throw (errors are values); if something does,
    // this session ends and every other one carries on.
    log::error("C-", id, ": session ended by an unexpected exception: ", e.what());
  }
}

}  // namespace pgr::proxy
