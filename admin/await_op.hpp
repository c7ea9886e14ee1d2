// Awaiting an Operations callback from an admin connection's coroutine: the operation may
// finish at once or much later (a promotion), always on main, and the connection may be
// gone by then — the shared slot keeps the late callback harmless.
//
// Thread rules: main thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "admin/operations.hpp"

namespace pgr::admin {

inline boost::asio::awaitable<OpResult> await_op(std::function<void(OpDone)> start) {
  namespace asio = boost::asio;
  struct Slot {
    explicit Slot(asio::any_io_executor ex) : timer(std::move(ex), asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    std::optional<OpResult> result;
  };
  auto slot = std::make_shared<Slot>(co_await asio::this_coro::executor);
  start([weak = std::weak_ptr<Slot>(slot)](OpResult result) {
    if (auto s = weak.lock()) {
      s->result = std::move(result);
      s->timer.cancel();
    }
  });
  while (!slot->result) {
    auto [ec] = co_await slot->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!slot->result && ec != asio::error::operation_aborted) break;  // cannot happen: max expiry
    if (!slot->result && ec == asio::error::operation_aborted) {
      // Cancelled without a result: the server is stopping.
      co_return OpResult{false, "pgrouter is stopping"};
    }
  }
  co_return std::move(*slot->result);
}

}  // namespace pgr::admin
