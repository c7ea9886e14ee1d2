// A FIFO queue that keeps its storage: a ring of slots that grows (doubling) and never shrinks.
//
// Why: a backend link queues one ResponseGroup per request in flight and drops it when the
// ReadyForQuery comes back, once per transaction. std::deque frees a block each time its front
// leaves one and allocates another each time its back enters one, so a steady relay paid an
// allocation every other transaction; this ring, once it has a slot, pays none. A queue that
// never held anything holds no storage either (most links, most of the time, hold one group).
//
// Elements live in default-constructed slots: a popped slot is reset to T{}, so whatever the
// element owned (strings, vectors) is freed when it leaves, not when the slot is next used.
//
// Thread rules: none (a plain container). Pure.
#pragma once

#include <cassert>
#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

namespace pgr::proxy {

template <typename T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // Slots held (for tests): grows in powers of two, never shrinks.
  std::size_t capacity() const { return slots_.size(); }

  T& front() {
    assert(size_ > 0);
    return slots_[head_];
  }
  T& back() {
    assert(size_ > 0);
    return (*this)[size_ - 1];
  }
  // i counts from the front.
  T& operator[](std::size_t i) {
    assert(i < size_);
    return slots_[(head_ + i) & (slots_.size() - 1)];
  }
  const T& operator[](std::size_t i) const {
    assert(i < size_);
    return slots_[(head_ + i) & (slots_.size() - 1)];
  }

  void push_back(T value) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(value);
    ++size_;
  }
  void pop_front() {
    assert(size_ > 0);
    slots_[head_] = T{};
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }
  void pop_back() {
    assert(size_ > 0);
    (*this)[size_ - 1] = T{};
    --size_;
  }

  template <typename Queue, typename Value>
  class basic_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = Value*;
    using reference = Value&;

    basic_iterator() = default;
    basic_iterator(Queue* queue, std::size_t index) : queue_(queue), index_(index) {}
    reference operator*() const { return (*queue_)[index_]; }
    pointer operator->() const { return &(*queue_)[index_]; }
    basic_iterator& operator++() {
      ++index_;
      return *this;
    }
    basic_iterator operator++(int) {
      auto before = *this;
      ++index_;
      return before;
    }
    bool operator==(const basic_iterator& other) const { return index_ == other.index_; }

   private:
    Queue* queue_ = nullptr;
    std::size_t index_ = 0;
  };
  using iterator = basic_iterator<RingQueue, T>;
  using const_iterator = basic_iterator<const RingQueue, const T>;

  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  // Doubles the slots (the first grow makes one), front first in the new ring.
  void grow() {
    std::vector<T> bigger(slots_.empty() ? 1 : slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;  // size: zero or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace pgr::proxy
