// One node's share of `[pool] max_backend_connections`: how many backend connections
// pgrouter holds to the node (across every worker), and the clients waiting for one more.
// A connection holds a PoolTicket for its life; closing it hands the ticket to the oldest
// waiter (first come, first served across workers) or frees it.
//
// Thread rules: shared by all workers; one mutex, taken when a connection opens or closes
// and when a client queues — never for a connection reused from a pool. Grant callbacks run
// on the thread that freed the ticket, outside the lock: they must only post.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace pgr::proxy {

class NodeBudget;

// The right to hold one backend connection to a node. Move-only; returns itself on
// destruction (or reset()), so no path that drops a connection can leak one.
class PoolTicket {
 public:
  PoolTicket() = default;
  explicit PoolTicket(NodeBudget* budget) : budget_(budget) {}
  PoolTicket(PoolTicket&& other) noexcept : budget_(other.budget_) { other.budget_ = nullptr; }
  PoolTicket& operator=(PoolTicket&& other) noexcept {
    if (this != &other) {
      reset();
      budget_ = other.budget_;
      other.budget_ = nullptr;
    }
    return *this;
  }
  PoolTicket(const PoolTicket&) = delete;
  PoolTicket& operator=(const PoolTicket&) = delete;
  ~PoolTicket() { reset(); }

  void reset();
  bool held() const { return budget_ != nullptr; }

 private:
  NodeBudget* budget_ = nullptr;
};

class NodeBudget {
 public:
  // Called with the granted ticket when a waiter's turn comes.
  using Grant = std::function<void(PoolTicket)>;

  struct Outcome {
    PoolTicket ticket;                  // held: the connection may be opened now
    std::optional<std::uint64_t> wait;  // otherwise the waiter's id (for cancel)
  };

  // A ticket now when fewer than `limit` are out and nobody waits (limit 0: no limit), or a
  // place at the back of the queue; `grant` is called when the ticket comes.
  Outcome take_or_wait(int limit, Grant grant);
  // A waiter gave up. False when its grant is already on its way (it must give the ticket
  // back when it arrives).
  bool cancel(std::uint64_t id);
  // The limit may have been lowered by a reload: tickets freed above it are not handed on.
  void set_limit(int limit);

  int held() const;
  int waiting() const;

 private:
  friend class PoolTicket;
  void give_back();

  struct Waiter {
    std::uint64_t id = 0;
    Grant grant;
  };
  mutable std::mutex mutex_;
  int held_ = 0;
  int limit_ = 0;
  std::uint64_t next_id_ = 1;
  std::deque<Waiter> waiters_;
};

}  // namespace pgr::proxy
