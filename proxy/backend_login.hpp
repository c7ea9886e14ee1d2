// pgrouter logging in to a backend as a client: TCP connect, StartupMessage, the backend's
// authentication challenge answered from BackendCredentials (cleartext, md5, or SCRAM from
// recovered keys), then ParameterStatus/BackendKeyData until ReadyForQuery.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "conf/config.hpp"
#include "protocol/startup.hpp"
#include "proxy/asio.hpp"
#include "proxy/credentials.hpp"
#include "proxy/session_error.hpp"
#include "proxy/stream_buffer.hpp"
#include "proxy/tls_context.hpp"
#include "proxy/transport.hpp"

namespace pgr::proxy {

struct BackendEndpoint {
  std::string name;  // the node's name, for logs and errors
  std::string host;
  std::uint16_t port = 0;
};

struct BackendLogin {
  Transport socket;
  StreamBuffer buffer;                    // bytes read past ReadyForQuery (relay them)
  protocol::byte_buffer status_messages;  // framed ParameterStatus/NoticeResponse to relay
  protocol::CancelRequest backend_key;
  char transaction_status = 'I';
};

// TCP connect with TCP_NODELAY: a numeric host directly, a name through the resolver.
// Unbounded: callers race it with their own deadline.
awaitable<std::variant<tcp::socket, SessionError>> connect_to_backend(const BackendEndpoint& endpoint);

// Sends a CancelRequest for the backend process `key` names, within `timeout`; "" when it
// went out, else why not. The server acts on it and closes; a stale key is ignored there.
awaitable<std::string> send_cancel_request(const BackendEndpoint& endpoint,
                                           const protocol::CancelRequest& key,
                                           std::chrono::milliseconds timeout);

using StartupParameters = std::vector<std::pair<std::string, std::string>>;

// [tls] server_mode and the contexts of the moment, for one login.
struct BackendTls {
  conf::ServerTlsMode mode = conf::ServerTlsMode::disable;
  std::shared_ptr<const TlsContexts> contexts;
};

// Connects (with TLS as `tls` says: SSLRequest, then the handshake; 'N' is accepted only by
// prefer, and an 'E' answer or bytes after 'S' fail the connection) and logs in, all within
// `timeout`. Errors the backend sent come back as a SessionError carrying the backend's own
// ErrorResponse.
awaitable<std::variant<BackendLogin, SessionError>> login_to_backend(
    const BackendEndpoint& endpoint, const StartupParameters& parameters,
    const BackendCredentials& credentials, std::chrono::milliseconds timeout, const BackendTls& tls);

}  // namespace pgr::proxy
