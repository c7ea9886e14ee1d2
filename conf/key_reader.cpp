// Readers that turn one TOML value into a typed config value, or a problem (key_reader.hpp).
#include "conf/key_reader.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "conf/auth_file.hpp"
#include "conf/pcp_users.hpp"

namespace pgr::conf::detail {

namespace {

constexpr std::uint64_t k_min_message_size = 1ULL << 10;
constexpr std::uint64_t k_max_message_size = 1ULL << 30;  // stored as 0x3fffffff

std::string range_problem(std::int64_t min, std::int64_t max, std::int64_t got) {
  return "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
         std::to_string(got) + ")";
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool is_address(int family, const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(family, host.c_str(), buffer) == 1;
}

// "host:port" or "[v6]:port"; the host is kept without brackets.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& problem) {
  std::string host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    host = std::string(text.substr(1, close == std::string_view::npos ? 0 : close - 1));
    if (close == std::string_view::npos || !is_address(AF_INET6, host)) {
      problem = "expected \"[ipv6-address]:port\", got " + quote_value(text);
      return std::nullopt;
    }
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      problem = "expected \"host:port\", got " + quote_value(text);
      return std::nullopt;
    }
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      problem = "an IPv6 address needs brackets, e.g. \"[::1]:5432\"";
      return std::nullopt;
    }
    if (host != "localhost" && !is_address(AF_INET, host)) {
      problem = "the host must be a numeric address or localhost, got " + quote_value(host);
      return std::nullopt;
    }
  }
  const auto number = parse_port(port);
  if (!number) {
    problem = "the port must be 1..65535, got " + quote_value(port);
    return std::nullopt;
  }
  return ListenAddress{std::move(host), *number};
}

// One part of a function name as PostgreSQL reads it unquoted: a letter or _, then letters,
// digits, _ or $, at most NAMEDATALEN - 1 bytes. ASCII only: quoted names are not supported.
bool is_identifier(std::string_view part) {
  const auto letter = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return !part.empty() && part.size() <= 63 && letter(part.front()) &&
         std::all_of(part.begin(), part.end(),
                     [&](char c) { return letter(c) || digit(c) || c == '$'; });
}

bool check_function_name(const Field& item, const std::string& text) {
  if (text.empty()) {
    item.error("must not be empty");
    return false;
  }
  const auto dot = text.find('.');
  const std::string_view name(text);
  const bool valid = dot == std::string::npos ? is_identifier(name)
                                              : is_identifier(name.substr(0, dot)) &&
                                                    is_identifier(name.substr(dot + 1));
  if (!valid) {
    item.error("invalid function name " + quote_value(text) +
               ": expected name or schema.name, each part a letter or _ then letters, digits, _ "
               "or $ (at most 63)");
  }
  return valid;
}

std::string duration_type_problem(const TomlValue& value) {
  if (value.is_integer()) {
    return "expected a duration string like \"" + std::to_string(value.as_integer()) +
           "s\" (a bare number has no unit)";
  }
  return "expected a duration string like \"2s\"";
}

}  // namespace

int line_of(const TomlValue& value) { return static_cast<int>(value.location().line()); }

std::optional<std::string> read_string(const Field& f) {
  if (!f.value.is_string()) {
    f.error("expected a string");
    return std::nullopt;
  }
  std::string text = f.value.as_string().str;
  if (text.find('\0') != std::string::npos) {
    f.error("must not contain a NUL character");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> read_nonempty_string(const Field& f) {
  auto text = read_string(f);
  if (text && text->empty()) {
    f.error("must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<bool> read_bool(const Field& f) {
  if (!f.value.is_boolean()) {
    f.error("expected a boolean (true or false)");
    return std::nullopt;
  }
  return f.value.as_boolean();
}

std::optional<std::vector<std::string>> read_string_array(const Field& f, ItemCheck check) {
  if (!f.value.is_array()) {
    f.error("expected an array of strings");
    return std::nullopt;
  }
  const auto& items = f.value.as_array();
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Field item{items[i], f.key + "[" + std::to_string(i) + "]", f.ctx};
    auto text = read_string(item);
    if (!text || (check != nullptr && !check(item, *text))) {
      ok = false;
    } else {
      out.push_back(std::move(*text));
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::int64_t> read_integer(const Field& f, std::int64_t min, std::int64_t max) {
  if (!f.value.is_integer()) {
    f.error("expected an integer");
    return std::nullopt;
  }
  const std::int64_t value = f.value.as_integer();
  if (value < min || value > max) {
    f.error(range_problem(min, max, value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> read_weight(const Field& f) {
  double value = 0;
  if (f.value.is_integer()) {
    value = static_cast<double>(f.value.as_integer());
  } else if (f.value.is_floating()) {
    value = f.value.as_floating();
  } else {
    f.error("expected a number");
    return std::nullopt;
  }
  if (!std::isfinite(value) || value < 0) {
    f.error("must be a finite number >= 0");
    return std::nullopt;
  }
  return value;
}

std::optional<std::chrono::milliseconds> read_duration(const Field& f, bool allow_zero) {
  if (!f.value.is_string()) {
    f.error(duration_type_problem(f.value));
    return std::nullopt;
  }
  const std::string& text = f.value.as_string().str;
  const auto value = parse_duration(text);
  if (!value) {
    f.error("invalid duration " + quote_value(text) +
            ": expected a number and a unit (ms, s, m, h), e.g. \"2s\"");
    return std::nullopt;
  }
  if (!allow_zero && value->count() == 0) {
    f.error("must be greater than 0");
    return std::nullopt;
  }
  if (*value > k_max_duration) {
    f.error("must be at most 24h");
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> read_size(const Field& f) {
  if (f.value.is_integer()) {
    const std::int64_t value = f.value.as_integer();
    if (value < 0) {
      f.error("must not be negative");
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(value);
  }
  if (f.value.is_string()) {
    const std::string& text = f.value.as_string().str;
    const auto parsed = parse_size(text);
    if (!parsed) {
      f.error("invalid size " + quote_value(text) +
              ": expected a whole number and a unit (B, kB, MB, GB, TB), e.g. \"64MB\"");
    }
    return parsed;
  }
  f.error("expected a size: an integer number of bytes or a string like \"64MB\"");
  return std::nullopt;
}

std::optional<std::uint32_t> read_message_size(const Field& f) {
  if (f.value.is_integer() && f.value.as_integer() < 0) {
    // One message for every out-of-range value, negative ones included.
    f.error("must be between 1kB and 1GB");
    return std::nullopt;
  }
  const auto size = read_size(f);
  if (!size) return std::nullopt;
  const std::uint64_t bytes = *size;
  if (bytes < k_min_message_size || bytes > k_max_message_size) {
    f.error("must be between 1kB and 1GB");
    return std::nullopt;
  }
  // PostgreSQL's own limit is 1GB - 1 (MaxAllocSize); "1GB" means "as large as allowed".
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, k_max_message_size - 1));
}

std::optional<std::size_t> read_choice(const Field& f, std::span<const std::string_view> names) {
  const auto text = read_string(f);
  if (!text) return std::nullopt;
  std::string expected;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == *text) return i;
    expected += (i == 0 ? "" : ", ") + std::string(names[i]);
  }
  f.error("unknown value " + quote_value(*text) + "; expected one of: " + expected);
  return std::nullopt;
}

std::optional<std::vector<ListenAddress>> read_listen_addresses(const Field& f,
                                                                bool allow_empty) {
  if (!f.value.is_array()) {
    f.error("expected an array of strings, e.g. [\"127.0.0.1:5432\"]");
    return std::nullopt;
  }
  const auto& items = f.value.as_array();
  if (items.empty() && !allow_empty) {
    f.error("at least one address is required");
    return std::nullopt;
  }
  std::vector<ListenAddress> out;
  std::set<std::string> seen;
  bool ok = true;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Field item{items[i], f.key + "[" + std::to_string(i) + "]", f.ctx};
    const auto text = read_string(item);
    if (!text) {
      ok = false;
      continue;
    }
    std::string problem;
    auto address = parse_listen_address(*text, problem);
    if (!address) {
      item.error(std::move(problem));
      ok = false;
    } else if (!seen.insert(address->host + " " + std::to_string(address->port)).second) {
      item.error("duplicate address " + quote_value(*text));
      ok = false;
    } else {
      out.push_back(std::move(*address));
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<std::string>> read_function_names(const Field& f) {
  return read_string_array(f, check_function_name);
}

std::optional<std::string> read_backend_name(const Field& f) {
  auto name = read_string(f);
  if (!name) return std::nullopt;
  const bool valid_chars = std::all_of(name->begin(), name->end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  if (name->empty() || name->size() > 63 || !valid_chars) {
    f.error("must be 1 to 63 characters from A-Z a-z 0-9 _ . -");
    return std::nullopt;
  }
  return name;
}

std::optional<std::string> read_resolved_path(const Field& f) {
  const auto path = read_nonempty_string(f);
  if (!path) return std::nullopt;
  return f.ctx.resolve_path(*path);
}

std::optional<std::string> read_secret_file(const Field& f) {
  const auto path = read_nonempty_string(f);
  if (!path) return std::nullopt;
  const std::string resolved = f.ctx.resolve_path(*path);
  auto file = read_text_file(resolved);
  if (!file.ok) {
    f.error("cannot read " + quote_path(resolved) + ": " + file.error);
    return std::nullopt;
  }
  while (!file.text.empty() && (file.text.back() == '\n' || file.text.back() == '\r')) {
    file.text.pop_back();
  }
  if (file.text.empty()) {
    f.error(quote_path(resolved) + " is empty");
    return std::nullopt;
  }
  return std::move(file.text);
}

std::optional<ListenAddress> read_listen_address(const Field& f) {
  const auto text = read_string(f);
  if (!text) return std::nullopt;
  std::string problem;
  auto address = parse_listen_address(*text, problem);
  if (!address) f.error(std::move(problem));
  return address;
}

namespace {
// A file a key names (relative to the config file): its resolved path and text, or an error
// on the key's line.
std::optional<std::pair<std::string, std::string>> read_named_file(const Field& f) {
  const auto path = read_nonempty_string(f);
  if (!path) return std::nullopt;
  std::string resolved = f.ctx.resolve_path(*path);
  auto file = read_text_file(resolved);
  if (!file.ok) {
    f.error("cannot read " + quote_path(resolved) + ": " + file.error);
    return std::nullopt;
  }
  return std::pair{std::move(resolved), std::move(file.text)};
}
}  // namespace

void read_pcp_users_file(const Field& f, AdminConfig& admin) {
  auto file = read_named_file(f);
  if (!file) return;
  auto parsed = parse_pcp_users(file->second, file->first);
  for (auto& error : parsed.errors) f.ctx.add_foreign(f.line(), std::move(error));
  admin.pcp_users_file = file->first;
  admin.pcp_users = std::move(parsed.users);
}

void read_auth_file(const Field& f, AuthConfig& auth) {
  auto file = read_named_file(f);
  if (!file) return;
  auto parsed = parse_auth_file(file->second, file->first);
  for (auto& error : parsed.errors) f.ctx.add_foreign(f.line(), std::move(error));
  auth.auth_file = file->first;
  auth.users = std::move(parsed.users);
}

}  // namespace pgr::conf::detail
