// Who may log in, decided before authentication from what the connection shows: [tls]
// client_mode = require, client certificates (client_cert = verify-full, hba method cert) and
// the [auth] hba_file rules. Pure: the session gathers the facts, this returns the method the
// client authenticates with or the refusal (SQLSTATE 28000, PostgreSQL's wording).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "conf/config.hpp"
#include "proxy/session_error.hpp"

namespace pgr::proxy {

struct AccessFacts {
  std::string host;  // the client's address as text, for messages
  std::array<std::uint8_t, 16> address{};
  std::array<std::uint8_t, 16> local_address{};
  bool tls = false;
  bool certificate_verified = false;    // a client certificate was presented and verified
  std::optional<std::string> cert_cn;   // its common name
  std::string user;
  std::string database;
};

[[nodiscard]] std::variant<conf::AuthMethod, SessionError> check_access(const conf::Config& config,
                                                                       const AccessFacts& facts);

}  // namespace pgr::proxy
