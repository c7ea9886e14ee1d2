// Spare byte buffers of one worker, lent to its sessions while they have bytes to hold.
//
// Why: an idle client (most of them, with transaction pooling) needs no read or write buffer
// between its messages, yet 16 KB each would make 10,000 idle clients cost 160 MB. A session
// hands its empty buffers back before it sleeps and takes one again when it next reads or
// writes; the most recently returned buffer comes back first (still warm in the CPU's cache).
// The cache keeps at most `max_kept` buffers of `min_capacity` to `max_capacity` bytes; anything
// else is freed, so a buffer that grew for one huge message does not stay around.
//
// Thread rules: one per worker, used on its thread only. Pure (no I/O).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "protocol/byte_io.hpp"

namespace pgr::proxy {

// A session's client read buffer: one read takes up to this much.
constexpr std::size_t k_read_buffer_size = 16 * 1024;

class BufferCache {
 public:
  BufferCache(std::size_t max_kept, std::size_t min_capacity, std::size_t max_capacity)
      : max_kept_(max_kept), min_capacity_(min_capacity), max_capacity_(max_capacity) {}

  // A buffer as it was given back (size and contents unspecified), or a new empty one with
  // min_capacity bytes of storage: one the cache will take back, so a session whose replies
  // are all small does not allocate a buffer (and free it) at every wake-up.
  protocol::byte_buffer take() {
    if (spare_.empty()) {
      protocol::byte_buffer fresh;
      fresh.reserve(min_capacity_);
      return fresh;
    }
    protocol::byte_buffer b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }
  // Takes `b` back (or frees it); `b` is left empty, without storage.
  void give(protocol::byte_buffer& b) {
    if (b.capacity() >= min_capacity_ && b.capacity() <= max_capacity_ && spare_.size() < max_kept_) {
      spare_.push_back(std::move(b));
    }
    protocol::byte_buffer().swap(b);
  }
  std::size_t kept() const { return spare_.size(); }

 private:
  std::size_t max_kept_;
  std::size_t min_capacity_;
  std::size_t max_capacity_;
  std::vector<protocol::byte_buffer> spare_;
};

}  // namespace pgr::proxy
