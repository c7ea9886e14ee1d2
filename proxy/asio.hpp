// The Asio vocabulary every proxy file uses, in one place.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace pgr::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
template <typename T = void>
using awaitable = asio::awaitable<T>;

// A timer raced with `op || timer.async_wait(nothrow_awaitable)` completes with this.
// (Asio's operator|| flattens a variant result into its alternatives, so callers test for
// this type rather than for an index.)
using timer_fired = std::tuple<error_code>;

// Expected failures are values: every await on I/O returns (error_code, ...) as a tuple.
inline constexpr auto nothrow_awaitable = asio::as_tuple(asio::use_awaitable);

}  // namespace pgr::proxy
