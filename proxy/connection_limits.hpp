// Counting client connections per user name and per database name ([proxy]
// max_user_connections, max_db_connections) and clients still logging in
// (max_pending_logins). A Lease releases what it holds when destroyed.
//
// Thread rules: shared by all workers; one mutex, taken at login and at session end only.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace pgr::proxy {

class ConnectionLimits {
 public:
  class Lease {
   public:
    Lease(ConnectionLimits* owner, std::string user, std::string database)
        : owner_(owner), user_(std::move(user)), database_(std::move(database)) {}
    Lease(Lease&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), user_(std::move(other.user_)),
          database_(std::move(other.database_)) {}
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        if (owner_ != nullptr) owner_->release(user_, database_);
        owner_ = std::exchange(other.owner_, nullptr);
        user_ = std::move(other.user_);
        database_ = std::move(other.database_);
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (owner_ != nullptr) owner_->release(user_, database_);
    }

   private:
    ConnectionLimits* owner_;
    std::string user_;      // empty: a pending login
    std::string database_;
  };

  // A pending login, or nullopt when `limit` (> 0) of them are already counted.
  [[nodiscard]] std::optional<Lease> begin_login(int limit);
  // One connection of `user` to `database`; nullopt and the 53300 message (PostgreSQL's
  // wording) when either limit (> 0) is reached.
  [[nodiscard]] std::optional<Lease> acquire(const std::string& user, const std::string& database, int max_user,
                                             int max_db, std::string& refusal);

  [[nodiscard]] int pending_logins() const;
  [[nodiscard]] int user_connections(const std::string& user) const;
  [[nodiscard]] int db_connections(const std::string& database) const;

 private:
  void release(const std::string& user, const std::string& database);

  mutable std::mutex mutex_;
  int pending_ = 0;
  std::map<std::string, int, std::less<>> users_;
  std::map<std::string, int, std::less<>> databases_;
};

}  // namespace pgr::proxy
