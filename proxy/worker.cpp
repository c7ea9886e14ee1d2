// Worker threads (see worker.hpp).
#include "proxy/worker.hpp"

#include <pthread.h>

#include <cassert>
#include <string>

#include "proxy/client_session.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

Worker::Worker(std::size_t index, ProxyShared& shared)
    : index_(index), shared_(shared), work_(context_.get_executor()),
      view_(std::make_shared<const health::ClusterView>()),
      pool_(std::make_unique<BackendPool>(*this)) {
  poller_ = std::make_unique<ReadinessPoller>(context_);
}

Worker::~Worker() { poller_->close(); }

void Worker::start_pool() {
  asio::post(context_, [this] { pool_->start(); });
}

void Worker::evict_idle(std::size_t node) {
  asio::post(context_, [this, node] { pool_->evict_idle(node); });
}

void Worker::start() {
  std::promise<void> started;
  auto started_future = started.get_future();
  thread_ = std::thread([this, &started] {
    thread_id_ = std::this_thread::get_id();
    // Named for top -H, perf and gdb (at most 15 characters): which thread is busy is the
    // first question about a proxy's CPU.
    const std::string name = "pgr-worker-" + std::to_string(index_ % 1000);
    pthread_setname_np(pthread_self(), name.c_str());
    started.set_value();
    try {
      context_.run();
    } catch (const std::exception& e) {
      log::error("worker ", index_, " stopped on an unexpected exception: ", e.what());
    }
    finished_.set_value();
  });
  started_future.wait();
}

void Worker::publish(health::ClusterViewPtr view) {
  asio::post(context_, [this, view = std::move(view)]() mutable {
    view_ = std::move(view);
    pool_->on_view_changed();
    // Sessions waiting on a node the view now has out of service must notice without any
    // other event (a hung primary never answers).
    for (auto* session : sessions_) session->on_view_changed();
  });
}

void Worker::add_session(ClientSession* session) {
  assert(is_current_thread());
  sessions_.insert(session);
}

void Worker::remove_session(ClientSession* session) {
  assert(is_current_thread());
  sessions_.erase(session);
}

void Worker::stop() {
  asio::post(context_, [this] {
    stopping_ = true;
    // Copy: a session may remove itself from the set while being shut down.
    const auto sessions = sessions_;
    for (auto* session : sessions) session->shutdown();
    pool_->stop();
    poller_->release_when_idle();
    work_.reset();
  });
}

void Worker::join(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return;
  if (finished_.get_future().wait_for(grace) != std::future_status::ready) {
    log::warn("worker ", index_, " did not finish within ", grace.count(), " ms; stopping it");
    context_.stop();
  }
  thread_.join();
}

}  // namespace pgr::proxy
