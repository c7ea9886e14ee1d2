// primary_conninfo parsing and rewriting (see conninfo.hpp).
#include "failover/conninfo.hpp"

#include <algorithm>

namespace pgr::failover {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_blanks(std::string_view text, std::size_t& i) {
  while (i < text.size() && is_blank(text[i])) ++i;
}

bool needs_quotes(std::string_view value) {
  return value.empty() || std::any_of(value.begin(), value.end(), [](char c) {
           return is_blank(c) || c == '\'' || c == '\\' || c == '=';
         });
}

void set(ConninfoPairs& pairs, const std::string& key, const std::string& value) {
  const auto it = std::find_if(pairs.begin(), pairs.end(),
                               [&](const auto& p) { return p.first == key; });
  if (it == pairs.end()) {
    pairs.emplace_back(key, value);
  } else {
    it->second = value;
  }
}

bool has(const ConninfoPairs& pairs, const std::string& key) {
  return std::any_of(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; });
}

}  // namespace

std::optional<ConninfoPairs> parse_conninfo(std::string_view text) {
  ConninfoPairs pairs;
  std::size_t i = 0;
  while (true) {
    skip_blanks(text, i);
    if (i >= text.size()) break;
    std::string key;
    while (i < text.size() && !is_blank(text[i]) && text[i] != '=') key += text[i++];
    skip_blanks(text, i);
    if (key.empty() || i >= text.size() || text[i] != '=') return std::nullopt;
    ++i;
    skip_blanks(text, i);
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char c = text[i++];
        if (c == '\'') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= text.size()) return std::nullopt;
          value += text[i++];
        } else {
          value += c;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      while (i < text.size() && !is_blank(text[i])) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i++];
      }
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  return pairs;
}

std::string format_conninfo(const ConninfoPairs& pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    if (!needs_quotes(value)) {
      out += value;
      continue;
    }
    out += '\'';
    for (const char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

std::string repoint_conninfo(std::string_view old, const std::string& host, std::uint16_t port,
                             const RepointDefaults& defaults) {
  auto parsed = parse_conninfo(old);
  ConninfoPairs pairs = parsed ? std::move(*parsed) : ConninfoPairs{};
  std::erase_if(pairs, [](const auto& p) { return p.first == "hostaddr"; });
  set(pairs, "host", host);
  set(pairs, "port", std::to_string(port));
  if (!has(pairs, "user")) set(pairs, "user", defaults.user);
  if (!has(pairs, "password") && defaults.password) set(pairs, "password", *defaults.password);
  if (!has(pairs, "application_name") && !defaults.application_name.empty()) {
    set(pairs, "application_name", defaults.application_name);
  }
  return format_conninfo(pairs);
}

std::string sql_literal(std::string_view text) {
  const bool backslash = text.find('\\') != std::string_view::npos;
  std::string out = backslash ? "E'" : "'";
  for (const char c : text) {
    if (c == '\'' || (backslash && c == '\\')) out += c;
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace pgr::failover
