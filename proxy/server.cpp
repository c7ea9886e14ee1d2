// The main thread (see server.hpp).
#include "proxy/server.hpp"

#include <algorithm>
#include <array>
#include <tuple>

#include <boost/asio/signal_set.hpp>

#include "conf/backend_slots.hpp"
#include "coordinator/coordinator.hpp"
#include "proxy/admin_hub.hpp"
#include "health/health_checker.hpp"
#include "protocol/base64.hpp"
#include "protocol/secure_random.hpp"
#include "proxy/listener.hpp"
#include "proxy/worker.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

namespace {
constexpr auto k_shutdown_grace = std::chrono::seconds(10);

std::string random_secret() {
  std::array<std::uint8_t, 32> bytes{};
  protocol::secure_random(bytes);
  return protocol::base64_encode(bytes);
}
}  // namespace

Server::Server(std::shared_ptr<const conf::Config> config) {
  shared_.config.publish(std::move(config));
  shared_.mock_secret = random_secret();
  shared_.route_counters = std::vector<NodeRouteCounters>(conf::k_max_node_slots);
  shared_.budgets = std::vector<NodeBudget>(conf::k_max_node_slots);
}

Server::~Server() = default;

int Server::run() {
  const auto& config = *shared_.config;  // the config at start; a reload never frees it
  const auto worker_count = static_cast<std::size_t>(config.proxy.workers);
  auto tls = make_tls_contexts(config.tls);
  if (!tls.contexts) {
    log::error(config.source_path, ": ", tls.error);
    return 1;
  }
  shared_.tls.publish(std::move(tls.contexts));
  for (std::size_t i = 0; i < worker_count; ++i) {
    shared_.worker_counters.push_back(std::make_unique<WorkerCounters>());
    workers_.push_back(std::make_unique<Worker>(i, shared_));
  }

  shared_.evict_idle = [this](std::size_t node) {
    for (auto& worker : workers_) worker->evict_idle(node);
  };
  shared_.pool_rows = [this] {
    std::vector<admin::PoolSnapshot> out;
    for (auto& worker : workers_) {
      for (auto& row : worker->pool().rows()) {
        const auto same = [&](const admin::PoolSnapshot& p) {
          return p.node == row.node && p.database == row.database && p.user == row.user;
        };
        if (auto it = std::find_if(out.begin(), out.end(), same); it != out.end()) {
          it->active += row.active;
          it->idle += row.idle;
          it->waiting += row.waiting;
          it->max_wait_us = std::max(it->max_wait_us, row.max_wait_us);
        } else {
          out.push_back(std::move(row));
        }
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.node, a.database, a.user) < std::tie(b.node, b.database, b.user);
    });
    return out;
  };
  for (auto& worker : workers_) worker->start_pool();

  Listener listener(workers_);
  for (const auto& address : config.proxy.listen) {
    if (auto err = listener.open(address, false)) {
      log::error("could not listen on ", *err);
      return 1;
    }
  }
  for (const auto& address : config.proxy.read_only_listen) {
    if (auto err = listener.open(address, true)) {
      log::error("could not listen on ", *err);
      return 1;
    }
  }

  health::HealthChecker health(main_.get_executor(), config.backends, config.health_check,
                               [this](health::ClusterViewPtr view) {
                                 for (auto& worker : workers_) worker->publish(view);
                               });
  coordinator::Coordinator failover(main_.get_executor(), shared_.config.shared(), health);
  // Workers report failing backends from their own threads: the report hops to main, where
  // the health checker re-probes (only probes decide). `health_alive` is read and cleared on
  // main only, so a report still queued when run() returns finds it false and does nothing.
  auto health_alive = std::make_shared<bool>(true);
  shared_.report_backend_failure = [this, &health, alive = std::weak_ptr<bool>(health_alive)](
                                       std::size_t index, std::string reason) {
    asio::post(main_, [&health, alive, index, reason = std::move(reason)]() mutable {
      const auto flag = alive.lock();
      if (flag && *flag) health.report_backend_failure(index, std::move(reason));
    });
  };
  asio::signal_set signals(main_, SIGINT, SIGTERM, SIGHUP);
  bool stopping = false;
  std::function<void()> shutdown = [&] {
    if (stopping) return;
    stopping = true;
    error_code ignored;
    signals.cancel(ignored);
    listener.close();
    failover.stop();
    health.stop();
    for (auto& worker : workers_) worker->stop();
    main_.stop();
  };
  // pcp_stop_pgpool / pgrouterctl stop. smart: no new clients, stop once the last one left;
  // fast and immediate: now (clients get 57P01, as on SIGTERM).
  asio::steady_timer drain(main_);
  std::function<void()> wait_for_clients = [&] {
    if (stopping || shared_.client_connections.load() == 0) return shutdown();
    drain.expires_after(std::chrono::milliseconds(100));
    drain.async_wait([&](const error_code& ec) {
      if (!ec) wait_for_clients();
    });
  };
  AdminHub admin(main_, shared_, health, failover, [&](admin::StopMode mode) {
    log::info("stop requested (", mode == admin::StopMode::smart ? "smart" : "fast", ")");
    if (mode != admin::StopMode::smart) return shutdown();
    listener.close();
    wait_for_clients();
  });
  if (auto err = admin.open()) {
    log::error("could not listen on ", *err);
    return 1;
  }
  health.set_probe_observer([&admin](std::size_t index, bool ok, std::chrono::milliseconds took, bool down) {
    admin.record_probe(index, ok, took, down);
  });

  for (auto& worker : workers_) worker->start();
  failover.start();
  health.start();
  listener.start();
  admin.start();
  log::info("pgrouter started: ", worker_count, " workers, ", config.backends.size(), " backends");

  std::function<void(const error_code&, int)> on_signal = [&](const error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      log::info("SIGHUP received: reloading ", shared_.config->source_path);
      (void)admin.reload();
      signals.async_wait(on_signal);
      return;
    }
    log::info("signal ", signal, " received: shutting down");
    shutdown();
  };
  signals.async_wait(on_signal);

  main_.run();
  // Let what stop() left queued on main (cancelled probes, admin work) finish while the
  // health checker and the workers they refer to are all still alive.
  main_.restart();
  main_.poll();
  admin.close();
  for (auto& worker : workers_) worker->join(k_shutdown_grace);
  *health_alive = false;
  log::info("pgrouter stopped");
  return 0;
}

}  // namespace pgr::proxy
