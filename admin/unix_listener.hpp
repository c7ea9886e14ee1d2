// A listening Unix-domain socket for the admin interfaces (pgrouterctl's admin socket, PCP's
// `.s.PGSQL.PORT`): a stale socket file left by a previous pgrouter is replaced, anything else
// at that path is refused, and the socket is created owner-only (0600).
//
// Thread rules: called on main, like the servers that own the acceptor.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace pgr::admin {

using UnixAcceptor = boost::asio::local::stream_protocol::acceptor;

// The listening acceptor, or why not ("PATH: reason").
std::variant<std::unique_ptr<UnixAcceptor>, std::string> listen_unix(const boost::asio::any_io_executor& executor,
                                                                      const std::string& path);

}  // namespace pgr::admin
