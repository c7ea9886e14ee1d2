// Finds a user's stored secret: first in the auth_file, then (if auth_user is set) with
// auth_query on the primary, over a short-lived connection logged in as auth_user.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "conf/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/backend_login.hpp"
#include "proxy/session_error.hpp"

namespace pgr::proxy {

// nullopt inside the variant: the user is unknown (or has no password).
awaitable<std::variant<std::optional<std::string>, SessionError>> lookup_secret(
    const conf::Config& config, const BackendEndpoint* primary, const std::string& user,
    const std::string& database, std::shared_ptr<const TlsContexts> shared_tls);

}  // namespace pgr::proxy
