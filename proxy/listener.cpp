// Client-facing listeners (see listener.hpp).
#include "proxy/listener.hpp"

#include <boost/asio/socket_base.hpp>

#include "proxy/client_session.hpp"
#include "proxy/worker.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

Listener::Listener(std::vector<std::unique_ptr<Worker>>& workers)
    : context_(workers.front()->context()), workers_(workers) {}

std::optional<std::string> Listener::open(const conf::ListenAddress& address, bool read_only) {
  const std::string where = address.host + ":" + std::to_string(address.port);
  error_code ec;
  auto host = address.host == "localhost" ? std::string("127.0.0.1") : address.host;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) return where + ": not a numeric address: " + ec.message();
  auto acceptor = std::make_unique<tcp::acceptor>(context_);
  const tcp::endpoint endpoint(ip, address.port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return where + ": " + ec.message();
  log::info("listening on ", where, read_only ? " (read-only: standbys only)" : "");
  acceptors_.emplace_back(std::move(acceptor), read_only);
  return std::nullopt;
}

void Listener::start() {
  for (auto& [acceptor, read_only] : acceptors_) {
    asio::co_spawn(context_, accept_loop(*acceptor, read_only), asio::detached);
  }
}

void Listener::close() {
  // The acceptors belong to the accepting worker's thread: close them there. (Posted before
  // that worker is told to stop, so the aborted accepts still find this Listener.)
  asio::post(context_, [this] {
    error_code ec;
    for (auto& entry : acceptors_) entry.first->close(ec);
  });
}

awaitable<void> Listener::accept_loop(tcp::acceptor& acceptor, bool read_only) {
  asio::steady_timer backoff(context_);
  for (;;) {
    Worker& worker = *workers_[next_worker_];
    auto [ec, socket] = co_await acceptor.async_accept(worker.context(), nothrow_awaitable);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors or similar: wait a little instead of spinning on the error.
      log::warn("accept failed: ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(nothrow_awaitable);
      continue;
    }
    next_worker_ = (next_worker_ + 1) % workers_.size();
    worker.shared().clients_accepted.fetch_add(1, std::memory_order_relaxed);
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(worker.context(), run_client_session(worker, std::move(socket), read_only), asio::detached);
  }
}

}  // namespace pgr::proxy
