// Whole-message reads for the startup and authentication phases (see message_reader.hpp).
#include "proxy/message_reader.hpp"

namespace pgr::proxy {

namespace {
constexpr std::size_t k_initial_capacity = 8192;
}

MessageReader::MessageReader(protocol::Direction direction, std::uint32_t max_length)
    : scanner_({.direction = direction, .max_message_length = max_length,
                .reject_unknown_types = false}),
      buffer_(k_initial_capacity) {
  for (int c = 0; c < 256; ++c) scanner_.deliver_whole(static_cast<char>(c));
}

awaitable<std::variant<protocol::MessageView, ReadFailure>> MessageReader::read(
    Transport& socket) {
  for (;;) {
    const auto event = scanner_.next(buffer_.unread());
    using Kind = protocol::FrameEvent::Kind;
    if (event.kind == Kind::message) {
      const auto framed = buffer_.unread().first(event.consumed);
      buffer_.begin += event.consumed;
      co_return protocol::MessageView{event.type, framed.subspan(5)};
    }
    if (event.kind == Kind::error || event.kind == Kind::partial) {
      co_return ReadFailure{{}, event.error};
    }
    buffer_.reserve_unread(event.wanted);
    if (buffer_.free_space() == 0) buffer_.data.resize(buffer_.data.size() * 2);
    auto [ec, n] = co_await socket.async_read_some(
        asio::buffer(buffer_.data.data() + buffer_.end, buffer_.free_space()), nothrow_awaitable);
    if (ec) co_return ReadFailure{ec, {}};
    buffer_.end += n;
  }
}

}  // namespace pgr::proxy
