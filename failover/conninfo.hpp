// primary_conninfo rewriting for repointing a standby: parse libpq's keyword=value connection
// string, replace where it connects, write it back. Everything else the operator put there
// (user, password, application_name, sslmode, ...) is kept as it was. Pure: text in, text out.
//
// Thread rules: free functions over values; callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgr::failover {

using ConninfoPairs = std::vector<std::pair<std::string, std::string>>;

// libpq's keyword/value format: `key = value` pairs separated by blanks; a value is a bare
// word or in single quotes with \' and \\ escapes. nullopt when malformed (a URI is not
// accepted: pgrouter then writes a fresh one).
[[nodiscard]] std::optional<ConninfoPairs> parse_conninfo(std::string_view text);
// Values quoted only when needed (empty, blanks, quotes or backslashes).
[[nodiscard]] std::string format_conninfo(const ConninfoPairs& pairs);

struct RepointDefaults {
  std::string user;                     // used when the old conninfo names none
  std::optional<std::string> password;  // likewise
  std::string application_name;         // likewise: the standby's node name
};

// The standby's primary_conninfo pointing at host:port: `old` with host and port replaced
// (hostaddr dropped: it would override host), or, when `old` is empty or unparsable, a new
// one from `defaults`.
[[nodiscard]] std::string repoint_conninfo(std::string_view old, const std::string& host,
                                           std::uint16_t port, const RepointDefaults& defaults);

// `text` as an SQL string literal: '...' with ' doubled; E'...' with \ doubled too when it
// holds a backslash (so the meaning does not depend on standard_conforming_strings).
[[nodiscard]] std::string sql_literal(std::string_view text);

}  // namespace pgr::failover
