// A worker: one thread running one io_context. Client sessions and their backend
// connections live on one worker for life, so their handlers never race and need no locks.
//
// Thread rules: start/stop/join and publish() are called from main; everything else only on
// the worker's own thread (asserted with is_current_thread()).
#pragma once

#include <cstddef>
#include <future>
#include <thread>
#include <unordered_set>

#include "health/cluster_view.hpp"
#include "protocol/classification_memo.hpp"
#include "proxy/asio.hpp"
#include "proxy/backend_pool.hpp"
#include "proxy/buffer_cache.hpp"
#include "proxy/credentials_cache.hpp"
#include "proxy/proxy_shared.hpp"
#include "proxy/readiness_poller.hpp"

namespace pgr::proxy {

class ClientSession;

class Worker {
 public:
  Worker(std::size_t index, ProxyShared& shared);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  void start();
  // Starts the pool's sweeper (after start()).
  void start_pool();
  // Any thread: a client elsewhere waits for `node`'s budget (BackendPool::evict_idle).
  void evict_idle(std::size_t node);
  // Ends every session (clients get 57P01) and lets the thread finish; join() waits at most
  // `grace` before stopping the io_context outright.
  void stop();
  void join(std::chrono::milliseconds grace);

  // Main thread: hands the worker a new node-state snapshot.
  void publish(health::ClusterViewPtr view);

  asio::io_context& context() { return context_; }
  bool is_current_thread() const { return std::this_thread::get_id() == thread_id_; }
  std::size_t index() const { return index_; }
  ProxyShared& shared() { return shared_; }
  // This worker's traffic counters (written on its thread only).
  WorkerCounters& counters() { return *shared_.worker_counters[index_]; }

  // Worker thread only.
  const health::ClusterViewPtr& view() const { return view_; }
  BackendPool& pool() { return *pool_; }
  // Spare client read buffers (k_read_buffer_size bytes) and write buffers of this worker's sessions.
  BufferCache& read_buffers() { return read_buffers_; }
  BufferCache& write_buffers() { return write_buffers_; }
  // One copy of each user's backend credentials for this worker's sessions.
  CredentialsCache& credentials() { return credentials_; }
  // This worker's session sockets' readiness (readiness_poller.hpp).
  ReadinessPoller& poller() { return *poller_; }
  // What the statement texts this worker's sessions send again classify as.
  protocol::ClassificationMemo& classifications() { return classifications_; }
  void add_session(ClientSession* session);
  void remove_session(ClientSession* session);
  bool stopping() const { return stopping_; }

 private:
  std::size_t index_;
  ProxyShared& shared_;
  // Before context_: sessions whose frames the io_context destroys forget their sockets here.
  // Its own descriptor closes first, in ~Worker.
  std::unique_ptr<ReadinessPoller> poller_;
  asio::io_context context_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::promise<void> finished_;
  health::ClusterViewPtr view_;
  std::unique_ptr<BackendPool> pool_;  // destroyed before context_ (its handlers refer to it)
  std::unordered_set<ClientSession*> sessions_;
  BufferCache read_buffers_{256, k_read_buffer_size, k_read_buffer_size};
  BufferCache write_buffers_{256, 1024, 32 * 1024};
  CredentialsCache credentials_;
  protocol::ClassificationMemo classifications_;
  bool stopping_ = false;
};

}  // namespace pgr::proxy
