// Access rules in pg_hba.conf syntax ([auth] hba_file): the parser and the matcher, pure.
//
//   # TYPE     DATABASE   USER        ADDRESS              METHOD
//   hostssl    app,other  alice,bob   10.0.0.0/8           scram-sha-256
//   host       all        all         127.0.0.1 255.255.255.255  md5
//   hostnossl  all        all         all                  reject
//
// Types: local, host, hostssl, hostnossl. DATABASE: all, sameuser or names; USER: all or
// names; comma lists, "quoted" names are literal. ADDRESS: CIDR (IPv4 or IPv6), an address
// and a mask, all, or samehost (the client connected from the address it connected to, or
// from loopback). Methods: trust, reject, md5, scram-sha-256, cert. Refused with a line
// error: +group, @file, samerole, replication, samenet, host names, options after the method.
// The first line that matches decides; none matching refuses the client (28000).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf {

struct HbaFile {
  std::vector<HbaRule> rules;
  std::vector<ConfigError> errors;  // file = the hba file, key = "hba_file"
};

// Parses the text of an hba file; `file_name` names it in errors.
[[nodiscard]] HbaFile parse_hba(std::string_view text, const std::string& file_name);

// What the matcher knows about a connection.
struct HbaRequest {
  bool local = false;  // a Unix socket
  bool tls = false;
  std::array<std::uint8_t, 16> address{};        // client, IPv4 as ::ffff:a.b.c.d
  std::array<std::uint8_t, 16> local_address{};  // the address the client connected to
  std::string_view database;
  std::string_view user;
};

// An address in HbaRequest form (IPv4 mapped into IPv6); nullopt when not numeric.
[[nodiscard]] std::optional<std::array<std::uint8_t, 16>> parse_hba_address(std::string_view text);

// The first rule that matches, or nullptr.
[[nodiscard]] const HbaRule* match_hba(const std::vector<HbaRule>& rules, const HbaRequest& request);

std::string_view to_string(HbaMethod method);

}  // namespace pgr::conf
