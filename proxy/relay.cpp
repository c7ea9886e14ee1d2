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

awaitable<RelayOutcome> Relay::client_to_backend() {
  return pump({client_, backend_, client_buffer_, client_scanner_, stats_.client_bytes,
               RelayEnd::client_closed, RelayEnd::backend_closed, RelayEnd::client_protocol_error,
               nullptr});
}

awaitable<RelayOutcome> Relay::backend_to_client() {
  return pump({backend_, client_, backend_buffer_, backend_scanner_, stats_.backend_bytes,
               RelayEnd::backend_closed, RelayEnd::client_closed, RelayEnd::backend_protocol_error,
               &client_write_incomplete_});
}

// One direction: scan what is buffered, forward every complete or streamable piece in one
// write, then read more. Only two messages are looked at: the client's Terminate (ends the
// session after it is forwarded) and the backend's ReadyForQuery (its transaction status).
awaitable<RelayOutcome> Relay::pump(Direction d) {
  co_await asio::this_coro::throw_if_cancelled(false);
  StreamBuffer& buf = d.buffer;
  const bool from_client = &d.scanner == &client_scanner_;
  for (;;) {
    std::size_t ready = 0;
    std::size_t wanted = 0;
    bool terminated = false;
    std::optional<protocol::FrameError> broken;
    for (;;) {
      const auto event = d.scanner.next(buf.unread().subspan(ready));
      if (event.kind == Kind::message || event.kind == Kind::partial) {
        if (event.kind == Kind::message && !from_client && event.type == protocol::be::ready_for_query) {
          stats_.transaction_status = static_cast<char>(buf.unread()[ready + 5]);
        }
        ready += event.consumed;
        if (event.kind == Kind::message && from_client && event.type == protocol::fe::terminate) {
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
      if (d.write_incomplete) *d.write_incomplete = true;
      auto [ec, n] = co_await asio::async_write(
          d.to, asio::buffer(buf.data.data() + buf.begin, ready), nothrow_awaitable);
      if (ec) co_return RelayOutcome{d.write_failed, ec};
      if (d.write_incomplete) *d.write_incomplete = false;
      d.bytes += ready;
      buf.begin += ready;
    }
    if (terminated) co_return RelayOutcome{RelayEnd::client_terminated, {}};
    if (broken) co_return RelayOutcome{d.broken, {}, *broken};
    buf.reserve_unread(wanted);
    auto [ec, n] = co_await d.from.async_read_some(
        asio::buffer(buf.data.data() + buf.end, buf.free_space()), nothrow_awaitable);
    if (ec) co_return RelayOutcome{d.read_failed, ec};
    buf.end += n;
  }
}

}  // namespace pgr::proxy
