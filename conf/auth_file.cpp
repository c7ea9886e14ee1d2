// The auth_file parser (PgBouncer userlist.txt format); see auth_file.hpp for the format.
#include "conf/auth_file.hpp"

#include <optional>

#include "conf/load_context.hpp"

namespace pgr::conf {

namespace {

constexpr std::string_view k_key = "auth_file";
constexpr std::string_view k_expected = "expected \"user\" \"secret\"";

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

void skip_blanks(std::string_view line, std::size_t& at) {
  while (at < line.size() && is_blank(line[at])) ++at;
}

// Reads one quoted string at `at` (which must be a `"`), undoubling `""`. On success `at`
// is just past the closing quote; on failure `problem` says why.
std::optional<std::string> read_quoted(std::string_view line, std::size_t& at,
                                       std::string& problem) {
  if (at >= line.size() || line[at] != '"') {
    problem = k_expected;
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = at + 1; i < line.size(); ++i) {
    if (line[i] != '"') {
      out += line[i];
    } else if (i + 1 < line.size() && line[i + 1] == '"') {
      out += '"';
      ++i;
    } else {
      at = i + 1;
      return out;
    }
  }
  problem = "unterminated quoted string";
  return std::nullopt;
}

struct Entry {
  std::string user;
  std::string secret;
};

// One non-comment line: the entry, or the problem with it (which never quotes the secret).
std::optional<Entry> parse_line(std::string_view line, std::string& problem) {
  std::size_t at = 0;
  skip_blanks(line, at);
  auto user = read_quoted(line, at, problem);
  if (!user) return std::nullopt;
  skip_blanks(line, at);
  auto secret = read_quoted(line, at, problem);
  if (!secret) return std::nullopt;
  skip_blanks(line, at);
  if (at != line.size()) {
    problem = "unexpected text after \"user\" \"secret\"";
    return std::nullopt;
  }
  if (user->empty()) {
    problem = "empty user name";
    return std::nullopt;
  }
  return Entry{std::move(*user), std::move(*secret)};
}

bool is_skipped(std::string_view line) {
  std::size_t at = 0;
  skip_blanks(line, at);
  return at == line.size() || line[at] == ';' || line[at] == '#';
}

}  // namespace

AuthFile parse_auth_file(std::string_view text, const std::string& file_name) {
  AuthFile out;
  std::map<std::string, int> first_line;  // user -> line, to name the earlier definition
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (is_skipped(line)) continue;

    std::string problem;
    auto entry = parse_line(line, problem);
    if (!entry) {
      out.errors.push_back({file_name, line_number, std::string(k_key), std::move(problem)});
      continue;
    }
    const auto [it, inserted] = first_line.emplace(entry->user, line_number);
    if (!inserted) {
      out.errors.push_back({file_name, line_number, std::string(k_key),
                            "duplicate user " + detail::quote_value(entry->user) +
                                " (first on line " + std::to_string(it->second) + ")"});
      continue;
    }
    out.users.emplace(std::move(entry->user), std::move(entry->secret));
  }
  return out;
}

AuthFile load_auth_file(const std::string& path) {
  auto file = detail::read_text_file(path);
  if (!file.ok) {
    AuthFile out;
    out.errors.push_back({path, 0, std::string(k_key), "cannot read: " + file.error});
    return out;
  }
  return parse_auth_file(file.text, path);
}

}  // namespace pgr::conf
