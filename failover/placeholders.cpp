// Placeholder expansion with shell quoting (see placeholders.hpp). A small model of the POSIX
// shell lexer follows the template so each value is quoted for the context it lands in.
#include "failover/placeholders.hpp"

#include <vector>

namespace pgr::failover {
namespace {

// Where the shell lexer is, innermost last. Only top, single and dquote admit placeholders;
// the others are tracked so we know when they end.
enum class Frame : std::uint8_t { top, single, dquote, paren, backtick, brace, ansi };

enum class Context : std::uint8_t { unquoted, single, dquote };

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }
bool is_operator(char c) {
  return c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' || c == '>';
}

bool is_bare_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '/' || c == ':' || c == '@' || c == '%' || c == '+' ||
         c == ',' || c == '-';
}

// Follows the template's own text, one character at a time. It errs towards refusing: a
// construct it does not model (here-documents, $'...', quotes inside ${...}) makes every later
// placeholder an error.
class ShellLexer {
 public:
  // Reads `c` (with `next` as lookahead) and returns how many characters it consumed: 2 when
  // `c` and `next` form one token such as "$(", else 1.
  std::size_t feed(char c, char next) {
    if (escape_next_) {
      escape_next_ = false;
      word_start_ = false;
      return 1;
    }
    if (in_comment_) {
      if (c == '\n') {
        in_comment_ = false;
        word_start_ = true;
      }
      return 1;
    }
    switch (frames_.back().kind) {
      case Frame::single:
        if (c == '\'') frames_.pop_back();
        return 1;
      case Frame::ansi:
      case Frame::backtick:
        if (c == '\\') {
          escape_next_ = true;
        } else if (c == (frames_.back().kind == Frame::ansi ? '\'' : '`')) {
          frames_.pop_back();
        }
        return 1;
      case Frame::dquote:
        if (c == '\\') escape_next_ = true;
        else if (c == '"') frames_.pop_back();
        else if (c == '`') frames_.push_back({Frame::backtick});
        else if (c == '$' && (next == '(' || next == '{')) return open_substitution(next);
        return 1;
      case Frame::brace:
        if (c == '}') {
          frames_.pop_back();
          return 1;
        }
        return feed_word(c, next, false);
      case Frame::top:
      case Frame::paren:
        return feed_word(c, next, true);
    }
    return 1;
  }

  // The context a placeholder at this point lands in, or why there is none.
  std::optional<Context> context(std::string& why) const {
    if (in_comment_) {
      why = "a placeholder in a # comment";
    } else if (poisoned_by_) {
      why = std::string("a placeholder after ") + poisoned_by_;
    } else if (escape_next_) {
      why = "a placeholder right after a backslash";
    } else if (frames_.size() == 1) {
      return Context::unquoted;
    } else if (frames_.size() == 2 && frames_[1].kind == Frame::single) {
      return Context::single;
    } else if (frames_.size() == 2 && frames_[1].kind == Frame::dquote) {
      return Context::dquote;
    } else {
      why = "a placeholder inside $(...), `...`, ${...} or $'...'";
    }
    return std::nullopt;
  }

  void after_value() { word_start_ = false; }

 private:
  struct State {
    Frame kind = Frame::top;
    int depth = 0;  // paren: unmatched '(' inside it
  };

  std::size_t open_substitution(char next) {
    frames_.push_back({next == '(' ? Frame::paren : Frame::brace});
    word_start_ = next == '(';  // $( starts a new command
    return 2;
  }

  // Unquoted text at the top, inside $(...) or inside ${...} (`commands` false: no comments,
  // operators or here-documents there).
  std::size_t feed_word(char c, char next, bool commands) {
    State& frame = frames_.back();
    const bool at_word_start = word_start_;
    word_start_ = false;
    if (frame.kind == Frame::brace && (c == '\'' || c == '"')) {
      // Shells disagree on quotes inside ${...} (more so inside "..."): stop trusting the model.
      poisoned_by_ = "quotes inside ${...}";
    }
    if (c == '\\') {
      escape_next_ = true;
    } else if (c == '\'') {
      frames_.push_back({Frame::single});
    } else if (c == '"') {
      frames_.push_back({Frame::dquote});
    } else if (c == '`') {
      frames_.push_back({Frame::backtick});
    } else if (c == '$' && (next == '(' || next == '{')) {
      return open_substitution(next);
    } else if (c == '$' && next == '\'') {
      poisoned_by_ = "$'...' quoting";  // bash reads \' inside it; dash does not
      frames_.push_back({Frame::ansi});
      return 2;
    } else if (!commands) {
      return 1;
    } else if (c == '#' && at_word_start) {
      in_comment_ = true;
    } else if (c == '<' && next == '<') {
      poisoned_by_ = "a << here-document";
      word_start_ = true;
      return 2;
    } else if (frame.kind == Frame::paren && c == '(') {
      ++frame.depth;
      word_start_ = true;
    } else if (frame.kind == Frame::paren && c == ')' && frame.depth == 0) {
      frames_.pop_back();
    } else {
      if (frame.kind == Frame::paren && c == ')') --frame.depth;
      word_start_ = is_blank(c) || is_operator(c);
    }
    return 1;
  }

  std::vector<State> frames_{State{}};
  bool escape_next_ = false;
  bool in_comment_ = false;
  bool word_start_ = true;  // the next character begins a word (so # starts a comment)
  const char* poisoned_by_ = nullptr;
};

std::string id_text(std::optional<std::size_t> id) { return id ? std::to_string(*id) : "-1"; }
std::string port_text(std::uint16_t port) { return port == 0 ? "" : std::to_string(port); }

// The value of placeholder `p`, or nullopt when `p` is no placeholder.
std::optional<std::string> value_of(char p, const PlaceholderValues& v) {
  const auto id = [](const std::optional<PlaceholderNode>& n) {
    return id_text(n ? std::optional<std::size_t>(n->id) : std::nullopt);
  };
  const auto host = [](const std::optional<PlaceholderNode>& n) { return n ? n->host : ""; };
  const auto port = [](const std::optional<PlaceholderNode>& n) {
    return n ? port_text(n->port) : "";
  };
  const auto dir = [](const std::optional<PlaceholderNode>& n) {
    return n ? n->data_directory : "";
  };
  switch (p) {
    case 'd': return id(v.node);
    case 'h': return host(v.node);
    case 'p': return port(v.node);
    case 'D': return dir(v.node);
    case 'm': return id(v.new_main);
    case 'H': return host(v.new_main);
    case 'r': return port(v.new_main);
    case 'R': return dir(v.new_main);
    case 'M': return id_text(v.old_main_id);
    case 'P': return id(v.old_primary);
    case 'N': return host(v.old_primary);
    case 'S': return port(v.old_primary);
    default: return std::nullopt;
  }
}

void append_quoted(std::string& out, std::string_view value, Context context) {
  switch (context) {
    case Context::unquoted:
      out += quote_for_shell(value);
      return;
    case Context::single:  // close the quotes, add an escaped quote, reopen
      for (const char c : value) {
        if (c == '\'') out += "'\\''";
        else out += c;
      }
      return;
    case Context::dquote:
      for (const char c : value) {
        if (c == '$' || c == '`' || c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return;
  }
}

std::optional<TemplateError> check_value(std::size_t at, char p, std::string_view value) {
  for (const char c : value) {
    if (c == '\0' || c == '\n' || c == '\r') {
      // A line break could end a comment or a construct the lexer misjudged; no host or
      // directory name needs one.
      return TemplateError{at, std::string("the value of %") + p + " contains " +
                                   (c == '\0' ? "a NUL byte" : "a line break")};
    }
  }
  return std::nullopt;
}

// Expands (values set) or validates (values null; `strict` also refuses what pgpool drops).
ExpandedCommand run(std::string_view text, const PlaceholderValues* values, bool strict) {
  const auto fail = [](std::size_t at, std::string problem) {
    return ExpandedCommand{std::nullopt, TemplateError{at, std::move(problem)}};
  };
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return fail(nul, "the template contains a NUL byte");
  }
  ShellLexer lexer;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const bool has_next = i + 1 < text.size();
    const char next = has_next ? text[i + 1] : '\0';
    if (c != '%') {
      const std::size_t used = lexer.feed(c, next);
      out.append(text.substr(i, used));
      i += used;
      continue;
    }
    if (next == '%') {  // "%%": one literal %, plain text to the shell
      lexer.feed('%', '\0');
      out += '%';
      i += 2;
      continue;
    }
    const std::size_t at = i;
    i += has_next ? 2 : 1;
    const auto value = value_of(next, values ? *values : PlaceholderValues{});
    if (!value) {
      if (strict) {
        return fail(at, has_next ? std::string("unknown placeholder %") + next
                                 : std::string("a lone % at the end"));
      }
      continue;  // pgpool drops it
    }
    std::string why;
    const auto context = lexer.context(why);
    if (!context) return fail(at, std::string("%") + next + ": " + why);
    if (values) {
      if (auto bad = check_value(at, next, *value)) return {std::nullopt, std::move(bad)};
      append_quoted(out, *value, *context);
    }
    lexer.after_value();
  }
  return {std::move(out), std::nullopt};
}

}  // namespace

std::string TemplateError::to_string() const {
  return "at byte " + std::to_string(offset) + ": " + problem;
}

std::string quote_for_shell(std::string_view value) {
  bool bare = !value.empty();
  for (const char c : value) bare = bare && is_bare_safe(c);
  if (bare) return std::string(value);
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  out += '\'';
  return out;
}

ExpandedCommand expand_command(std::string_view command_template,
                               const PlaceholderValues& values) {
  return run(command_template, &values, false);
}

std::optional<TemplateError> validate_command_template(std::string_view command_template) {
  return run(command_template, nullptr, true).error;
}

}  // namespace pgr::failover
