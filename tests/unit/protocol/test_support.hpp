// Byte-string helpers shared by the protocol unit tests: hand-written wire bytes and framing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/byte_io.hpp"

namespace pgr::protocol::test {

// Bytes of a string literal, embedded NULs included (use with the ""sv suffix).
inline byte_buffer bytes_of(std::string_view s) { return byte_buffer(s.begin(), s.end()); }

inline std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
          static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

// A framed typed message: [type][Int32 length incl. itself][body].
inline std::string frame(char type, std::string_view body) {
  return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) +
         std::string(body);
}

inline std::string to_string(const byte_buffer& b) { return std::string(b.begin(), b.end()); }

}  // namespace pgr::protocol::test
