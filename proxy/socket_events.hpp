// Readiness-driven I/O for a session that talks to several sockets at once (its client and one
// backend per node). The worker's ReadinessPoller reports each socket's readiness: it only sets
// a flag and wakes the session's coroutine, which then reads or writes without blocking. No
// data is ever held by a pending operation, so nothing is lost when the session switches
// attention between sockets, and a session can always read while a write waits for room (no
// deadlock between a pipelining client and a streaming backend).
//
// Thread rules: one Waker per session, on its worker; handlers run on that worker.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>

#include "proxy/asio.hpp"
#include "proxy/readiness_poller.hpp"
#include "proxy/stream_buffer.hpp"
#include "proxy/transport.hpp"

namespace pgr::proxy {

// What the poller has reported of one socket, until a read or write says otherwise. Shared
// with the poller's slot, which may outlive its owner's interest by one batch of events.
struct Readiness {
  bool readable = false;
  bool writable = true;  // until a write would block
  // The peer hung up or the socket failed: that is reported once (edge-triggered) and no edge
  // follows, so reads go on past a short one until they find the end or the error.
  bool peer_closed = false;
};

class Waker {
 public:
  Waker(asio::io_context::executor_type executor, ReadinessPoller& poller) : timer_(executor), poller_(poller) {}

  // Something happened outside the session's own waits (a new view while the worker walks its
  // sessions, a shutdown): the session resumes from a handler of its own, never inside the
  // caller, which may be iterating over sessions that resuming could end.
  void wake() {
    pending_ = true;
    if (!waiter_ || resume_posted_) return;
    resume_posted_ = true;
    ++outstanding_;
    asio::post(timer_.get_executor(), [this] {
      resume_posted_ = false;
      --outstanding_;
      resume();
    });
  }

  // True (and cleared) when something happened since the last sleep: do not sleep then.
  bool take_pending() { return std::exchange(pending_, false); }

  // Suspends until a wait below completes, wake(), or `deadline`. Call only after
  // take_pending() said false. The session is resumed straight from the completing handler:
  // no timer to cancel and no second trip through the event loop per wake-up, which a relay
  // pays twice per transaction.
  auto sleep(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max()) {
    if (deadline != std::chrono::steady_clock::time_point::max() && !(timer_armed_ && timer_.expiry() <= deadline)) {
      timer_.expires_at(deadline);  // a wait for a later deadline ends as aborted: ignored
      timer_armed_ = true;
      ++outstanding_;
      timer_.async_wait([this](error_code ec) {
        --outstanding_;
        if (ec != asio::error::operation_aborted) timer_armed_ = false;
        if (ec != asio::error::operation_aborted || draining_) notify();
      });
    }
    return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this](auto handler) { waiter_.emplace(std::move(handler)); }, asio::use_awaitable);
  }

  // The session is ending: its deadline timer goes, and every wait still out (cancelled by
  // the session) now resumes it as it comes back, until outstanding() is 0.
  void begin_drain() {
    draining_ = true;
    if (timer_armed_) timer_.cancel();
    timer_armed_ = false;
  }

  // Wake the session when `transport` becomes readable or writable. The socket stays watched
  // until Transport::cancel or close: asking again costs a comparison.
  void arm_read(Transport& transport, const std::shared_ptr<Readiness>& r) {
    if (!r->readable) transport.watch(poller_, r, this);
  }
  void arm_write(Transport& transport, const std::shared_ptr<Readiness>& r) {
    if (!r->writable) transport.watch(poller_, r, this);
  }
  // Waits still out (the deadline timer, a posted wake): the session must not end (and
  // destroy this Waker) before they return.
  int outstanding() const { return outstanding_; }

  // From the poller: a watched socket changed. Resuming may end the session and destroy this
  // Waker: the caller touches nothing of it afterwards.
  void on_socket_ready() { notify(); }

 private:
  // From this Waker's own handlers. Resuming may end the session and destroy this Waker:
  // nothing may touch `this` after it.
  void notify() {
    pending_ = true;
    resume();
  }
  void resume() {
    if (!waiter_) return;
    auto handler = std::move(*waiter_);
    waiter_.reset();
    std::move(handler)();
  }

  // On the worker's own executor type: 8 bytes where an any_io_executor takes 40, per session.
  asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>,
                             asio::io_context::executor_type>
      timer_;
  ReadinessPoller& poller_;
  std::optional<asio::any_completion_handler<void()>> waiter_;  // the sleeping session
  bool pending_ = false;
  bool timer_armed_ = false;
  bool resume_posted_ = false;
  bool draining_ = false;
  int outstanding_ = 0;
};

enum class IoStatus : std::uint8_t { progress, would_block, closed };

// One non-blocking read into the free space of `buffer` (grown to `wanted` bytes of unread
// data first). Clears `r.readable` when the socket has nothing more.
inline IoStatus read_available(Transport& socket, StreamBuffer& buffer, Readiness& r, std::size_t wanted,
                               std::size_t chunk, error_code& ec) {
  if (buffer.free_space() == 0 || buffer.data.size() - buffer.begin < wanted) {
    buffer.reserve_unread(std::max(wanted, buffer.end - buffer.begin + chunk));
  }
  const std::size_t room = buffer.free_space();
  const std::size_t n = socket.read_some(asio::buffer(buffer.data.data() + buffer.end, room), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec.clear();
    r.readable = false;
    return IoStatus::would_block;
  }
  if (ec || n == 0) return IoStatus::closed;
  buffer.end += n;
  // A plain socket that gave less than asked for is drained: bytes that come later are a new
  // edge the poller reports, and no read is spent on an EAGAIN. Not so after a hang-up (no
  // edge will come) or with TLS (decrypted bytes the socket does not show): those are read
  // until they say so.
  if (n < room && !socket.is_tls() && !r.peer_closed) r.readable = false;
  return IoStatus::progress;
}

// Writes as much of out[begin..] as the socket takes now. Returns false on a failed socket.
inline bool write_available(Transport& socket, protocol::byte_buffer& out, std::size_t& begin, Readiness& r,
                            error_code& ec) {
  while (begin < out.size() && r.writable) {
    const std::size_t n = socket.write_some(asio::buffer(out.data() + begin, out.size() - begin), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec.clear();
      r.writable = false;
      break;
    }
    if (ec) return false;
    begin += n;
  }
  if (begin == out.size()) {
    out.clear();
    begin = 0;
  } else if (begin > out.size() / 2 && begin > 64 * 1024) {
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(begin));
    begin = 0;
  }
  return true;
}

}  // namespace pgr::proxy
