// Maps the BackendKeyData pgrouter gave a client to the backend running that client's
// queries, so a CancelRequest (which arrives on a new connection, possibly on another
// worker) reaches the right server process.
//
// Thread rules: shared by all workers; guarded by one mutex, touched only when a session
// starts, changes backend, ends, or a cancel arrives — never per query.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "protocol/startup.hpp"

namespace pgr::proxy {

struct CancelTarget {
  std::string host;
  std::uint16_t port = 0;
  protocol::CancelRequest backend_key;  // the backend's own pid and secret
};

class CancelRegistry {
 public:
  // A fresh random key for a new session (unique among live sessions).
  protocol::CancelRequest issue_key();
  // nullopt: the session holds no backend now (transaction pooling between transactions):
  // a cancel then has nothing to stop, and must not reach the connection's next user.
  void set_target(const protocol::CancelRequest& key, std::optional<CancelTarget> target);
  void release(const protocol::CancelRequest& key);
  // The target for a client's CancelRequest; nullopt for a wrong or stale key.
  std::optional<CancelTarget> find(const protocol::CancelRequest& key) const;

 private:
  struct Entry {
    std::int32_t secret = 0;
    std::optional<CancelTarget> target;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::int32_t, Entry> by_pid_;
};

}  // namespace pgr::proxy
