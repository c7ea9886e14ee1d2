// Incremental framing of typed messages (see frame_scanner.hpp). No allocation, no copying:
// every event is computed from the 5-byte header and the input's size.
#include "protocol/frame_scanner.hpp"

#include <algorithm>

namespace pgr::protocol {
namespace {

constexpr std::size_t k_header_size = 5;  // type byte + Int32 length

FrameEvent error_event(char type, std::uint32_t length, FrameError error) {
  FrameEvent e;
  e.kind = FrameEvent::Kind::error;
  e.type = type;
  e.length = length;
  e.error = error;
  return e;
}

FrameEvent need_more_event(std::size_t wanted) {
  FrameEvent e;
  e.kind = FrameEvent::Kind::need_more;
  e.wanted = wanted;
  return e;
}

}  // namespace

std::string_view describe(FrameError e) {
  switch (e) {
    case FrameError::none:
      return "no error";
    case FrameError::length_too_small:
      return "invalid message length (below 4)";
    case FrameError::length_too_large:
      return "message length exceeds the limit for its type";
    case FrameError::wrong_length:
      return "invalid message length for a fixed-size message";
    case FrameError::unknown_type:
      return "invalid message type";
  }
  return "unknown framing error";
}

FrameScanner::FrameScanner(Options options) : options_(options) {}

FrameEvent FrameScanner::next(bytes_view input) {
  if (body_left_ > 0) {
    // Continuing a streamed message: hand out whatever of its remaining bytes we have.
    if (input.empty()) return need_more_event(1);
    FrameEvent e;
    e.kind = FrameEvent::Kind::partial;
    e.type = streaming_type_;
    e.length = streaming_length_;
    e.consumed = std::min(body_left_, input.size());
    e.ends_message = e.consumed == body_left_;
    body_left_ -= e.consumed;
    return e;
  }

  if (input.size() < k_header_size) return need_more_event(k_header_size);
  ByteReader header(input.first(k_header_size));
  const char type = static_cast<char>(header.u8());
  const std::uint32_t length = header.u32();
  if (length < 4) return error_event(type, length, FrameError::length_too_small);

  const MessageType* known = options_.direction == Direction::frontend ? find_frontend_type(type)
                                                                       : find_backend_type(type);
  std::uint32_t limit = options_.max_message_length;
  if (known == nullptr) {
    if (options_.reject_unknown_types) return error_event(type, length, FrameError::unknown_type);
  } else {
    if (known->exact_length > 0 && length != known->exact_length) {
      return error_event(type, length, FrameError::wrong_length);
    }
    limit = std::min(limit, known->max_length);
  }
  if (length > limit) return error_event(type, length, FrameError::length_too_large);

  const std::size_t total = 1 + std::size_t{length};
  FrameEvent e;
  e.type = type;
  e.length = length;
  if (input.size() >= total) {
    e.kind = FrameEvent::Kind::message;
    e.consumed = total;
    return e;
  }
  if (whole_.test(static_cast<unsigned char>(type))) {
    e.kind = FrameEvent::Kind::need_more;  // type and length say what we wait for
    e.wanted = total;
    return e;
  }

  // Too big to wait for and nobody needs to look inside: start streaming it.
  e.kind = FrameEvent::Kind::partial;
  e.consumed = input.size();
  e.starts_message = true;
  streaming_type_ = type;
  streaming_length_ = length;
  body_left_ = total - input.size();
  return e;
}

}  // namespace pgr::protocol
