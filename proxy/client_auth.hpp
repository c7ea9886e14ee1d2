// pgrouter authenticating a client as a server would: SCRAM-SHA-256 (recovering ClientKey
// for pass-through to backends), md5, or trust, against the user's stored secret.
// Rules follow PostgreSQL's: an unknown user goes through the same exchange as a known one
// (with a mock verifier) and fails with the same message as a wrong password; method md5
// with a SCRAM secret uses SCRAM; method scram-sha-256 with an md5 secret fails.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "conf/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/credentials.hpp"
#include "proxy/message_reader.hpp"
#include "proxy/session_error.hpp"

namespace pgr::proxy {

struct ClientAuthRequest {
  conf::AuthMethod method = conf::AuthMethod::scram_sha_256;
  std::string user;
  std::optional<std::string> secret;  // nullopt: unknown user
  std::string mock_secret;            // per-process random, for unknown users' fake salt
  // TLS: the tls-server-end-point data of pgrouter's certificate; SCRAM-SHA-256-PLUS is
  // offered and a client that selects it binds to this.
  std::optional<std::string> channel_binding;
};

// Runs the exchange. On success the client has been sent everything up to AuthenticationOk
// except SCRAM's last message (AuthenticationSASLFinal), which is appended to `deferred`: the
// session sends it in one write with AuthenticationOk, once a backend accepted the login, as
// PostgreSQL sends the two (it flushes after neither). A write of its own would cost the
// client a wake-up per login, as libpq reads the SASL final and then waits again.
awaitable<std::variant<BackendCredentials, SessionError>> authenticate_client(
    Transport& client, MessageReader& reader, const ClientAuthRequest& request, protocol::byte_buffer& deferred);

}  // namespace pgr::proxy
