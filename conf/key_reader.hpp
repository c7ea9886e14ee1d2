// Private to conf/: reading one TOML value as the type a key wants. Each reader checks the
// TOML type and the range, reports a problem on the value's line under the key's dotted name,
// and returns nullopt when the value is unusable. Readers never quote a secret.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <toml.hpp>
#include <vector>

#include "conf/config.hpp"
#include "conf/load_context.hpp"

namespace pgr::conf::detail {

// std::map, not toml11's default unordered_map: errors on one line then come out in a
// stable order.
using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

[[nodiscard]] int line_of(const TomlValue& value);

// The TOML spellings of the enums, indexed by the enum's value.
inline constexpr std::array<std::string_view, 4> k_log_level_names{"error", "warn", "info",
                                                                   "debug"};
inline constexpr std::array<std::string_view, 3> k_auth_method_names{"trust", "md5",
                                                                     "scram-sha-256"};
inline constexpr std::array<std::string_view, 2> k_load_balance_mode_names{"statement",
                                                                           "session"};
inline constexpr std::array<std::string_view, 2> k_transaction_reads_names{"until_write",
                                                                           "primary"};
inline constexpr std::array<std::string_view, 3> k_pool_mode_names{"none", "session", "transaction"};
inline constexpr std::array<std::string_view, 3> k_failover_mode_names{"builtin", "command",
                                                                       "manual"};
inline constexpr std::array<std::string_view, 3> k_client_tls_mode_names{"disable", "allow", "require"};
inline constexpr std::array<std::string_view, 3> k_client_cert_mode_names{"none", "verify-ca", "verify-full"};
inline constexpr std::array<std::string_view, 5> k_server_tls_mode_names{"disable", "prefer", "require",
                                                                         "verify-ca", "verify-full"};
inline constexpr std::array<std::string_view, 2> k_tls_version_names{"TLSv1.2", "TLSv1.3"};

// Durations above this are refused: nothing here wants more, and it keeps
// `now() + duration` far from overflow.
inline constexpr std::chrono::milliseconds k_max_duration = std::chrono::hours(24);

// One key's value being read: the value, its dotted name ("backends[1].port") and where
// problems go.
struct Field {
  const TomlValue& value;
  std::string key;
  LoadContext& ctx;

  [[nodiscard]] int line() const { return line_of(value); }
  void error(std::string problem) const { ctx.add(line(), key, std::move(problem)); }
};

[[nodiscard]] std::optional<std::string> read_string(const Field& f);
[[nodiscard]] std::optional<std::string> read_nonempty_string(const Field& f);
[[nodiscard]] std::optional<bool> read_bool(const Field& f);
// An array of strings, possibly empty. Elements are named key[i]; each is read with
// read_string, then given to `check` (when set), which reports its own problem and says
// whether the element is usable. nullopt when anything was reported.
using ItemCheck = bool (*)(const Field& item, const std::string& text);
[[nodiscard]] std::optional<std::vector<std::string>> read_string_array(const Field& f,
                                                                        ItemCheck check = nullptr);
[[nodiscard]] std::optional<std::int64_t> read_integer(const Field& f, std::int64_t min,
                                                       std::int64_t max);
// An integer or a float; finite and >= 0.
[[nodiscard]] std::optional<double> read_weight(const Field& f);
// A duration string; zero is accepted only when `allow_zero`.
[[nodiscard]] std::optional<std::chrono::milliseconds> read_duration(const Field& f,
                                                                     bool allow_zero);
// Bytes as an integer >= 0 or a size string ("16MB").
[[nodiscard]] std::optional<std::uint64_t> read_size(const Field& f);
// A size of 1kB..1GB; exactly 1GB becomes 0x3fffffff.
[[nodiscard]] std::optional<std::uint32_t> read_message_size(const Field& f);
// Index into `names` of the string given.
[[nodiscard]] std::optional<std::size_t> read_choice(const Field& f,
                                                     std::span<const std::string_view> names);
// "host:port" strings, no address twice; an empty array only when `allow_empty`.
[[nodiscard]] std::optional<std::vector<ListenAddress>> read_listen_addresses(const Field& f,
                                                                              bool allow_empty);
// One "host:port" string, as in listen.
[[nodiscard]] std::optional<ListenAddress> read_listen_address(const Field& f);
// admin.pcp_users_file: resolves, reads and parses it into `admin`.
void read_pcp_users_file(const Field& f, AdminConfig& admin);
// load_balance.write_functions: "name" or "schema.name", each part an unquoted SQL
// identifier of at most 63 bytes (ASCII letters, digits, _ and $; not starting with a digit or $).
[[nodiscard]] std::optional<std::vector<std::string>> read_function_names(const Field& f);
// A backend name: [A-Za-z0-9_.-]{1,63}.
[[nodiscard]] std::optional<std::string> read_backend_name(const Field& f);
// A path string resolved against the config's directory; the file itself is not read.
[[nodiscard]] std::optional<std::string> read_resolved_path(const Field& f);
// A path string resolved against the config's directory; the file's content with trailing
// newlines trimmed. The content is a secret: no error shows it.
[[nodiscard]] std::optional<std::string> read_secret_file(const Field& f);
// A secret from the environment: the value names a variable ([A-Za-z_][A-Za-z0-9_]*), which
// must be set and not empty. Errors name the variable, never its content.
[[nodiscard]] std::optional<std::string> read_secret_env(const Field& f);
// auth.auth_file: resolves, reads and parses it into `auth` (its errors name that file).
void read_auth_file(const Field& f, AuthConfig& auth);
// auth.hba_file: resolves, reads and parses it into `auth` (its errors name that file and line).
void read_hba_file(const Field& f, AuthConfig& auth);
// A PEM file: resolved path and content; it must contain a "-----BEGIN " block. The content
// may be a key: no error shows it.
[[nodiscard]] std::optional<PemFile> read_pem_file(const Field& f);
// [tls] rules between keys (a mode that needs a file without it, a certificate without its
// key), then health_check.tls derived from [tls].
void finish_tls(const TomlValue& root, LoadContext& ctx, Config& config);

}  // namespace pgr::conf::detail
