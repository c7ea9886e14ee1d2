// Process-wide logging: one line per event, written whole with a single write(2) so lines
// from different threads never interleave. Lines about a session start with its tag
// ("C-17 app@127.0.0.1:51234 db=app"), so every line names the session it belongs to.
// Secrets are never passed here; callers log user names, never passwords, hashes or keys.
#pragma once

#include <atomic>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace pgr::log {

enum class Level : int { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(level()); }

// Writes "2026-11-22 02:11:00.123 LEVEL text\n" to stderr.
void write(Level level, std::string_view text);

template <typename... Args>
void emit(Level l, Args&&... args) {
  if (!enabled(l)) return;
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  write(l, out.str());
}

template <typename... Args> void error(Args&&... a) { emit(Level::error, std::forward<Args>(a)...); }
template <typename... Args> void warn(Args&&... a) { emit(Level::warn, std::forward<Args>(a)...); }
template <typename... Args> void info(Args&&... a) { emit(Level::info, std::forward<Args>(a)...); }
template <typename... Args> void debug(Args&&... a) { emit(Level::debug, std::forward<Args>(a)...); }

}  // namespace pgr::log
