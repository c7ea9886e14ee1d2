// Accepts client connections and hands each socket to a worker, round-robin: the socket is
// accepted on its worker's own io_context, so the session never touches another thread.
//
// The accepting runs on the first worker's thread, not on main: a new client's first message
// then waits for one thread to wake instead of two (main, then the worker) on the login's
// critical path, and half the clients (those the first worker keeps) cross no thread at all.
// open() runs before the workers start; close() may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "proxy/asio.hpp"

namespace pgr::proxy {

class Worker;

class Listener {
 public:
  explicit Listener(std::vector<std::unique_ptr<Worker>>& workers);

  // Binds and listens; on failure returns the reason ("127.0.0.1:5432: Address already in use").
  // Sessions accepted on a read-only address use standbys only.
  std::optional<std::string> open(const conf::ListenAddress& address, bool read_only);
  void start();
  void close();

 private:
  awaitable<void> accept_loop(tcp::acceptor& acceptor, bool read_only);

  asio::io_context& context_;  // the first worker's: the acceptors live and accept there
  std::vector<std::unique_ptr<Worker>>& workers_;
  std::vector<std::pair<std::unique_ptr<tcp::acceptor>, bool>> acceptors_;  // acceptor, read-only
  std::size_t next_worker_ = 0;
};

}  // namespace pgr::proxy
