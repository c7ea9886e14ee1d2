// Client <-> backend relay (see relay.hpp).
#include "proxy/relay.hpp"

#include "protocol/messages.hpp"

namespace pgr::proxy {

namespace {
using namespace asio::experimental::awaitable_operators;
using Kind = protocol::FrameEvent::Kind;

constexpr std::size_t k_buffer_size = 16 * 1024;

void ensure_capacity(StreamBuffer& buffer) {
  if (buffer.data.size() < k_buffer_size) buffer.data.resize(k_buffer_size);
}
}  // namespace

Relay::Relay(tcp::socket& client, StreamBuffer& client_buffer, tcp::socket& backend,
             StreamBuffer& backend_buffer, std::uint32_t max_client_message, RelayStats& stats)
    : client_(client),
      backend_(backend),
      client_buffer_(client_buffer),
      backend_buffer_(backend_buffer),
      client_scanner_({.direction = protocol::Direction::frontend,
                       .max_message_length = max_client_message,
                       .reject_unknown_types = false}),
      backend_scanner_({.direction = protocol::Direction::backend,
                        .max_message_length = protocol::k_large_message_limit,
                        .reject_unknown_types = false}),
      stats_(stats) {
  client_scanner_.deliver_whole(protocol::fe::terminate);
  backend_scanner_.deliver_whole(protocol::be::ready_for_query);
  ensure_capacity(client_buffer_);
  ensure_capacity(backend_buffer_);
}

awaitable<RelayOutcome> Relay::run() {
  auto result = co_await (client_to_backend() || backend_to_client());
  RelayOutcome outcome = result.index() == 0 ? std::get<0>(result) : std::get<1>(result);
  // A write cancelled half-way leaves the client mid-message even if the scanner is not.
  outcome.client_at_boundary = backend_scanner_.at_boundary() && !client_write_incomplete_;
  co_return outcome;
}

// Both pumps share this shape; they differ in what they watch for, so each is written out
// with its own inspection rather than hidden behind a callback on the hot path.
awaitable<RelayOutcome> Relay::client_to_backend() {
  co_await asio::this_coro::throw_if_cancelled(false);
  StreamBuffer& buf = client_buffer_;
  for (;;) {
    // Scan what is buffered: forward every complete or streamable piece in one write.
    std::size_t ready = 0;
    std::size_t wanted = 0;
    bool terminated = false;
    std::optional<protocol::FrameError> broken;
    for (;;) {
      const auto event = client_scanner_.next(buf.unread().subspan(ready));
      if (event.kind == Kind::message || event.kind == Kind::partial) {
        ready += event.consumed;
        if (event.kind == Kind::message && event.type == protocol::fe::terminate) {
          terminated = true;
          break;
        }
        continue;
      }
      if (event.kind == Kind::error) broken = event.error;
      else wanted = event.wanted;  // need_more: room for the whole unit, after the write
      break;
    }
    if (ready > 0) {
      auto [ec, n] = co_await asio::async_write(
          backend_, asio::buffer(buf.data.data() + buf.begin, ready), nothrow_awaitable);
      if (ec) co_return RelayOutcome{RelayEnd::backend_closed, ec};
      stats_.client_bytes += ready;
      buf.begin += ready;
    }
    if (terminated) co_return RelayOutcome{RelayEnd::client_terminated, {}};
    if (broken) co_return RelayOutcome{RelayEnd::client_protocol_error, {}, *broken};
    buf.reserve_unread(wanted);
    auto [ec, n] = co_await client_.async_read_some(
        asio::buffer(buf.data.data() + buf.end, buf.free_space()), nothrow_awaitable);
    if (ec) co_return RelayOutcome{RelayEnd::client_closed, ec};
    buf.end += n;
  }
}

awaitable<RelayOutcome> Relay::backend_to_client() {
  co_await asio::this_coro::throw_if_cancelled(false);
  StreamBuffer& buf = backend_buffer_;
  for (;;) {
    std::size_t ready = 0;
    std::size_t wanted = 0;
    std::optional<protocol::FrameError> broken;
    for (;;) {
      const auto event = backend_scanner_.next(buf.unread().subspan(ready));
      if (event.kind == Kind::message || event.kind == Kind::partial) {
        if (event.kind == Kind::message && event.type == protocol::be::ready_for_query) {
          stats_.transaction_status = static_cast<char>(buf.unread()[ready + 5]);
        }
        ready += event.consumed;
        continue;
      }
      if (event.kind == Kind::error) broken = event.error;
      else wanted = event.wanted;
      break;
    }
    if (ready > 0) {
      client_write_incomplete_ = true;
      auto [ec, n] = co_await asio::async_write(
          client_, asio::buffer(buf.data.data() + buf.begin, ready), nothrow_awaitable);
      if (ec) co_return RelayOutcome{RelayEnd::client_closed, ec};
      client_write_incomplete_ = false;
      stats_.backend_bytes += ready;
      buf.begin += ready;
    }
    if (broken) co_return RelayOutcome{RelayEnd::backend_protocol_error, {}, *broken};
    buf.reserve_unread(wanted);
    auto [ec, n] = co_await backend_.async_read_some(
        asio::buffer(buf.data.data() + buf.end, buf.free_space()), nothrow_awaitable);
    if (ec) co_return RelayOutcome{RelayEnd::backend_closed, ec};
    buf.end += n;
  }
}

}  // namespace pgr::proxy
