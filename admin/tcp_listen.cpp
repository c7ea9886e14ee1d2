// Admin TCP listeners (see tcp_listen.hpp).
#include "admin/tcp_listen.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/socket_base.hpp>

namespace pgr::admin {

std::optional<std::string> open_tcp_acceptor(const boost::asio::any_io_executor& executor,
                                             const conf::ListenAddress& address,
                                             std::unique_ptr<boost::asio::ip::tcp::acceptor>& out) {
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  const std::string where = address.host + ":" + std::to_string(address.port);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address.host == "localhost" ? "127.0.0.1" : address.host, ec);
  if (ec) return where + ": not a numeric address: " + ec.message();
  auto acceptor = std::make_unique<tcp::acceptor>(executor);
  const tcp::endpoint endpoint(ip, address.port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return where + ": " + ec.message();
  out = std::move(acceptor);
  return std::nullopt;
}

}  // namespace pgr::admin
