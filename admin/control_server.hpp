// The admin socket for pgrouterctl: a Unix socket at [admin] admin_socket (mode 0600, so
// only pgrouter's own user can drive it), one request line in, one JSON object out, close
// (language in control_request.hpp).
//
// Thread rules: main thread only; connections share the server's state by shared_ptr.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "admin/operations.hpp"

namespace pgr::admin {

class ControlServer {
 public:
  ControlServer(boost::asio::any_io_executor main, Operations& ops);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Replaces a stale socket file at `path`, binds and listens.
  [[nodiscard]] std::optional<std::string> open(const std::string& path);
  void start();
  void close();  // also removes the socket file

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace pgr::admin
