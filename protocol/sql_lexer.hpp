// A single-pass SQL tokenizer following PostgreSQL's lexical rules (scan.l), just deep enough
// for the statement classifier: it never parses, never allocates and never reads past the input.
//
// What it knows: whitespace; `--` and nesting `/* */` comments; unquoted identifiers (which may
// contain `$`) and `"quoted"` ones with `""`; string constants '...' with '' (standard conforming:
// backslash is ordinary), E'...' (backslash escapes), U&'...', B'...', X'...', N'...'; dollar
// quoting `$$...$$` / `$tag$...$tag$`; parameters `$n`; numbers; operators and punctuation.
//
// Every token is a string_view into the input. A construct still open at the end of the input
// (string, quoted identifier, block comment, dollar quote) runs to the end and is reported with
// `terminated == false`: PostgreSQL rejects such input, and callers treat it conservatively.
// Bytes PostgreSQL has no token for (`\`, `{`, a NUL, a `$` that starts nothing) come back one at a
// time as TokenKind::other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgr::protocol {

enum class TokenKind : std::uint8_t {
  end,                // no more input; text is empty
  identifier,         // unquoted: compare ASCII case-insensitively (PostgreSQL downcases it)
  quoted_identifier,  // "..." or U&"...", text includes the quotes; never a keyword
  string,             // '...', E'...', U&'...', B'...', X'...', N'...'; text includes prefix and quotes
  dollar_string,      // $tag$...$tag$, text includes both delimiters
  number,
  parameter,          // $1, $2, ...
  left_paren,
  right_paren,
  semicolon,
  comma,
  dot,
  op,       // operators and the other punctuation: + - * / < > = ~ ! @ # % ^ & | ` ? : :: [ ]
  comment,  // -- ... or /* ... */, text includes the delimiters
  other,    // one byte PostgreSQL's lexer would reject
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string_view text;
  bool terminated = true;  // false: an unclosed string/identifier/comment/dollar quote
};

// Cheap to copy (a view and an offset): copying it is how callers look ahead.
class SqlLexer {
 public:
  explicit SqlLexer(std::string_view sql) noexcept : sql_(sql) {}

  // The next token, comments included; TokenKind::end forever once the input is used up.
  Token next() noexcept;
  // Offset of the first byte not yet consumed.
  std::size_t position() const noexcept { return pos_; }

 private:
  Token make(TokenKind kind, std::size_t start, std::size_t stop, bool terminated = true) noexcept;
  Token line_comment(std::size_t start) noexcept;
  Token block_comment(std::size_t start) noexcept;
  Token quoted(TokenKind kind, std::size_t start, std::size_t open, bool backslash_escapes) noexcept;
  Token dollar(std::size_t start) noexcept;
  Token word(std::size_t start) noexcept;
  Token number(std::size_t start) noexcept;
  Token operator_run(std::size_t start) noexcept;

  std::string_view sql_;
  std::size_t pos_ = 0;
};

// PostgreSQL downcases only ASCII letters in identifiers and keywords.
constexpr unsigned char lower_ascii(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality. Inline, as is_keyword: the classifier asks a dozen of them
// per token, and most end at the length check, which a call would cost more than.
inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower_ascii(static_cast<unsigned char>(a[i])) != lower_ascii(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// True when `token` is the unquoted identifier `lowercase_keyword` (given in lower case).
inline bool is_keyword(const Token& token, std::string_view lowercase_keyword) noexcept {
  return token.kind == TokenKind::identifier && iequals_ascii(token.text, lowercase_keyword);
}

// The name an identifier token denotes: unquoted ones lowercased, quoted ones without their
// quotes and with `""` undoubled. U&"..." escapes are not decoded. Allocates: not for hot paths.
std::string identifier_name(const Token& token);

}  // namespace pgr::protocol
