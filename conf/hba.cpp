// pg_hba.conf-style access rules: parsing and matching (see hba.hpp).
#include "conf/hba.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "conf/load_context.hpp"

namespace pgr::conf {

namespace {

struct Token {
  std::string text;
  bool quoted = false;  // some part was quoted: never a keyword
};

// Splits a line into fields (blank-separated, "..." quoting, # starts a comment); each field
// is then a comma list of items. Returns false on an unterminated quote.
bool split_fields(std::string_view line, std::vector<std::vector<Token>>& fields) {
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size() || line[i] == '#') break;
    std::vector<Token> items(1);
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '#') {
      if (line[i] == '"') {
        const auto close = line.find('"', i + 1);
        if (close == std::string_view::npos) return false;
        items.back().text.append(line.substr(i + 1, close - i - 1));
        items.back().quoted = true;
        i = close + 1;
      } else if (line[i] == ',') {
        items.emplace_back();
        ++i;
      } else {
        items.back().text.push_back(line[i++]);
      }
    }
    fields.push_back(std::move(items));
  }
  return true;
}

bool keyword(const Token& t, std::string_view word) { return !t.quoted && t.text == word; }

std::string quoted(std::string_view text) { return detail::quote_value(text, 64); }

// Fills a prefix-length mask (0..128) into `mask`.
void prefix_mask(int bits, std::array<std::uint8_t, 16>& mask) {
  mask.fill(0);
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    mask[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
  }
}

class LineParser {
 public:
  LineParser(const std::string& file, int line, std::vector<ConfigError>& errors)
      : file_(file), line_(line), errors_(errors) {}

  std::optional<HbaRule> parse(std::vector<std::vector<Token>>& fields) {
    HbaRule rule;
    rule.line = line_;
    const auto& type = single(fields[0], "connection type");
    if (!type) return std::nullopt;
    if (*type == "local") rule.type = HbaType::local;
    else if (*type == "host") rule.type = HbaType::host;
    else if (*type == "hostssl") rule.type = HbaType::hostssl;
    else if (*type == "hostnossl") rule.type = HbaType::hostnossl;
    else if (*type == "hostgssenc" || *type == "hostnogssenc") return fail("GSSAPI encryption is not supported: " + *type);
    else return fail("invalid connection type " + quoted(*type));
    const std::size_t needed = rule.type == HbaType::local ? 4 : 5;
    if (fields.size() < needed) return fail("end-of-line before the authentication method");
    if (!databases(fields[1], rule) || !users(fields[2], rule)) return std::nullopt;
    std::size_t next = 3;
    if (rule.type != HbaType::local && !address(fields, next, rule)) return std::nullopt;
    if (next >= fields.size()) return fail("end-of-line before the authentication method");
    const auto method = single(fields[next], "authentication method");
    if (!method) return std::nullopt;
    if (*method == "trust") rule.method = HbaMethod::trust;
    else if (*method == "reject") rule.method = HbaMethod::reject;
    else if (*method == "md5") rule.method = HbaMethod::md5;
    else if (*method == "scram-sha-256") rule.method = HbaMethod::scram_sha_256;
    else if (*method == "cert") rule.method = HbaMethod::cert;
    else return fail("unsupported authentication method " + quoted(*method));
    if (rule.method == HbaMethod::cert && rule.type != HbaType::hostssl) {
      return fail("cert authentication is only supported on hostssl lines");
    }
    if (next + 1 < fields.size()) return fail("authentication options are not supported");
    return rule;
  }

 private:
  std::nullopt_t fail(std::string problem) {
    errors_.push_back(ConfigError{file_, line_, "hba_file", std::move(problem)});
    return std::nullopt;
  }

  std::optional<std::string> single(const std::vector<Token>& items, std::string_view what) {
    if (items.size() != 1 || items[0].text.empty()) {
      fail("expected one " + std::string(what) + ", not a list");
      return std::nullopt;
    }
    return items[0].text;
  }

  bool databases(const std::vector<Token>& items, HbaRule& rule) {
    for (const auto& item : items) {
      if (item.text.empty()) return (fail("empty database name"), false);
      if (keyword(item, "all")) rule.any_database = true;
      else if (keyword(item, "sameuser")) rule.same_user_database = true;
      else if (!item.quoted && (item.text == "samerole" || item.text == "samegroup" || item.text == "replication"))
        return (fail("database keyword " + quoted(item.text) + " is not supported"), false);
      else if (!item.quoted && item.text.front() == '@') return (fail("@file inclusion is not supported"), false);
      else rule.databases.push_back(item.text);
    }
    return true;
  }

  bool users(const std::vector<Token>& items, HbaRule& rule) {
    for (const auto& item : items) {
      if (item.text.empty()) return (fail("empty user name"), false);
      if (keyword(item, "all")) rule.any_user = true;
      else if (!item.quoted && item.text.front() == '+') return (fail("group membership (+role) is not supported"), false);
      else if (!item.quoted && item.text.front() == '@') return (fail("@file inclusion is not supported"), false);
      else rule.users.push_back(item.text);
    }
    return true;
  }

  bool address(const std::vector<std::vector<Token>>& fields, std::size_t& next, HbaRule& rule) {
    const auto text = single(fields[next], "address");
    if (!text) return false;
    ++next;
    if (*text == "all") {
      rule.any_address = true;
      return true;
    }
    if (*text == "samehost") {
      rule.samehost = true;
      return true;
    }
    if (*text == "samenet") return (fail("samenet is not supported"), false);
    const auto slash = text->find('/');
    const auto addr = parse_hba_address(std::string_view(*text).substr(0, slash));
    if (!addr) return (fail("invalid IP address " + quoted(*text) + " (host names are not supported)"), false);
    rule.address = *addr;
    const bool v4 = text->find(':') == std::string::npos;
    if (slash != std::string::npos) {
      const std::string_view bits_text = std::string_view(*text).substr(slash + 1);
      int bits = -1;
      const auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
      if (ec != std::errc() || end != bits_text.data() + bits_text.size() || bits < 0 || bits > (v4 ? 32 : 128)) {
        return (fail("invalid CIDR mask in address " + quoted(*text)), false);
      }
      prefix_mask(v4 ? bits + 96 : bits, rule.mask);
    } else {
      // "address mask" in two fields.
      if (next >= fields.size()) return (fail("end-of-line before the netmask"), false);
      const auto mask_text = single(fields[next], "netmask");
      if (!mask_text) return false;
      const auto mask = parse_hba_address(*mask_text);
      if (!mask || (mask_text->find(':') == std::string::npos) != v4) {
        return (fail("invalid IP mask " + quoted(*mask_text)), false);
      }
      rule.mask = *mask;
      if (v4) std::fill(rule.mask.begin(), rule.mask.begin() + 12, 0xff);
      ++next;
    }
    for (std::size_t i = 0; i < 16; ++i) rule.address[i] &= rule.mask[i];
    return true;
  }

  const std::string& file_;
  int line_;
  std::vector<ConfigError>& errors_;
};

bool in_list(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool is_loopback(const std::array<std::uint8_t, 16>& a) {
  static constexpr std::array<std::uint8_t, 16> v6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const bool v4 = std::all_of(a.begin(), a.begin() + 10, [](auto b) { return b == 0; }) && a[10] == 0xff &&
                  a[11] == 0xff && a[12] == 127;
  return v4 || a == v6;
}

bool address_matches(const HbaRule& rule, const HbaRequest& request) {
  if (rule.any_address) return true;
  if (rule.samehost) return request.address == request.local_address || is_loopback(request.address);
  for (std::size_t i = 0; i < 16; ++i) {
    if ((request.address[i] & rule.mask[i]) != rule.address[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<std::array<std::uint8_t, 16>> parse_hba_address(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string s(text);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

HbaFile parse_hba(std::string_view text, const std::string& file_name) {
  HbaFile out;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    const auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::vector<std::vector<Token>> fields;
    if (line.find('\0') != std::string_view::npos) {
      out.errors.push_back(ConfigError{file_name, line_no, "hba_file", "contains a NUL byte"});
      continue;
    }
    if (!split_fields(line, fields)) {
      out.errors.push_back(ConfigError{file_name, line_no, "hba_file", "unterminated quoted string"});
      continue;
    }
    if (fields.empty()) continue;
    LineParser parser(file_name, line_no, out.errors);
    if (auto rule = parser.parse(fields)) out.rules.push_back(std::move(*rule));
  }
  return out;
}

const HbaRule* match_hba(const std::vector<HbaRule>& rules, const HbaRequest& request) {
  for (const auto& rule : rules) {
    if (request.local != (rule.type == HbaType::local)) continue;
    if (rule.type == HbaType::hostssl && !request.tls) continue;
    if (rule.type == HbaType::hostnossl && request.tls) continue;
    const bool db = rule.any_database || (rule.same_user_database && request.database == request.user) ||
                    in_list(rule.databases, request.database);
    if (!db) continue;
    if (!rule.any_user && !in_list(rule.users, request.user)) continue;
    if (!request.local && !address_matches(rule, request)) continue;
    return &rule;
  }
  return nullptr;
}

std::string_view to_string(HbaMethod method) {
  switch (method) {
    case HbaMethod::trust: return "trust";
    case HbaMethod::reject: return "reject";
    case HbaMethod::md5: return "md5";
    case HbaMethod::scram_sha_256: return "scram-sha-256";
    case HbaMethod::cert: return "cert";
  }
  return "?";
}

}  // namespace pgr::conf
