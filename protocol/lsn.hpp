// Log sequence numbers in PostgreSQL's text form "16/B374D848" (hi/lo, hex).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgr::protocol {

using lsn_t = std::uint64_t;

// nullopt for anything but 1-8 hex digits, '/', 1-8 hex digits.
std::optional<lsn_t> parse_lsn(std::string_view text);
std::string format_lsn(lsn_t lsn);

}  // namespace pgr::protocol
