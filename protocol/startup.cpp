// Startup-phase packets: decoding what a client sends first, building what pgrouter sends
// to a backend, and NegotiateProtocolVersion. Rules and wording follow the server's
// ProcessStartupPacket (src/backend/tcop/backend_startup.c).
#include "protocol/startup.hpp"

#include "protocol/sqlstate.hpp"

namespace pgr::protocol {
namespace {

StartupError make_error(std::string_view sqlstate, std::string message) {
  return StartupError{std::string(sqlstate), std::move(message)};
}

StartupError invalid_length() {
  return make_error(sqlstate::protocol_violation, "invalid length of startup packet");
}

StartupError bad_layout() {
  return make_error(sqlstate::protocol_violation,
                    "invalid startup packet layout: expected terminator as last byte");
}

// Name/value pairs up to a single empty name, whose NUL must be the packet's last byte.
std::optional<StartupError> read_parameters(ByteReader& reader, StartupMessage& startup) {
  for (;;) {
    const auto name = reader.cstr();
    if (!reader.ok()) return bad_layout();
    if (name.empty()) return reader.at_end() ? std::nullopt : std::optional(bad_layout());
    const auto value = reader.cstr();
    if (!reader.ok()) return bad_layout();
    if (name.starts_with("_pq_.")) {
      startup.protocol_options.emplace_back(name);
    } else {
      startup.parameters.emplace_back(std::string(name), std::string(value));
    }
  }
}

std::variant<StartupPacket, StartupError> decode_startup_message(std::uint32_t code,
                                                                 ByteReader& reader) {
  StartupMessage startup;
  startup.major = static_cast<std::uint16_t>(code >> 16);
  startup.minor = static_cast<std::uint16_t>(code & 0xffff);
  if (startup.major != 3) {
    return make_error(sqlstate::feature_not_supported,
                      "unsupported frontend protocol " + std::to_string(startup.major) + "." +
                          std::to_string(startup.minor) + ": server supports 3.0 to 3.0");
  }
  if (auto error = read_parameters(reader, startup)) return *error;
  const std::string* user = startup.find("user");
  if (user == nullptr || user->empty()) {
    return make_error(sqlstate::invalid_authorization_specification,
                      "no PostgreSQL user name specified in startup packet");
  }
  return StartupPacket{std::move(startup)};
}

}  // namespace

const std::string* StartupMessage::find(std::string_view name) const {
  // The server lets a later duplicate override an earlier one, so search from the back.
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    if (it->first == name) return &it->second;
  }
  return nullptr;
}

std::optional<StartupLength> peek_startup_length(bytes_view input) {
  if (input.size() < 4) return std::nullopt;
  ByteReader reader(input.first(4));
  StartupLength result;
  result.length = reader.u32();
  if (result.length < k_startup_min_length || result.length > k_startup_max_length) {
    result.error = invalid_length();
  }
  return result;
}

std::variant<StartupPacket, StartupError> decode_startup(bytes_view packet) {
  ByteReader reader(packet);
  const std::uint32_t length = reader.u32();
  if (!reader.ok() || length != packet.size() || length < k_startup_min_length ||
      length > k_startup_max_length) {
    return invalid_length();
  }
  const auto code = reader.u32();
  const auto signed_code = static_cast<std::int32_t>(code);
  if (signed_code == k_cancel_request_code) {
    if (length != 16) return invalid_length();
    CancelRequest cancel;
    cancel.process_id = reader.i32();
    cancel.secret_key = reader.i32();
    return StartupPacket{cancel};
  }
  // An SSL or GSS request carries nothing after its code; any other length is malformed
  // rather than an odd protocol version.
  if (signed_code == k_ssl_request_code || signed_code == k_gssenc_request_code) {
    if (length != 8) return invalid_length();
    if (signed_code == k_ssl_request_code) return StartupPacket{SslRequest{}};
    return StartupPacket{GssEncRequest{}};
  }
  return decode_startup_message(code, reader);
}

void write_startup_message(byte_buffer& out,
                           const std::vector<std::pair<std::string, std::string>>& parameters) {
  ByteWriter w(out);
  w.begin_message(0);
  w.i32(k_protocol_3_0);
  for (const auto& [name, value] : parameters) {
    w.cstr(name);
    w.cstr(value);
  }
  w.u8(0);
  w.end_message();
}

void write_cancel_request(byte_buffer& out, const CancelRequest& request) {
  ByteWriter w(out);
  w.begin_message(0);
  w.i32(k_cancel_request_code);
  w.i32(request.process_id);
  w.i32(request.secret_key);
  w.end_message();
}

void write_ssl_request(byte_buffer& out) {
  ByteWriter w(out);
  w.begin_message(0);
  w.i32(k_ssl_request_code);
  w.end_message();
}

void write_negotiate_protocol_version(byte_buffer& out, const StartupMessage& startup) {
  ByteWriter w(out);
  w.begin_message('v');
  // The server sends its newest version as a full code (PG_PROTOCOL_LATEST, i.e. 3.0), and
  // libpq compares it against its own full version; a bare minor (0) would read as "0.0".
  w.i32(k_protocol_3_0);
  w.i32(static_cast<std::int32_t>(startup.protocol_options.size()));
  for (const auto& option : startup.protocol_options) w.cstr(option);
  w.end_message();
}

}  // namespace pgr::protocol
