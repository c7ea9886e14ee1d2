// The protocol 3.0 message set, as two tables mirroring the PostgreSQL docs
// ("Message Formats"): one for frontend (client to server) and one for backend messages.
// Each row names the type byte, the message and the largest length the server accepts for it,
// so framing can reject an oversized declared length before buffering anything.
#pragma once

#include <cstdint>
#include <string_view>

namespace pgr::protocol {

// The server's own limits (src/include/libpq/libpq.h): short messages vs. large ones.
inline constexpr std::uint32_t k_small_message_limit = 10000;
inline constexpr std::uint32_t k_large_message_limit = 0x3fffffff;  // 1 GB - 1

struct MessageType {
  char code;
  std::string_view name;
  // Largest valid length field (including its own 4 bytes); exact_length > 0 means the
  // length must be exactly that (Sync, Flush, Terminate, ReadyForQuery, ...).
  std::uint32_t max_length;
  std::uint32_t exact_length;
};

// nullptr for a code the protocol does not define in that direction.
const MessageType* find_frontend_type(char code);
const MessageType* find_backend_type(char code);

// Frontend type codes the proxy acts on.
namespace fe {
inline constexpr char bind = 'B';
inline constexpr char close = 'C';
inline constexpr char copy_data = 'd';
inline constexpr char copy_done = 'c';
inline constexpr char copy_fail = 'f';
inline constexpr char describe = 'D';
inline constexpr char execute = 'E';
inline constexpr char flush = 'H';
inline constexpr char function_call = 'F';
inline constexpr char parse = 'P';
inline constexpr char password = 'p';  // also SASLInitialResponse, SASLResponse, GSSResponse
inline constexpr char query = 'Q';
inline constexpr char sync = 'S';
inline constexpr char terminate = 'X';
}  // namespace fe

// Backend type codes the proxy acts on.
namespace be {
inline constexpr char authentication = 'R';
inline constexpr char backend_key_data = 'K';
inline constexpr char bind_complete = '2';
inline constexpr char close_complete = '3';
inline constexpr char command_complete = 'C';
inline constexpr char copy_both_response = 'W';
inline constexpr char copy_data = 'd';
inline constexpr char copy_done = 'c';
inline constexpr char copy_in_response = 'G';
inline constexpr char copy_out_response = 'H';
inline constexpr char data_row = 'D';
inline constexpr char empty_query_response = 'I';
inline constexpr char error_response = 'E';
inline constexpr char function_call_response = 'V';
inline constexpr char negotiate_protocol_version = 'v';
inline constexpr char no_data = 'n';
inline constexpr char notice_response = 'N';
inline constexpr char notification_response = 'A';
inline constexpr char parameter_description = 't';
inline constexpr char parameter_status = 'S';
inline constexpr char parse_complete = '1';
inline constexpr char portal_suspended = 's';
inline constexpr char ready_for_query = 'Z';
inline constexpr char row_description = 'T';
}  // namespace be

}  // namespace pgr::protocol
