// One copy of a user's backend credentials per worker, shared by that user's sessions.
//
// Why: every logged-in session holds what it needs to open backend connections as its user
// (plain or md5 secret, or the SCRAM keys recovered from the client's proof), ~200 bytes each;
// with 10,000 idle clients of a few users that is 2 MB of identical copies. A session's login
// yields its credentials; intern() hands back the copy an earlier session of the same user
// already holds when they are equal (same secret, same SCRAM salt and keys), else keeps the new
// one. Entries go when the last session holding them ends (weak references, swept as the map
// grows). A changed password simply yields unequal credentials: the new ones replace the entry,
// and sessions still holding the old ones keep them.
//
// Thread rules: one per worker, used on its thread only. Pure (no I/O).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "proxy/credentials.hpp"

namespace pgr::proxy {

class CredentialsCache {
 public:
  std::shared_ptr<const BackendCredentials> intern(const std::string& user, BackendCredentials credentials) {
    auto& entry = by_user_[user];
    if (auto held = entry.lock(); held && *held == credentials) return held;
    auto fresh = std::make_shared<const BackendCredentials>(std::move(credentials));
    entry = fresh;
    if (by_user_.size() >= sweep_at_) sweep();
    return fresh;
  }
  // Users with an entry, live or not yet swept (for tests).
  std::size_t size() const { return by_user_.size(); }

 private:
  void sweep() {
    std::erase_if(by_user_, [](const auto& kv) { return kv.second.expired(); });
    sweep_at_ = std::max<std::size_t>(k_min_sweep, 2 * by_user_.size());
  }
  static constexpr std::size_t k_min_sweep = 64;
  std::unordered_map<std::string, std::weak_ptr<const BackendCredentials>> by_user_;
  std::size_t sweep_at_ = k_min_sweep;
};

}  // namespace pgr::proxy
