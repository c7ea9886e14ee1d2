// Per-worker backend connection pools (see backend_pool.hpp).
#include "proxy/backend_pool.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "protocol/messages.hpp"
#include "protocol/sqlstate.hpp"
#include "proxy/worker.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

namespace {

namespace sqlstate = protocol::sqlstate;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

constexpr auto k_sweep_period = std::chrono::milliseconds(500);

std::string parameter(const StartupParameters& parameters, std::string_view name) {
  for (const auto& [k, v] : parameters) {
    if (k == name) return v;
  }
  return {};
}

// An idle connection must have nothing to say: bytes waiting mean the server closed it or
// sent something on its own (a FATAL before a shutdown, a notice); either way it is not
// handed to a client.
bool quiet_socket(BackendLink& link) {
  if (link.eof || !link.in.unread().empty()) return false;
  if (link.socket.is_tls() && SSL_pending(link.socket.ssl()) > 0) return false;
  char byte = 0;
  const auto n = ::recv(link.socket.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::string pool_key(std::size_t node, const StartupParameters& parameters) {
  auto sorted = parameters;
  std::sort(sorted.begin(), sorted.end());
  std::string key = std::to_string(node);
  for (const auto& [k, v] : sorted) {
    key.push_back('\0');
    key += k;
    key.push_back('=');
    key += v;
  }
  return key;
}

// A session queued for a connection. Woken through its timer (cancel) by whichever comes
// first: a connection returned to its pool here, or a ticket from the node's budget.
struct BackendPool::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  Clock::time_point since = Clock::now();
  bool done = false;
  std::unique_ptr<BackendLink> link;
  PoolTicket ticket;
  std::optional<std::uint64_t> budget_wait;  // its place in the node's queue
};

BackendPool::BackendPool(Worker& worker) : worker_(worker), sweep_timer_(worker.context()) {}

BackendPool::~BackendPool() = default;

void BackendPool::start() {
  asio::co_spawn(worker_.context(), sweeper(), asio::detached);
}

void BackendPool::stop() {
  stopped_ = true;
  sweep_timer_.cancel();
  for (auto& [key, pool] : pools_) {
    for (auto& w : pool.waiters) {
      w->done = true;
      w->timer.cancel();
    }
    for (auto& link : pool.idle) {
      count_idle(pool.node, -1);
      error_code ec;
      link->socket.close(ec);
    }
    pool.idle.clear();
  }
  publish_rows();
}

BackendPool::Pool& BackendPool::pool_for(const PoolRequest& request) {
  auto it = pools_.find(request.key);
  if (it == pools_.end()) {
    Pool pool;
    pool.node = request.node;
    pool.user = parameter(*request.parameters, "user");
    pool.database = parameter(*request.parameters, "database");
    if (pool.database.empty()) pool.database = pool.user;
    it = pools_.emplace(request.key, std::move(pool)).first;
  }
  auto& pool = it->second;
  if (worker_.shared().config->pool.min_idle > 0) {
    pool.parameters = *request.parameters;
    pool.credentials = *request.credentials;
  }
  return pool;
}

bool BackendPool::usable(const BackendLink& link, Clock::time_point now) const {
  const auto& view = *worker_.view();
  if (link.node >= view.nodes.size()) return false;
  const auto& node = view.nodes[link.node];
  if (node.removed || node.status == health::NodeStatus::down || node.role != link.role_at_open) return false;
  return now - link.opened_at < worker_.shared().config->pool.max_lifetime;
}

void BackendPool::close_link(std::unique_ptr<BackendLink> link, std::string_view why) {
  log::debug("pool: closing a connection to ", link->name, " (backend pid ", link->backend_key.process_id, "): ", why);
  error_code ec;
  link->socket.close(ec);
  link->count_closed();
  // The ticket goes back to the node's budget (and on to its oldest waiter) as `link` dies.
}

std::unique_ptr<BackendLink> BackendPool::lend_from(Pool& pool) {
  const auto now = Clock::now();
  while (!pool.idle.empty()) {
    auto link = std::move(pool.idle.back());
    pool.idle.pop_back();
    count_idle(pool.node, -1);
    if (!usable(*link, now)) {
      close_link(std::move(link), "node changed, or past max_lifetime");
      continue;
    }
    if (!quiet_socket(*link)) {
      close_link(std::move(link), "closed by the server while idle");
      continue;
    }
    link->lent.set(pool.active);
    publish_rows();
    return link;
  }
  return nullptr;
}

std::unique_ptr<BackendLink> BackendPool::lend_idle(std::size_t node, std::string_view key) {
  const auto& config = *worker_.shared().config;
  if (stopped_ || config.pool.mode == conf::PoolMode::none || config.pool.min_idle > 0) return nullptr;
  const auto it = pools_.find(key);
  if (it == pools_.end() || it->second.node != node) return nullptr;
  return lend_from(it->second);
}

awaitable<Acquired> BackendPool::acquire(PoolRequest request) {
  const auto& config = *worker_.shared().config;
  auto& shared = worker_.shared();
  if (stopped_) {
    co_return PoolFailure{SessionError::make(sqlstate::admin_shutdown, "pgrouter is shutting down"), false};
  }
  if (request.node >= shared.budgets.size()) {
    co_return PoolFailure{SessionError::make(sqlstate::connection_failure, "no such node"), true};
  }
  auto* pool = &pool_for(request);
  if (config.pool.mode != conf::PoolMode::none) {
    if (auto link = lend_from(*pool)) co_return std::move(link);
  }

  auto& budget = shared.budgets[request.node];
  auto waiter = std::make_shared<Waiter>(worker_.context().get_executor());
  const auto executor = worker_.context().get_executor();
  auto outcome = budget.take_or_wait(config.pool.max_backend_connections,
                                     [weak = std::weak_ptr<Waiter>(waiter), executor](PoolTicket ticket) {
                                       asio::post(executor, [weak, ticket = std::move(ticket)]() mutable {
                                         const auto w = weak.lock();
                                         if (!w || w->done) return;  // gave up: the ticket goes back
                                         w->ticket = std::move(ticket);
                                         w->done = true;
                                         w->timer.cancel();
                                       });
                                     });
  if (outcome.ticket.held()) co_return co_await open_link(request, std::move(outcome.ticket));

  // The node's budget is spent: queue here (a connection of this pool coming back) and
  // there (a ticket freed anywhere), first come first served.
  waiter->budget_wait = outcome.wait;
  pool->waiters.push_back(waiter);
  count_waiting(request.node, +1);
  publish_rows();
  if (shared.route_counters[request.node].pool_idle.load(std::memory_order_relaxed) > 0 && shared.evict_idle) {
    shared.evict_idle(request.node);
  }
  const auto deadline = waiter->since + config.pool.query_wait_timeout;
  waiter->timer.expires_at(deadline);
  while (!waiter->done && Clock::now() < deadline) {
    co_await waiter->timer.async_wait(nothrow_awaitable);
  }
  const auto waited = Clock::now() - waiter->since;
  shared.route_counters[request.node].observe_pool_wait(std::chrono::duration_cast<std::chrono::microseconds>(waited));
  // The pool may have been swept meanwhile: a connection handed over by park() left its
  // queue and its figures before this coroutine resumed.
  pool = &pool_for(request);
  std::erase(pool->waiters, waiter);
  count_waiting(request.node, -1);
  if (!waiter->link && !waiter->ticket.held()) {
    // Timed out (or pgrouter is stopping). A grant already on its way finds `done` set and
    // gives the ticket back.
    waiter->done = true;
    if (waiter->budget_wait) budget.cancel(*waiter->budget_wait);
    publish_rows();
    if (stopped_) {
      co_return PoolFailure{SessionError::make(sqlstate::admin_shutdown, "pgrouter is shutting down"), false};
    }
    const auto& node_name = worker_.view()->nodes[request.node].name;
    co_return PoolFailure{
        SessionError::make(sqlstate::too_many_connections,
                           "no backend connection to " + node_name + " became available within query_wait_timeout (" +
                               std::to_string(config.pool.query_wait_timeout.count()) + " ms)",
                           "All " + std::to_string(config.pool.max_backend_connections) +
                               " connections of [pool] max_backend_connections to this node are in use."),
        false};
  }
  if (waiter->link) {
    if (waiter->budget_wait) budget.cancel(*waiter->budget_wait);
    waiter->link->lent.set(pool->active);
    publish_rows();
    co_return std::move(waiter->link);
  }
  co_return co_await open_link(request, std::move(waiter->ticket));
}

awaitable<Acquired> BackendPool::open_link(const PoolRequest& request, PoolTicket ticket) {
  const auto& config = *worker_.shared().config;
  const auto view = worker_.view();
  if (request.node >= view->nodes.size()) {
    co_return PoolFailure{SessionError::make(sqlstate::connection_failure, "no such node"), true};
  }
  const auto& nv = view->nodes[request.node];
  const BackendEndpoint endpoint{nv.name, nv.host, nv.port};
  const BackendTls tls{config.tls.server_mode, worker_.shared().tls.get()};
  const auto timeout = config.pool.connect_timeout.value_or(config.proxy.backend_connect_timeout);
  LentMark logging_in;  // counted while it logs in
  logging_in.set(pool_for(request).active);
  publish_rows();
  auto login = co_await login_to_backend(endpoint, *request.parameters, *request.credentials, timeout, tls);
  auto& pool = pool_for(request);
  if (auto* err = std::get_if<SessionError>(&login)) {
    publish_rows();
    // The backend's own answer (a wrong password, a missing database) is not the node failing.
    const bool node_failed = err->relayed.empty();
    co_return PoolFailure{std::move(*err), node_failed};
  }
  auto& ok = std::get<BackendLogin>(login);
  auto link = std::make_unique<BackendLink>(std::move(ok.socket));
  link->node = request.node;
  link->name = nv.name;
  link->host = nv.host;
  link->port = nv.port;
  link->role_at_open = nv.role;
  link->in = std::move(ok.buffer);
  link->backend_key = ok.backend_key;
  link->login_status = std::move(ok.status_messages);
  link->transaction_status = ok.transaction_status;
  link->ticket = std::move(ticket);
  link->pool_key = request.key;
  link->lent.set(pool.active);
  log::debug(request.tag, ": opened a connection to ", nv.name, " (backend pid ", ok.backend_key.process_id, ")");
  co_return std::move(link);
}

void BackendPool::release(std::unique_ptr<BackendLink> link, bool reset) {
  const auto& config = *worker_.shared().config;
  publish_rows();
  link->count_closed();
  // The session's watch on this socket ends (it stays in the worker's set, detached). The next
  // owner starts with a Readiness of its own, and its first watch has the socket's state then
  // reported.
  error_code ec;
  link->socket.cancel(ec);
  // Reset in place when nothing else holds it (the cancel above detached the poller's copy):
  // one allocation less per transaction with transaction pooling.
  if (link->ready.use_count() == 1) {
    *link->ready = Readiness{};
  } else {
    link->ready = std::make_shared<Readiness>();
  }
  link->ready->readable = true;
  link->streaming_to_client = false;
  link->syncs_since_execute = 0;
  if (stopped_ || config.pool.mode == conf::PoolMode::none) {
    close_link(std::move(link), "session over");
    return;
  }
  if (link->eof || !link->groups.empty() || link->transaction_status != 'I' || link->side_open ||
      !usable(*link, Clock::now())) {
    close_link(std::move(link), "not reusable");
    return;
  }
  if (reset && !config.pool.server_reset_query.empty()) {
    // Still counted as lent while it resets.
    asio::co_spawn(worker_.context(), reset_then_park(std::move(link), config.pool.server_reset_query), asio::detached);
    return;
  }
  park(std::move(link));
}

// Runs server_reset_query on a returned connection, then parks it; closes it on any error.
awaitable<void> BackendPool::reset_then_park(std::unique_ptr<BackendLink> link, std::string sql) {
  const auto timeout = worker_.shared().config->proxy.backend_connect_timeout;
  asio::steady_timer deadline(worker_.context(), timeout);
  bool ok = false;
  const auto run = [&]() -> awaitable<void> {
    protocol::byte_buffer out;
    protocol::write_query(out, sql);
    auto [wec, wn] = co_await asio::async_write(link->socket, asio::buffer(out), nothrow_awaitable);
    if (wec) co_return;
    bool failed = false;
    for (;;) {
      const auto event = link->scanner.next(link->in.unread());
      if (event.kind == protocol::FrameEvent::Kind::error) co_return;
      if (event.kind == protocol::FrameEvent::Kind::need_more) {
        if (link->in.free_space() == 0) link->in.reserve_unread(link->in.end - link->in.begin + 4096);
        auto [rec, n] = co_await link->socket.async_read_some(
            asio::buffer(link->in.data.data() + link->in.end, link->in.free_space()), nothrow_awaitable);
        if (rec || n == 0) co_return;
        link->in.end += n;
        continue;
      }
      const auto type = event.type;
      link->in.begin += event.consumed;
      if (event.kind != protocol::FrameEvent::Kind::message) continue;
      if (type == 'E') failed = true;
      if (type == 'Z') {
        ok = !failed;
        co_return;
      }
    }
  };
  co_await (run() || deadline.async_wait(nothrow_awaitable));
  if (!ok || stopped_) {
    close_link(std::move(link), "server_reset_query failed or timed out");
    publish_rows();
    co_return;
  }
  link->dirty = false;
  link->applied_settings = 0;
  // Whatever server_reset_query did to prepared statements, forgetting them all is safe: a
  // statement missing here is re-Parsed on first use.
  link->statements.clear();
  error_code ec;
  link->socket.non_blocking(true, ec);
  park(std::move(link));
}

void BackendPool::park(std::unique_ptr<BackendLink> link) {
  const auto it = pools_.find(link->pool_key);
  if (it == pools_.end() || stopped_) {
    close_link(std::move(link), "pool gone");
    return;
  }
  auto& pool = it->second;
  link->lent.clear();
  // A waiter of this very pool takes it as it is.
  while (!pool.waiters.empty()) {
    auto waiter = pool.waiters.front();
    pool.waiters.pop_front();
    if (waiter->done) continue;
    waiter->link = std::move(link);
    waiter->done = true;
    waiter->timer.cancel();
    return;
  }
  // Someone (another pool, another worker) waits for this node's budget: free the ticket.
  if (worker_.shared().budgets[link->node].waiting() > 0) {
    close_link(std::move(link), "another pool waits for this node");
    publish_rows();
    return;
  }
  link->idle_since = Clock::now();
  pool.idle.push_back(std::move(link));
  count_idle(pool.node, +1);
  publish_rows();
}

void BackendPool::evict_idle(std::size_t node) {
  // The least recently used idle connection to `node`, in any pool.
  Pool* oldest_pool = nullptr;
  for (auto& [key, pool] : pools_) {
    if (pool.node != node || pool.idle.empty()) continue;
    if (oldest_pool == nullptr || pool.idle.front()->idle_since < oldest_pool->idle.front()->idle_since) {
      oldest_pool = &pool;
    }
  }
  if (oldest_pool == nullptr) return;
  auto link = std::move(oldest_pool->idle.front());
  oldest_pool->idle.erase(oldest_pool->idle.begin());
  count_idle(node, -1);
  close_link(std::move(link), "a client waits for another pool of this node");
  publish_rows();
}

void BackendPool::on_view_changed() {
  const auto now = Clock::now();
  bool changed = false;
  for (auto& [key, pool] : pools_) {
    for (auto& link : pool.idle) {
      if (usable(*link, now)) continue;
      count_idle(pool.node, -1);
      close_link(std::move(link), "node down, removed or changed role");
      changed = true;
    }
    std::erase(pool.idle, nullptr);
  }
  if (changed) publish_rows();
}

void BackendPool::sweep() {
  const auto& config = *worker_.shared().config;
  const auto now = Clock::now();
  for (auto it = pools_.begin(); it != pools_.end();) {
    auto& pool = it->second;
    // Oldest first: idle_timeout closes those beyond min_idle; max_lifetime, a dead socket
    // or a changed node close any.
    std::size_t keep = static_cast<std::size_t>(std::max(0, config.pool.min_idle));
    for (std::size_t i = 0; i < pool.idle.size(); ++i) {
      auto& link = pool.idle[i];
      const std::size_t left = pool.idle.size() - i;
      const bool expired = now - link->idle_since >= config.pool.idle_timeout && left > keep;
      if (!expired && usable(*link, now) && quiet_socket(*link)) continue;
      count_idle(pool.node, -1);
      close_link(std::move(link), expired ? "idle_timeout" : "past max_lifetime, or closed by the server");
    }
    std::erase(pool.idle, nullptr);
    if (config.pool.min_idle > 0 && config.pool.mode != conf::PoolMode::none && !stopped_ && !pool.parameters.empty()) {
      const int want = config.pool.min_idle - static_cast<int>(pool.idle.size()) - pool.opening;
      for (int i = 0; i < want; ++i) asio::co_spawn(worker_.context(), open_idle(it->first), asio::detached);
    }
    // A pool nobody uses any more is dropped (its figures too).
    if (pool.idle.empty() && pool.waiters.empty() && *pool.active == 0 && pool.opening == 0 && config.pool.min_idle == 0) {
      it = pools_.erase(it);
    } else {
      ++it;
    }
  }
  publish_rows();  // also catches links sessions closed themselves
}

// min_idle: one more connection for `key`'s pool, if the node's budget has room now.
awaitable<void> BackendPool::open_idle(std::string key) {
  auto it = pools_.find(key);
  if (it == pools_.end()) co_return;
  auto& shared = worker_.shared();
  const auto& config = *shared.config;
  const auto node = it->second.node;
  if (node >= shared.budgets.size()) co_return;
  auto& budget = shared.budgets[node];
  if (config.pool.max_backend_connections > 0 && budget.held() >= config.pool.max_backend_connections) co_return;
  auto outcome = budget.take_or_wait(config.pool.max_backend_connections, [](PoolTicket) {});
  if (!outcome.ticket.held()) {
    if (outcome.wait) budget.cancel(*outcome.wait);
    co_return;
  }
  ++it->second.opening;
  const auto parameters = it->second.parameters;
  const auto credentials = it->second.credentials;
  PoolRequest request{node, key, &parameters, &credentials, "pool"};
  auto result = co_await open_link(request, std::move(outcome.ticket));
  it = pools_.find(key);
  if (it == pools_.end()) co_return;
  --it->second.opening;
  if (auto* link = std::get_if<std::unique_ptr<BackendLink>>(&result)) {
    error_code ec;
    (*link)->socket.non_blocking(true, ec);
    park(std::move(*link));
  } else {
    log::info("pool: could not open a min_idle connection: ", std::get<PoolFailure>(result).error.message);
  }
}

awaitable<void> BackendPool::sweeper() {
  while (!stopped_) {
    sweep_timer_.expires_after(k_sweep_period);
    co_await sweep_timer_.async_wait(nothrow_awaitable);
    if (stopped_) break;
    sweep();
  }
}

void BackendPool::count_idle(std::size_t node, int delta) {
  auto& counters = worker_.shared().route_counters;
  if (node < counters.size()) counters[node].pool_idle.fetch_add(delta, std::memory_order_relaxed);
}

void BackendPool::count_waiting(std::size_t node, int delta) {
  auto& counters = worker_.shared().route_counters;
  if (node < counters.size()) counters[node].pool_waiting.fetch_add(delta, std::memory_order_relaxed);
}

void BackendPool::publish_rows() {
  if (rows_dirty_) return;
  rows_dirty_ = true;
  // Coalesced: one copy per turn of the event loop, however many changes it made.
  asio::post(worker_.context(), [this] {
    rows_dirty_ = false;
    std::vector<admin::PoolSnapshot> rows;
    rows.reserve(pools_.size());
    const auto now = Clock::now();
    for (const auto& [key, pool] : pools_) {
      admin::PoolSnapshot row;
      row.node = pool.node;
      row.database = pool.database;
      row.user = pool.user;
      row.active = *pool.active;
      row.idle = static_cast<int>(pool.idle.size());
      row.waiting = static_cast<int>(pool.waiters.size());
      for (const auto& w : pool.waiters) {
        const auto waited = std::chrono::duration_cast<std::chrono::microseconds>(now - w->since).count();
        row.max_wait_us = std::max<std::int64_t>(row.max_wait_us, waited);
      }
      rows.push_back(std::move(row));
    }
    const std::lock_guard lock(rows_mutex_);
    rows_ = std::move(rows);
  });
}

std::vector<admin::PoolSnapshot> BackendPool::rows() const {
  const std::lock_guard lock(rows_mutex_);
  return rows_;
}

}  // namespace pgr::proxy
