// Client cancel keys to backend targets (see cancel_registry.hpp).
#include "proxy/cancel_registry.hpp"

#include <cstring>

#include "protocol/secure_random.hpp"

namespace pgr::proxy {

namespace {
// Unpredictable: a guessable key would let anyone cancel others' queries.
std::int32_t random_int32() { return static_cast<std::int32_t>(protocol::secure_random_value<std::uint32_t>()); }
}  // namespace

protocol::CancelRequest CancelRegistry::issue_key() {
  std::lock_guard lock(mutex_);
  for (;;) {
    // Positive pids, like PostgreSQL's, keep tools that print them unsurprised.
    const std::int32_t pid = random_int32() & 0x7fffffff;
    if (pid == 0 || by_pid_.contains(pid)) continue;
    const std::int32_t secret = random_int32();
    by_pid_.emplace(pid, Entry{secret, std::nullopt});
    return {pid, secret};
  }
}

void CancelRegistry::set_target(const protocol::CancelRequest& key, std::optional<CancelTarget> target) {
  std::lock_guard lock(mutex_);
  auto it = by_pid_.find(key.process_id);
  if (it != by_pid_.end() && it->second.secret == key.secret_key) {
    it->second.target = std::move(target);
  }
}

void CancelRegistry::release(const protocol::CancelRequest& key) {
  std::lock_guard lock(mutex_);
  auto it = by_pid_.find(key.process_id);
  if (it != by_pid_.end() && it->second.secret == key.secret_key) by_pid_.erase(it);
}

std::optional<CancelTarget> CancelRegistry::find(const protocol::CancelRequest& key) const {
  std::lock_guard lock(mutex_);
  auto it = by_pid_.find(key.process_id);
  if (it == by_pid_.end() || it->second.secret != key.secret_key) return std::nullopt;
  return it->second.target;
}

}  // namespace pgr::proxy
