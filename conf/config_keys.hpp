// The one table of every configuration key (PgBouncer's bouncer_params[] idea): its section,
// name, type, default and doc, and the function that reads it into a Config. The loader,
// the docs (config_reference_markdown, embedded in docs/CONFIG.md) and the tests all walk
// this table, so a key exists in exactly one place.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pgr::conf {

struct Config;
namespace detail {
struct Field;
}

enum class Section { proxy, auth, health_check, load_balance, pool, failover, admin, tls, backends };
std::string_view to_string(Section section);

enum class KeyType {
  string,
  secret,
  path,
  boolean,
  integer,
  number,
  duration,
  size,
  choice,
  strings,
  addresses
};
std::string_view to_string(KeyType type);

struct KeyDef {
  Section section;
  std::string_view name;
  KeyType type;
  // The default as TOML would spell it; empty when there is none or it is computed (the doc
  // then says what happens).
  std::string_view default_value;
  bool required;
  std::string_view doc;
  // Checks the value and stores it; problems go to the field's load context. Backend keys
  // write to config.backends.back().
  void (*apply)(const detail::Field& field, Config& config);
};

[[nodiscard]] std::span<const KeyDef> config_keys();
// nullptr when `name` is not a key of `section`.
[[nodiscard]] const KeyDef* find_key(Section section, std::string_view name);

// The key reference in Markdown (one table per section), generated from config_keys();
// docs/CONFIG.md embeds it verbatim and a unit test keeps the two equal.
[[nodiscard]] std::string config_reference_markdown();

}  // namespace pgr::conf
