// Opening a listening TCP socket for an admin interface, with the error as a value.
//
// Thread rules: call on main.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "conf/config.hpp"

namespace pgr::admin {

// Binds and listens on `address`; "host:port: reason" on failure.
[[nodiscard]] std::optional<std::string> open_tcp_acceptor(
    const boost::asio::any_io_executor& executor, const conf::ListenAddress& address,
    std::unique_ptr<boost::asio::ip::tcp::acceptor>& out);

}  // namespace pgr::admin
