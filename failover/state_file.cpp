// The state file's text format: serializing and parsing (see state_file.hpp). The disk side
// is in state_file_io.cpp.
#include "failover/state_file.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <span>

namespace pgr::failover {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

void append_quoted(std::string& out, std::string_view value) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

// `value` in quotes with escapes, for error messages: they stay one printable line.
std::string quoted(std::string_view value) {
  std::string out;
  append_quoted(out, value);
  return out;
}

// One "key=value" or bare "value" of a line, with quotes and escapes undone.
struct Token {
  std::string key;  // "" when the token has no key
  std::string value;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads a quoted string starting at line[i] == '"'; advances i past the closing quote.
std::optional<std::string> read_quoted(std::string_view line, std::size_t& i, std::string& why) {
  std::string value;
  for (++i; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      ++i;
      return value;
    }
    if (c != '\\') {
      value += c;
      continue;
    }
    if (++i == line.size()) break;
    switch (line[i]) {
      case '"': value += '"'; break;
      case '\\': value += '\\'; break;
      case 'n': value += '\n'; break;
      case 'r': value += '\r'; break;
      case 't': value += '\t'; break;
      case 'x': {
        const int hi = i + 1 < line.size() ? hex_digit(line[i + 1]) : -1;
        const int lo = i + 2 < line.size() ? hex_digit(line[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          why = "\\x needs two hex digits";
          return std::nullopt;
        }
        value += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        why = "unknown escape " + quoted(std::string("\\") + line[i]);
        return std::nullopt;
    }
  }
  why = "unterminated string";
  return std::nullopt;
}

std::optional<std::vector<Token>> tokenize(std::string_view line, std::string& why) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) return tokens;
    Token token;
    std::size_t end = i;
    while (end < line.size() && !is_blank(line[end]) && line[end] != '"' && line[end] != '=') {
      ++end;
    }
    if (end < line.size() && line[end] == '=') {
      token.key = std::string(line.substr(i, end - i));
      if (token.key.empty()) {
        why = "a field name is missing before '='";
        return std::nullopt;
      }
      i = end + 1;
    }
    if (i < line.size() && line[i] == '"') {
      auto value = read_quoted(line, i, why);
      if (!value) return std::nullopt;
      token.value = std::move(*value);
      if (i < line.size() && !is_blank(line[i])) {
        why = "expected a blank after the closing quote";
        return std::nullopt;
      }
    } else {
      const std::size_t start = i;
      while (i < line.size() && !is_blank(line[i])) {
        if (line[i] == '"') {
          why = "a quote inside a bare word";
          return std::nullopt;
        }
        ++i;
      }
      token.value = std::string(line.substr(start, i - start));
    }
    tokens.push_back(std::move(token));
  }
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// Parses the file line by line; each method handles one kind of line.
class Parser {
 public:
  StateParseResult run(std::string_view text) {
    while (!text.empty() && !error_) {
      const std::size_t newline = text.find('\n');
      const std::string_view line = text.substr(0, newline);
      text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
      ++line_;
      parse_line(line);
    }
    if (!error_ && !format_seen_) fail(0, "no \"format\" line: not a pgrouter state file");
    if (!error_) check_primary();
    if (error_) return {std::nullopt, std::move(error_)};
    return {std::move(state_), std::nullopt};
  }

 private:
  void fail(int line, std::string problem) { error_ = StateError{line, std::move(problem)}; }

  void parse_line(std::string_view line) {
    std::size_t first = 0;
    while (first < line.size() && is_blank(line[first])) ++first;
    if (first == line.size() || line[first] == '#') return;
    std::string why;
    auto tokens = tokenize(line, why);
    if (!tokens) return fail(line_, why);
    if (!(*tokens)[0].key.empty()) return fail(line_, "expected a keyword, found a field");
    const std::string keyword = (*tokens)[0].value;
    const std::span<const Token> args(tokens->data() + 1, tokens->size() - 1);
    if (!format_seen_ && keyword != "format") {
      return fail(line_, "the first line must be \"format " +
                             std::to_string(k_state_format_version) + "\"");
    }
    if (keyword == "node") return parse_node(args);
    if (!seen_.insert(keyword).second) return fail(line_, "duplicate " + quoted(keyword) + " line");
    if (args.size() != 1 || !args[0].key.empty()) {
      return fail(line_, quoted(keyword) + " takes exactly one value");
    }
    parse_setting(keyword, args[0].value);
  }

  void parse_setting(const std::string& keyword, const std::string& value) {
    if (keyword == "format") {
      format_seen_ = true;
      const auto version = parse_number<int>(value);
      if (!version) return fail(line_, "format: expected a number, found " + quoted(value));
      if (*version != k_state_format_version) {
        return fail(line_, "format version " + std::to_string(*version) +
                               " is not supported (this pgrouter reads " +
                               std::to_string(k_state_format_version) + ")");
      }
    } else if (keyword == "system_identifier") {
      state_.system_identifier = parse_number<std::uint64_t>(value);
      if (!state_.system_identifier) fail(line_, "system_identifier: expected an unsigned number");
    } else if (keyword == "timeline") {
      state_.timeline = parse_number<std::uint32_t>(value);
      if (!state_.timeline) fail(line_, "timeline: expected a number from 0 to 4294967295");
    } else if (keyword == "primary") {
      if (value.empty()) return fail(line_, "primary: the name is empty");
      state_.primary = value;
      primary_line_ = line_;
    } else {
      fail(line_, "unknown keyword " + quoted(keyword));
    }
  }

  void parse_node(std::span<const Token> fields) {
    PersistedNode node;
    std::set<std::string> seen;
    for (const Token& field : fields) {
      if (field.key.empty()) {
        return fail(line_, "node: expected name=value, found " + quoted(field.value));
      }
      if (!seen.insert(field.key).second) {
        return fail(line_, "node: duplicate field " + quoted(field.key));
      }
      if (!set_field(node, field)) return;
    }
    for (const char* required : {"name", "host", "port", "state", "since"}) {
      if (!seen.contains(required)) return fail(line_, std::string("node: missing ") + required);
    }
    if (state_.find(node.name)) {
      return fail(line_, "node: duplicate node name " + quoted(node.name));
    }
    state_.nodes.push_back(std::move(node));
  }

  bool set_field(PersistedNode& node, const Token& field) {
    const std::string& v = field.value;
    if (field.key == "name") {
      node.name = v;
      if (v.empty()) fail(line_, "node: name is empty");
    } else if (field.key == "host") {
      node.host = v;
    } else if (field.key == "port") {
      const auto port = parse_number<std::uint16_t>(v);
      if (port) node.port = *port;
      else fail(line_, "node: port: expected a number from 0 to 65535");
    } else if (field.key == "state") {
      const auto state = parse_attach_state(v);
      if (state) node.state = *state;
      else fail(line_, "node: state: expected attached, detached, fenced, diverged or following");
    } else if (field.key == "since") {
      const auto since = parse_number<std::int64_t>(v);
      if (since) node.since = *since;
      else fail(line_, "node: since: expected seconds since the epoch");
    } else if (field.key == "reason") {
      node.reason = v;
    } else {
      fail(line_, "node: unknown field " + quoted(field.key));
    }
    return !error_;
  }

  void check_primary() {
    if (!state_.primary) return;
    const PersistedNode* node = state_.find(*state_.primary);
    if (!node) {
      return fail(primary_line_, "primary " + quoted(*state_.primary) + " is not a listed node");
    }
    if (node->state != AttachState::attached) {
      fail(primary_line_, "primary " + quoted(*state_.primary) + " is " +
                              std::string(to_string(node->state)) + ", not attached");
    }
  }

  PersistedState state_;
  std::optional<StateError> error_;
  std::set<std::string> seen_;
  bool format_seen_ = false;
  int line_ = 0;
  int primary_line_ = 0;
};

}  // namespace

const PersistedNode* PersistedState::find(std::string_view name) const {
  const auto it = std::find_if(nodes.begin(), nodes.end(),
                               [&](const PersistedNode& n) { return n.name == name; });
  return it == nodes.end() ? nullptr : &*it;
}

std::string StateError::to_string() const {
  return line > 0 ? "line " + std::to_string(line) + ": " + problem : problem;
}

std::string serialize_state(const PersistedState& state) {
  std::string out =
      "# pgrouter failover state: rewritten whole by pgrouter; edit only while it is stopped.\n";
  out += "format " + std::to_string(k_state_format_version) + "\n";
  if (state.system_identifier) {
    out += "system_identifier " + std::to_string(*state.system_identifier) + "\n";
  }
  if (state.primary) {
    out += "primary ";
    append_quoted(out, *state.primary);
    out += '\n';
  }
  if (state.timeline) out += "timeline " + std::to_string(*state.timeline) + "\n";
  for (const PersistedNode& node : state.nodes) {
    out += "node name=";
    append_quoted(out, node.name);
    out += " host=";
    append_quoted(out, node.host);
    out += " port=" + std::to_string(node.port);
    out += " state=" + std::string(to_string(node.state));
    out += " since=" + std::to_string(node.since);
    out += " reason=";
    append_quoted(out, node.reason);
    out += '\n';
  }
  return out;
}

StateParseResult parse_state(std::string_view text) { return Parser().run(text); }

}  // namespace pgr::failover
