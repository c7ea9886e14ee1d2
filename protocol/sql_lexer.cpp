// The SQL tokenizer (see sql_lexer.hpp). Character classes and the order of the checks follow
// PostgreSQL's src/backend/parser/scan.l; every read is bounds-checked through at().
#include "protocol/sql_lexer.hpp"

namespace pgr::protocol {
namespace {

constexpr bool is_space(unsigned char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
// High-bit bytes are identifier characters: PostgreSQL accepts any multibyte letter there.
constexpr bool is_ident_start(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
// A dollar-quote tag is an identifier without `$`; an unquoted identifier may contain `$`.
constexpr bool is_tag_char(unsigned char c) noexcept { return is_ident_start(c) || is_digit(c); }
constexpr bool is_ident_char(unsigned char c) noexcept { return is_tag_char(c) || c == '$'; }
constexpr bool is_op_char(unsigned char c) noexcept {
  switch (c) {
    case '~': case '!': case '@': case '#': case '^': case '&': case '|': case '`': case '?':
    case '+': case '-': case '*': case '/': case '%': case '<': case '>': case '=':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string identifier_name(const Token& token) {
  std::string out;
  if (token.kind == TokenKind::identifier) {
    for (char c : token.text) out.push_back(static_cast<char>(lower_ascii(static_cast<unsigned char>(c))));
    return out;
  }
  std::string_view body = token.text;
  if (!body.empty() && body.front() != '"') body.remove_prefix(2);  // U&
  if (!body.empty()) body.remove_prefix(1);
  if (token.terminated && !body.empty()) body.remove_suffix(1);
  for (std::size_t i = 0; i < body.size(); ++i) {
    out.push_back(body[i]);
    if (body[i] == '"' && i + 1 < body.size() && body[i + 1] == '"') ++i;
  }
  return out;
}

Token SqlLexer::make(TokenKind kind, std::size_t start, std::size_t stop, bool terminated) noexcept {
  pos_ = stop;
  return Token{kind, sql_.substr(start, stop - start), terminated};
}

Token SqlLexer::next() noexcept {
  const auto at = [this](std::size_t i) -> unsigned char {
    return i < sql_.size() ? static_cast<unsigned char>(sql_[i]) : 0;
  };
  while (pos_ < sql_.size() && is_space(at(pos_))) ++pos_;
  if (pos_ >= sql_.size()) return make(TokenKind::end, pos_, pos_);
  const std::size_t start = pos_;
  const unsigned char c = at(start);
  const unsigned char c1 = at(start + 1);
  if (c == '-' && c1 == '-') return line_comment(start);
  if (c == '/' && c1 == '*') return block_comment(start);
  if (c == '\'') return quoted(TokenKind::string, start, start, false);
  if (c == '"') return quoted(TokenKind::quoted_identifier, start, start, false);
  if (c == '$') return dollar(start);
  if (is_ident_start(c)) return word(start);
  if (is_digit(c) || (c == '.' && is_digit(c1))) return number(start);
  switch (c) {
    case '(': return make(TokenKind::left_paren, start, start + 1);
    case ')': return make(TokenKind::right_paren, start, start + 1);
    case ';': return make(TokenKind::semicolon, start, start + 1);
    case ',': return make(TokenKind::comma, start, start + 1);
    case '.': return make(TokenKind::dot, start, start + 1);
    case '[': case ']': return make(TokenKind::op, start, start + 1);
    case ':': return make(TokenKind::op, start, start + ((c1 == ':' || c1 == '=') ? 2 : 1));
    default: break;
  }
  if (is_op_char(c)) return operator_run(start);
  return make(TokenKind::other, start, start + 1);
}

Token SqlLexer::line_comment(std::size_t start) noexcept {
  std::size_t i = start + 2;
  while (i < sql_.size() && sql_[i] != '\n' && sql_[i] != '\r') ++i;
  return make(TokenKind::comment, start, i);
}

// Block comments nest in PostgreSQL (unlike the SQL standard's C heritage): count the depth.
Token SqlLexer::block_comment(std::size_t start) noexcept {
  std::size_t depth = 1;
  std::size_t i = start + 2;
  while (i + 1 < sql_.size()) {
    if (sql_[i] == '/' && sql_[i + 1] == '*') {
      ++depth;
      i += 2;
    } else if (sql_[i] == '*' && sql_[i + 1] == '/') {
      i += 2;
      if (--depth == 0) return make(TokenKind::comment, start, i);
    } else {
      ++i;
    }
  }
  return make(TokenKind::comment, start, sql_.size(), false);
}

// A quoted construct opening at `open`; the token text starts at `start` (which includes any
// E/U&/B/X/N prefix). A doubled quote is an escaped quote; with backslash_escapes (E'...') a
// backslash escapes whatever byte follows it, the quote included.
Token SqlLexer::quoted(TokenKind kind, std::size_t start, std::size_t open,
                       bool backslash_escapes) noexcept {
  const char quote = sql_[open];
  std::size_t i = open + 1;
  while (i < sql_.size()) {
    const char ch = sql_[i];
    if (backslash_escapes && ch == '\\') {
      i += 2;
    } else if (ch == quote) {
      if (i + 1 < sql_.size() && sql_[i + 1] == quote) {
        i += 2;
      } else {
        return make(kind, start, i + 1);
      }
    } else {
      ++i;
    }
  }
  return make(kind, start, sql_.size(), false);
}

// `$n` is a parameter; `$$` or `$tag$` opens a dollar quote closed by the same delimiter; a `$`
// starting neither is a lone byte PostgreSQL rejects (its lexer backs up the same way).
Token SqlLexer::dollar(std::size_t start) noexcept {
  std::size_t i = start + 1;
  if (i < sql_.size() && is_digit(static_cast<unsigned char>(sql_[i]))) {
    while (i < sql_.size() && is_digit(static_cast<unsigned char>(sql_[i]))) ++i;
    return make(TokenKind::parameter, start, i);
  }
  if (i < sql_.size() && is_ident_start(static_cast<unsigned char>(sql_[i]))) {
    while (i < sql_.size() && is_tag_char(static_cast<unsigned char>(sql_[i]))) ++i;
  }
  if (i >= sql_.size() || sql_[i] != '$') return make(TokenKind::other, start, start + 1);
  const std::string_view delimiter = sql_.substr(start, i + 1 - start);
  const std::size_t close = sql_.find(delimiter, i + 1);
  if (close == std::string_view::npos) {
    return make(TokenKind::dollar_string, start, sql_.size(), false);
  }
  return make(TokenKind::dollar_string, start, close + delimiter.size());
}

// An identifier, or the prefix letter(s) of a special string constant: E'..', B'..', X'..',
// N'..', U&'..' and the identifier form U&"..".
Token SqlLexer::word(std::size_t start) noexcept {
  const auto at = [this](std::size_t i) -> unsigned char {
    return i < sql_.size() ? static_cast<unsigned char>(sql_[i]) : 0;
  };
  const unsigned char c = lower_ascii(at(start));
  const unsigned char c1 = at(start + 1);
  if (c1 == '\'') {
    if (c == 'e') return quoted(TokenKind::string, start, start + 1, true);
    if (c == 'b' || c == 'x' || c == 'n') return quoted(TokenKind::string, start, start + 1, false);
  }
  if (c == 'u' && c1 == '&') {
    const unsigned char c2 = at(start + 2);
    if (c2 == '\'') return quoted(TokenKind::string, start, start + 2, false);
    if (c2 == '"') return quoted(TokenKind::quoted_identifier, start, start + 2, false);
  }
  std::size_t i = start + 1;
  while (i < sql_.size() && is_ident_char(at(i))) ++i;
  return make(TokenKind::identifier, start, i);
}

// Decimal (with `_` separators, fraction, exponent) or 0x/0o/0b integers. Trailing letters are
// left for the next token; PostgreSQL rejects such input as "trailing junk" anyway.
Token SqlLexer::number(std::size_t start) noexcept {
  const auto at = [this](std::size_t i) -> unsigned char {
    return i < sql_.size() ? static_cast<unsigned char>(sql_[i]) : 0;
  };
  std::size_t i = start;
  const unsigned char radix = lower_ascii(at(start + 1));
  if (at(start) == '0' && (radix == 'x' || radix == 'o' || radix == 'b')) {
    i = start + 2;
    while (is_tag_char(at(i))) ++i;
    return make(TokenKind::number, start, i);
  }
  while (is_digit(at(i)) || at(i) == '_') ++i;
  if (at(i) == '.' && at(i + 1) != '.') {
    ++i;
    while (is_digit(at(i)) || at(i) == '_') ++i;
  }
  if (lower_ascii(at(i)) == 'e') {
    const std::size_t digits = (at(i + 1) == '+' || at(i + 1) == '-') ? i + 2 : i + 1;
    if (is_digit(at(digits))) {
      i = digits;
      while (is_digit(at(i))) ++i;
    }
  }
  return make(TokenKind::number, start, i);
}

// The longest run of operator characters, cut before any `--` or `/*` inside it: those start a
// comment even in the middle of an operator.
Token SqlLexer::operator_run(std::size_t start) noexcept {
  std::size_t i = start;
  while (i < sql_.size() && is_op_char(static_cast<unsigned char>(sql_[i]))) {
    if (i > start && i + 1 < sql_.size()) {
      const char a = sql_[i];
      const char b = sql_[i + 1];
      if ((a == '-' && b == '-') || (a == '/' && b == '*')) break;
    }
    ++i;
  }
  return make(TokenKind::op, start, i);
}

}  // namespace pgr::protocol
