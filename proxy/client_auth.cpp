// Client authentication, server role (see client_auth.hpp).
#include "proxy/client_auth.hpp"

#include <array>

#include "protocol/md5_auth.hpp"
#include "protocol/messages.hpp"
#include "protocol/scram.hpp"
#include "protocol/secure_random.hpp"

namespace pgr::proxy {

namespace {

namespace sqlstate = protocol::sqlstate;
constexpr int k_scram_iterations = 4096;

SessionError bad_password(const std::string& user) {
  return SessionError::make(sqlstate::invalid_password,
                            "password authentication failed for user \"" + user + "\"");
}

SessionError protocol_violation(std::string message) {
  return SessionError::make(sqlstate::protocol_violation, std::move(message));
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  protocol::secure_random(std::span(reinterpret_cast<std::uint8_t*>(out.data()), n));
  return out;
}

awaitable<error_code> send(Transport& socket, const protocol::byte_buffer& out) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), nothrow_awaitable);
  co_return ec;
}

// Reads the client's next password-family message ('p'); anything else ends the exchange.
awaitable<std::variant<protocol::MessageView, SessionError>> read_password_message(
    Transport& client, MessageReader& reader) {
  auto next = co_await reader.read(client);
  if (auto* failure = std::get_if<ReadFailure>(&next)) {
    if (failure->io) co_return SessionError::make(sqlstate::connection_failure, "client closed the connection during authentication");
    co_return protocol_violation(std::string("invalid message during authentication: ") +
                                 std::string(protocol::describe(failure->framing)));
  }
  const auto message = std::get<protocol::MessageView>(next);
  if (message.type != protocol::fe::password) {
    co_return protocol_violation(std::string("expected password response, got message type ") + message.type);
  }
  co_return message;
}

awaitable<std::variant<BackendCredentials, SessionError>> run_scram(
    Transport& client, MessageReader& reader, const ClientAuthRequest& request,
    const protocol::ScramVerifier& verifier, bool can_succeed, protocol::byte_buffer& deferred) {
  protocol::byte_buffer out;
  std::vector<std::string> mechanisms;
  if (request.channel_binding) mechanisms.emplace_back(protocol::k_scram_sha_256_plus);
  mechanisms.emplace_back(protocol::k_scram_sha_256);
  protocol::write_authentication_sasl(out, mechanisms);
  if (auto ec = co_await send(client, out)) co_return SessionError::make(sqlstate::connection_failure, ec.message());

  auto first = co_await read_password_message(client, reader);
  if (auto* err = std::get_if<SessionError>(&first)) co_return std::move(*err);
  const auto initial = protocol::parse_sasl_initial_response(std::get<protocol::MessageView>(first).body);
  if (!initial) co_return protocol_violation("malformed SASLInitialResponse message");
  const bool plus = request.channel_binding && initial->mechanism == protocol::k_scram_sha_256_plus;
  if (initial->mechanism != protocol::k_scram_sha_256 && !plus) {
    co_return protocol_violation("client selected an invalid SASL authentication mechanism");
  }
  protocol::ScramServer server(verifier, protocol::scram_random_nonce());
  if (request.channel_binding) server.set_channel_binding(*request.channel_binding, plus);
  auto server_first = server.handle_client_first(initial->data);
  if (auto* err = std::get_if<protocol::ScramError>(&server_first)) co_return protocol_violation(err->message);
  out.clear();
  protocol::write_authentication_sasl_continue(out, std::get<std::string>(server_first));
  if (auto ec = co_await send(client, out)) co_return SessionError::make(sqlstate::connection_failure, ec.message());

  auto final_message = co_await read_password_message(client, reader);
  if (auto* err = std::get_if<SessionError>(&final_message)) co_return std::move(*err);
  auto server_final = server.handle_client_final(
      protocol::parse_sasl_response(std::get<protocol::MessageView>(final_message).body));
  if (auto* err = std::get_if<protocol::ScramError>(&server_final)) {
    if (err->bad_password) co_return bad_password(request.user);
    co_return protocol_violation(err->message);
  }
  if (!can_succeed) co_return bad_password(request.user);
  protocol::write_authentication_sasl_final(deferred, std::get<std::string>(server_final));

  BackendCredentials creds = credentials_from_secret(request.user, *request.secret);
  if (!creds.password) {
    creds.scram_keys = protocol::ScramClientKeys{server.client_key(), verifier.server_key,
                                                 verifier.salt, verifier.iterations};
  }
  co_return creds;
}

awaitable<std::variant<BackendCredentials, SessionError>> run_md5(
    Transport& client, MessageReader& reader, const ClientAuthRequest& request,
    const std::string& stored_hash, bool can_succeed) {
  std::array<std::uint8_t, 4> salt{};
  const auto salt_bytes = random_bytes(salt.size());
  for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<std::uint8_t>(salt_bytes[i]);
  protocol::byte_buffer out;
  protocol::write_authentication_md5(out, salt);
  if (auto ec = co_await send(client, out)) co_return SessionError::make(sqlstate::connection_failure, ec.message());

  auto reply = co_await read_password_message(client, reader);
  if (auto* err = std::get_if<SessionError>(&reply)) co_return std::move(*err);
  const auto response = protocol::parse_password_message(std::get<protocol::MessageView>(reply).body);
  if (!response) co_return protocol_violation("malformed password message");
  if (!can_succeed || !protocol::md5_check_response(stored_hash, salt, *response)) {
    co_return bad_password(request.user);
  }
  co_return credentials_from_secret(request.user, *request.secret);
}

}  // namespace

awaitable<std::variant<BackendCredentials, SessionError>> authenticate_client(
    Transport& client, MessageReader& reader, const ClientAuthRequest& request, protocol::byte_buffer& deferred) {
  const bool known = request.secret.has_value() && !request.secret->empty();
  if (request.method == conf::AuthMethod::trust) {
    co_return known ? credentials_from_secret(request.user, *request.secret) : BackendCredentials{};
  }
  const std::string secret = known ? *request.secret : std::string();
  const auto verifier = known ? protocol::parse_scram_verifier(secret) : std::nullopt;
  const bool md5_secret = known && protocol::is_md5_stored_hash(secret);

  if (request.method == conf::AuthMethod::md5 && !verifier) {
    // md5 with an md5 hash or a plain password; an unknown user gets a challenge it cannot meet.
    const std::string hash = md5_secret ? secret
                                        : protocol::md5_stored_hash(request.user, known ? secret : random_bytes(16));
    co_return co_await run_md5(client, reader, request, hash, known);
  }
  if (verifier) co_return co_await run_scram(client, reader, request, *verifier, true, deferred);
  if (known && !md5_secret) {
    const auto from_plain = protocol::scram_verifier_from_password(secret, random_bytes(16), k_scram_iterations);
    co_return co_await run_scram(client, reader, request, from_plain, true, deferred);
  }
  // Unknown user, or an md5 secret where SCRAM is required: a mock exchange that fails the
  // same way a wrong password does, so the reply reveals nothing about the user.
  co_return co_await run_scram(client, reader, request,
                               protocol::scram_mock_verifier(request.user, request.mock_secret), false, deferred);
}

}  // namespace pgr::proxy
