// The coordinator's libpq sessions (see pg_session.hpp): connect and query sequences in
// non-blocking mode, each socket wait an Asio async_wait, the whole under one deadline.
#include "health/pg_session.hpp"

#include <libpq-fe.h>

#include "health/libpq_tls.hpp"

#include <memory>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pgr::health {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// libpq's multi-line messages on one line (hint lines dropped), as NodeProbe logs them.
std::string one_line(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (line.empty() || line.front() == '\t') continue;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

QueryResult failed(std::string error) {
  QueryResult result;
  result.error = std::move(error);
  return result;
}

bool needs_dns(const std::string& host) {
  if (host.empty() || host.front() == '/' || host.front() == '@') return false;
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return static_cast<bool>(ec);
}

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

QueryResult read_result(const PGresult* res) {
  const ExecStatusType status = PQresultStatus(res);
  if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR) {
    return failed(one_line(PQresultErrorMessage(res)));
  }
  QueryResult result;
  result.ok = true;
  if (status != PGRES_TUPLES_OK) return result;
  for (int r = 0; r < PQntuples(res); ++r) {
    auto& row = result.rows.emplace_back();
    for (int c = 0; c < PQnfields(res); ++c) {
      if (PQgetisnull(res, r, c) != 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c),
                                     static_cast<std::size_t>(PQgetlength(res, r, c))));
      }
    }
  }
  return result;
}

}  // namespace

std::optional<std::string> QueryResult::first_value() const {
  if (rows.empty() || rows.front().empty()) return std::nullopt;
  return rows.front().front();
}

PgSession::PgSession(asio::any_io_executor executor, PgSessionParams params)
    : executor_(std::move(executor)), params_(std::move(params)) {}

PgSession::~PgSession() { disconnect(); }

void PgSession::disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

std::string PgSession::connection_error() const {
  if (conn_ == nullptr) return "out of memory allocating a libpq connection";
  std::string text = one_line(PQerrorMessage(conn_));
  return text.empty() ? "connection failed" : text;
}

asio::awaitable<QueryResult> PgSession::query(std::string sql, std::chrono::milliseconds timeout) {
  phase_ = "starting";
  asio::steady_timer deadline(executor_, timeout);
  auto outcome = co_await (run(sql) || deadline.async_wait(use_tuple));
  QueryResult result;
  if (outcome.index() == 0) {
    result = std::get<0>(std::move(outcome));
  } else if (const auto [ec] = std::get<1>(outcome); ec) {
    result.error = "cancelled";
  } else {
    result.error = "timeout after " + std::to_string(timeout.count()) + "ms " + phase_;
  }
  if (!result.ok) disconnect();
  co_return result;
}

asio::awaitable<QueryResult> PgSession::run(const std::string& sql) {
  if (conn_ != nullptr && (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK)) {
    disconnect();
  }
  if (conn_ == nullptr) {
    std::string error = co_await connect();
    if (!error.empty()) co_return failed(std::move(error));
  }
  phase_ = "sending the query";
  if (PQsendQuery(conn_, sql.c_str()) == 0) co_return failed(connection_error());
  while (true) {
    const int pending = PQflush(conn_);
    if (pending < 0) co_return failed(connection_error());
    if (pending == 0) break;
    if (std::string error = co_await wait_socket(wait_type::wait_write); !error.empty()) {
      co_return failed(error);
    }
  }
  phase_ = "waiting for the result";
  std::optional<QueryResult> result;
  while (true) {
    if (PQconsumeInput(conn_) == 0) co_return failed(connection_error());
    while (PQisBusy(conn_) == 0) {
      const ResultPtr res(PQgetResult(conn_));
      if (!res) {
        if (!result) co_return failed("the query returned no result");
        co_return std::move(*result);
      }
      if (!result || result->ok) result = read_result(res.get());
    }
    if (std::string error = co_await wait_socket(wait_type::wait_read); !error.empty()) {
      co_return failed(error);
    }
  }
}

asio::awaitable<std::string> PgSession::resolve(std::string& hosts, std::string& addresses) {
  phase_ = "resolving the host name";
  // As NodeProbe: the lookup completes into shared state, we await only a timer it cancels,
  // so the caller's deadline is never outlasted by a hung resolver.
  struct Lookup {
    explicit Lookup(const asio::any_io_executor& executor) : resolver(executor), done(executor) {}
    asio::ip::tcp::resolver resolver;
    asio::steady_timer done;
    std::optional<boost::system::error_code> error;
    asio::ip::tcp::resolver::results_type endpoints;
  };
  auto lookup = std::make_shared<Lookup>(executor_);
  lookup->done.expires_at(asio::steady_timer::time_point::max());
  lookup->resolver.async_resolve(
      params_.host, std::to_string(params_.port),
      [lookup](const boost::system::error_code& ec,
               asio::ip::tcp::resolver::results_type endpoints) {
        lookup->error = ec;
        lookup->endpoints = std::move(endpoints);
        lookup->done.cancel();
      });
  if (!lookup->error) (void)co_await lookup->done.async_wait(use_tuple);
  if (!lookup->error) {
    lookup->resolver.cancel();
    co_return "host name lookup abandoned";
  }
  if (*lookup->error) {
    co_return "cannot resolve host \"" + params_.host + "\": " + lookup->error->message();
  }
  for (const auto& entry : lookup->endpoints) {
    if (!addresses.empty()) {
      addresses += ',';
      hosts += ',';
    }
    addresses += entry.endpoint().address().to_string();
    hosts += params_.host;
  }
  if (addresses.empty()) co_return "host \"" + params_.host + "\" has no address";
  co_return std::string();
}

asio::awaitable<std::string> PgSession::connect() {
  std::string hosts = params_.host;
  std::string addresses;
  if (needs_dns(params_.host)) {
    hosts.clear();
    std::string error = co_await resolve(hosts, addresses);
    if (!error.empty()) co_return error;
  }
  const std::string port = std::to_string(params_.port);
  // Keyword arrays, never a conninfo string: no escaping, no parameter injection.
  std::vector<const char*> keys{"host", "port", "user", "dbname", "application_name"};
  std::vector<const char*> values{hosts.c_str(), port.c_str(), params_.user.c_str(),
                                  params_.database.c_str(), params_.application_name.c_str()};
  if (!addresses.empty()) {
    keys.push_back("hostaddr");
    values.push_back(addresses.c_str());
  }
  if (params_.password) {
    keys.push_back("password");
    values.push_back(params_.password->c_str());
  }
  if (params_.replication) {
    keys.push_back("replication");
    values.push_back("true");
  }
  append_libpq_tls(params_.tls, keys, values);
  keys.push_back(nullptr);
  values.push_back(nullptr);

  phase_ = "connecting";
  conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) co_return connection_error();
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) co_return connection_error();
    std::string error = co_await wait_socket(
        poll == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write);
    if (!error.empty()) co_return error;
    poll = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) co_return connection_error();
  co_return std::string();
}

asio::awaitable<std::string> PgSession::wait_socket(wait_type what) {
  const int fd = PQsocket(conn_);
  if (fd < 0) co_return "connection has no socket";
  asio::posix::stream_descriptor socket(executor_);
  boost::system::error_code ec;
  socket.assign(fd, ec);
  if (ec) co_return "cannot watch the connection socket: " + ec.message();
  struct Release {
    asio::posix::stream_descriptor& socket;
    ~Release() { (void)socket.release(); }
  } release{socket};
  auto [wait_ec] = co_await socket.async_wait(what, use_tuple);
  if (wait_ec) co_return "waiting on the connection socket: " + wait_ec.message();
  co_return std::string();
}

}  // namespace pgr::health
