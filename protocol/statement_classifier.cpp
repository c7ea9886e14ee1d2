// Statement classification for the read/write split (see statement_classifier.hpp). Each
// statement is read twice from the same lexer position: once in full by the body scan (write
// markers anywhere: DML keywords in CTEs, locking clauses, SELECT INTO, function calls), once by
// the head parser, which looks only at the leading keywords. Both loops are flat; prefixes such
// as EXPLAIN ANALYZE / PREPARE ... AS / DECLARE ... FOR are peeled off iteratively.
#include "protocol/statement_classifier.hpp"

#include <algorithm>
#include <new>
#include <optional>

#include "protocol/sql_lexer.hpp"
#include "protocol/statement_classifier_rules.hpp"

namespace pgr::protocol {
namespace {

using rules::Head;

// Significant tokens of the input (comments skipped). Remembers whether any token, comments
// included, was left unterminated. Copying it is how the head parser reads ahead without
// disturbing the body scan.
class Cursor {
 public:
  explicit Cursor(std::string_view sql) noexcept : lexer_(sql) { advance(); }

  const Token& token() const noexcept { return token_; }
  bool malformed() const noexcept { return malformed_; }
  bool is(TokenKind kind) const noexcept { return token_.kind == kind; }
  bool is(std::string_view keyword) const noexcept { return is_keyword(token_, keyword); }
  // The end of the current statement, for the head parser.
  bool at_end() const noexcept { return is(TokenKind::end) || is(TokenKind::semicolon); }

  void advance() noexcept {
    do {
      // Built in place by the lexer: `token_ = lexer_.next()` copied the token right after the
      // lexer's stores of its fields, which the CPU could not forward to the wider loads of the
      // copy (a stall per token; a fifth of classify_sql's time on a pgbench query).
      new (&token_) Token(lexer_.next());
      if (!token_.terminated) malformed_ = true;
    } while (token_.kind == TokenKind::comment);
  }
  // Consumes the current token when it is the keyword.
  bool accept(std::string_view keyword) noexcept {
    if (!is(keyword)) return false;
    advance();
    return true;
  }
  Token peek() const noexcept {
    Cursor copy = *this;
    copy.advance();
    return copy.token_;
  }

 private:
  SqlLexer lexer_;
  Token token_;
  bool malformed_ = false;
};

// What the scan of a whole statement found, wherever it was (subqueries and CTEs included).
struct BodyFacts {
  bool data_modifying = false;     // an INSERT/UPDATE/DELETE/MERGE keyword
  bool locking_clause = false;     // FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE
  bool select_into = false;        // INTO: in a query, SELECT INTO creates a table
  bool into_temp = false;          // INTO [LOCAL|GLOBAL] TEMP[ORARY]
  bool pg_temp_reference = false;  // pg_temp.name: a temporary object, which lives on the primary
  std::uint8_t functions = rules::function_none;  // effects of the functions called, ORed
};

// The keywords the body scan reacts to. Each identifier is looked up once, by its length,
// rather than compared with every keyword for itself and again for each token after it.
enum class Word : std::uint8_t {
  other, insert, update, delete_, merge, into, temp, local, global, share, for_, key, no, atomic, begin,
  case_, end,
};

Word word_of(const Token& t) noexcept {
  if (t.kind != TokenKind::identifier) return Word::other;
  const auto is = [&t](std::string_view keyword) { return iequals_ascii(t.text, keyword); };
  switch (t.text.size()) {
    case 2: return is("no") ? Word::no : Word::other;
    case 3: return is("for") ? Word::for_ : is("key") ? Word::key : is("end") ? Word::end : Word::other;
    case 4: return is("into") ? Word::into : is("temp") ? Word::temp : is("case") ? Word::case_ : Word::other;
    case 5:
      return is("merge") ? Word::merge
             : is("local") ? Word::local
             : is("share") ? Word::share
             : is("begin") ? Word::begin
                           : Word::other;
    case 6:
      return is("insert") ? Word::insert
             : is("update") ? Word::update
             : is("delete") ? Word::delete_
             : is("global") ? Word::global
             : is("atomic") ? Word::atomic
                            : Word::other;
    case 9: return is("temporary") ? Word::temp : Word::other;
    default: return Word::other;
  }
}

bool is_dml(Word w) noexcept {
  return w == Word::insert || w == Word::update || w == Word::delete_ || w == Word::merge;
}

// The last three significant tokens and their keywords: a ring, so that a token is copied once.
class History {
 public:
  struct Entry {
    Token token;
    Word word = Word::other;
  };
  // back(0) is the most recent token, back(2) the oldest kept.
  const Entry& back(unsigned i) const noexcept { return entries_[(newest_ + 3 - i) % 3]; }
  Word word(unsigned i) const noexcept { return back(i).word; }
  void push(const Token& token, Word word) noexcept {
    newest_ = (newest_ + 1) % 3;
    entries_[newest_] = Entry{token, word};
  }

 private:
  Entry entries_[3];
  unsigned newest_ = 0;
};

bool is_name(const Token& t) noexcept {
  return t.kind == TokenKind::identifier || t.kind == TokenKind::quoted_identifier;
}

bool is_pg_temp(const Token& t) noexcept {
  if (t.kind == TokenKind::quoted_identifier) return t.text == "\"pg_temp\"";
  return is_keyword(t, "pg_temp") ||
         (t.kind == TokenKind::identifier && t.text.size() > 8 &&
          iequals_ascii(t.text.substr(0, 8), "pg_temp_"));
}

void note_keyword(BodyFacts& f, const History& h, Word w) noexcept {
  if (w == Word::into) f.select_into = true;
  const bool after_into =
      h.word(0) == Word::into || ((h.word(0) == Word::local || h.word(0) == Word::global) && h.word(1) == Word::into);
  if (w == Word::temp && after_into) {
    f.into_temp = true;
  }
  if (w == Word::update || w == Word::share) {
    if (h.word(0) == Word::for_ || (h.word(0) == Word::key && h.word(1) == Word::for_) ||
        (w == Word::update && h.word(0) == Word::key && h.word(1) == Word::no && h.word(2) == Word::for_)) {
      f.locking_clause = true;
    }
  }
}

// One token of the body scan (`w` its keyword), with the history of the tokens before it.
void note_token(BodyFacts& f, const History& h, const Token& t, Word w, const ClassifierOptions& options) noexcept {
  // A DML keyword counts unless it is part of a qualified name or names a function; known only
  // once the next token is seen.
  if (is_dml(h.word(0)) && h.back(1).token.kind != TokenKind::dot && t.kind != TokenKind::left_paren &&
      t.kind != TokenKind::dot) {
    f.data_modifying = true;
  }
  switch (t.kind) {
    case TokenKind::left_paren:
      if (const Token& name = h.back(0).token; is_name(name)) {
        const bool qualified = h.back(1).token.kind == TokenKind::dot && is_name(h.back(2).token);
        f.functions |= rules::function_effect(qualified ? &h.back(2).token : nullptr, name, options.write_functions);
      }
      break;
    case TokenKind::dot:
      if (is_pg_temp(h.back(0).token)) f.pg_temp_reference = true;
      break;
    case TokenKind::identifier:
      note_keyword(f, h, w);
      break;
    default:
      break;
  }
}

// A SQL-standard function body (CREATE FUNCTION ... BEGIN ATOMIC ...; ...; END) holds `;`s
// that do not end the statement; CASE ... END nests inside it.
std::size_t atomic_depth(const History& h, Word w, std::size_t depth) noexcept {
  if (w == Word::atomic && h.word(0) == Word::begin) return depth + 1;
  if (depth > 0 && w == Word::case_) return depth + 1;
  if (depth > 0 && w == Word::end) return depth - 1;
  return depth;
}

// Scans one statement from the cursor through its terminating `;` (consumed) or the end.
// In CREATE statements a `;` inside parentheses (CREATE RULE ... DO (a; b)) or inside BEGIN
// ATOMIC ... END does not end the statement; elsewhere every `;` does, as in the server's
// grammar.
BodyFacts scan_body(Cursor& cursor, const ClassifierOptions& options) noexcept {
  const bool create = cursor.is("create");
  BodyFacts facts;
  History history;
  std::size_t parens = 0;
  std::size_t atomic = 0;
  for (;; cursor.advance()) {
    const Token& token = cursor.token();
    if (token.kind == TokenKind::end) break;
    if (token.kind == TokenKind::semicolon && (!create || (parens == 0 && atomic == 0))) {
      cursor.advance();
      break;
    }
    const Word word = word_of(token);
    note_token(facts, history, token, word, options);
    if (token.kind == TokenKind::left_paren) {
      ++parens;
    } else if (token.kind == TokenKind::right_paren) {
      parens -= parens > 0 ? 1 : 0;
    } else if (create && token.kind == TokenKind::identifier) {
      atomic = atomic_depth(history, word, atomic);
    }
    history.push(token, word);
  }
  note_token(facts, history, Token{}, Word::other, options);
  return facts;
}

void set_kind(Classification& c, StatementKind kind) noexcept {
  c.kind = kind;
  switch (kind) {
    case StatementKind::read:
      c.route = Route::standby_ok;
      break;
    case StatementKind::unknown:
    case StatementKind::write:
      c.route = Route::primary;
      break;
    default:
      c.route = Route::either;
      break;
  }
}

// SELECT / VALUES / TABLE / WITH, and the queries inside COPY, DECLARE, PREPARE, EXPLAIN ANALYZE.
void classify_query(Classification& c, const BodyFacts& b) noexcept {
  const bool writes = b.data_modifying || b.locking_clause || b.select_into ||
                      (b.functions & rules::function_writes) != 0;
  set_kind(c, writes ? StatementKind::write : StatementKind::read);
  if (b.select_into && b.into_temp) c.pins_to_primary = true;
}

std::optional<bool> bool_value(const Token& t) noexcept {
  std::string_view text = t.text;
  if (t.kind == TokenKind::string) {
    if (!t.terminated || text.size() < 2 || text.front() != '\'') return std::nullopt;
    text = text.substr(1, text.size() - 2);
  } else if (t.kind != TokenKind::identifier && t.kind != TokenKind::number) {
    return std::nullopt;
  }
  for (std::string_view yes : {"on", "true", "yes", "1"}) {
    if (iequals_ascii(text, yes)) return true;
  }
  for (std::string_view no : {"off", "false", "no", "0"}) {
    if (iequals_ascii(text, no)) return false;
  }
  return std::nullopt;
}

void note_name(Classification& c, const Token& t) noexcept {
  if (is_name(t) && c.prepared_name.empty()) c.prepared_name = t.text;
}

void skip_work_or_transaction(Cursor& h) noexcept {
  if (!h.accept("work")) h.accept("transaction");
}

// BEGIN / START TRANSACTION / SET TRANSACTION / SET SESSION CHARACTERISTICS AS TRANSACTION
// modes: ISOLATION LEVEL ..., READ ONLY | READ WRITE, [NOT] DEFERRABLE, in any order.
void read_transaction_modes(Cursor& h, Classification& c) noexcept {
  Token prev;
  for (; !h.at_end(); h.advance()) {
    const Token& t = h.token();
    if (is_keyword(prev, "read") && is_keyword(t, "only")) {
      c.read_only_transaction = true;
    } else if (is_keyword(prev, "read") && is_keyword(t, "write")) {
      c.read_write_transaction = true;
    } else if (is_keyword(t, "serializable")) {
      c.isolation = IsolationLevel::serializable;
    } else if (is_keyword(t, "repeatable")) {
      c.isolation = IsolationLevel::repeatable_read;
    } else if (is_keyword(t, "committed")) {
      c.isolation = IsolationLevel::read_committed;
    } else if (is_keyword(t, "uncommitted")) {
      c.isolation = IsolationLevel::read_uncommitted;
    }
    prev = t;
  }
  c.serializable_or_repeatable_read = c.isolation == IsolationLevel::serializable ||
                                      c.isolation == IsolationLevel::repeatable_read;
}

void begin_transaction(Cursor& h, Classification& c) noexcept {
  set_kind(c, StatementKind::transaction_control);
  read_transaction_modes(h, c);
  c.begins_transaction = true;
  c.transaction_effect = TransactionEffect::begins;
}

// COMMIT / END / ROLLBACK / ABORT [AND [NO] CHAIN]: AND CHAIN opens the next transaction at once.
void end_transaction(Cursor& h, Classification& c) noexcept {
  set_kind(c, StatementKind::transaction_control);
  c.ends_transaction = true;
  c.transaction_effect = TransactionEffect::ends;
  Token prev;
  for (; !h.at_end(); h.advance()) {
    if (h.is("chain") && is_keyword(prev, "and")) {
      c.begins_transaction = true;
      c.transaction_effect = TransactionEffect::begins;
    }
    prev = h.token();
  }
}

void rollback(Cursor& h, Classification& c) noexcept {
  if (h.accept("prepared")) {
    set_kind(c, StatementKind::write);
    return;
  }
  skip_work_or_transaction(h);
  if (h.is("to")) {
    set_kind(c, StatementKind::transaction_control);
    c.is_savepoint_cmd = true;
    return;
  }
  end_transaction(h, c);
}

// SET transaction_read_only {TO|=} value: the GUC spelling of SET TRANSACTION READ ONLY/WRITE.
void set_transaction_read_only(Cursor& h, Classification& c) noexcept {
  set_kind(c, StatementKind::transaction_control);
  h.advance();
  if (h.is(TokenKind::op) && h.token().text == "=") h.advance();
  else h.accept("to");
  if (const auto value = bool_value(h.token())) {
    (*value ? c.read_only_transaction : c.read_write_transaction) = true;
  }
}

void set_statement(Cursor& h, Classification& c) noexcept {
  set_kind(c, StatementKind::session_setting);
  const bool local = h.accept("local");
  const bool session = !local && h.accept("session");
  if (session && h.accept("characteristics")) {
    h.accept("as");
    h.accept("transaction");
    read_transaction_modes(h, c);
    c.session_state = true;
  } else if (h.accept("transaction")) {
    set_kind(c, StatementKind::transaction_control);
    read_transaction_modes(h, c);
  } else if (h.is("transaction_read_only")) {
    set_transaction_read_only(h, c);
  } else if (!h.accept("constraints")) {
    // SET x, SET ROLE, SET SESSION AUTHORIZATION, SET TIME ZONE, ...; LOCAL lasts one transaction.
    c.session_state = !local;
  }
}

void copy(Cursor& h, const BodyFacts& body, Classification& c) noexcept {
  if (h.is(TokenKind::left_paren)) {  // COPY (query) TO ...
    classify_query(c, body);
    return;
  }
  std::size_t depth = 0;
  for (; !h.at_end(); h.advance()) {
    if (h.is(TokenKind::left_paren)) {
      ++depth;
    } else if (h.is(TokenKind::right_paren)) {
      depth -= depth > 0 ? 1 : 0;
    } else if (depth == 0 && (h.is("from") || h.is("to"))) {
      if (h.is("from")) set_kind(c, StatementKind::write);
      else classify_query(c, body);
      return;
    }
  }
  set_kind(c, StatementKind::unknown);
}

void create(Cursor& h, const BodyFacts& body, Classification& c) noexcept {
  set_kind(c, StatementKind::write);
  while (h.is("or") || h.is("replace") || h.is("global") || h.is("local") || h.is("temp") ||
         h.is("temporary") || h.is("unlogged") || h.is("recursive")) {
    if (h.is("temp") || h.is("temporary")) c.pins_to_primary = true;
    h.advance();
  }
  // CREATE TABLE pg_temp.t, or a view over a temporary table (which makes the view temporary).
  if (body.pg_temp_reference) c.pins_to_primary = true;
}

// PREPARE TRANSACTION 'gid' is final; PREPARE name [(types)] AS continues with its statement.
bool prepare(Cursor& h, Classification& c) noexcept {
  if (h.is("transaction") && h.peek().kind == TokenKind::string) {
    set_kind(c, StatementKind::write);
    c.ends_transaction = true;
    c.transaction_effect = TransactionEffect::ends;
    return false;
  }
  if (!is_name(h.token())) {
    set_kind(c, StatementKind::unknown);
    return false;
  }
  note_name(c, h.token());
  h.advance();
  if (h.is(TokenKind::left_paren)) {
    std::size_t depth = 0;
    do {
      if (h.is(TokenKind::left_paren)) ++depth;
      if (h.is(TokenKind::right_paren)) --depth;
      h.advance();
    } while (depth > 0 && !h.at_end());
  }
  if (!h.accept("as")) {
    set_kind(c, StatementKind::unknown);
    return false;
  }
  c.session_state = true;
  return true;
}

// DECLARE name [BINARY] [[NO] SCROLL] ... CURSOR [WITH[OUT] HOLD] FOR query: continues with the query.
bool declare(Cursor& h, Classification& c) noexcept {
  if (!h.at_end()) h.advance();  // the cursor's name, which may itself be "cursor"
  while (!h.at_end() && !h.is("cursor")) h.advance();
  if (!h.accept("cursor")) {
    set_kind(c, StatementKind::unknown);
    return false;
  }
  if (h.accept("with")) {
    c.cursor_with_hold = h.accept("hold");
  } else if (h.accept("without")) {
    h.accept("hold");
  }
  if (!h.accept("for")) {
    set_kind(c, StatementKind::unknown);
    return false;
  }
  c.declares_cursor = true;
  return true;
}

// EXPLAIN ( option [value] [, ...] ): only ANALYZE matters, and its value may switch it off.
bool explain_option_list(Cursor& h) noexcept {
  bool analyze = false;
  h.advance();
  while (!h.at_end() && !h.is(TokenKind::right_paren)) {
    const bool is_analyze = h.is("analyze") || h.is("analyse");
    h.advance();
    bool value = true;
    if (!h.at_end() && !h.is(TokenKind::comma) && !h.is(TokenKind::right_paren)) {
      value = bool_value(h.token()).value_or(true);
      while (!h.at_end() && !h.is(TokenKind::comma) && !h.is(TokenKind::right_paren)) h.advance();
    }
    if (is_analyze) analyze = value;
    if (h.is(TokenKind::comma)) h.advance();
  }
  if (h.is(TokenKind::right_paren)) h.advance();
  return analyze;
}

// Past EXPLAIN: whether the explained statement will run (ANALYZE), options consumed.
bool explain_analyzes(Cursor& h) noexcept {
  if (h.is(TokenKind::left_paren)) return explain_option_list(h);
  bool analyze = false;
  for (; h.is("analyze") || h.is("analyse") || h.is("verbose"); h.advance()) {
    analyze = analyze || !h.is("verbose");
  }
  return analyze;
}

// Classifies by the leading keyword (already consumed). Returns true when an inner statement
// follows at `h` and must be classified in turn (PREPARE ... AS, DECLARE ... FOR).
bool classify_head(Head head, Cursor& h, const BodyFacts& body, Classification& c) noexcept {
  switch (head) {
    case Head::unknown: set_kind(c, StatementKind::unknown); return false;
    case Head::write: set_kind(c, StatementKind::write); return false;
    case Head::query: classify_query(c, body); return false;
    case Head::show: set_kind(c, StatementKind::read); return false;
    case Head::explain: return false;  // handled by classify_statement
    case Head::copy: copy(h, body, c); return false;
    case Head::create: create(h, body, c); return false;
    case Head::listen:
      set_kind(c, StatementKind::write);
      c.pins_to_primary = true;
      return false;
    case Head::begin: skip_work_or_transaction(h); begin_transaction(h, c); return false;
    case Head::start:
      if (h.accept("transaction")) begin_transaction(h, c);
      else set_kind(c, StatementKind::unknown);
      return false;
    case Head::commit:
      if (h.accept("prepared")) set_kind(c, StatementKind::write);
      else end_transaction(h, c);
      return false;
    case Head::rollback: rollback(h, c); return false;
    case Head::end: end_transaction(h, c); return false;
    case Head::savepoint:
      set_kind(c, StatementKind::transaction_control);
      c.is_savepoint_cmd = true;
      return false;
    case Head::prepare: return prepare(h, c);
    case Head::execute:
      set_kind(c, StatementKind::unknown);
      c.executes_prepared = true;
      note_name(c, h.token());
      return false;
    case Head::deallocate:
      set_kind(c, StatementKind::session_setting);
      c.session_state = true;
      h.accept("prepare");
      if (!h.is("all")) note_name(c, h.token());
      return false;
    case Head::declare: return declare(h, c);
    case Head::cursor_op: set_kind(c, StatementKind::cursor); return false;
    case Head::set: set_statement(h, c); return false;
    case Head::session:
      set_kind(c, StatementKind::session_setting);
      c.session_state = true;
      return false;
  }
  set_kind(c, StatementKind::unknown);
  return false;
}

// One statement, starting at `h`, whose body scan found `body`.
Classification classify_statement(Cursor h, const BodyFacts& body) noexcept {
  Classification c;
  c.statement_count = 1;
  for (;;) {  // each pass peels one prefix (EXPLAIN ANALYZE, PREPARE ... AS, DECLARE ... FOR)
    while (h.is(TokenKind::left_paren)) h.advance();  // (SELECT ...) UNION (SELECT ...)
    const Head head = rules::head_of(h.token());
    if (!h.at_end()) h.advance();
    if (head == Head::explain && !explain_analyzes(h)) {
      set_kind(c, StatementKind::read);  // only plans: nothing it names runs
      if (body.pg_temp_reference) c.route = Route::primary;
      return c;
    }
    if (head != Head::explain && !classify_head(head, h, body, c)) break;
  }
  // Effects of what actually runs, whatever the statement.
  if ((body.functions & rules::function_writes) != 0 && c.route != Route::primary) {
    set_kind(c, StatementKind::write);
  }
  if ((body.functions & rules::function_pins) != 0) c.pins_to_primary = true;
  if ((body.functions & rules::function_session) != 0) c.session_state = true;
  if (body.pg_temp_reference) c.route = Route::primary;
  // A standby refuses a read-write transaction (not a read-write session default).
  if (c.read_write_transaction && !c.session_state) c.route = Route::primary;
  return c;
}

void merge(Classification& total, const Classification& s) noexcept {
  total.route = std::max(total.route, s.route);
  total.kind = std::max(total.kind, s.kind);
  total.statement_count += s.statement_count;
  total.begins_transaction = total.begins_transaction || s.begins_transaction;
  total.ends_transaction = total.ends_transaction || s.ends_transaction;
  if (s.transaction_effect != TransactionEffect::none) {
    total.transaction_effect = s.transaction_effect;
  }
  total.is_savepoint_cmd = total.is_savepoint_cmd || s.is_savepoint_cmd;
  total.read_only_transaction = total.read_only_transaction || s.read_only_transaction;
  total.read_write_transaction = total.read_write_transaction || s.read_write_transaction;
  if (s.isolation != IsolationLevel::unspecified) total.isolation = s.isolation;
  total.serializable_or_repeatable_read =
      total.serializable_or_repeatable_read || s.serializable_or_repeatable_read;
  total.session_state = total.session_state || s.session_state;
  total.pins_to_primary = total.pins_to_primary || s.pins_to_primary;
  total.declares_cursor = total.declares_cursor || s.declares_cursor;
  total.cursor_with_hold = total.cursor_with_hold || s.cursor_with_hold;
  total.executes_prepared = total.executes_prepared || s.executes_prepared;
  if (total.prepared_name.empty()) total.prepared_name = s.prepared_name;
}

// A leading /* ... */ naming a hint; whitespace and case inside it are ignored.
void note_hint(const Token& comment, Classification& c) noexcept {
  const std::string_view text = comment.text;
  if (!comment.terminated || text.size() < 4 || text.substr(0, 2) != "/*") return;
  char folded[24];
  std::size_t n = 0;
  for (const char ch : text.substr(2, text.size() - 4)) {
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') continue;
    if (n == sizeof folded) return;
    folded[n++] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  const std::string_view hint(folded, n);
  if (hint == "pgrouter:primary" || hint == "noloadbalance") c.hint_primary = true;
  if (hint == "pgrouter:standby") c.hint_standby = true;
}

}  // namespace

Classification classify_sql(std::string_view sql, const ClassifierOptions& options) {
  Classification total;
  SqlLexer leading(sql);
  for (Token t = leading.next(); t.kind == TokenKind::comment; t = leading.next()) {
    note_hint(t, total);
  }
  Cursor cursor(sql);
  while (!cursor.is(TokenKind::end)) {
    if (cursor.is(TokenKind::semicolon)) {
      cursor.advance();
      continue;
    }
    const Cursor head = cursor;
    const BodyFacts body = scan_body(cursor, options);
    merge(total, classify_statement(head, body));
  }
  if (cursor.malformed()) {
    // The server rejects the whole string before running any of it: no facts, only caution.
    Classification rejected;
    rejected.route = Route::primary;
    rejected.kind = StatementKind::unknown;
    rejected.malformed = true;
    rejected.statement_count = total.statement_count;
    rejected.hint_primary = total.hint_primary;
    rejected.hint_standby = total.hint_standby;
    return rejected;
  }
  if (total.hint_primary) total.route = Route::primary;
  return total;
}

Classification classify_sql(std::string_view sql) { return classify_sql(sql, ClassifierOptions{}); }

}  // namespace pgr::protocol
