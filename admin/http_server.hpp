// The HTTP endpoints on [admin] http_listen, served with Boost.Beast on the main thread; what
// each path answers is decided in http_routes.cpp. One request at a time per connection,
// keep-alive, 10 s to send a request, requests capped at 8 kB: bad input gets 400 and a close.
// At most 256 connections at once.
//
// Thread rules: main thread only. Connections hold the server's state by shared_ptr, so
// closing and destroying the server while one is open is safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "admin/operations.hpp"
#include "conf/config.hpp"

namespace pgr::admin {

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor main, Operations& ops, std::string git_sha);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; the reason on failure.
  [[nodiscard]] std::optional<std::string> open(const conf::ListenAddress& address);
  void start();
  void close();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace pgr::admin
