// The protocol 3.0 message tables (PostgreSQL docs, "Message Formats").
// Limits follow the server: SocketBackend() in src/backend/tcop/postgres.c reads short
// messages with PQ_SMALL_MESSAGE_LIMIT and the rest with PQ_LARGE_MESSAGE_LIMIT; backend
// messages are only bounded by the fixed sizes the protocol gives some of them.
#include "protocol/message_types.hpp"

#include <array>

namespace pgr::protocol {
namespace {

constexpr std::uint32_t small = k_small_message_limit;
constexpr std::uint32_t large = k_large_message_limit;

// clang-format off
constexpr std::array<MessageType, 14> k_frontend = {{
    {'B', "Bind",                     large, 0},
    {'C', "Close",                    small, 0},
    {'D', "Describe",                 small, 0},
    {'E', "Execute",                  small, 0},
    {'F', "FunctionCall",             large, 0},
    {'H', "Flush",                    small, 4},
    {'P', "Parse",                    large, 0},
    {'Q', "Query",                    large, 0},
    {'S', "Sync",                     small, 4},
    {'X', "Terminate",                small, 4},
    {'c', "CopyDone",                 small, 4},
    {'d', "CopyData",                 large, 0},
    {'f', "CopyFail",                 small, 0},
    // PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse: all short.
    {'p', "PasswordMessage",          small, 0},
}};

constexpr std::array<MessageType, 24> k_backend = {{
    {'1', "ParseComplete",            4,     4},
    {'2', "BindComplete",             4,     4},
    {'3', "CloseComplete",            4,     4},
    {'A', "NotificationResponse",     large, 0},
    {'C', "CommandComplete",          large, 0},
    {'D', "DataRow",                  large, 0},
    {'E', "ErrorResponse",            large, 0},
    {'G', "CopyInResponse",           large, 0},
    {'H', "CopyOutResponse",          large, 0},
    {'I', "EmptyQueryResponse",       4,     4},
    {'K', "BackendKeyData",           12,    12},  // 3.0 keys; 3.2 (PG18) allows longer ones
    {'N', "NoticeResponse",           large, 0},
    {'R', "Authentication",           large, 0},
    {'S', "ParameterStatus",          large, 0},
    {'T', "RowDescription",           large, 0},
    {'V', "FunctionCallResponse",     large, 0},
    {'W', "CopyBothResponse",         large, 0},
    {'Z', "ReadyForQuery",            5,     5},
    {'c', "CopyDone",                 4,     4},
    {'d', "CopyData",                 large, 0},
    {'n', "NoData",                   4,     4},
    {'s', "PortalSuspended",          4,     4},
    {'t', "ParameterDescription",     large, 0},
    {'v', "NegotiateProtocolVersion", large, 0},
}};
// clang-format on

// One 256-entry index per direction, built at compile time, so lookup is one load.
template <std::size_t N>
constexpr std::array<std::int8_t, 256> make_index(const std::array<MessageType, N>& table) {
  std::array<std::int8_t, 256> index{};
  for (auto& v : index) v = -1;
  for (std::size_t i = 0; i < N; ++i) {
    index[static_cast<unsigned char>(table[i].code)] = static_cast<std::int8_t>(i);
  }
  return index;
}

constexpr auto k_frontend_index = make_index(k_frontend);
constexpr auto k_backend_index = make_index(k_backend);

template <std::size_t N>
const MessageType* lookup(const std::array<MessageType, N>& table,
                          const std::array<std::int8_t, 256>& index, char code) {
  const auto i = index[static_cast<unsigned char>(code)];
  return i < 0 ? nullptr : &table[static_cast<std::size_t>(i)];
}

}  // namespace

const MessageType* find_frontend_type(char code) {
  return lookup(k_frontend, k_frontend_index, code);
}

const MessageType* find_backend_type(char code) { return lookup(k_backend, k_backend_index, code); }

}  // namespace pgr::protocol
