// One health probe of one backend (see node_probe.hpp): the libpq non-blocking connect and
// query sequences, each socket wait an Asio async_wait, the whole under one deadline.
#include "health/node_probe.hpp"

#include <libpq-fe.h>

#include "health/libpq_tls.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/log.hpp"

namespace pgr::health {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// libpq messages span lines and end in '\n' ("...failed: Connection refused\n\tIs the server
// running on that host...?\n", one such block per address tried). A log line wants them on one
// line: drop the tab-indented hint lines, join the rest with "; ", collapse blank runs.
std::string one_line(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (line.empty() || line.front() == '\t') continue;
    if (!out.empty()) out += "; ";
    bool blank = false;
    for (const char c : line) {
      if (c == ' ' || c == '\t' || c == '\r') {
        blank = true;
        continue;
      }
      if (blank && !out.empty() && out.back() != ' ') out += ' ';
      blank = false;
      out += c;
    }
  }
  return out;
}

ProbeResult failed(std::string error) {
  ProbeResult result;
  result.error = std::move(error);
  return result;
}

// A host that is neither a socket directory nor a numeric address needs a DNS lookup, which
// libpq would do blocking inside PQconnectStartParams — on the main thread. We resolve it with
// Asio first and hand libpq numeric hostaddr values.
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

ProbeResult read_result(const PGresult* res) {
  const ExecStatusType status = PQresultStatus(res);
  if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR) {
    return failed("probe query failed: " + one_line(PQresultErrorMessage(res)));
  }
  if (status != PGRES_TUPLES_OK) {
    return failed(std::string("probe query: unexpected result ") + PQresStatus(status));
  }
  if (PQntuples(res) != 1 || PQnfields(res) != static_cast<int>(probe_column_count)) {
    return failed("probe query: unexpected result shape");
  }
  std::array<std::optional<std::string_view>, probe_column_count> row;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const int column = static_cast<int>(i);
    if (PQgetisnull(res, 0, column) == 0) {
      row[i] = std::string_view(PQgetvalue(res, 0, column),
                                static_cast<std::size_t>(PQgetlength(res, 0, column)));
    }
  }
  return parse_probe_row(row);
}

}  // namespace

NodeProbe::NodeProbe(asio::any_io_executor executor, conf::BackendConfig backend,
                     conf::HealthCheckConfig config)
    : executor_(std::move(executor)), backend_(std::move(backend)), config_(std::move(config)) {}

NodeProbe::~NodeProbe() { disconnect(); }

void NodeProbe::disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

std::string NodeProbe::connection_error() const {
  if (conn_ == nullptr) return "out of memory allocating a libpq connection";
  std::string text = one_line(PQerrorMessage(conn_));
  return text.empty() ? "connection failed" : text;
}

asio::awaitable<ProbeResult> NodeProbe::probe() {
  const auto start = std::chrono::steady_clock::now();
  phase_ = "starting";
  asio::steady_timer deadline(executor_, config_.timeout);
  // The loser of || is cancelled and awaited before we continue, so run_probe() never
  // touches conn_ after this line.
  auto outcome = co_await (run_probe() || deadline.async_wait(use_tuple));
  ProbeResult result;
  if (outcome.index() == 0) {
    result = std::get<0>(std::move(outcome));
  } else if (const auto [ec] = std::get<1>(outcome); ec) {
    result.error = "probe cancelled";  // our caller was cancelled (the checker stopping)
  } else {
    result.error = "timeout after " + std::to_string(config_.timeout.count()) + "ms " + phase_;
  }
  // After any failure the connection's protocol state is unknown (a query may be half read).
  if (!result.ok) disconnect();
  result.duration = std::chrono::steady_clock::now() - start;
  co_return result;
}

asio::awaitable<ProbeResult> NodeProbe::run_probe() {
  // A kept connection the server closed meanwhile (restart, idle timeout) shows up here as
  // EOF without sending anything; PQconsumeInput does not block on a non-blocking connection.
  if (conn_ != nullptr && (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK)) {
    disconnect();
  }
  const bool reused = conn_ != nullptr;
  if (!reused) {
    std::string error = co_await connect();
    if (!error.empty()) co_return failed(std::move(error));
  }
  ProbeResult result = co_await run_query();
  // A kept connection that broke during the query says nothing about the server now: retry
  // once on a fresh one, within the same deadline. Errors of a healthy connection (a failing
  // SQL statement) are not retried.
  if (!result.ok && reused && conn_ != nullptr && PQstatus(conn_) == CONNECTION_BAD) {
    pgr::log::debug("health ", backend_.name, ": kept connection broke (", result.error,
                    "), reconnecting");
    disconnect();
    std::string error = co_await connect();
    if (!error.empty()) co_return failed(std::move(error));
    result = co_await run_query();
    co_return result;
  }
  result.reused_connection = reused;
  co_return result;
}

asio::awaitable<std::string> NodeProbe::resolve_host_addresses(std::string& hosts,
                                                               std::string& addresses) {
  phase_ = "resolving the host name";
  // Asio runs getaddrinfo on a helper thread and cannot cancel it, so awaiting async_resolve
  // directly would let a hung DNS server outlast the probe's deadline. Instead the lookup
  // completes into shared state it keeps alive, and we await only a timer it cancels: the
  // deadline cancels that wait, and a late answer lands harmlessly.
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
      backend_.host, std::to_string(backend_.port),
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
    co_return "cannot resolve host \"" + backend_.host + "\": " + lookup->error->message();
  }
  // libpq takes parallel lists: host names (for TLS checks and messages) and addresses.
  for (const auto& entry : lookup->endpoints) {
    if (!addresses.empty()) {
      addresses += ',';
      hosts += ',';
    }
    addresses += entry.endpoint().address().to_string();
    hosts += backend_.host;
  }
  if (addresses.empty()) co_return "host \"" + backend_.host + "\" has no address";
  co_return std::string();
}

asio::awaitable<std::string> NodeProbe::connect() {
  std::string hosts = backend_.host;
  std::string addresses;
  if (needs_dns(backend_.host)) {
    hosts.clear();
    std::string error = co_await resolve_host_addresses(hosts, addresses);
    if (!error.empty()) co_return error;
  }
  const std::string port = std::to_string(backend_.port);
  // libpq ignores connect_timeout in PQconnectPoll mode (docs: PQconnectStartParams); the
  // deadline in probe() is the real bound. It is passed so the parameters read as a blocking
  // client's would, e.g. if someone copies them into psql.
  const auto timeout_s = std::chrono::ceil<std::chrono::seconds>(config_.timeout).count();
  const std::string connect_timeout = std::to_string(timeout_s < 1 ? 1 : timeout_s);
  // Keyword arrays, never a concatenated conninfo string: a password with quotes, spaces or
  // backslashes needs no escaping and cannot inject parameters.
  std::vector<const char*> keys{"host", "port", "user", "dbname", "application_name",
                                "connect_timeout"};
  std::vector<const char*> values{hosts.c_str(), port.c_str(), config_.user.c_str(),
                                  config_.database.c_str(), "pgrouter-health",
                                  connect_timeout.c_str()};
  if (!addresses.empty()) {
    keys.push_back("hostaddr");
    values.push_back(addresses.c_str());
  }
  if (config_.password) {
    keys.push_back("password");
    values.push_back(config_.password->c_str());
  }
  append_libpq_tls(config_.tls, keys, values);
  keys.push_back(nullptr);
  values.push_back(nullptr);

  phase_ = "connecting";
  conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) co_return connection_error();
  // libpq's protocol: behave as if PQconnectPoll had just asked to wait for writing.
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) co_return connection_error();
    std::string error = co_await wait_socket(
        poll == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write);
    if (!error.empty()) co_return error;
    poll = PQconnectPoll(conn_);  // may switch to another socket (next address, SSL retry)
  }
  if (PQsetnonblocking(conn_, 1) != 0) co_return connection_error();
  co_return std::string();
}

asio::awaitable<ProbeResult> NodeProbe::run_query() {
  phase_ = "sending the probe query";
  if (PQsendQuery(conn_, probe_query) == 0) co_return failed(connection_error());
  if (std::string error = co_await flush_output(); !error.empty()) co_return failed(error);

  phase_ = "waiting for the probe result";
  std::optional<ProbeResult> result;
  while (true) {
    if (PQconsumeInput(conn_) == 0) co_return failed(connection_error());
    while (PQisBusy(conn_) == 0) {
      const ResultPtr res(PQgetResult(conn_));
      if (!res) {  // the query is complete
        if (!result) co_return failed("probe query returned no result");
        co_return std::move(*result);
      }
      // Keep the first error if several results arrive; drain the rest regardless.
      if (!result || result->ok) result = read_result(res.get());
    }
    if (std::string error = co_await wait_socket(wait_type::wait_read); !error.empty()) {
      co_return failed(error);
    }
  }
}

asio::awaitable<std::string> NodeProbe::flush_output() {
  while (true) {
    const int pending = PQflush(conn_);
    if (pending < 0) co_return connection_error();
    if (pending == 0) co_return std::string();
    if (std::string error = co_await wait_socket(wait_type::wait_write); !error.empty()) {
      co_return error;
    }
  }
}

asio::awaitable<std::string> NodeProbe::wait_socket(wait_type what) {
  const int fd = PQsocket(conn_);
  if (fd < 0) co_return "connection has no socket";
  // Asio borrows libpq's descriptor for this one wait: release() it on every path so the
  // stream_descriptor never closes a socket libpq owns. A fresh descriptor per wait also
  // follows PQsocket() when PQconnectPoll moves to another socket.
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
