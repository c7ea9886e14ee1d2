// The main thread: listeners, the health checker, signals, and the workers it starts and
// stops. Node state flows from the health checker to every worker as an immutable snapshot.
#pragma once

#include <memory>
#include <vector>

#include "conf/config.hpp"
#include "proxy/asio.hpp"
#include "proxy/proxy_shared.hpp"

namespace pgr::proxy {

class Worker;

class Server {
 public:
  explicit Server(std::shared_ptr<const conf::Config> config);
  ~Server();

  // Runs until SIGINT or SIGTERM; returns the process exit code.
  int run();

 private:
  ProxyShared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  // Declared last so it is destroyed first: an accept still queued on main holds a socket of
  // a worker's io_context, which must outlive it.
  asio::io_context main_{1};
};

}  // namespace pgr::proxy
