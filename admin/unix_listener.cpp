// Owner-only Unix listening sockets (see unix_listener.hpp).
#include "admin/unix_listener.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/socket_base.hpp>

namespace pgr::admin {

std::variant<std::unique_ptr<UnixAcceptor>, std::string> listen_unix(const boost::asio::any_io_executor& executor,
                                                                      const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return path + ": exists and is not a socket";
    ::unlink(path.c_str());  // stale: a previous pgrouter did not remove it
  }
  boost::system::error_code ec;
  auto acceptor = std::make_unique<UnixAcceptor>(executor);
  const boost::asio::local::stream_protocol::endpoint endpoint(path);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) {
    const mode_t old = ::umask(077);
    acceptor->bind(endpoint, ec);
    ::umask(old);
  }
  if (!ec) acceptor->listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return path + ": " + ec.message();
  return acceptor;
}

}  // namespace pgr::admin
