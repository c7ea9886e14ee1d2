// The main thread (see server.hpp).
#include "proxy/server.hpp"

#include <openssl/rand.h>

#include <boost/asio/signal_set.hpp>

#include "coordinator/coordinator.hpp"
#include "health/health_checker.hpp"
#include "protocol/base64.hpp"
#include "proxy/listener.hpp"
#include "proxy/worker.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

namespace {
constexpr auto k_shutdown_grace = std::chrono::seconds(10);

std::string random_secret() {
  std::uint8_t bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
  return protocol::base64_encode(bytes);
}
}  // namespace

Server::Server(std::shared_ptr<const conf::Config> config) {
  shared_.config = std::move(config);
  shared_.mock_secret = random_secret();
  shared_.route_counters = std::vector<NodeRouteCounters>(shared_.config->backends.size());
}

Server::~Server() = default;

int Server::run() {
  const auto& config = *shared_.config;
  const auto worker_count = static_cast<std::size_t>(config.proxy.workers);
  for (std::size_t i = 0; i < worker_count; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, shared_));
  }

  Listener listener(main_, workers_);
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
  coordinator::Coordinator failover(main_.get_executor(), shared_.config, health);
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
  for (auto& worker : workers_) worker->start();
  failover.start();
  health.start();
  listener.start();
  log::info("pgrouter started: ", worker_count, " workers, ", config.backends.size(), " backends");

  asio::signal_set signals(main_, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const error_code&, int)> on_signal = [&](const error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      log::warn("SIGHUP received: configuration reload is not implemented yet; ignored");
      signals.async_wait(on_signal);
      return;
    }
    log::info("signal ", signal, " received: shutting down");
    listener.close();
    failover.stop();
    health.stop();
    for (auto& worker : workers_) worker->stop();
    main_.stop();
  };
  signals.async_wait(on_signal);

  main_.run();
  // Let what stop() left queued on main (aborted accepts, cancelled probes) finish while the
  // listener, the health checker and the workers they refer to are all still alive.
  main_.restart();
  main_.poll();
  for (auto& worker : workers_) worker->join(k_shutdown_grace);
  *health_alive = false;
  log::info("pgrouter stopped");
  return 0;
}

}  // namespace pgr::proxy
