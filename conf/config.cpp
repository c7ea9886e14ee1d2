// Loading a config: TOML text -> toml11 tree -> Config, walking the key table
// (config_keys.cpp) section by section, then the checks that span keys (exclusive keys,
// duplicate backends, listen overlaps, command-mode failover). Every problem becomes a
// ConfigError; nothing here throws out.
#include "conf/config.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

#include "conf/config_keys.hpp"
#include "conf/key_reader.hpp"
#include "conf/load_context.hpp"
#include "conf/toml_guard.hpp"

namespace pgr::conf {

using detail::Field;
using detail::line_of;
using detail::LoadContext;
using detail::TomlValue;

namespace {

constexpr std::array k_sections{Section::proxy,        Section::auth,     Section::health_check,
                                Section::load_balance, Section::pool, Section::failover, Section::admin, Section::tls,
                                Section::backends};

std::optional<Section> section_named(std::string_view name) {
  for (const auto section : k_sections) {
    if (to_string(section) == name) return section;
  }
  return std::nullopt;
}

// Edits (insert, delete, replace, swap two neighbours) from a to b: "hots" is one from "host".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// A typo away: at most two edits, and fewer than half the name (so "foo" is not a "pool").
bool is_typo_of(std::string_view name, std::string_view candidate) {
  const auto distance = edit_distance(name, candidate);
  return distance <= 2 && 2 * distance < std::max(name.size(), candidate.size());
}

// "unknown key", with a suggestion when a key of the section is a typo away.
std::string unknown_key_problem(std::string_view name, Section section) {
  for (const auto& key : config_keys()) {
    if (key.section == section && is_typo_of(name, key.name)) {
      return "unknown key (did you mean \"" + std::string(key.name) + "\"?)";
    }
  }
  return "unknown key";
}

// At the top level: a misspelt section, or a key that belongs inside one.
std::string unknown_top_problem(std::string_view name, const TomlValue& value) {
  // [[name]] makes an array of tables: to the user that is a table too.
  const bool is_table =
      value.is_table() || (value.is_array() && !value.as_array().empty() &&
                           std::all_of(value.as_array().begin(), value.as_array().end(),
                                       [](const TomlValue& item) { return item.is_table(); }));
  const std::string what = is_table ? "unknown table" : "unknown key";
  for (const auto section : k_sections) {
    if (is_typo_of(name, to_string(section))) {
      const std::string spelt = section == Section::backends
                                    ? "[[backends]]"
                                    : "[" + std::string(to_string(section)) + "]";
      return what + " (did you mean " + spelt + "?)";
    }
  }
  for (const auto& key : config_keys()) {
    if (key.name == name && key.section != Section::backends) {
      return what + " (did you mean " + std::string(key.name) + " under [" +
             std::string(to_string(key.section)) + "]?)";
    }
  }
  return what;
}

void apply_table(const TomlValue& table, Section section, const std::string& prefix,
                 LoadContext& ctx, Config& config) {
  for (const auto& [name, value] : table.as_table()) {
    const std::string key = prefix + "." + detail::display_key(name);
    if (const KeyDef* def = find_key(section, name)) {
      def->apply(Field{value, key, ctx}, config);
    } else {
      ctx.add(line_of(value), key, unknown_key_problem(name, section));
    }
  }
}

// Where a backend came from, for errors found after all backends are read.
struct BackendSource {
  std::size_t index;  // in the TOML array
  const TomlValue* table;
};

int line_of_key(const BackendSource& source, const char* key) {
  const auto& table = source.table->as_table();
  const auto it = table.find(key);
  return line_of(it != table.end() ? it->second : *source.table);
}

std::string backend_key(std::size_t index, std::string_view name) {
  return "backends[" + std::to_string(index) + "]." + std::string(name);
}

// Host names are case-insensitive (DNS), so "DB1" and "db1" are the same server.
bool same_host(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// Each backend is compared with those before it; one error per kind, naming the first match.
void check_backend_duplicates(const std::vector<BackendSource>& sources, LoadContext& ctx,
                              const Config& config) {
  const auto& backends = config.backends;
  for (std::size_t j = 0; j < backends.size(); ++j) {
    bool name_reported = false;
    bool host_reported = false;
    for (std::size_t i = 0; i < j; ++i) {
      const std::string earlier = "backends[" + std::to_string(sources[i].index) + "]";
      if (!name_reported && backends[i].name == backends[j].name) {
        name_reported = true;
        ctx.add(
            line_of_key(sources[j], "name"), backend_key(sources[j].index, "name"),
            "duplicate name " + detail::quote_value(backends[j].name) + " (also " + earlier + ")");
      }
      if (!host_reported && !backends[j].host.empty() && backends[i].port == backends[j].port &&
          same_host(backends[i].host, backends[j].host)) {
        host_reported = true;
        ctx.add(line_of_key(sources[j], "host"), backend_key(sources[j].index, "host"),
                "same host and port as " + earlier);
      }
    }
  }
}

void apply_backends(const TomlValue& value, LoadContext& ctx, Config& config) {
  if (!value.is_array()) {
    ctx.add(line_of(value), "backends", "expected an array of tables ([[backends]])");
    return;
  }
  const auto& items = value.as_array();
  if (items.empty()) {
    ctx.add(line_of(value), "backends", "at least one [[backends]] table is required");
    return;
  }
  std::vector<BackendSource> sources;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string prefix = "backends[" + std::to_string(i) + "]";
    if (!items[i].is_table()) {
      ctx.add(line_of(items[i]), prefix, "expected a table");
      continue;
    }
    sources.push_back({i, &items[i]});
    config.backends.emplace_back();
    config.backends.back().name = "node" + std::to_string(i);
    apply_table(items[i], Section::backends, prefix, ctx, config);
    for (const auto& key : config_keys()) {
      if (key.section == Section::backends && key.required &&
          !items[i].contains(std::string(key.name))) {
        ctx.add(line_of(items[i]), backend_key(i, key.name), "is required");
      }
    }
  }
  check_backend_duplicates(sources, ctx, config);
}

const TomlValue* find_value(const TomlValue& root, std::string_view section, const char* key) {
  const auto& sections = root.as_table();
  const auto it = sections.find(std::string(section));
  if (it == sections.end() || !it->second.is_table()) return nullptr;
  const auto& table = it->second.as_table();
  const auto found = table.find(key);
  return found == table.end() ? nullptr : &found->second;
}

// Rules between two keys of one section: an exclusive pair, or `second` needing `first`.
void check_section_pairs(const TomlValue& root, LoadContext& ctx) {
  struct Pair {
    std::string_view section;
    const char* first;
    const char* second;
    bool exclusive;  // false: `second` needs `first`
  };
  static constexpr std::array<Pair, 12> k_pairs{{
      {"auth", "auth_password", "auth_password_file", true},
      {"health_check", "password", "password_file", true},
      {"failover", "password", "password_file", true},
      {"auth", "auth_password", "auth_password_env", true},
      {"auth", "auth_password_file", "auth_password_env", true},
      {"health_check", "password", "password_env", true},
      {"health_check", "password_file", "password_env", true},
      {"failover", "password", "password_env", true},
      {"failover", "password_file", "password_env", true},
      {"auth", "auth_user", "auth_password", false},
      {"auth", "auth_user", "auth_password_file", false},
      {"auth", "auth_user", "auth_password_env", false},
  }};
  for (const auto& pair : k_pairs) {
    const TomlValue* first = find_value(root, pair.section, pair.first);
    const TomlValue* second = find_value(root, pair.section, pair.second);
    if (second == nullptr || (first != nullptr) != pair.exclusive) continue;
    const std::string problem =
        pair.exclusive
            ? "set either " + std::string(pair.first) + " or " + pair.second + ", not both"
            : "needs " + std::string(pair.section) + "." + pair.first;
    ctx.add(line_of(*second), std::string(pair.section) + "." + pair.second, problem);
  }
}

// proxy.read_only_listen against proxy.listen (given or default): one port, one kind of
// session. Skipped when listen itself was refused: its default would be compared instead.
void check_listen_overlap(const TomlValue& root, LoadContext& ctx, const ProxyConfig& proxy) {
  const TomlValue* read_only = find_value(root, "proxy", "read_only_listen");
  if (read_only == nullptr || !read_only->is_array() || ctx.has_error_at("proxy.listen")) return;
  for (std::size_t i = 0; i < proxy.read_only_listen.size(); ++i) {
    const auto& address = proxy.read_only_listen[i];
    const auto same = std::find(proxy.listen.begin(), proxy.listen.end(), address);
    if (same == proxy.listen.end()) continue;
    const auto j = static_cast<std::size_t>(same - proxy.listen.begin());
    // append(), not "literal" + std::string: see section_heading in config_reference.cpp.
    std::string key("proxy.read_only_listen[");
    key.append(std::to_string(i)).append("]");
    std::string problem("also in proxy.listen[");
    problem.append(std::to_string(j)).append("]: an address takes one kind of session");
    ctx.add(line_of(read_only->as_array().at(i)), std::move(key), std::move(problem));
  }
}

// failover.mode = "command" runs failover_command: without one, a failover could only fail.
void check_failover_command(const TomlValue& root, LoadContext& ctx,
                            const FailoverConfig& failover) {
  if (failover.mode != FailoverMode::command || !failover.failover_command.empty() ||
      ctx.has_error_at("failover.failover_command")) {
    return;
  }
  if (const TomlValue* command = find_value(root, "failover", "failover_command")) {
    ctx.add(line_of(*command), "failover.failover_command",
            "must not be empty when failover.mode is \"command\"");
  } else {
    const TomlValue* mode = find_value(root, "failover", "mode");
    ctx.add(mode != nullptr ? line_of(*mode) : 0, "failover.failover_command",
            "is required when failover.mode is \"command\"");
  }
}

// admin.pcp_listen authenticates against pcp_users_file: without one nobody could log in.
void check_pcp_users(const TomlValue& root, LoadContext& ctx, const AdminConfig& admin) {
  if (!admin.pcp_listen || admin.pcp_users_file || ctx.has_error_at("admin.pcp_users_file")) {
    return;
  }
  const TomlValue* listen = find_value(root, "admin", "pcp_listen");
  ctx.add(listen != nullptr ? line_of(*listen) : 0, "admin.pcp_users_file",
          "is required when admin.pcp_listen is set");
}

// pcp_socket_dir names its socket after pcp_listen's port.
void check_pcp_socket_dir(const TomlValue& root, LoadContext& ctx, const AdminConfig& admin) {
  if (!admin.pcp_socket_dir || admin.pcp_listen || ctx.has_error_at("admin.pcp_listen")) return;
  ctx.add(line_of(*find_value(root, "admin", "pcp_socket_dir")), "admin.pcp_socket_dir",
          "needs admin.pcp_listen (its port names the socket)");
}

void apply_root(const TomlValue& root, LoadContext& ctx, Config& config) {
  bool saw_backends = false;
  for (const auto& [name, value] : root.as_table()) {
    const auto section = section_named(name);
    if (!section) {
      ctx.add(line_of(value), detail::display_key(name), unknown_top_problem(name, value));
    } else if (*section == Section::backends) {
      saw_backends = true;
      apply_backends(value, ctx, config);
    } else if (!value.is_table()) {
      ctx.add(line_of(value), name, "expected a table ([" + name + "])");
    } else {
      apply_table(value, *section, name, ctx, config);
    }
  }
  if (!saw_backends) ctx.add(0, "backends", "at least one [[backends]] table is required");
  check_section_pairs(root, ctx);
  check_listen_overlap(root, ctx, config.proxy);
  check_failover_command(root, ctx, config.failover);
  check_pcp_users(root, ctx, config.admin);
  check_pcp_socket_dir(root, ctx, config.admin);
  detail::finish_tls(root, ctx, config);
  if (find_value(root, "proxy", "workers") == nullptr) {
    config.proxy.workers =
        static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1U, 256U));
  }
}

// toml11's message is several lines (a source excerpt follows); keep the first, without the
// "[error] toml::parse_xxx: " prefix. It names keys at most, never values.
std::string toml_problem(std::string_view what) {
  std::string_view line = what.substr(0, what.find('\n'));
  if (line.starts_with("[error] ")) line.remove_prefix(8);
  if (line.starts_with("toml::")) {
    const auto colon = line.find(": ");
    line = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 2);
  }
  while (!line.empty() && (line.back() == '.' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return "invalid TOML";
  std::string problem = "invalid TOML: ";
  for (const char c : line) {  // a key quoted in the message may hold control characters
    const auto u = static_cast<unsigned char>(c);
    problem += u < 0x20 || u == 0x7f ? '?' : c;
  }
  return problem;
}

std::optional<TomlValue> parse_toml(std::string_view text, LoadContext& ctx) {
  if (auto refused = detail::check_toml_input(text)) {
    ctx.add(refused->line, "", std::move(refused->problem));
    return std::nullopt;
  }
  try {
    std::istringstream in{std::string(text)};
    return toml::parse<toml::discard_comments, std::map, std::vector>(in, ctx.file());
  } catch (const toml::exception& e) {
    ctx.add(static_cast<int>(e.location().line()), "", toml_problem(e.what()));
  } catch (const std::exception& e) {
    ctx.add(0, "", toml_problem(e.what()));
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(LogLevel level) {
  return detail::k_log_level_names.at(static_cast<std::size_t>(level));
}

std::string_view to_string(AuthMethod method) {
  return detail::k_auth_method_names.at(static_cast<std::size_t>(method));
}

std::string_view to_string(LoadBalanceMode mode) {
  return detail::k_load_balance_mode_names.at(static_cast<std::size_t>(mode));
}

std::string_view to_string(TransactionReads reads) {
  return detail::k_transaction_reads_names.at(static_cast<std::size_t>(reads));
}

std::string_view to_string(PoolMode mode) {
  return detail::k_pool_mode_names.at(static_cast<std::size_t>(mode));
}

std::string_view to_string(FailoverMode mode) {
  return detail::k_failover_mode_names.at(static_cast<std::size_t>(mode));
}

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + problem;
}

LoadResult load_config_text(std::string_view text, const std::string& name,
                            const std::string& base_dir) {
  LoadContext ctx(name, base_dir);
  try {
    Config config;
    config.source_path = name;
    if (const auto root = parse_toml(text, ctx)) apply_root(*root, ctx, config);
    if (!ctx.has_errors()) return {std::make_shared<const Config>(std::move(config)), {}};
  } catch (const std::exception& e) {
    // A bug of ours or out of memory: still an error, never an exception out of a load.
    ctx.add(0, "", std::string("internal error while loading: ") + e.what());
  }
  return {nullptr, ctx.take_sorted_errors()};
}

LoadResult load_config_file(const std::string& path) {
  const auto file = detail::read_text_file(path);
  if (!file.ok) return {nullptr, {ConfigError{path, 0, "", "cannot read: " + file.error}}};
  return load_config_text(file.text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace pgr::conf
