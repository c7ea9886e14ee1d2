// A libpq connection for the failover coordinator's one-off work on a node — pg_promote(),
// ALTER SYSTEM, TIMELINE_HISTORY over a replication connection — in non-blocking mode,
// driven by Asio on the main thread like NodeProbe, but for any simple query and with any
// credentials. Every call is bounded by its own timeout; an expected failure is a value.
//
// Thread rules: a PgSession belongs to the main thread's io_context. One query at a time;
// the object must outlive the awaiting of query(). libpq owns the socket; Asio only borrows
// the descriptor for each wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "conf/config.hpp"
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

struct pg_conn;

namespace pgr::health {

struct PgSessionParams {
  std::string host;
  std::uint16_t port = 5432;
  std::string user;
  std::optional<std::string> password;
  std::string database = "postgres";
  std::string application_name = "pgrouter-failover";
  bool replication = false;  // replication=true: a physical walsender (TIMELINE_HISTORY)
  conf::LibpqTls tls;        // sslmode and files, from [tls]
};

struct QueryResult {
  bool ok = false;
  std::string error;  // one line; never contains the password
  // The last result's rows, every value as text (nullopt = NULL). A replication command's
  // bytea column arrives as the raw bytes.
  std::vector<std::vector<std::optional<std::string>>> rows;

  // rows[0][0], when there is one and it is not NULL.
  std::optional<std::string> first_value() const;
};

class PgSession {
 public:
  PgSession(boost::asio::any_io_executor executor, PgSessionParams params);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // Connects if needed and runs `sql` (simple query protocol; with several statements the
  // first error or the last result counts), the whole bounded by `timeout`. A failure leaves
  // the session disconnected.
  [[nodiscard]] boost::asio::awaitable<QueryResult> query(std::string sql,
                                                          std::chrono::milliseconds timeout);
  void disconnect();

 private:
  using wait_type = boost::asio::posix::stream_descriptor::wait_type;

  boost::asio::awaitable<QueryResult> run(const std::string& sql);
  boost::asio::awaitable<std::string> connect();
  boost::asio::awaitable<std::string> resolve(std::string& hosts, std::string& addresses);
  boost::asio::awaitable<std::string> wait_socket(wait_type what);
  std::string connection_error() const;

  boost::asio::any_io_executor executor_;
  PgSessionParams params_;
  pg_conn* conn_ = nullptr;
  const char* phase_ = "starting";
};

}  // namespace pgr::health
