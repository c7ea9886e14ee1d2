// The statement classifier's tables (see statement_classifier_rules.hpp). The function lists are
// deliberately generous: a read sent to the primary costs a little load, a write sent to a
// standby costs the client an error.
#include "protocol/statement_classifier_rules.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace pgr::protocol::rules {
namespace {

struct HeadEntry {
  std::string_view keyword;
  Head head;
};

// One row per statement keyword PostgreSQL accepts first (gram.y's stmt list).
constexpr HeadEntry k_heads[] = {
    {"abort", Head::end},           {"alter", Head::write},         {"analyse", Head::write},
    {"analyze", Head::write},       {"begin", Head::begin},         {"call", Head::write},
    {"checkpoint", Head::write},    {"close", Head::cursor_op},     {"cluster", Head::write},
    {"comment", Head::write},       {"commit", Head::commit},       {"copy", Head::copy},
    {"create", Head::create},       {"deallocate", Head::deallocate}, {"declare", Head::declare},
    {"delete", Head::write},        {"discard", Head::session},     {"do", Head::write},
    {"drop", Head::write},          {"end", Head::end},             {"execute", Head::execute},
    {"explain", Head::explain},     {"fetch", Head::cursor_op},     {"grant", Head::write},
    {"import", Head::write},        {"insert", Head::write},        {"listen", Head::listen},
    {"load", Head::session},        {"lock", Head::write},          {"merge", Head::write},
    {"move", Head::cursor_op},      {"notify", Head::write},        {"prepare", Head::prepare},
    {"reassign", Head::write},      {"refresh", Head::write},       {"reindex", Head::write},
    {"release", Head::savepoint},   {"reset", Head::session},       {"revoke", Head::write},
    {"rollback", Head::rollback},   {"savepoint", Head::savepoint}, {"security", Head::write},
    {"select", Head::query},        {"set", Head::set},             {"show", Head::show},
    {"start", Head::start},         {"table", Head::query},         {"truncate", Head::write},
    {"unlisten", Head::write},      {"update", Head::write},        {"vacuum", Head::write},
    {"values", Head::query},        {"with", Head::query},
};
static_assert(std::is_sorted(std::begin(k_heads), std::end(k_heads),
                             [](const HeadEntry& a, const HeadEntry& b) { return a.keyword < b.keyword; }),
              "head_of() searches k_heads by keyword");
constexpr std::size_t k_longest_head =
    std::max_element(std::begin(k_heads), std::end(k_heads), [](const HeadEntry& a, const HeadEntry& b) {
      return a.keyword.size() < b.keyword.size();
    })->keyword.size();

struct FunctionEntry {
  std::string_view name;
  std::uint8_t effect;
};

constexpr std::uint8_t k_write = function_writes;
constexpr std::uint8_t k_pin = function_writes | function_pins;

// Exact names. Sequences (currval/lastval read state that only the primary's nextval set),
// xid assignment, WAL and backup control, replication slots, server-side files and signals:
// all either fail during recovery or only make sense on the primary.
constexpr FunctionEntry k_functions[] = {
    {"currval", k_write},
    {"dblink_exec", k_write},
    {"lastval", k_write},
    {"loread", k_write},
    {"lowrite", k_write},
    {"nextval", k_write},
    {"pg_backup_start", k_write},
    {"pg_backup_stop", k_write},
    {"pg_cancel_backend", k_write},
    {"pg_current_wal_flush_lsn", k_write},
    {"pg_current_wal_insert_lsn", k_write},
    {"pg_current_wal_lsn", k_write},
    {"pg_current_xact_id", k_write},
    {"pg_current_xact_id_if_assigned", k_write},
    {"pg_current_xlog_flush_location", k_write},
    {"pg_current_xlog_insert_location", k_write},
    {"pg_current_xlog_location", k_write},
    {"pg_drop_replication_slot", k_write},
    {"pg_file_rename", k_write},
    {"pg_file_unlink", k_write},
    {"pg_file_write", k_write},
    {"pg_import_system_collations", k_write},
    {"pg_listening_channels", k_write},
    {"pg_logical_emit_message", k_write},
    {"pg_notify", k_write},
    {"pg_reload_conf", k_write},
    {"pg_replication_slot_advance", k_write},
    {"pg_rotate_logfile", k_write},
    {"pg_start_backup", k_write},
    {"pg_stop_backup", k_write},
    {"pg_switch_wal", k_write},
    {"pg_switch_xlog", k_write},
    {"pg_terminate_backend", k_write},
    {"set_config", function_session},
    {"setval", k_write},
    {"txid_current", k_write},
    {"txid_current_if_assigned", k_write},
};

// Name prefixes: whole function families. Advisory locks are refined in function_effect().
constexpr FunctionEntry k_prefixes[] = {
    {"lo_", k_write},                     // large objects: lo_create, lo_import, lo_put, ...
    {"pg_advisory_", k_pin},              // pg_advisory_lock, _xact_lock, _unlock, ...
    {"pg_copy_", k_write},                // pg_copy_{physical,logical}_replication_slot
    {"pg_create_", k_write},              // restore points and replication slots
    {"pg_logical_slot_", k_write},        // consuming a slot's changes
    {"pg_replication_origin_", k_write},  // replication origin management
    {"pg_try_advisory_", k_pin},
};

// The name a (possibly quoted) identifier token spells, without quotes; `""` stays doubled,
// which only makes names containing a quote never match a table entry.
std::string_view bare_name(const Token& token) noexcept {
  std::string_view text = token.text;
  if (token.kind != TokenKind::quoted_identifier) return text;
  if (!text.empty() && text.front() != '"') text.remove_prefix(text.size() < 2 ? text.size() : 2);
  if (!text.empty()) text.remove_prefix(1);
  if (token.terminated && !text.empty()) text.remove_suffix(1);
  return text;
}

// Unquoted names are case-insensitive; a quoted name must match the (lower-case) table exactly.
bool name_is(const Token& token, std::string_view name, std::string_view entry) noexcept {
  return token.kind == TokenKind::quoted_identifier ? name == entry : iequals_ascii(name, entry);
}

bool name_starts_with(const Token& token, std::string_view name, std::string_view prefix) noexcept {
  return name.size() >= prefix.size() && name_is(token, name.substr(0, prefix.size()), prefix);
}

bool contains_ascii_ci(std::string_view text, std::string_view lowercase_part) noexcept {
  for (std::size_t i = 0; i + lowercase_part.size() <= text.size(); ++i) {
    if (iequals_ascii(text.substr(i, lowercase_part.size()), lowercase_part)) return true;
  }
  return false;
}

bool matches_configured(const Token* schema, std::string_view name, std::string_view entry) noexcept {
  const auto dot = entry.rfind('.');
  if (dot == std::string_view::npos) return iequals_ascii(name, entry);
  if (!iequals_ascii(name, entry.substr(dot + 1))) return false;
  return schema == nullptr || iequals_ascii(bare_name(*schema), entry.substr(0, dot));
}

}  // namespace

Head head_of(const Token& first) noexcept {
  // Every statement's first word: a binary search of the (sorted) table by the word in lower
  // case, where a pass over it cost a tenth of classify_sql.
  if (first.kind != TokenKind::identifier || first.text.size() > k_longest_head) return Head::unknown;
  char folded[k_longest_head];
  for (std::size_t i = 0; i < first.text.size(); ++i) {
    folded[i] = static_cast<char>(lower_ascii(static_cast<unsigned char>(first.text[i])));
  }
  const std::string_view word(folded, first.text.size());
  const auto* it = std::lower_bound(std::begin(k_heads), std::end(k_heads), word,
                                    [](const HeadEntry& entry, std::string_view w) { return entry.keyword < w; });
  return it != std::end(k_heads) && it->keyword == word ? it->head : Head::unknown;
}

std::uint8_t function_effect(const Token* schema, const Token& name,
                             std::span<const std::string> extra_write_functions) noexcept {
  const std::string_view bare = bare_name(name);
  std::uint8_t effect = function_none;
  for (const auto& entry : k_functions) {
    if (name_is(name, bare, entry.name)) effect |= entry.effect;
  }
  for (const auto& entry : k_prefixes) {
    if (name_starts_with(name, bare, entry.name)) effect |= entry.effect;
  }
  // Transaction-level advisory locks go away at commit: they write but do not pin.
  if ((effect & function_pins) != 0 && contains_ascii_ci(bare, "_xact_")) {
    effect = static_cast<std::uint8_t>(effect & ~function_pins);
  }
  for (const auto& entry : extra_write_functions) {
    if (matches_configured(schema, bare, entry)) effect |= function_writes;
  }
  return effect;
}

}  // namespace pgr::protocol::rules
