// Private to conf/: what one load accumulates while it walks a config file — the errors (all
// of them, not just the first), how relative paths resolve, and reading the files a config
// names. Kept apart from the key readers so they can report without knowing about sorting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf::detail {

// The text of a file, or why it could not be read (an OS error message, never the content).
struct FileText {
  bool ok = false;
  std::string text;
  std::string error;  // strerror-style, e.g. "No such file or directory"
};

// Reads a whole file. Binary-safe; directories and unreadable files give an error.
[[nodiscard]] FileText read_text_file(const std::string& path);

// Quotes a user-written (non-secret) value for an error message: cut after `max_bytes`,
// control characters escaped, so a problem always stays on one line.
[[nodiscard]] std::string quote_value(std::string_view value, std::size_t max_bytes = 40);
// A path is shown whole (well, up to PATH_MAX): a cut path does not help find the file.
[[nodiscard]] inline std::string quote_path(std::string_view path) {
  return quote_value(path, 4096);
}

// A TOML key as an error shows it: bare keys as they are, any other quoted like a value, so a
// key holding a newline cannot break an error across lines.
[[nodiscard]] std::string display_key(std::string_view key);

class LoadContext {
 public:
  LoadContext(std::string file, std::string base_dir);

  [[nodiscard]] const std::string& file() const { return file_; }
  // `path` as written in the config, made relative to the config file's directory.
  [[nodiscard]] std::string resolve_path(const std::string& path) const;

  void add(int line, std::string key, std::string problem);
  // An error in another file (the auth_file): listed where the key naming that file is.
  void add_foreign(int anchor_line, ConfigError error);

  [[nodiscard]] bool has_errors() const { return !entries_.empty(); }
  // Whether `key` (or one of its elements, key[i]) already has an error: checks that span
  // keys skip a key whose value was refused rather than judge its default.
  [[nodiscard]] bool has_error_at(std::string_view key) const;
  // All errors, stable-sorted by line (foreign errors by their anchor line).
  [[nodiscard]] std::vector<ConfigError> take_sorted_errors();

 private:
  struct Entry {
    int anchor_line;
    ConfigError error;
  };
  std::string file_;
  std::string base_dir_;
  std::vector<Entry> entries_;
};

}  // namespace pgr::conf::detail
