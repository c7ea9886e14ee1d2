// Per-user, per-database and pending-login counts (see connection_limits.hpp).
#include "proxy/connection_limits.hpp"

namespace pgr::proxy {

namespace {
void drop(std::map<std::string, int, std::less<>>& counts, const std::string& key) {
  const auto it = counts.find(key);
  if (it != counts.end() && --it->second <= 0) counts.erase(it);
}
int count_of(const std::map<std::string, int, std::less<>>& counts, const std::string& key) {
  const auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}
}  // namespace

std::optional<ConnectionLimits::Lease> ConnectionLimits::begin_login(int limit) {
  const std::lock_guard lock(mutex_);
  if (limit > 0 && pending_ >= limit) return std::nullopt;
  ++pending_;
  return Lease(this, {}, {});
}

std::optional<ConnectionLimits::Lease> ConnectionLimits::acquire(const std::string& user, const std::string& database,
                                                                 int max_user, int max_db, std::string& refusal) {
  const std::lock_guard lock(mutex_);
  if (max_user > 0 && count_of(users_, user) >= max_user) {
    refusal = "too many connections for role \"" + user + "\"";
    return std::nullopt;
  }
  if (max_db > 0 && count_of(databases_, database) >= max_db) {
    refusal = "too many connections for database \"" + database + "\"";
    return std::nullopt;
  }
  ++users_[user];
  ++databases_[database];
  // A user name cannot be empty (the startup packet requires one), so it tells the two
  // kinds of lease apart.
  return Lease(this, user, database);
}

void ConnectionLimits::release(const std::string& user, const std::string& database) {
  const std::lock_guard lock(mutex_);
  if (user.empty()) {
    --pending_;
    return;
  }
  drop(users_, user);
  drop(databases_, database);
}

int ConnectionLimits::pending_logins() const {
  const std::lock_guard lock(mutex_);
  return pending_;
}
int ConnectionLimits::user_connections(const std::string& user) const {
  const std::lock_guard lock(mutex_);
  return count_of(users_, user);
}
int ConnectionLimits::db_connections(const std::string& database) const {
  const std::lock_guard lock(mutex_);
  return count_of(databases_, database);
}

}  // namespace pgr::proxy
