// The PCP users file (see pcp_users.hpp).
#include "conf/pcp_users.hpp"

#include <cctype>

namespace pgr::conf {

namespace {

bool is_md5_hex(std::string_view text) {
  if (text.size() != 32) return false;
  for (const char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

PcpUsers parse_pcp_users(std::string_view text, const std::string& file_name) {
  PcpUsers out;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') continue;
    const auto error = [&](std::string problem) {
      out.errors.push_back({file_name, line_number, "pcp_users_file", std::move(problem)});
    };
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error("expected \"user:md5hex\"");
      continue;
    }
    const auto user = line.substr(0, colon);
    const auto hash = line.substr(colon + 1);
    if (!is_md5_hex(hash)) {
      error("the password of \"" + std::string(user) +
            "\" is not 32 hex digits (use pg_md5 PASSWORD to make one)");
      continue;
    }
    if (!out.users.emplace(std::string(user), lower(hash)).second) {
      error("user \"" + std::string(user) + "\" appears twice");
    }
  }
  return out;
}

}  // namespace pgr::conf
