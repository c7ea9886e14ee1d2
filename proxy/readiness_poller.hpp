// A worker's session sockets in one epoll set of its own, each registered once for its whole
// life (edge-triggered, read and write), so that waiting for a socket again costs no system
// call.
//
// Why not Asio's socket waits: Asio's reactor re-arms the descriptor with an epoll_ctl on
// every async_wait, and a relayed transaction waits twice (for the client's query, for the
// backend's reply). That was one system call in three of pgrouter's per transaction, where
// PgBouncer's event loop, whose registrations persist, makes none. Here the set itself is the
// only descriptor Asio watches for sessions: one re-arm per wake-up of the worker, however many
// sockets became ready.
//
// A watched socket routes its readiness to a Readiness (flags) and a Waker (the session to
// resume). Between owners (a pooled backend connection) it stays registered but detached: its
// events are dropped, and if one was, the next owner's watch re-registers it, which has the
// kernel report its state then (an epoll_ctl per such handout, never per wait). The kernel
// drops a socket from the set when it is closed; forget() retires its slot, whose generation
// makes any event still in flight for it stale.
//
// Thread rules: one per worker, used only on that worker's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "proxy/asio.hpp"

namespace pgr::proxy {

struct Readiness;
class Waker;

class ReadinessPoller {
 public:
  // A watched socket: its slot in the low 32 bits, the slot's generation in the high 32 (never
  // 0, so 0 means "not registered").
  using Handle = std::uint64_t;

  explicit ReadinessPoller(asio::io_context& context);
  ReadinessPoller(const ReadinessPoller&) = delete;
  ReadinessPoller& operator=(const ReadinessPoller&) = delete;
  ~ReadinessPoller();

  // Routes `fd`'s readiness to `ready` and `waker`, registering it first when `handle` is 0.
  // Returns the handle to keep (0 if the kernel refused: the caller's read finds the error).
  Handle watch(Handle handle, int fd, const std::shared_ptr<Readiness>& ready, Waker* waker) {
    // The common case, a session about to sleep on a socket it already watches: no call.
    if (const Slot* s = live_slot(handle); s != nullptr && s->waker == waker && s->ready == ready) return handle;
    return attach(handle, fd, ready, waker);
  }
  // Its events are dropped until the next watch(), which has its state reported again; it
  // stays in the set.
  void detach(Handle handle);
  // The socket is about to close (which takes it out of the set): the slot is free again.
  void forget(Handle handle);

  // A stopping worker: from now on the set's wait is cancelled whenever no socket is attached,
  // so the io_context can run out of work. (Before, an idle set keeps its wait: cancelling and
  // re-arming it each time the last session of a quiet worker sleeps would cost a re-arm.)
  void release_when_idle();
  // Before the io_context goes: no more waits; detach and forget keep working.
  void close();

  // Sockets whose readiness goes to a session now.
  std::size_t attached() const { return attached_; }
  // epoll_ctl calls made to add or re-register a socket (for tests).
  std::uint64_t registrations() const { return registrations_; }

 private:
  struct Slot {
    std::shared_ptr<Readiness> ready;
    Waker* waker = nullptr;
    std::uint32_t generation = 1;
    bool missed = false;  // an event came while detached and was dropped
  };

  Slot* live_slot(Handle handle) {
    const auto index = static_cast<std::uint32_t>(handle);
    if (handle == 0 || index >= slots_.size() || slots_[index].generation != handle >> 32) return nullptr;
    return &slots_[index];
  }
  Handle attach(Handle handle, int fd, const std::shared_ptr<Readiness>& ready, Waker* waker);
  bool register_socket(int operation, int fd, Handle handle);
  void arm();
  void on_ready(error_code ec);
  // One look at the set (epoll_wait, no timeout): flags set, sessions resumed. The events seen.
  int dispatch();

  // A wake-up looks at the set again after a batch of at least k_busy_batch events, at most
  // k_max_rounds_per_wakeup times in all, before it gives the thread back to Asio (whose other
  // work, logins and timers, waits meanwhile).
  static constexpr int k_busy_batch = 2;
  static constexpr int k_max_rounds_per_wakeup = 4;

  int epoll_fd_ = -1;
  // epoll_fd_ in Asio's reactor. Gone at close(), before the io_context: the Worker keeps this
  // poller longer (sessions the io_context destroys forget their sockets here).
  std::optional<asio::posix::basic_stream_descriptor<asio::io_context::executor_type>> set_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t attached_ = 0;
  std::uint64_t registrations_ = 0;
  bool waiting_ = false;  // the set's wait is out
  bool release_when_idle_ = false;
  bool closed_ = false;
};

// A Transport's membership in its worker's set: registered at the first watch, detached on
// cancel, forgotten on close or destruction. Move-only.
class PollWatch {
 public:
  PollWatch() = default;
  PollWatch(PollWatch&& other) noexcept
      : poller_(other.poller_), handle_(std::exchange(other.handle_, 0)) {}
  PollWatch& operator=(PollWatch&& other) noexcept {
    if (this != &other) {
      forget();
      poller_ = other.poller_;
      handle_ = std::exchange(other.handle_, 0);
    }
    return *this;
  }
  PollWatch(const PollWatch&) = delete;
  PollWatch& operator=(const PollWatch&) = delete;
  ~PollWatch() { forget(); }

  void watch(ReadinessPoller& poller, int fd, const std::shared_ptr<Readiness>& ready, Waker* waker) {
    poller_ = &poller;
    handle_ = poller.watch(handle_, fd, ready, waker);
  }
  void detach() {
    if (handle_ != 0) poller_->detach(handle_);
  }
  void forget() {
    if (handle_ != 0) poller_->forget(std::exchange(handle_, 0));
  }

 private:
  ReadinessPoller* poller_ = nullptr;
  ReadinessPoller::Handle handle_ = 0;
};

}  // namespace pgr::proxy
