// A worker's epoll set of session sockets (see readiness_poller.hpp).
#include "proxy/readiness_poller.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "proxy/socket_events.hpp"

namespace pgr::proxy {

namespace {

int make_epoll_set() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  return fd;
}

}  // namespace

ReadinessPoller::ReadinessPoller(asio::io_context& context)
    : epoll_fd_(make_epoll_set()) {
  set_.emplace(context.get_executor(), epoll_fd_);
}

ReadinessPoller::~ReadinessPoller() { close(); }

void ReadinessPoller::close() {
  if (closed_) return;
  closed_ = true;
  set_.reset();  // closes epoll_fd_
}

ReadinessPoller::Handle ReadinessPoller::attach(Handle handle, int fd, const std::shared_ptr<Readiness>& ready,
                                                Waker* waker) {
  Slot* slot = live_slot(handle);
  if (slot == nullptr) {
    std::uint32_t index = 0;
    if (!free_slots_.empty()) {
      index = free_slots_.back();
      free_slots_.pop_back();
    } else {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    handle = (static_cast<Handle>(slots_[index].generation) << 32) | index;
    if (!register_socket(EPOLL_CTL_ADD, fd, handle)) {
      free_slots_.push_back(index);
      return 0;
    }
    slot = &slots_[index];
  } else if (slot->waker == nullptr && std::exchange(slot->missed, false)) {
    // Back from between owners (a pooled link), and an edge then went to nobody. Registering
    // it again has the kernel report its state now, as a new socket's is. (Without a missed
    // edge its state is what its last owner left, plus edges still to come: with transaction
    // pooling, an epoll_ctl per transaction saved.)
    register_socket(EPOLL_CTL_MOD, fd, handle);
  }
  if (slot->waker == nullptr) {
    if (attached_++ == 0 && !waiting_) arm();
  }
  slot->ready = ready;
  slot->waker = waker;
  return handle;
}

bool ReadinessPoller::register_socket(int operation, int fd, Handle handle) {
  // Edge-triggered: an event per change, read and write alike, for as long as the socket
  // lives; a session reads until a short read or EAGAIN before it sleeps (read_available),
  // so no readiness goes unreported. What the socket holds already is reported at once.
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = handle;
  ++registrations_;
  return !closed_ && ::epoll_ctl(epoll_fd_, operation, fd, &event) == 0;
}

void ReadinessPoller::detach(Handle handle) {
  Slot* slot = live_slot(handle);
  if (slot == nullptr || slot->waker == nullptr) return;
  slot->waker = nullptr;
  slot->ready.reset();
  if (--attached_ == 0 && release_when_idle_) release_when_idle();
}

void ReadinessPoller::release_when_idle() {
  release_when_idle_ = true;
  if (attached_ == 0 && waiting_ && !closed_) {
    error_code ec;
    set_->cancel(ec);
  }
}

void ReadinessPoller::forget(Handle handle) {
  detach(handle);
  if (Slot* slot = live_slot(handle)) {
    ++slot->generation;
    if (slot->generation == 0) slot->generation = 1;
    slot->missed = false;
    free_slots_.push_back(static_cast<std::uint32_t>(handle));
  }
}

void ReadinessPoller::arm() {
  if (closed_) return;
  waiting_ = true;
  set_->async_wait(asio::posix::descriptor_base::wait_read, [this](error_code ec) { on_ready(ec); });
}

void ReadinessPoller::on_ready(error_code ec) {
  waiting_ = false;
  if (attached_ == 0 && release_when_idle_) return;  // a stopping worker's last session went
  if (!ec || ec == asio::error::operation_aborted) {
    // While the sessions ran, answers to what they sent may have come in. After a batch of
    // several events more are likely: looking again costs one epoll_wait, where going back to
    // Asio costs its re-arm (an epoll_ctl) and its own epoll_wait too. After a lone event (one
    // client, a quiet worker) the look would mostly come back empty: not taken.
    for (int round = 0; round < k_max_rounds_per_wakeup; ++round) {
      if (dispatch() < k_busy_batch || closed_ || (attached_ == 0 && release_when_idle_)) break;
    }
  }
  // Re-armed after the sessions ran: the re-arm reports what became ready meanwhile.
  if (!waiting_ && (attached_ > 0 || !release_when_idle_)) arm();
}

int ReadinessPoller::dispatch() {
  std::array<epoll_event, 64> events{};
  const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
  if (n <= 0) return 0;  // EINTR, or nothing left: the re-arm tells
  // First every socket's flags, then each session once: a session woken for its client also
  // sees the reply its backend sent in the same batch.
  std::array<Handle, 64> to_wake{};
  std::size_t wake_count = 0;
  for (int i = 0; i < n; ++i) {
    const Handle handle = events[static_cast<std::size_t>(i)].data.u64;
    Slot* slot = live_slot(handle);
    if (slot == nullptr) continue;  // closed since
    if (slot->waker == nullptr) {
      slot->missed = true;  // between owners: the next one has the kernel report its state
      continue;
    }
    const auto what = events[static_cast<std::size_t>(i)].events;
    Readiness& ready = *slot->ready;
    const Readiness before = ready;
    // An error or hang-up is reported as readable and writable: the read or write finds it.
    if ((what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) ready.readable = true;
    if ((what & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) ready.peer_closed = true;
    if ((what & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) ready.writable = true;
    // Only news wakes the session: every read event also says "writable" (the flag already
    // said so), a socket joining the set reports that it is writable, and a session that has
    // not read what it was told about chose not to (its client's buffer is full).
    if (ready.readable == before.readable && ready.writable == before.writable &&
        ready.peer_closed == before.peer_closed) {
      continue;
    }
    bool seen = false;
    for (std::size_t j = 0; j < wake_count && !seen; ++j) seen = slots_[static_cast<std::uint32_t>(to_wake[j])].waker == slot->waker;
    if (!seen) to_wake[wake_count++] = handle;
  }
  // Resuming a session may end it (detaching its sockets) or change the slots: each is looked
  // up again by its handle, never held across a resume.
  for (std::size_t j = 0; j < wake_count; ++j) {
    if (Slot* slot = live_slot(to_wake[j]); slot != nullptr && slot->waker != nullptr) slot->waker->on_socket_ready();
  }
  return n;
}

}  // namespace pgr::proxy
