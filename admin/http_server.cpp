// The HTTP server (see http_server.hpp).
#include "admin/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "admin/http_routes.hpp"
#include "admin/tcp_listen.hpp"
#include "support/log.hpp"

namespace pgr::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto k_request_timeout = std::chrono::seconds(10);
constexpr std::uint64_t k_max_request = 8192;
constexpr int k_max_connections = 256;  // health checkers and scrapers; more is an attack
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct HttpServer::State {
  State(asio::any_io_executor ex, Operations& o, std::string sha)
      : executor(std::move(ex)), ops(o), git_sha(std::move(sha)) {}
  asio::any_io_executor executor;
  Operations& ops;
  std::string git_sha;
  std::unique_ptr<tcp::acceptor> acceptor;
  int connections = 0;
  bool closed = false;

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self);
  static asio::awaitable<void> serve(std::shared_ptr<State> self, tcp::socket socket);
};

asio::awaitable<void> HttpServer::State::accept_loop(std::shared_ptr<State> self) {
  asio::steady_timer backoff(self->executor);
  while (!self->closed) {
    auto [ec, socket] = co_await self->acceptor->async_accept(use_tuple);
    if (self->closed || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      pgr::log::warn("http: accept failed: ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      (void)co_await backoff.async_wait(use_tuple);
      continue;
    }
    if (self->connections >= k_max_connections) {
      pgr::log::warn("http: ", k_max_connections, " connections already open; closing a new one");
      continue;  // the socket closes as it goes out of scope
    }
    asio::co_spawn(self->executor, serve(self, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::State::serve(std::shared_ptr<State> self, tcp::socket socket) {
  ++self->connections;
  struct Count {
    State& s;
    ~Count() { --s.connections; }
  } count{*self};
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(k_max_request);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(k_max_request));
    parser.body_limit(k_max_request);
    stream.expires_after(k_request_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || self->closed) break;
    http::response<http::string_body> response;
    bool keep_alive = false;
    if (ec) {
      response.result(http::status::bad_request);
      response.set(http::field::content_type, "application/json");
      response.body() = "{\"error\":\"bad request: " + ec.message() + "\"}\n";
    } else {
      const auto& request = parser.get();
      const auto snapshot = self->ops.snapshot();
      const HttpContext context{snapshot, self->git_sha};
      auto answer = answer_http(request.method_string(), request.target(), context);
      response.result(answer.status);
      response.set(http::field::content_type, answer.content_type);
      response.set(http::field::cache_control, "no-cache");
      if (request.method() != http::verb::head) response.body() = std::move(answer.body);
      keep_alive = request.keep_alive();
      response.version(request.version());
    }
    response.set(http::field::server, "pgrouter");
    response.keep_alive(keep_alive);
    response.prepare_payload();
    stream.expires_after(k_request_timeout);
    auto [wec, written] = co_await http::async_write(stream, response, use_tuple);
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

HttpServer::HttpServer(asio::any_io_executor main, Operations& ops, std::string git_sha)
    : state_(std::make_shared<State>(std::move(main), ops, std::move(git_sha))) {}

HttpServer::~HttpServer() { close(); }

std::optional<std::string> HttpServer::open(const conf::ListenAddress& address) {
  if (auto error = open_tcp_acceptor(state_->executor, address, state_->acceptor)) return error;
  pgr::log::info("http: listening on ", address.host, ":", address.port,
                 " (/primary /replica /health /cluster /metrics /)");
  return std::nullopt;
}

void HttpServer::start() {
  if (state_->acceptor) asio::co_spawn(state_->executor, State::accept_loop(state_), asio::detached);
}

void HttpServer::close() {
  if (!state_ || state_->closed) return;
  state_->closed = true;
  boost::system::error_code ec;
  if (state_->acceptor) state_->acceptor->close(ec);
}

}  // namespace pgr::admin
