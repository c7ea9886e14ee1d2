// The admin socket server (see control_server.hpp).
#include "admin/control_server.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>

#include "admin/await_op.hpp"
#include "admin/cluster_json.hpp"
#include "admin/control_request.hpp"
#include "admin/unix_listener.hpp"
#include "support/log.hpp"

namespace pgr::admin {

namespace asio = boost::asio;
namespace json = boost::json;
using local = asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto k_read_timeout = std::chrono::seconds(10);

// Requests are arbitrary bytes and messages may quote them: keep the answer valid JSON
// (UTF-8) by showing anything outside printable ASCII as '?'.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 2000));
  for (auto& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

std::string answer(bool ok, std::string_view message, json::value cluster = nullptr) {
  json::object o{{"ok", ok}, {"message", printable(message)}};
  if (!cluster.is_null()) o["cluster"] = std::move(cluster);
  return json::serialize(o) + "\n";
}

}  // namespace

struct ControlServer::State {
  State(asio::any_io_executor ex, Operations& o) : executor(std::move(ex)), ops(o) {}
  asio::any_io_executor executor;
  Operations& ops;
  std::unique_ptr<local::acceptor> acceptor;
  std::string path;
  bool closed = false;

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self);
  static asio::awaitable<void> serve(std::shared_ptr<State> self, local::socket socket);
  asio::awaitable<std::string> execute(const ControlRequest& request);
};

asio::awaitable<std::string> ControlServer::State::execute(const ControlRequest& r) {
  if (r.kind == ControlKind::list) co_return answer(true, "", to_json(ops.snapshot()));
  if (r.kind == ControlKind::reload) {
    const auto result = ops.reload();
    co_return answer(result.ok, result.message);
  }
  if (r.kind == ControlKind::stop) {
    const auto mode = r.stop_mode;
    // Answer first: the stop tears the sockets down.
    asio::post(executor, [this, mode] { ops.stop(mode); });
    co_return answer(true, "pgrouter is stopping");
  }
  const auto snapshot = ops.snapshot();
  const NodeSnapshot* node = snapshot.find(r.node);
  if (node == nullptr) co_return answer(false, "no node named \"" + r.node + "\"");
  const auto index = node->index;
  OpResult result;
  if (r.kind == ControlKind::attach) {
    result = co_await await_op([this, index](OpDone done) { ops.attach(index, std::move(done)); });
  } else if (r.kind == ControlKind::detach) {
    result = co_await await_op([this, index](OpDone done) { ops.detach(index, std::move(done)); });
  } else {
    const bool switchover = r.switchover;
    result = co_await await_op(
        [this, index, switchover](OpDone done) { ops.promote(index, switchover, std::move(done)); });
  }
  co_return answer(result.ok, result.message, to_json(ops.snapshot()));
}

asio::awaitable<void> ControlServer::State::accept_loop(std::shared_ptr<State> self) {
  asio::steady_timer backoff(self->executor);
  while (!self->closed) {
    auto [ec, socket] = co_await self->acceptor->async_accept(use_tuple);
    if (self->closed || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      pgr::log::warn("admin socket: accept failed: ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      (void)co_await backoff.async_wait(use_tuple);
      continue;
    }
    asio::co_spawn(self->executor, serve(self, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> ControlServer::State::serve(std::shared_ptr<State> self, local::socket socket) {
  std::string line;
  asio::steady_timer deadline(self->executor, k_read_timeout);
  auto read = co_await (asio::async_read_until(socket, asio::dynamic_buffer(line, k_max_control_line + 1), '\n',
                                               use_tuple) ||
                        deadline.async_wait(use_tuple));
  std::string reply;
  if (read.index() == 1) co_return;
  auto [ec, n] = std::get<0>(read);
  if (ec == asio::error::not_found) {
    reply = answer(false, "request too long");
  } else if (ec && ec != asio::error::eof) {
    co_return;
  } else {
    std::string error;
    const auto request = parse_control_request(line.substr(0, n == 0 ? line.size() : n), error);
    if (!request) {
      reply = answer(false, error);
    } else {
      auto text = format_control_request(*request);
      text.pop_back();  // the newline
      pgr::log::info("admin socket: ", text);
      reply = co_await self->execute(*request);
    }
  }
  (void)co_await asio::async_write(socket, asio::buffer(reply), use_tuple);
}

ControlServer::ControlServer(asio::any_io_executor main, Operations& ops)
    : state_(std::make_shared<State>(std::move(main), ops)) {}

ControlServer::~ControlServer() { close(); }

std::optional<std::string> ControlServer::open(const std::string& path) {
  auto opened = listen_unix(state_->executor, path);
  if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
  auto acceptor = std::move(std::get<std::unique_ptr<UnixAcceptor>>(opened));
  state_->acceptor = std::move(acceptor);
  state_->path = path;
  pgr::log::info("admin socket: listening on ", path);
  return std::nullopt;
}

void ControlServer::start() {
  if (state_->acceptor) asio::co_spawn(state_->executor, State::accept_loop(state_), asio::detached);
}

void ControlServer::close() {
  if (!state_ || state_->closed) return;
  state_->closed = true;
  boost::system::error_code ec;
  if (state_->acceptor) {
    state_->acceptor->close(ec);
    ::unlink(state_->path.c_str());
  }
}

}  // namespace pgr::admin
