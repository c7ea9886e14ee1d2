// Helpers shared by the libFuzzer targets: invariant checks that crash loudly, and a
// deterministic way to cut one input into several fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "protocol/byte_io.hpp"

namespace pgr::fuzz {

// A broken invariant is a finding: crash so libFuzzer saves the input.
inline void check(bool condition) {
  if (!condition) __builtin_trap();
}

// Splits `data` at the first `separator`: what comes before, and what comes after it (empty
// when there is no separator).
inline std::pair<std::string_view, std::string_view> split_once(std::string_view data,
                                                                char separator) {
  const auto at = data.find(separator);
  if (at == std::string_view::npos) return {data, {}};
  return {data.substr(0, at), data.substr(at + 1)};
}

// Takes one byte off the front (0 when empty).
inline std::uint8_t take_byte(protocol::bytes_view& data) {
  if (data.empty()) return 0;
  const auto b = data[0];
  data = data.subspan(1);
  return b;
}

}  // namespace pgr::fuzz
