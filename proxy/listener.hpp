// Accepts client connections on one address (main thread) and hands each socket straight
// to a worker, round-robin: the socket is accepted on the worker's own io_context, so the
// session never touches main.
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
  Listener(asio::io_context& main, std::vector<std::unique_ptr<Worker>>& workers);

  // Binds and listens; on failure returns the reason ("127.0.0.1:5432: Address already in use").
  // Sessions accepted on a read-only address use standbys only.
  std::optional<std::string> open(const conf::ListenAddress& address, bool read_only);
  void start();
  void close();

 private:
  awaitable<void> accept_loop(tcp::acceptor& acceptor, bool read_only);

  asio::io_context& main_;
  std::vector<std::unique_ptr<Worker>>& workers_;
  std::vector<std::pair<std::unique_ptr<tcp::acceptor>, bool>> acceptors_;  // acceptor, read-only
  std::size_t next_worker_ = 0;
};

}  // namespace pgr::proxy
