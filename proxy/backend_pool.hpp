// A worker's pools of backend connections ([pool]), one per (node, startup parameters): the
// user, the database and every other parameter the client's startup packet carried, so a
// reused connection is indistinguishable from a fresh login (application_name, client_encoding,
// options...). Connections never leave their worker (their sockets belong to its io_context).
//
// - acquire(): the most recently used idle connection of the pool (after a liveness check), or
//   a new one if the node's budget (pool_budget.hpp) allows, or a place in the queue until a
//   connection comes back to this pool or a ticket frees anywhere, up to query_wait_timeout
//   (then 53300). Waiting asks every worker to close one idle connection to the node it does
//   not need, so an idle pool elsewhere never starves a waiter.
// - release(): a connection that is healthy and idle ('I') goes to a waiter of its pool, or
//   (after server_reset_query when asked) back into the pool; anything else is closed.
// - a sweeper closes connections idle past idle_timeout, older than max_lifetime, or closed by
//   the server, and opens connections up to min_idle.
//
// Thread rules: everything on the worker's thread, except rows() (any thread; a mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "admin/cluster_snapshot.hpp"
#include "health/cluster_view.hpp"
#include "proxy/asio.hpp"
#include "proxy/backend_link.hpp"
#include "proxy/backend_login.hpp"
#include "proxy/session_error.hpp"

namespace pgr::proxy {

class Worker;

// The pool a session's connections to `node` come from.
std::string pool_key(std::size_t node, const StartupParameters& parameters);

struct PoolRequest {
  std::size_t node = 0;
  std::string key;  // pool_key(node, parameters)
  const StartupParameters* parameters = nullptr;
  const BackendCredentials* credentials = nullptr;
  std::string tag;  // the session's, for logs
};

struct PoolFailure {
  SessionError error;
  bool node_failed = false;  // the node refused or dropped the connection: avoid it, report it
};

using Acquired = std::variant<std::unique_ptr<BackendLink>, PoolFailure>;

class BackendPool {
 public:
  explicit BackendPool(Worker& worker);
  ~BackendPool();
  BackendPool(const BackendPool&) = delete;
  BackendPool& operator=(const BackendPool&) = delete;

  awaitable<Acquired> acquire(PoolRequest request);
  // An idle connection of the pool `key` on `node`, lent at once; nullptr when there is none
  // (or the pool is stopped, or it keeps min_idle connections warm: acquire() records the
  // session's credentials for those). No wait and no coroutine frame: with transaction pooling
  // a session takes a connection per transaction, and almost always finds one idle.
  std::unique_ptr<BackendLink> lend_idle(std::size_t node, std::string_view key);
  // The session is done with `link` (its session ended, or in transaction mode its
  // transaction did). `reset`: run server_reset_query before anyone else gets it.
  void release(std::unique_ptr<BackendLink> link, bool reset);
  void start();
  // pgrouter stops: waiters fail, idle connections close, the sweeper ends.
  void stop();
  // A new view: idle connections to nodes that are down, removed or changed role close.
  void on_view_changed();
  // A client on another worker waits for `node`'s budget: close one idle connection to it.
  void evict_idle(std::size_t node);

  // This worker's pools, for the admin side to sum (SHOW POOL_POOLS, /metrics).
  std::vector<admin::PoolSnapshot> rows() const;

 private:
  struct Waiter;
  struct Pool {
    std::size_t node = 0;
    std::string database;
    std::string user;
    std::vector<std::unique_ptr<BackendLink>> idle;  // most recently returned last
    std::deque<std::shared_ptr<Waiter>> waiters;
    std::shared_ptr<int> active = std::make_shared<int>(0);  // lent out (see LentMark)
    // min_idle: how to open connections for this pool without a client (kept from the
    // last client that used it).
    StartupParameters parameters;
    BackendCredentials credentials;
    int opening = 0;
  };

  Pool& pool_for(const PoolRequest& request);
  // A usable idle connection of `pool`, lent (counted active); nullptr when it has none.
  std::unique_ptr<BackendLink> lend_from(Pool& pool);
  awaitable<Acquired> open_link(const PoolRequest& request, PoolTicket ticket);
  awaitable<void> reset_then_park(std::unique_ptr<BackendLink> link, std::string sql);
  void park(std::unique_ptr<BackendLink> link);
  bool usable(const BackendLink& link, std::chrono::steady_clock::time_point now) const;
  void close_link(std::unique_ptr<BackendLink> link, std::string_view why);
  void sweep();
  awaitable<void> sweeper();
  awaitable<void> open_idle(std::string key);
  void publish_rows();
  void count_idle(std::size_t node, int delta);
  void count_waiting(std::size_t node, int delta);

  Worker& worker_;
  std::map<std::string, Pool, std::less<>> pools_;
  asio::steady_timer sweep_timer_;
  bool stopped_ = false;

  mutable std::mutex rows_mutex_;
  std::vector<admin::PoolSnapshot> rows_;  // published copy of the pools' figures
  bool rows_dirty_ = false;
};

}  // namespace pgr::proxy
