// Builders and parsers for the typed messages pgrouter itself produces or must read.
// Everything else is relayed as bytes and never decoded. Builders append a whole message to
// a buffer (so several can go out in one write); parsers take the body of one message (the
// bytes after its 5-byte header) and return nullopt when it is malformed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/byte_io.hpp"
#include "protocol/startup.hpp"

namespace pgr::protocol {

// A message as a view into a buffer: type byte and body (length field excluded).
struct MessageView {
  char type = 0;
  bytes_view body;
};
// Splits a whole framed message ([type][len][body]); nullopt if the length field disagrees.
std::optional<MessageView> view_message(bytes_view framed);

// ---- ErrorResponse / NoticeResponse ---------------------------------------------------
struct ErrorFields {
  std::string severity = "ERROR";  // ERROR, FATAL, PANIC (localized form in 'S', raw in 'V')
  std::string sqlstate;            // 'C'
  std::string message;             // 'M'
  std::string detail;              // 'D' (optional)
  std::string hint;                // 'H' (optional)
};
void write_error_response(byte_buffer& out, const ErrorFields& error);
void write_notice_response(byte_buffer& out, const ErrorFields& notice);
// Reads the S/V, C, M, D, H fields; other fields are skipped.
std::optional<ErrorFields> parse_error_response(bytes_view body);

// ---- Authentication ('R') -----------------------------------------------------------
namespace auth_code {
inline constexpr std::int32_t ok = 0;
inline constexpr std::int32_t kerberos_v5 = 2;
inline constexpr std::int32_t cleartext_password = 3;
inline constexpr std::int32_t md5_password = 5;
inline constexpr std::int32_t gss = 7;
inline constexpr std::int32_t gss_continue = 8;
inline constexpr std::int32_t sspi = 9;
inline constexpr std::int32_t sasl = 10;
inline constexpr std::int32_t sasl_continue = 11;
inline constexpr std::int32_t sasl_final = 12;
}  // namespace auth_code

struct AuthenticationRequest {
  std::int32_t code = 0;
  std::array<std::uint8_t, 4> md5_salt{};  // md5_password
  std::vector<std::string> mechanisms;     // sasl
  std::string data;                        // sasl_continue, sasl_final
};
std::optional<AuthenticationRequest> parse_authentication(bytes_view body);

void write_authentication_ok(byte_buffer& out);
void write_authentication_cleartext(byte_buffer& out);
void write_authentication_md5(byte_buffer& out, const std::array<std::uint8_t, 4>& salt);
void write_authentication_sasl(byte_buffer& out, const std::vector<std::string>& mechanisms);
void write_authentication_sasl_continue(byte_buffer& out, std::string_view data);
void write_authentication_sasl_final(byte_buffer& out, std::string_view data);

// ---- Password family ('p'): what it means depends on the authentication in progress ----
struct SaslInitialResponse {
  std::string mechanism;
  std::string data;  // empty when the client sent length -1
};
std::optional<SaslInitialResponse> parse_sasl_initial_response(bytes_view body);
// PasswordMessage: a NUL-terminated string filling the body exactly.
std::optional<std::string> parse_password_message(bytes_view body);
// SASLResponse: the body is the data, as is.
inline std::string_view parse_sasl_response(bytes_view body) { return as_chars(body); }

void write_password_message(byte_buffer& out, std::string_view password);
void write_sasl_initial_response(byte_buffer& out, std::string_view mechanism,
                                 std::string_view data);
void write_sasl_response(byte_buffer& out, std::string_view data);

// ---- Session start-up and status --------------------------------------------------------
struct ParameterStatus {
  std::string name;
  std::string value;
};
std::optional<ParameterStatus> parse_parameter_status(bytes_view body);
void write_parameter_status(byte_buffer& out, std::string_view name, std::string_view value);

std::optional<CancelRequest> parse_backend_key_data(bytes_view body);
void write_backend_key_data(byte_buffer& out, const CancelRequest& key);

// Transaction status in ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' failed transaction.
std::optional<char> parse_ready_for_query(bytes_view body);
void write_ready_for_query(byte_buffer& out, char status);

// ---- Queries -----------------------------------------------------------------------------
std::optional<std::string_view> parse_query(bytes_view body);
void write_query(byte_buffer& out, std::string_view sql);
void write_terminate(byte_buffer& out);
void write_sync(byte_buffer& out);
// Extended protocol, unnamed statement and portal, text parameters (null = SQL NULL):
// Parse + Bind + Describe(portal) + Execute + Sync, as libpq's PQexecParams sends them.
void write_exec_params(byte_buffer& out, std::string_view sql,
                       const std::vector<std::optional<std::string>>& params);

// ---- Result sets pgrouter answers itself (SHOW commands later) ---------------------------
// A RowDescription of text columns, each DataRow field as text (nullopt = NULL).
void write_row_description(byte_buffer& out, const std::vector<std::string>& columns);
void write_data_row(byte_buffer& out, const std::vector<std::optional<std::string>>& fields);
void write_command_complete(byte_buffer& out, std::string_view tag);
std::optional<std::vector<std::optional<std::string_view>>> parse_data_row(bytes_view body);
std::optional<std::string_view> parse_command_complete(bytes_view body);

}  // namespace pgr::protocol
