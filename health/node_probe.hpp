// One health probe of one backend: libpq in non-blocking mode, driven by Asio on the main
// thread. The connection is kept between probes while they succeed and rebuilt after any error,
// so a healthy node costs one round trip per period, not a login.
//
// Thread rules: a NodeProbe belongs to the main thread's io_context. One probe at a time:
// never call probe() again before the previous call has completed. The object must outlive the
// awaiting of probe() — the health checker keeps it in the probe loop's coroutine frame.
// libpq owns the socket; Asio only borrows the descriptor for each wait.
#pragma once

#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "conf/config.hpp"
#include "health/probe_result.hpp"

struct pg_conn;  // libpq's PGconn; kept out of this header so users need not see libpq-fe.h

namespace pgr::health {

class NodeProbe {
 public:
  NodeProbe(boost::asio::any_io_executor executor, conf::BackendConfig backend,
            conf::HealthCheckConfig config);
  ~NodeProbe();
  NodeProbe(const NodeProbe&) = delete;
  NodeProbe& operator=(const NodeProbe&) = delete;

  // Connects if needed and runs probe_query, the whole bounded by config.timeout. Never
  // throws for an expected failure (refused, timeout, SQL error): those are ok=false results.
  // A result that is not ok always leaves the probe disconnected. Cancelling the awaiting
  // coroutine ends the probe early: "probe cancelled", or an operation_aborted exception
  // when the cancellation lands in the middle of an await.
  [[nodiscard]] boost::asio::awaitable<ProbeResult> probe();

  // Drops the kept connection (the next probe logs in again).
  void disconnect();
  [[nodiscard]] bool connected() const { return conn_ != nullptr; }

  const conf::BackendConfig& backend() const { return backend_; }

 private:
  using wait_type = boost::asio::posix::stream_descriptor::wait_type;

  boost::asio::awaitable<ProbeResult> run_probe();
  boost::asio::awaitable<std::string> connect();  // "" on success, else the reason
  boost::asio::awaitable<std::string> resolve_host_addresses(std::string& hosts,
                                                             std::string& addresses);
  boost::asio::awaitable<ProbeResult> run_query();
  boost::asio::awaitable<std::string> flush_output();
  boost::asio::awaitable<std::string> wait_socket(wait_type what);
  std::string connection_error() const;

  boost::asio::any_io_executor executor_;
  conf::BackendConfig backend_;
  conf::HealthCheckConfig config_;
  pg_conn* conn_ = nullptr;         // owned: PQfinish in disconnect()
  const char* phase_ = "starting";  // what the probe was doing, for timeout messages
};

}  // namespace pgr::health
