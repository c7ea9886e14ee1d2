// Session settings log and prepared statements (see session_state.hpp).
#include "proxy/session_state.hpp"

#include <algorithm>

#include "protocol/extended_query.hpp"
#include "protocol/sql_lexer.hpp"

namespace pgr::proxy {

namespace {

// The first tokens of `sql` that are not comments, lowercased when unquoted identifiers.
std::vector<protocol::Token> leading_tokens(std::string_view sql, std::size_t count) {
  protocol::SqlLexer lexer(sql);
  std::vector<protocol::Token> tokens;
  while (tokens.size() < count) {
    const auto token = lexer.next();
    if (token.kind == protocol::TokenKind::end) break;
    if (token.kind == protocol::TokenKind::comment) continue;
    tokens.push_back(token);
  }
  return tokens;
}

// True when `sql` holds more than one statement (a `;` followed by anything but comments).
bool has_several_statements(std::string_view sql) {
  protocol::SqlLexer lexer(sql);
  bool after_semicolon = false;
  for (auto token = lexer.next(); token.kind != protocol::TokenKind::end; token = lexer.next()) {
    if (token.kind == protocol::TokenKind::comment) continue;
    if (token.kind == protocol::TokenKind::semicolon) {
      after_semicolon = true;
      continue;
    }
    if (after_semicolon) return true;
  }
  return false;
}

}  // namespace

std::string SettingsLog::setting_key(std::string_view sql) {
  if (has_several_statements(sql)) return {};
  const auto tokens = leading_tokens(sql, 5);
  if (tokens.size() < 2) return {};
  std::size_t name_at = 1;
  if (protocol::is_keyword(tokens[0], "reset") && protocol::is_keyword(tokens[1], "session") && tokens.size() > 2 &&
      protocol::is_keyword(tokens[2], "authorization")) {
    return "session_authorization";
  }
  if (protocol::is_keyword(tokens[0], "set")) {
    if (protocol::is_keyword(tokens[1], "session")) {
      // SET SESSION AUTHORIZATION / CHARACTERISTICS are keys of their own.
      if (tokens.size() > 2 && protocol::is_keyword(tokens[2], "authorization")) return "session_authorization";
      if (tokens.size() > 2 && protocol::is_keyword(tokens[2], "characteristics")) return {};
      name_at = 2;
    }
    if (protocol::is_keyword(tokens[1], "local")) return {};
  } else if (!protocol::is_keyword(tokens[0], "reset")) {
    return {};
  }
  if (tokens.size() <= name_at) return {};
  const auto& name = tokens[name_at];
  if (name.kind != protocol::TokenKind::identifier && name.kind != protocol::TokenKind::quoted_identifier) return {};
  if (protocol::is_keyword(name, "all")) return {};
  std::string key = protocol::identifier_name(name);
  // A dotted custom parameter (myapp.x): the lexer gives name, dot, name.
  if (tokens.size() > name_at + 2 && tokens[name_at + 1].kind == protocol::TokenKind::dot) {
    key += '.';
    key += protocol::identifier_name(tokens[name_at + 2]);
  }
  return key;
}

// Only DISCARD ALL: RESET ALL leaves the role and the session authorization alone, so it is
// an ordinary entry, replayed in order.
bool SettingsLog::is_reset_all(std::string_view sql) {
  if (has_several_statements(sql)) return false;
  const auto tokens = leading_tokens(sql, 2);
  return tokens.size() == 2 && protocol::is_keyword(tokens[0], "discard") && protocol::is_keyword(tokens[1], "all");
}

bool SettingsLog::deallocates_all(std::string_view sql) {
  const auto tokens = leading_tokens(sql, 3);
  if (tokens.size() < 2) return false;
  if (protocol::is_keyword(tokens[0], "discard")) return protocol::is_keyword(tokens[1], "all");
  if (!protocol::is_keyword(tokens[0], "deallocate")) return false;
  if (protocol::is_keyword(tokens[1], "all")) return true;
  return tokens.size() == 3 && protocol::is_keyword(tokens[1], "prepare") && protocol::is_keyword(tokens[2], "all");
}

bool SettingsLog::is_rollback(std::string_view sql) {
  if (has_several_statements(sql)) return false;
  const auto tokens = leading_tokens(sql, 2);
  if (tokens.empty()) return false;
  if (!protocol::is_keyword(tokens[0], "rollback") && !protocol::is_keyword(tokens[0], "abort")) return false;
  if (tokens.size() < 2) return true;
  return !protocol::is_keyword(tokens[1], "to") && !protocol::is_keyword(tokens[1], "prepared");
}

std::uint64_t SettingsLog::record(std::string_view sql) {
  Entry entry;
  entry.id = next_id_++;
  entry.sql = std::string(sql);
  entry.reset = is_reset_all(sql);
  if (entry.reset) {
    // Everything before a reset point is dead for every backend that runs the reset.
    entries_.clear();
    last_reset_id_ = entry.id;
  } else {
    entry.key = setting_key(sql);
    if (!entry.key.empty()) {
      std::erase_if(entries_, [&](const Entry& e) { return !e.reset && e.key == entry.key; });
    }
  }
  entries_.push_back(std::move(entry));
  return entries_.back().id;
}

std::optional<std::uint64_t> SettingsLog::commit_held() {
  if (held_.empty()) return std::nullopt;
  std::uint64_t last = 0;
  for (const auto& sql : held_) last = record(sql);
  held_.clear();
  return last;
}

std::vector<const SettingsLog::Entry*> SettingsLog::pending_for(std::uint64_t applied) const {
  std::vector<const Entry*> out;
  const std::uint64_t after = applied == 0 ? last_reset_id_ : applied;
  for (const auto& entry : entries_) {
    if (entry.id > after) out.push_back(&entry);
  }
  return out;
}

std::uint64_t PreparedStatements::parsed(std::string_view name, protocol::bytes_view framed_parse,
                                         std::string_view sql, const protocol::ClassifierOptions& options,
                                         protocol::ClassificationMemo* memo) {
  auto& statement = statements_[std::string(name)];
  statement.generation = next_generation_++;
  const auto body = framed_parse.size() >= 5 ? framed_parse.subspan(5) : protocol::bytes_view{};
  statement.content = content_hash(protocol::parse_definition(body));
  if (!pooled_names_ || name.empty()) {
    statement.server_name = std::string(name);
  } else {
    static constexpr char k_hex[] = "0123456789abcdef";
    statement.server_name = "pgr_";
    for (int shift = 60; shift >= 0; shift -= 4) statement.server_name.push_back(k_hex[(statement.content >> shift) & 0xf]);
  }
  statement.parse.assign(framed_parse.begin(), framed_parse.end());
  statement.sql.assign(sql.begin(), sql.end());  // the unnamed statement's buffer is reused
  statement.facts = memo ? memo->classify(statement.sql, options) : protocol::classify_sql(statement.sql, options);
  return statement.generation;
}

std::uint64_t PreparedStatements::content_hash(protocol::bytes_view definition) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto b : definition) {
    h ^= static_cast<std::uint8_t>(b);
    h *= 0x100000001b3ULL;
  }
  return h == 0 ? 1 : h;
}

const PreparedStatements::Statement* PreparedStatements::find(std::string_view name) const {
  const auto it = statements_.find(name);
  return it == statements_.end() ? nullptr : &it->second;
}

}  // namespace pgr::proxy
