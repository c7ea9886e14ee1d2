// Helpers for health tests that drive real Asio I/O: free loopback ports, running one
// awaitable to completion on a test's io_context, and running until a condition holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

namespace pgr::health::test {

// A loopback port nobody listens on right now (bound, read, closed).
inline std::uint16_t free_port() {
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor acceptor(
      ctx, boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

template <typename T>
T run_awaitable(boost::asio::io_context& ctx, boost::asio::awaitable<T> op) {
  auto future = boost::asio::co_spawn(ctx, std::move(op), boost::asio::use_future);
  ctx.restart();
  ctx.run();
  return future.get();
}

// Runs ctx until `done()` holds or `limit` passes; returns done().
inline bool run_until(boost::asio::io_context& ctx, const std::function<bool()>& done,
                      std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  ctx.restart();
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ctx.run_for(std::chrono::milliseconds(10));
    if (ctx.stopped()) ctx.restart();
  }
  return done();
}

}  // namespace pgr::health::test
