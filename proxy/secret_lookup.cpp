// auth_file and auth_query secret lookup (see secret_lookup.hpp).
#include "proxy/secret_lookup.hpp"

#include "protocol/messages.hpp"
#include "proxy/message_reader.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

namespace {
namespace sqlstate = protocol::sqlstate;

SessionError lookup_failed(const std::string& why) {
  log::warn("auth_query failed: ", why);
  return SessionError::make(sqlstate::invalid_authorization_specification,
                            "authentication lookup failed", why);
}

// Runs auth_query over a logged-in connection; reads one row (usename, passwd).
awaitable<std::variant<std::optional<std::string>, SessionError>> run_auth_query(
    BackendLogin& login, const std::string& query, const std::string& user) {
  protocol::byte_buffer out;
  protocol::write_exec_params(out, query, {user});
  auto [wec, n] = co_await asio::async_write(login.socket, asio::buffer(out), nothrow_awaitable);
  if (wec) co_return lookup_failed("could not send auth_query: " + wec.message());

  MessageReader reader(protocol::Direction::backend, protocol::k_large_message_limit);
  reader.buffer() = std::move(login.buffer);
  std::optional<std::string> secret;
  std::optional<std::string> error;
  for (;;) {
    auto next = co_await reader.read(login.socket);
    if (std::holds_alternative<ReadFailure>(next)) co_return lookup_failed("connection lost during auth_query");
    const auto message = std::get<protocol::MessageView>(next);
    if (message.type == protocol::be::data_row) {
      const auto row = protocol::parse_data_row(message.body);
      if (!row || row->size() < 2) co_return lookup_failed("auth_query must return (usename, passwd)");
      if ((*row)[1]) secret = std::string(*(*row)[1]);
    } else if (message.type == protocol::be::error_response) {
      const auto fields = protocol::parse_error_response(message.body);
      error = fields ? fields->message : std::string("error");
    } else if (message.type == protocol::be::ready_for_query) {
      break;
    }
  }
  protocol::byte_buffer bye;
  protocol::write_terminate(bye);
  co_await asio::async_write(login.socket, asio::buffer(bye), nothrow_awaitable);
  if (error) co_return lookup_failed("auth_query: " + *error);
  co_return secret;
}
}  // namespace

awaitable<std::variant<std::optional<std::string>, SessionError>> lookup_secret(
    const conf::Config& config, const BackendEndpoint* primary, const std::string& user,
    const std::string& database, std::shared_ptr<const TlsContexts> shared_tls) {
  const auto& auth = config.auth;
  if (auto it = auth.users.find(user); it != auth.users.end()) co_return std::optional(it->second);
  if (!auth.auth_user) co_return std::optional<std::string>();
  if (primary == nullptr) co_return lookup_failed("no primary is available to run auth_query");

  BackendCredentials creds;
  creds.password = auth.auth_password;
  const StartupParameters params{{"user", *auth.auth_user}, {"database", database},
                                 {"application_name", "pgrouter-auth"}};
  const BackendTls tls{config.tls.server_mode, shared_tls};
  auto login = co_await login_to_backend(*primary, params, creds, config.proxy.backend_connect_timeout, tls);
  if (auto* err = std::get_if<SessionError>(&login)) {
    co_return lookup_failed("auth_user could not log in: " + err->message);
  }
  co_return co_await run_auth_query(std::get<BackendLogin>(login), auth.auth_query, user);
}

}  // namespace pgr::proxy
