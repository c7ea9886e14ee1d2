// pgrouterctl: the operator's command line for a running pgrouter, over its admin socket.
//
//   pgrouterctl [-s SOCKET | -c CONFIG] [--json] list [--pools] | attach NODE | detach NODE |
//               promote NODE [--switchover] | reload | stop [smart|fast|immediate]
//
// Exit codes: 0 done, 1 refused or failed, 2 bad usage, 3 pgrouter not reachable.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "admin/cluster_json.hpp"
#include "admin/control_request.hpp"
#include "admin/list_table.hpp"
#include "conf/config.hpp"

namespace {

namespace json = boost::json;
using pgr::admin::ControlKind;
using pgr::admin::ControlRequest;

constexpr std::string_view k_usage =
    "usage: pgrouterctl [-s SOCKET | -c CONFIG] [--json] COMMAND\n"
    "commands:\n"
    "  list [--pools]                the nodes, like patronictl list; --pools: the backend\n"
    "                                connection pools too (as SHOW POOL_POOLS)\n"
    "  attach NODE                   return a detached node to service (if it follows the primary)\n"
    "  detach NODE                   take a node out of service at once\n"
    "  promote NODE [--switchover]   make NODE the primary (switchover: demote the old one safely first)\n"
    "  reload                        re-read the configuration file\n"
    "  stop [smart|fast|immediate]   stop pgrouter (smart: once clients have left)\n"
    "NODE is a backend name or index. --json prints pgrouter's answer as JSON (list: the\n"
    "whole cluster, pools included). The socket is [admin] admin_socket: give -s, -c, or\n"
    "set PGROUTER_ADMIN_SOCKET.\n";

struct Options {
  std::string socket;
  std::string config;
  bool json = false;
  bool pools = false;  // list --pools
  std::vector<std::string> words;
};

int usage(std::string_view problem) {
  if (!problem.empty()) std::cerr << "pgrouterctl: " << problem << "\n";
  std::cerr << k_usage;
  return 2;
}

// Sends the request line and reads the whole answer; "" and `error` when unreachable.
std::string exchange(const std::string& path, const std::string& line, int timeout_seconds, std::string& error) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return {};
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    ::close(fd);
    error = "socket path too long";
    return {};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  timeval tv{timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return {};
  }
  std::size_t sent = 0;
  while (sent < line.size()) {
    const auto n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      error = std::strerror(errno);
      ::close(fd);
      return {};
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[65536];
  for (;;) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      error = errno == EAGAIN ? "no answer within " + std::to_string(timeout_seconds) + " s" : std::strerror(errno);
      ::close(fd);
      return {};
    }
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (reply.empty()) error = "pgrouter closed the connection without an answer";
  return reply;
}

std::optional<ControlRequest> request_of(const std::vector<std::string>& words, std::string& error) {
  std::string line;
  for (const auto& w : words) {
    line += (w == "--switchover" || w == "-s") ? "switchover" : w;
    line += ' ';
  }
  return pgr::admin::parse_control_request(line, error);
}

std::string socket_path(const Options& o, std::string& error) {
  if (!o.socket.empty()) return o.socket;
  if (!o.config.empty()) {
    const auto loaded = pgr::conf::load_config_file(o.config);
    if (!loaded.config) {
      error = o.config + " does not load: " + (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
      return {};
    }
    if (!loaded.config->admin.admin_socket) {
      error = o.config + " has no [admin] admin_socket";
      return {};
    }
    return *loaded.config->admin.admin_socket;
  }
  if (const char* env = std::getenv("PGROUTER_ADMIN_SOCKET"); env != nullptr && *env != '\0') return env;
  error = "no admin socket given: use -s SOCKET, -c CONFIG or PGROUTER_ADMIN_SOCKET";
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "-s" || arg == "--socket") && o.words.empty() && i + 1 < argc) {
      o.socket = argv[++i];
    } else if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      o.config = argv[++i];
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--pools") {
      o.pools = true;
    } else if (arg == "-h" || arg == "--help") {
      std::cout << k_usage;
      return 0;
    } else {
      o.words.emplace_back(arg);
    }
  }
  if (o.words.empty()) return usage("no command");
  std::string error;
  const auto request = request_of(o.words, error);
  if (!request) return usage(error);
  if (o.pools && request->kind != ControlKind::list) return usage("--pools goes with list");
  const auto path = socket_path(o, error);
  if (path.empty()) return usage(error);
  const int timeout = request->kind == ControlKind::promote ? 600 : 30;
  const auto reply = exchange(path, pgr::admin::format_control_request(*request), timeout, error);
  if (reply.empty()) {
    std::cerr << "pgrouterctl: cannot reach pgrouter at " << path << ": " << error
              << " (is pgrouter running with [admin] admin_socket = \"" << path << "\"?)\n";
    return 3;
  }
  boost::system::error_code ec;
  const auto value = json::parse(reply, ec);
  if (ec || !value.is_object()) {
    std::cerr << "pgrouterctl: unexpected answer from pgrouter: " << reply.substr(0, 200) << "\n";
    return 1;
  }
  const auto& o_reply = value.as_object();
  const bool ok = o_reply.contains("ok") && o_reply.at("ok").is_bool() && o_reply.at("ok").as_bool();
  std::string message;
  if (const auto* m = o_reply.if_contains("message"); m != nullptr && m->is_string()) message = m->as_string();
  if (o.json) {
    if (request->kind == ControlKind::list && o_reply.contains("cluster")) {
      std::cout << json::serialize(o_reply.at("cluster")) << "\n";
    } else {
      std::cout << json::serialize(value) << "\n";
    }
    return ok ? 0 : 1;
  }
  if (!message.empty()) (ok ? std::cout : std::cerr) << (ok ? "" : "pgrouterctl: ") << message << "\n";
  if (const auto* cluster = o_reply.if_contains("cluster")) {
    std::string parse_error;
    if (const auto snapshot = pgr::admin::snapshot_from_json(*cluster, parse_error)) {
      std::cout << pgr::admin::format_list(*snapshot);
      if (o.pools) std::cout << "\n" << pgr::admin::format_pools(*snapshot);
    } else {
      std::cerr << "pgrouterctl: cannot read the cluster: " << parse_error << "\n";
      return 1;
    }
  }
  return ok ? 0 : 1;
}
