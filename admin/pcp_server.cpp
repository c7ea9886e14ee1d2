// The PCP server (see pcp_server.hpp).
#include "admin/pcp_server.hpp"

#include <unistd.h>

#include <array>
#include <span>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include "admin/await_op.hpp"
#include "admin/pcp_codec.hpp"
#include "admin/pgpool_report.hpp"
#include "admin/tcp_listen.hpp"
#include "admin/unix_listener.hpp"
#include "protocol/secure_random.hpp"
#include "support/log.hpp"

namespace pgr::admin {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto k_idle_timeout = std::chrono::seconds(60);
constexpr int k_max_connections = 64;

// What a handler answers: the reply bytes, and whether the connection ends after them.
struct Reply {
  std::string bytes;
  bool close = false;
  std::optional<StopMode> stop;  // pcp_stop_pgpool: stop once the reply is sent
};

Reply ok(std::string bytes) { return {std::move(bytes), false, std::nullopt}; }

Reply fatal(std::string_view message, std::string_view detail) {
  return {pcp::error_reply("FATAL", message, detail), true, std::nullopt};
}

Reply error(std::string_view message, std::string_view detail) {
  return {pcp::error_reply("ERROR", message, detail), false, std::nullopt};
}

}  // namespace

struct HandlerContext {
  Operations& ops;
  const pcp::Frame& frame;
};

using Handler = asio::awaitable<Reply> (*)(HandlerContext);

namespace {

// Resolves the node id of an attach/detach/health request against the snapshot.
std::optional<std::size_t> node_index(const ClusterSnapshot& s, std::string_view payload) {
  const auto id = pcp::parse_node_id(payload);
  if (!id || *id < 0 || static_cast<std::size_t>(*id) >= s.nodes.size()) return std::nullopt;
  return static_cast<std::size_t>(*id);
}

std::string id_text(std::string_view payload) { return std::string(payload.substr(0, payload.find('\0')).substr(0, 16)); }

asio::awaitable<Reply> node_count(HandlerContext c) {
  co_return ok(pcp::node_count_reply(c.ops.snapshot().nodes.size()));
}

asio::awaitable<Reply> node_info(HandlerContext c) {
  const auto s = c.ops.snapshot();
  const auto id = pcp::parse_node_id(c.frame.payload);
  if (!id || *id < -1 || *id >= static_cast<int>(s.nodes.size())) {
    co_return error("informing node info failed", "invalid node ID : " + id_text(c.frame.payload));
  }
  double total = 0;
  for (const auto& n : s.nodes) total += n.removed ? 0 : n.weight;
  std::vector<pcp::NodeInfo> nodes;
  for (const auto& n : s.nodes) {
    if (*id == -1 || static_cast<std::size_t>(*id) == n.index) nodes.push_back(pcp_node_info(n, total));
  }
  co_return ok(pcp::node_info_reply(nodes));
}

asio::awaitable<Reply> health_check_stats(HandlerContext c) {
  const auto s = c.ops.snapshot();
  const auto index = node_index(s, c.frame.payload);
  if (!index) {
    co_return error("informing health check stats info failed", "invalid node ID " + id_text(c.frame.payload));
  }
  co_return ok(pcp::health_check_stats_reply(health_check_row(s.nodes[*index])));
}

asio::awaitable<Reply> attach_or_detach(HandlerContext c, bool attach) {
  const auto s = c.ops.snapshot();
  const auto index = node_index(s, c.frame.payload);
  const char* what = attach ? "attach" : "detach";
  if (!index) co_return error(std::string(what) + " node failed", "invalid node ID : " + id_text(c.frame.payload));
  auto& op = attach ? c.ops.attach : c.ops.detach;
  const auto result = co_await await_op([&op, i = *index](OpDone done) { op(i, std::move(done)); });
  if (!result.ok) co_return error(std::string(what) + " node failed", result.message);
  co_return ok(pcp::command_complete(attach ? 'c' : 'd'));
}

asio::awaitable<Reply> attach(HandlerContext c) { co_return co_await attach_or_detach(c, true); }
asio::awaitable<Reply> detach(HandlerContext c) { co_return co_await attach_or_detach(c, false); }

asio::awaitable<Reply> promote(HandlerContext c) {
  const auto s = c.ops.snapshot();
  const auto request = pcp::parse_promote(c.frame.payload);
  if (!request || static_cast<std::size_t>(request->node) >= s.nodes.size()) {
    co_return error("could not process promote request", "node id is not valid");
  }
  const auto index = static_cast<std::size_t>(request->node);
  const bool switchover = request->switchover;
  const auto result = co_await await_op(
      [&c, index, switchover](OpDone done) { c.ops.promote(index, switchover, std::move(done)); });
  if (!result.ok) co_return error("promote node failed", result.message);
  co_return ok(pcp::command_complete('d'));
}

asio::awaitable<Reply> reload(HandlerContext c) {
  const auto result = c.ops.reload();
  if (!result.ok) co_return error("process reload config request failed", result.message);
  co_return ok(pcp::command_complete('z'));
}

asio::awaitable<Reply> stop(HandlerContext c) {
  const char mode = c.frame.payload.empty() ? 's' : c.frame.payload[0];
  StopMode stop_mode = StopMode::smart;
  if (mode == 'f') {
    stop_mode = StopMode::fast;
  } else if (mode == 'i') {
    stop_mode = StopMode::immediate;
  } else if (mode != 's') {
    co_return error("PCP: shutdown request failed", "invalid shutdown mode");
  }
  co_return Reply{pcp::command_complete('t'), true, stop_mode};
}

asio::awaitable<Reply> process_count(HandlerContext) {
  // pgrouter is one process: its pid is the one "child" there is.
  co_return ok(pcp::process_count_reply({static_cast<int>(getpid())}));
}

asio::awaitable<Reply> process_info(HandlerContext) {
  // pgrouter keeps no pgpool-style pool slots per process: there are no records to report.
  co_return ok(pcp::process_info_reply({}));
}

asio::awaitable<Reply> pool_status(HandlerContext c) {
  std::vector<pcp::ConfigItem> items;
  for (auto& [name, value, description] : c.ops.settings()) items.push_back({name, value, description});
  co_return ok(pcp::pool_status_reply(items));
}

// Requests pgpool-II serves and pgrouter has no counterpart for: a clear ERROR, not a close.
asio::awaitable<Reply> watchdog_info(HandlerContext) {
  co_return error("PCP: informing watchdog info failed", "watchdog is not enabled (pgrouter has none)");
}

asio::awaitable<Reply> recovery(HandlerContext) {
  co_return error("process recovery request failed",
                  "online recovery is not supported by pgrouter: rebuild the standby (rewind_command "
                  "or a base backup), then pcp_attach_node");
}

asio::awaitable<Reply> set_parameter(HandlerContext) {
  co_return error("set configuration parameter failed",
                  "not supported by pgrouter: edit the configuration file and pcp_reload_config");
}

struct Route {
  char type;
  Handler handler;
};

// clang-format off
constexpr std::array k_routes{
  Route{'L', node_count},      Route{'I', node_info},   Route{'H', health_check_stats},
  Route{'C', attach},          Route{'D', detach},      Route{'d', detach},
  Route{'J', promote},         Route{'j', promote},     Route{'Z', reload},
  Route{'T', stop},            Route{'t', stop},        Route{'N', process_count},
  Route{'P', process_info},    Route{'B', pool_status},   Route{'W', watchdog_info},
  Route{'O', recovery},        Route{'A', set_parameter},
};
// clang-format on

Handler find_route(char type) {
  for (const auto& route : k_routes) {
    if (route.type == type) return route.handler;
  }
  return nullptr;
}

}  // namespace

struct PcpServer::State {
  State(asio::any_io_executor ex, Operations& o) : executor(std::move(ex)), ops(o) {}
  asio::any_io_executor executor;
  Operations& ops;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<local::acceptor> local_acceptor;  // pgpool's pcp_socket_dir/.s.PGSQL.<port>
  std::string local_path;
  int connections = 0;
  bool closed = false;

  template <typename Acceptor>
  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self, Acceptor& acceptor);
  template <typename Socket>
  static asio::awaitable<void> serve(std::shared_ptr<State> self, Socket socket);
};

namespace {

// One connection's authentication state.
struct Session {
  std::optional<std::array<std::uint8_t, 4>> salt;
  bool authenticated = false;
  std::string user;
};

Reply authenticate(Session& session, const pcp::Frame& frame, Operations& ops) {
  if (frame.type == 'M') {
    std::array<std::uint8_t, 4> salt{};
    protocol::secure_random(salt);
    session.salt = salt;
    return ok(pcp::salt_reply(salt));
  }
  if (!session.salt) return fatal("authentication failed", "no salt was requested before the password");
  const auto request = pcp::parse_auth(frame.payload);
  if (!request) return fatal("failed to authenticate PCP user", "error while reading authentication packet");
  const auto& users = ops.pcp_users();
  const auto found = users.find(request->user);
  // The comparison runs against a dummy for unknown users too, so timing tells nothing.
  const std::string stored = found != users.end() ? found->second : std::string(32, '0');
  const bool matches = pcp::hashes_equal(pcp::expected_hash(stored, request->user, *session.salt), request->hash) &&
                  found != users.end();
  session.salt.reset();
  if (!matches) {
    pgr::log::warn("pcp: authentication failed for user \"", request->user, "\"");
    return fatal("authentication failed for user \"" + request->user + "\"",
                 "username and/or password does not match");
  }
  session.authenticated = true;
  session.user = request->user;
  return ok(pcp::auth_ok_reply());
}

}  // namespace

template <typename Acceptor>
asio::awaitable<void> PcpServer::State::accept_loop(std::shared_ptr<State> self, Acceptor& acceptor) {
  asio::steady_timer backoff(self->executor);
  while (!self->closed) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (self->closed || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      pgr::log::warn("pcp: accept failed: ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      (void)co_await backoff.async_wait(use_tuple);
      continue;
    }
    if (self->connections >= k_max_connections) {
      pgr::log::warn("pcp: ", k_max_connections, " connections already open; closing a new one");
      continue;  // the socket closes as it goes out of scope
    }
    asio::co_spawn(self->executor, serve(self, std::move(socket)), asio::detached);
  }
}

template <typename Socket>
asio::awaitable<void> PcpServer::State::serve(std::shared_ptr<State> self, Socket socket) {
  ++self->connections;
  struct Count {
    State& s;
    ~Count() { --s.connections; }
  } count{*self};
  pcp::FrameReader reader;
  Session session;
  std::array<char, 4096> buffer{};
  asio::steady_timer idle(self->executor);
  while (!self->closed) {
    auto next = reader.next();
    Reply reply;
    if (!next.error.empty()) {
      reply = fatal("invalid PCP packet", next.error);
    } else if (!next.frame) {
      idle.expires_after(k_idle_timeout);
      auto result = co_await (socket.async_read_some(asio::buffer(buffer), use_tuple) || idle.async_wait(use_tuple));
      if (result.index() == 1) co_return;  // idle too long
      auto [ec, n] = std::get<0>(result);
      if (ec) co_return;
      reader.append(std::string_view(buffer.data(), n));
      continue;
    } else {
      const pcp::Frame& frame = *next.frame;
      if (frame.type == 'X') co_return;
      if (frame.type == 'M' || frame.type == 'R') {
        reply = authenticate(session, frame, self->ops);
      } else if (!session.authenticated) {
        reply = fatal("authentication failed for new PCP connection", "connection not authorized");
      } else if (const Handler handler = find_route(frame.type)) {
        pgr::log::debug("pcp: ", session.user, ": request '", std::string(1, frame.type), "'");
        reply = co_await handler(HandlerContext{self->ops, frame});
      } else {
        reply = fatal("PCP processing request", "unknown PCP packet type \"" + std::string(1, frame.type) + "\"");
      }
    }
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(reply.bytes), use_tuple);
    if (reply.stop) {
      pgr::log::warn("pcp: ", session.user, " asked pgrouter to stop");
      self->ops.stop(*reply.stop);
    }
    if (wec || reply.close) co_return;
  }
}

PcpServer::PcpServer(asio::any_io_executor main, Operations& ops)
    : state_(std::make_shared<State>(std::move(main), ops)) {}

PcpServer::~PcpServer() { close(); }

std::optional<std::string> PcpServer::open(const conf::ListenAddress& address) {
  if (auto error = open_tcp_acceptor(state_->executor, address, state_->acceptor)) return error;
  pgr::log::info("pcp: listening on ", address.host, ":", address.port);
  return std::nullopt;
}

std::optional<std::string> PcpServer::open_socket_dir(const std::string& dir, std::uint16_t port) {
  const std::string path = dir + "/.s.PGSQL." + std::to_string(port);
  auto opened = listen_unix(state_->executor, path);
  if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
  auto acceptor = std::move(std::get<std::unique_ptr<UnixAcceptor>>(opened));
  state_->local_acceptor = std::move(acceptor);
  state_->local_path = path;
  pgr::log::info("pcp: listening on ", path);
  return std::nullopt;
}

void PcpServer::start() {
  if (state_->acceptor) {
    asio::co_spawn(state_->executor, State::accept_loop(state_, *state_->acceptor), asio::detached);
  }
  if (state_->local_acceptor) {
    asio::co_spawn(state_->executor, State::accept_loop(state_, *state_->local_acceptor), asio::detached);
  }
}

void PcpServer::close() {
  if (!state_ || state_->closed) return;
  state_->closed = true;
  boost::system::error_code ec;
  if (state_->acceptor) state_->acceptor->close(ec);
  if (state_->local_acceptor) {
    state_->local_acceptor->close(ec);
    ::unlink(state_->local_path.c_str());
  }
}

}  // namespace pgr::admin
