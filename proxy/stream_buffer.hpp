// A read buffer with a window of unconsumed bytes [begin, end). The startup and
// authentication phases read whole messages from it; the relay then takes it over, so bytes
// that arrived early (a NOTICE right after ReadyForQuery, say) are never lost.
#pragma once

#include <cstddef>
#include <cstring>

#include "protocol/byte_io.hpp"

namespace pgr::proxy {

struct StreamBuffer {
  protocol::byte_buffer data;
  std::size_t begin = 0;
  std::size_t end = 0;

  StreamBuffer() = default;
  explicit StreamBuffer(std::size_t capacity) : data(capacity) {}

  protocol::bytes_view unread() const { return {data.data() + begin, end - begin}; }
  std::size_t free_space() const { return data.size() - end; }

  // Moves the unread bytes to the front so the free space is contiguous.
  void compact() {
    if (begin == 0) return;
    const std::size_t n = end - begin;
    if (n > 0) std::memmove(data.data(), data.data() + begin, n);
    begin = 0;
    end = n;
  }
  // Makes room for `total` unread bytes in one contiguous run.
  void reserve_unread(std::size_t total) {
    compact();
    if (data.size() < total) data.resize(total);
  }
};

}  // namespace pgr::proxy
