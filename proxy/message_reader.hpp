// Reads whole typed messages from a socket during the startup and authentication phases,
// where pgrouter itself speaks the protocol (the relay phase streams instead).
// Before a client is authenticated the length limit is the small one (10000 bytes), so a
// hostile client cannot make pgrouter allocate a large declared length.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "protocol/frame_scanner.hpp"
#include "protocol/messages.hpp"
#include "proxy/asio.hpp"
#include "proxy/session_error.hpp"
#include "proxy/stream_buffer.hpp"
#include "proxy/transport.hpp"

namespace pgr::proxy {

struct ReadFailure {
  error_code io;                          // set when the socket failed or closed
  protocol::FrameError framing{};         // set when the bytes were not a valid message
};

class MessageReader {
 public:
  MessageReader(protocol::Direction direction, std::uint32_t max_length);

  // The next whole message; its body stays valid until the next call.
  awaitable<std::variant<protocol::MessageView, ReadFailure>> read(Transport& socket);

  StreamBuffer& buffer() { return buffer_; }
  const protocol::FrameScanner& scanner() const { return scanner_; }

 private:
  protocol::FrameScanner scanner_;
  StreamBuffer buffer_;
};

}  // namespace pgr::proxy
