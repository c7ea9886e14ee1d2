// The pre-scan before toml11 (toml_guard.hpp): strict UTF-8 (RFC 3629, as toml11's lexer),
// then a small lexer that knows just enough TOML — comments and the four string forms — to
// count brackets that are really brackets.
#include "conf/toml_guard.hpp"

#include <cstdint>

namespace pgr::conf::detail {

namespace {

bool in(std::uint8_t byte, std::uint8_t low, std::uint8_t high) {
  return byte >= low && byte <= high;
}

// Length of the valid UTF-8 sequence at text[at], or 0.
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) {
    return at + i < text.size() ? static_cast<std::uint8_t>(text[at + i]) : std::uint8_t{0};
  };
  const std::uint8_t b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (in(b0, 0xC2, 0xDF)) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    // E0 needs A0..BF (no overlongs); ED needs 80..9F (no surrogates).
    const std::uint8_t low = b0 == 0xE0 ? 0xA0 : 0x80;
    const std::uint8_t high = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    // F0 needs 90..BF (no overlongs); F4 needs 80..8F (at most U+10FFFF).
    const std::uint8_t low = b0 == 0xF0 ? 0x90 : 0x80;
    const std::uint8_t high = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

std::optional<GuardProblem> check_utf8(std::string_view text) {
  int line = 1;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n = utf8_length(text, at);
    if (n == 0) return GuardProblem{line, "invalid TOML: not valid UTF-8"};
    if (text[at] == '\n') ++line;
    at += n;
  }
  return std::nullopt;
}

class NestingScanner {
 public:
  explicit NestingScanner(std::string_view text) : text_(text) {}

  // The line where nesting first exceeds `max_depth`, or nullopt.
  std::optional<int> run(int max_depth) {
    int depth = 0;
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (c == '#') {
        while (at_ < text_.size() && text_[at_] != '\n') ++at_;
      } else if (c == '"' || c == '\'') {
        skip_string(c);
      } else {
        if (c == '\n') ++line_;
        if (c == '[' || c == '{') {
          if (++depth > max_depth) return line_;
        } else if ((c == ']' || c == '}') && depth > 0) {
          --depth;
        }
        ++at_;
      }
    }
    return std::nullopt;
  }

 private:
  bool at_triple(char quote) const {
    return at_ + 2 < text_.size() && text_[at_] == quote && text_[at_ + 1] == quote &&
           text_[at_ + 2] == quote;
  }

  // Skips a string starting at at_; a single-line string also ends at a newline (it is a
  // syntax error for toml11 to report, not for us).
  void skip_string(char quote) {
    const bool multi_line = at_triple(quote);
    at_ += multi_line ? 3 : 1;
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (c == '\n') {
        if (!multi_line) return;
        ++line_;
      } else if (c == '\\' && quote == '"') {
        // An escape: the next character cannot end the string (but may be a newline).
        if (at_ + 1 < text_.size() && text_[at_ + 1] == '\n') ++line_;
        at_ += 2;
        continue;
      } else if (c == quote && (!multi_line || at_triple(quote))) {
        at_ += multi_line ? 3 : 1;
        return;
      }
      ++at_;
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
  int line_ = 1;
};

}  // namespace

std::optional<GuardProblem> check_toml_input(std::string_view text, int max_depth) {
  if (auto problem = check_utf8(text)) return problem;
  if (const auto line = NestingScanner(text).run(max_depth)) {
    return GuardProblem{
        *line, "invalid TOML: nested deeper than " + std::to_string(max_depth) + " levels"};
  }
  return std::nullopt;
}

}  // namespace pgr::conf::detail
