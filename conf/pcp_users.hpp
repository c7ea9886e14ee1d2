// The PCP users file: pgpool-II's pcp.conf format, one `user:md5hex` per line, where md5hex
// is the 32 hex digits of md5(password) as pg_md5 prints them. Lines starting with `#` and
// blank lines are skipped. The hashes are secrets: no error shows one.
//
// Thread rules: pure functions over text.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf {

struct PcpUsers {
  std::map<std::string, std::string> users;  // user -> lower-case md5 hex
  std::vector<ConfigError> errors;           // file = the users file, key = "pcp_users_file"
};

[[nodiscard]] PcpUsers parse_pcp_users(std::string_view text, const std::string& file_name);

}  // namespace pgr::conf
