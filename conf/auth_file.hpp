// The auth_file: PgBouncer's userlist.txt format, one `"user" "secret"` per line.
//
//   "alice" "SCRAM-SHA-256$4096:...$...:..."   a SCRAM verifier
//   "bob"   "md5a3556571e93b0d20722ba62be61e8c2d"  an MD5 hash
//   "eve"   "plain text"                     ; a `"` inside a string is written `""`
//
// Lines starting (after blanks) with `;` or `#` are comments; blank lines are skipped; only
// blanks may follow the second string. Secrets are kept exactly as written and never appear
// in an error.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf {

struct AuthFile {
  std::map<std::string, std::string> users;  // user -> secret
  std::vector<ConfigError> errors;           // file = the auth file, key = "auth_file"
};

// Parses the text of an auth file; `file_name` names it in errors.
[[nodiscard]] AuthFile parse_auth_file(std::string_view text, const std::string& file_name);

// Reads and parses `path`; a file that cannot be read gives one error (line 0, OS message).
[[nodiscard]] AuthFile load_auth_file(const std::string& path);

}  // namespace pgr::conf
