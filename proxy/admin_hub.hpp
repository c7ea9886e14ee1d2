// The operator's side of the main thread: it gives the admin interfaces (admin/) their
// Operations — snapshots from the health checker and ProxyShared, attach / detach / promote
// through the failover coordinator, reload, stop — owns the PCP, HTTP and admin-socket
// servers, and applies reloads (SIGHUP, pcp_reload_config, pgrouterctl reload).
//
// A reload parses the file on main; an invalid file changes nothing and the answer lists its
// errors. Otherwise the live part (conf/config_diff.hpp) is published to workers through
// ProxyShared::config, and to the health checker and the coordinator; keys that need a
// restart are kept as they were and named in the answer and the log. Sessions already open
// keep working: a Config is never freed while pgrouter runs.
//
// Thread rules: main thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "admin/control_server.hpp"
#include "admin/http_server.hpp"
#include "admin/operations.hpp"
#include "admin/pcp_server.hpp"
#include "coordinator/coordinator.hpp"
#include "health/health_checker.hpp"
#include "proxy/asio.hpp"
#include "proxy/proxy_shared.hpp"

namespace pgr::proxy {

class AdminHub {
 public:
  AdminHub(asio::io_context& main, ProxyShared& shared, health::HealthChecker& health,
           coordinator::Coordinator& coordinator, std::function<void(admin::StopMode)> stop);
  AdminHub(const AdminHub&) = delete;
  AdminHub& operator=(const AdminHub&) = delete;

  // Opens the configured admin listeners; the first failure's reason.
  [[nodiscard]] std::optional<std::string> open();
  void start();
  void close();

  admin::OpResult reload();
  // The health checker's probe observer: statistics per node.
  void record_probe(std::size_t index, bool ok, std::chrono::milliseconds took, bool down);
  [[nodiscard]] admin::ClusterSnapshot snapshot() const;

 private:
  std::vector<std::array<std::string, 3>> settings() const;

  ProxyShared& shared_;
  health::HealthChecker& health_;
  coordinator::Coordinator& coordinator_;
  std::int64_t started_at_;
  admin::Operations ops_;
  admin::PcpServer pcp_;
  admin::HttpServer http_;
  admin::ControlServer control_;
};

}  // namespace pgr::proxy
