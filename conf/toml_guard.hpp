// Private to conf/: a pre-scan that refuses input toml11 would mishandle, before it sees it.
// - Nesting: toml11 parses arrays and inline tables recursively, so `a = [[[[...` a few
//   thousand deep overflows the stack; no real config nests more than two levels.
// - UTF-8: TOML must be UTF-8 anyway, and toml11 3.7.1's invalid-UTF-8 path in literal
//   strings reads outside its buffer (found by fuzz_config), so it must never get there.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgr::conf::detail {

inline constexpr int k_max_nesting = 64;

struct GuardProblem {
  int line;  // 1-based
  std::string problem;
};

// The first reason not to hand `text` to toml11, or nullopt.
[[nodiscard]] std::optional<GuardProblem> check_toml_input(std::string_view text,
                                                           int max_depth = k_max_nesting);

}  // namespace pgr::conf::detail
