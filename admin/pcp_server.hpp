// The PCP-compatible admin socket on [admin] pcp_listen (and in pcp_socket_dir): pgpool-II
// 4.3's pcp_* programs work against it unchanged. md5 salted authentication against [admin] pcp_users_file; every
// request then goes to a handler in a name -> handler table (pcp_server.cpp), which answers
// from the snapshot or acts through Operations (so through the failover coordinator).
// Malformed packets, unknown types and requests before authentication get a FATAL 'E' and a
// close; a refused operation gets an ERROR 'E' and the connection stays. At most 64
// connections at once; 60 s idle closes one.
//
// Thread rules: main thread only; connections share the server's state by shared_ptr.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "admin/operations.hpp"
#include "conf/config.hpp"

namespace pgr::admin {

class PcpServer {
 public:
  PcpServer(boost::asio::any_io_executor main, Operations& ops);
  ~PcpServer();
  PcpServer(const PcpServer&) = delete;
  PcpServer& operator=(const PcpServer&) = delete;

  [[nodiscard]] std::optional<std::string> open(const conf::ListenAddress& address);
  // Also listens on `dir`/.s.PGSQL.`port` (mode 0600), where `pcp_* -h dir -p port` looks.
  [[nodiscard]] std::optional<std::string> open_socket_dir(const std::string& dir, std::uint16_t port);
  void start();
  void close();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace pgr::admin
