// Standard base64 (RFC 4648, with padding), as SCRAM uses it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/byte_io.hpp"

namespace pgr::protocol {

std::string base64_encode(bytes_view data);
// nullopt on any character outside the alphabet, bad padding or a bad length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace pgr::protocol
