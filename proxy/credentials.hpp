// What pgrouter holds, after a client authenticated, to log in to backends as that user.
// Held in session memory only; never logged.
#pragma once

#include <optional>
#include <string>

#include "protocol/scram.hpp"

namespace pgr::proxy {

struct BackendCredentials {
  std::optional<std::string> password;                   // plain text (auth_file, or config)
  std::optional<std::string> md5_hash;                   // "md5" + 32 hex
  std::optional<protocol::ScramClientKeys> scram_keys;   // recovered from the client's proof
  bool operator==(const BackendCredentials&) const = default;
};

// The credentials a stored secret gives without any exchange (plain text or md5 hash).
BackendCredentials credentials_from_secret(const std::string& user, const std::string& secret);

}  // namespace pgr::proxy
