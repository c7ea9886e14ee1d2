// Per-node connection budget (see pool_budget.hpp).
#include "proxy/pool_budget.hpp"

#include <algorithm>
#include <utility>

namespace pgr::proxy {

void PoolTicket::reset() {
  if (budget_ == nullptr) return;
  auto* budget = budget_;
  budget_ = nullptr;
  budget->give_back();
}

NodeBudget::Outcome NodeBudget::take_or_wait(int limit, Grant grant) {
  const std::lock_guard lock(mutex_);
  limit_ = limit;
  Outcome out;
  if (waiters_.empty() && (limit <= 0 || held_ < limit)) {
    ++held_;
    out.ticket = PoolTicket(this);
    return out;
  }
  const auto id = next_id_++;
  waiters_.push_back(Waiter{id, std::move(grant)});
  out.wait = id;
  return out;
}

bool NodeBudget::cancel(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  const auto it = std::find_if(waiters_.begin(), waiters_.end(), [id](const Waiter& w) { return w.id == id; });
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  return true;
}

void NodeBudget::set_limit(int limit) {
  std::deque<Waiter> granted;
  {
    const std::lock_guard lock(mutex_);
    limit_ = limit;
    // A raised limit lets waiters in now.
    while (!waiters_.empty() && (limit_ <= 0 || held_ < limit_)) {
      ++held_;
      granted.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  for (auto& w : granted) w.grant(PoolTicket(this));
}

void NodeBudget::give_back() {
  Grant grant;
  {
    const std::lock_guard lock(mutex_);
    if (!waiters_.empty() && (limit_ <= 0 || held_ <= limit_)) {
      // The ticket passes to the oldest waiter: held_ is unchanged.
      grant = std::move(waiters_.front().grant);
      waiters_.pop_front();
    } else {
      --held_;
    }
  }
  if (grant) grant(PoolTicket(this));
}

int NodeBudget::held() const {
  const std::lock_guard lock(mutex_);
  return held_;
}

int NodeBudget::waiting() const {
  const std::lock_guard lock(mutex_);
  return static_cast<int>(waiters_.size());
}

}  // namespace pgr::proxy
