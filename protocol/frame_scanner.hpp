// Incremental framing of a typed message stream (everything after the startup phase).
// Pure and allocation-free: the caller owns the bytes, the scanner only says where messages
// begin and end, so a relay can forward spans of its read buffer without copying.
//
// Input may be split at any byte. Message types the caller must inspect (for routing or
// state) are delivered whole; all others may be streamed in pieces, so a 1 GB DataRow never
// needs a 1 GB buffer.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>

#include "protocol/byte_io.hpp"
#include "protocol/message_types.hpp"

namespace pgr::protocol {

enum class Direction : std::uint8_t { frontend, backend };

enum class FrameError : std::uint8_t {
  none,
  length_too_small,  // declared length < 4 (or below the type's exact length)
  length_too_large,  // above the type's limit or the configured maximum
  wrong_length,      // a fixed-size message with another length
  unknown_type,      // only when unknown types are rejected (see FrameScanner::Options)
};
std::string_view describe(FrameError e);

struct FrameEvent {
  enum class Kind : std::uint8_t {
    message,    // a whole message starts at the front of the input: [type][len][body]
    partial,    // bytes of a streamed message: the header and/or part of its body
    need_more,  // the input holds no complete unit; keep it and read more (`wanted` total)
    error,      // the stream is broken from here: `error` says why
  };
  Kind kind = Kind::need_more;
  char type = 0;              // message type (also set for partial pieces)
  std::uint32_t length = 0;   // declared length field of that message
  std::size_t consumed = 0;   // bytes of the input this event covers (message, partial)
  std::size_t wanted = 0;     // need_more: total contiguous bytes needed from the input front
  bool starts_message = false;  // partial: this piece includes the header
  bool ends_message = false;    // partial: this piece ends the message
  FrameError error = FrameError::none;
};

class FrameScanner {
 public:
  struct Options {
    Direction direction = Direction::frontend;
    std::uint32_t max_message_length = k_large_message_limit;  // caps every type's limit
    bool reject_unknown_types = false;
  };

  explicit FrameScanner(Options options);

  // Types delivered only as whole `message` events (need_more until complete).
  void deliver_whole(char type) { whole_.set(static_cast<unsigned char>(type)); }

  // Looks at `input` (the bytes not yet consumed, starting where the last event ended) and
  // describes its first unit. The caller consumes `consumed` bytes (message, partial) before
  // the next call; need_more means "the same input plus more bytes".
  FrameEvent next(bytes_view input);

  // True when no message is partly consumed: the next byte is a message type.
  bool at_boundary() const { return body_left_ == 0; }

 private:
  Options options_;
  std::bitset<256> whole_;
  char streaming_type_ = 0;
  std::uint32_t streaming_length_ = 0;
  std::size_t body_left_ = 0;  // bytes of a streamed message not yet delivered
};

}  // namespace pgr::protocol
