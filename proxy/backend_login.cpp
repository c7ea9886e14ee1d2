// Logging in to a backend as the client's user (see backend_login.hpp).
#include "proxy/backend_login.hpp"

#include <unistd.h>

#include <optional>
#include <string>

#include "protocol/md5_auth.hpp"
#include "protocol/messages.hpp"
#include "protocol/scram.hpp"
#include "proxy/message_reader.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

namespace {

namespace sqlstate = protocol::sqlstate;
using namespace asio::experimental::awaitable_operators;

protocol::bytes_view framed_of(const protocol::MessageView& m) {
  return {m.body.data() - 5, m.body.size() + 5};
}

// "backend NAME (HOST:PORT)", as every error about a backend connection names it.
std::string backend_named(const BackendEndpoint& e) {
  return "backend " + e.name + " (" + e.host + ":" + std::to_string(e.port) + ")";
}

SessionError lost(const BackendEndpoint& e, std::string_view what) {
  return SessionError::make(sqlstate::connection_failure,
                            "lost connection to " + backend_named(e) + " " + std::string(what));
}

SessionError no_secret(std::string_view method) {
  return SessionError::make(
      sqlstate::invalid_authorization_specification,
      "pgrouter cannot answer the backend's " + std::string(method) +
          " authentication for this user",
      "Give pgrouter a secret for the user that the backend accepts (auth_file or auth_query).");
}

// Answers one authentication request; nullopt = carry on, else the error.
class BackendAuthenticator {
 public:
  BackendAuthenticator(const BackendCredentials& creds, const BackendEndpoint& endpoint,
                       const std::string& user)
      : creds_(creds), endpoint_(endpoint), user_(user) {}

  // The backend connection is TLS; `binding` is its tls-server-end-point data (the backend's
  // certificate hash), used when the backend offers SCRAM-SHA-256-PLUS.
  void use_tls(std::optional<std::string> binding) {
    tls_ = true;
    binding_ = std::move(binding);
  }

  // Appends the reply (if any) for `request` to `out`.
  std::optional<SessionError> answer(const protocol::AuthenticationRequest& request,
                                     protocol::byte_buffer& out) {
    using namespace protocol::auth_code;
    switch (request.code) {
      case ok: return std::nullopt;
      case cleartext_password:
        if (!creds_.password) return no_secret("password");
        protocol::write_password_message(out, *creds_.password);
        return std::nullopt;
      case md5_password: return answer_md5(request, out);
      case sasl: return start_scram(request, out);
      case sasl_continue: return continue_scram(request, out);
      case sasl_final: return finish_scram(request);
      default:
        return SessionError::make(sqlstate::feature_not_supported,
                                  "backend " + endpoint_.name +
                                      " asked for an authentication method pgrouter does not "
                                      "support (code " + std::to_string(request.code) + ")");
    }
  }

 private:
  std::optional<SessionError> answer_md5(const protocol::AuthenticationRequest& request,
                                         protocol::byte_buffer& out) {
    std::string hash;
    if (creds_.md5_hash) hash = *creds_.md5_hash;
    else if (creds_.password) hash = protocol::md5_stored_hash(user_, *creds_.password);
    else return no_secret("md5");
    protocol::write_password_message(out, protocol::md5_response_from_hash(hash, request.md5_salt));
    return std::nullopt;
  }

  std::optional<SessionError> start_scram(const protocol::AuthenticationRequest& request,
                                          protocol::byte_buffer& out) {
    bool offered = false;
    bool plus_offered = false;
    for (const auto& m : request.mechanisms) {
      offered = offered || m == protocol::k_scram_sha_256;
      plus_offered = plus_offered || m == protocol::k_scram_sha_256_plus;
    }
    const bool plus = plus_offered && tls_ && binding_;
    if (!offered && !plus) {
      return SessionError::make(sqlstate::feature_not_supported,
                                "backend " + endpoint_.name + " offers no SASL mechanism pgrouter supports");
    }
    if (creds_.password) {
      scram_.emplace(protocol::ScramClient::from_password(*creds_.password, protocol::scram_random_nonce()));
    } else if (creds_.scram_keys) {
      scram_.emplace(protocol::ScramClient::from_keys(*creds_.scram_keys, protocol::scram_random_nonce()));
    } else {
      return no_secret("SCRAM-SHA-256");
    }
    if (tls_) scram_->set_channel_binding(plus ? binding_ : std::nullopt);
    protocol::write_sasl_initial_response(out, plus ? protocol::k_scram_sha_256_plus : protocol::k_scram_sha_256,
                                          scram_->client_first());
    return std::nullopt;
  }

  std::optional<SessionError> continue_scram(const protocol::AuthenticationRequest& request,
                                             protocol::byte_buffer& out) {
    if (!scram_) return protocol_error("SASLContinue before SASL");
    auto reply = scram_->handle_server_first(request.data);
    if (auto* err = std::get_if<protocol::ScramError>(&reply)) {
      return SessionError::make(sqlstate::invalid_authorization_specification,
                                "SCRAM login to backend " + endpoint_.name + " failed: " + err->message);
    }
    protocol::write_sasl_response(out, std::get<std::string>(reply));
    return std::nullopt;
  }

  std::optional<SessionError> finish_scram(const protocol::AuthenticationRequest& request) {
    if (!scram_) return protocol_error("SASLFinal before SASL");
    if (auto err = scram_->handle_server_final(request.data)) {
      return SessionError::make(sqlstate::invalid_authorization_specification,
                                "backend " + endpoint_.name + " failed SCRAM server verification: " + err->message);
    }
    return std::nullopt;
  }

  SessionError protocol_error(std::string_view what) const {
    return SessionError::make(sqlstate::protocol_violation,
                              "backend " + endpoint_.name + " broke the protocol: " + std::string(what));
  }

  const BackendCredentials& creds_;
  const BackendEndpoint& endpoint_;
  const std::string& user_;
  bool tls_ = false;
  std::optional<std::string> binding_;
  std::optional<protocol::ScramClient> scram_;
};

// SSLRequest on a fresh connection, then TLS as the mode says (see login_to_backend).
awaitable<std::optional<SessionError>> negotiate_tls(Transport& transport, const BackendEndpoint& endpoint,
                                                    const BackendTls& tls) {
  const auto fail = [&](std::string what) {
    return SessionError::make(sqlstate::connection_failure, "TLS with " + backend_named(endpoint) + " failed: " + what);
  };
  protocol::byte_buffer out;
  protocol::write_ssl_request(out);
  auto [wec, wn] = co_await asio::async_write(transport, asio::buffer(out), nothrow_awaitable);
  if (wec) co_return lost(endpoint, "while asking for TLS: " + wec.message());
  std::uint8_t answer = 0;
  auto [rec, rn] = co_await asio::async_read(transport, asio::buffer(&answer, 1), nothrow_awaitable);
  if (rec) co_return lost(endpoint, "while asking for TLS: " + rec.message());
  if (answer == 'N') {
    if (tls.mode == conf::ServerTlsMode::prefer) co_return std::nullopt;
    co_return fail("the server does not accept TLS");
  }
  if (answer != 'S') {
    // An 'E' here may come from a man in the middle: never parsed, never trusted.
    co_return fail("the server answered the TLS request with '" + std::string(1, static_cast<char>(answer)) + "'");
  }
  error_code ec;
  if (transport.socket().available(ec) > 0) {
    // Bytes before the handshake cannot come from an honest server (CVE-2021-23222).
    co_return fail("unexpected data after the server accepted TLS");
  }
  if (auto err = co_await transport.connect_tls(tls.contexts->backends.get(), endpoint.host,
                                                tls.mode == conf::ServerTlsMode::verify_full)) {
    co_return fail(*err);
  }
  co_return std::nullopt;
}

awaitable<std::variant<BackendLogin, SessionError>> login_unbounded(
    const BackendEndpoint& endpoint, const StartupParameters& parameters,
    const BackendCredentials& credentials, const BackendTls& tls) {
  co_await asio::this_coro::throw_if_cancelled(false);
  auto connected = co_await connect_to_backend(endpoint);
  if (auto* err = std::get_if<SessionError>(&connected)) co_return std::move(*err);
  BackendLogin login{Transport(std::move(std::get<tcp::socket>(connected))), {}, {}, {}, 'I'};
  if (tls.mode != conf::ServerTlsMode::disable && tls.contexts && tls.contexts->backends) {
    if (auto err = co_await negotiate_tls(login.socket, endpoint, tls)) co_return std::move(*err);
  }

  protocol::byte_buffer out;
  protocol::write_startup_message(out, parameters);
  std::string user;
  for (const auto& [k, v] : parameters) if (k == "user") user = v;
  BackendAuthenticator auth(credentials, endpoint, user);
  if (login.socket.is_tls()) auth.use_tls(tls_server_end_point(SSL_get0_peer_certificate(login.socket.ssl())));
  MessageReader reader(protocol::Direction::backend, protocol::k_large_message_limit);

  for (;;) {
    if (!out.empty()) {
      auto [wec, n] = co_await asio::async_write(login.socket, asio::buffer(out), nothrow_awaitable);
      if (wec) co_return lost(endpoint, "while logging in: " + wec.message());
      out.clear();
    }
    auto next = co_await reader.read(login.socket);
    if (auto* failure = std::get_if<ReadFailure>(&next)) {
      co_return lost(endpoint, failure->io ? "while logging in: " + failure->io.message()
                                           : "while logging in: malformed message");
    }
    const auto message = std::get<protocol::MessageView>(next);
    switch (message.type) {
      case protocol::be::authentication: {
        const auto request = protocol::parse_authentication(message.body);
        if (!request) co_return lost(endpoint, "with a malformed authentication request");
        if (auto err = auth.answer(*request, out)) co_return std::move(*err);
        break;
      }
      case protocol::be::error_response: {
        SessionError relayed;
        const auto framed = framed_of(message);
        relayed.relayed.assign(framed.begin(), framed.end());
        if (auto fields = protocol::parse_error_response(message.body)) {
          relayed.sqlstate = fields->sqlstate;
          relayed.message = fields->message;
        }
        co_return relayed;
      }
      case protocol::be::parameter_status:
      case protocol::be::notice_response: {
        const auto framed = framed_of(message);
        login.status_messages.insert(login.status_messages.end(), framed.begin(), framed.end());
        break;
      }
      case protocol::be::backend_key_data: {
        const auto key = protocol::parse_backend_key_data(message.body);
        if (!key) co_return lost(endpoint, "with a malformed BackendKeyData");
        login.backend_key = *key;
        break;
      }
      case protocol::be::negotiate_protocol_version:
        break;  // we ask for 3.0 with no options, so there is nothing to downgrade
      case protocol::be::ready_for_query: {
        const auto status = protocol::parse_ready_for_query(message.body);
        login.transaction_status = status.value_or('I');
        login.buffer = std::move(reader.buffer());
        co_return std::move(login);
      }
      default:
        co_return lost(endpoint, std::string("with unexpected message '") + message.type + "' during login");
    }
  }
}

// Asio's epoll reactor adds EPOLLOUT to a descriptor's registration for the connect's wait and
// never takes it out. Every later read wait re-arms the descriptor with that mask, and a
// socket that is writable (nearly always) then reports at once: a wasted wake-up of the worker
// for each wait on each backend connection, that is per transaction. Handing the descriptor
// to a fresh registration starts it without EPOLLOUT. Nothing may be pending on the socket.
std::optional<std::string> drop_connect_registration(tcp::socket& socket) {
  error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return ec.message();
  const auto fd = socket.release(ec);
  if (ec) return ec.message();
  socket.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return ec.message();
  }
  return std::nullopt;
}

}  // namespace

awaitable<std::variant<tcp::socket, SessionError>> connect_to_backend(const BackendEndpoint& e) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  error_code ec;
  const auto address = asio::ip::make_address(e.host, ec);
  if (!ec) {
    std::tie(ec) = co_await socket.async_connect(tcp::endpoint(address, e.port), nothrow_awaitable);
  } else {
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(e.host, std::to_string(e.port), nothrow_awaitable);
    ec = rec;
    if (!ec) {
      tcp::endpoint chosen;
      std::tie(ec, chosen) = co_await asio::async_connect(socket, results, nothrow_awaitable);
    }
  }
  if (ec) {
    co_return SessionError::make(sqlstate::connection_failure,
                                 "could not connect to " + backend_named(e) + ": " + ec.message());
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (auto error = drop_connect_registration(socket)) {
    co_return SessionError::make(sqlstate::connection_failure,
                                 "could not set up the connection to " + backend_named(e) + ": " + *error);
  }
  co_return std::move(socket);
}

BackendCredentials credentials_from_secret(const std::string& user, const std::string& secret) {
  (void)user;
  BackendCredentials c;
  if (protocol::is_md5_stored_hash(secret)) c.md5_hash = secret;
  else if (!protocol::parse_scram_verifier(secret)) c.password = secret;
  return c;
}

awaitable<std::variant<BackendLogin, SessionError>> login_to_backend(
    const BackendEndpoint& endpoint, const StartupParameters& parameters,
    const BackendCredentials& credentials, std::chrono::milliseconds timeout, const BackendTls& tls) {
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  auto result = co_await (login_unbounded(endpoint, parameters, credentials, tls) ||
                          deadline.async_wait(nothrow_awaitable));
  if (std::holds_alternative<timer_fired>(result)) {
    co_return SessionError::make(sqlstate::connection_failure,
                                 "timed out connecting to " + backend_named(endpoint) + " after " +
                                     std::to_string(timeout.count()) + " ms");
  }
  if (auto* login = std::get_if<BackendLogin>(&result)) co_return std::move(*login);
  co_return std::move(std::get<SessionError>(result));
}

namespace {

awaitable<std::string> send_cancel_unbounded(const BackendEndpoint& endpoint,
                                             protocol::CancelRequest key) {
  auto connected = co_await connect_to_backend(endpoint);
  if (auto* err = std::get_if<SessionError>(&connected)) co_return err->message;
  auto& socket = std::get<tcp::socket>(connected);
  protocol::byte_buffer out;
  protocol::write_cancel_request(out, key);
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), nothrow_awaitable);
  (void)n;
  if (ec) co_return ec.message();
  // The server closes the connection once it has read the request.
  std::uint8_t drain = 0;
  co_await socket.async_read_some(asio::buffer(&drain, 1), nothrow_awaitable);
  co_return std::string();
}

}  // namespace

awaitable<std::string> send_cancel_request(const BackendEndpoint& endpoint,
                                           const protocol::CancelRequest& key,
                                           std::chrono::milliseconds timeout) {
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  auto result = co_await (send_cancel_unbounded(endpoint, key) ||
                          deadline.async_wait(nothrow_awaitable));
  if (std::holds_alternative<timer_fired>(result)) {
    co_return "timed out after " + std::to_string(timeout.count()) + " ms";
  }
  co_return std::move(std::get<std::string>(result));
}

}  // namespace pgr::proxy
