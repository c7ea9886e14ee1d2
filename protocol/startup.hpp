// The startup phase: the untyped first packet a client sends (StartupMessage, SSLRequest,
// GSSENCRequest, CancelRequest) and the replies only that phase has.
// Rules follow the server's ProcessStartupPacket (backend_startup.c): length 8..10000,
// parameters end with a single NUL at exactly the last byte, `user` is required.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/byte_io.hpp"

namespace pgr::protocol {

inline constexpr std::uint32_t k_startup_min_length = 8;
inline constexpr std::uint32_t k_startup_max_length = 10000;
inline constexpr std::int32_t k_protocol_3_0 = 196608;  // (3 << 16) | 0
inline constexpr std::int32_t k_cancel_request_code = 80877102;
inline constexpr std::int32_t k_ssl_request_code = 80877103;
inline constexpr std::int32_t k_gssenc_request_code = 80877104;

struct SslRequest {};
struct GssEncRequest {};
struct CancelRequest {
  std::int32_t process_id = 0;
  std::int32_t secret_key = 0;
};
struct StartupMessage {
  std::uint16_t major = 3;
  std::uint16_t minor = 0;
  // In order received; `user` and `database` are among them when the client sent them.
  std::vector<std::pair<std::string, std::string>> parameters;
  // `_pq_.*` options the client asked for; pgrouter supports none, so they are named in a
  // NegotiateProtocolVersion reply and not forwarded.
  std::vector<std::string> protocol_options;

  const std::string* find(std::string_view name) const;
  // The reply a client needs before AuthenticationOk: a newer 3.x minor or any _pq_ option.
  bool needs_negotiation() const { return minor > 0 || !protocol_options.empty(); }
};

using StartupPacket = std::variant<SslRequest, GssEncRequest, CancelRequest, StartupMessage>;

struct StartupError {
  std::string sqlstate;  // 08P01 for malformed input, 0A000 for an unsupported version, ...
  std::string message;   // as PostgreSQL words it where it has a wording
};

// Reads the 4-byte length at the front of a startup packet. nullopt until 4 bytes are there;
// an error for a length outside 8..10000 (checked before anything is buffered).
struct StartupLength {
  std::uint32_t length = 0;
  std::optional<StartupError> error;
};
std::optional<StartupLength> peek_startup_length(bytes_view input);

// Decodes a complete startup packet (`packet` includes its 4-byte length). A StartupMessage
// without `user` is an error here (28000, "no PostgreSQL user name specified in startup
// packet"), as is a protocol major version other than 3 (0A000).
std::variant<StartupPacket, StartupError> decode_startup(bytes_view packet);

// Builders for the client side of the startup phase (pgrouter logging in to a backend).
void write_startup_message(byte_buffer& out,
                           const std::vector<std::pair<std::string, std::string>>& parameters);
void write_cancel_request(byte_buffer& out, const CancelRequest& request);
void write_ssl_request(byte_buffer& out);

// NegotiateProtocolVersion ('v'): the newest minor we support (0) and the options we don't.
void write_negotiate_protocol_version(byte_buffer& out, const StartupMessage& startup);

}  // namespace pgr::protocol
