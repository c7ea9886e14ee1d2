// The operator's side of main (see admin_hub.hpp).
#include "proxy/admin_hub.hpp"

#include <algorithm>

#include "conf/config_diff.hpp"
#include "pgrouter_version.hpp"
#include "support/log.hpp"

namespace pgr::proxy {

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

log::Level log_level_of(conf::LogLevel level) {
  switch (level) {
    case conf::LogLevel::error: return log::Level::error;
    case conf::LogLevel::warn: return log::Level::warn;
    case conf::LogLevel::info: return log::Level::info;
    case conf::LogLevel::debug: return log::Level::debug;
  }
  return log::Level::info;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out.append(out.empty() ? "" : ", ").append(item);
  return out;
}

admin::OpResult from(coordinator::Coordinator::Result r) { return {r.ok, std::move(r.message)}; }

// One node's [pool] figures; `held`: its budget's connections now. The histogram's relaxed
// loads may catch a wait half counted, so the copy is made consistent (each bucket at least
// the one below, the count at least the last bucket), as Prometheus requires.
admin::NodePoolStats pool_stats(const NodeRouteCounters& c, int held) {
  admin::NodePoolStats p;
  p.idle = c.pool_idle.load(std::memory_order_relaxed);
  p.waiting = c.pool_waiting.load(std::memory_order_relaxed);
  p.held = held;
  std::uint64_t below = 0;
  for (std::size_t b = 0; b < p.wait_buckets.size(); ++b) {
    below = std::max(below, c.pool_wait_buckets[b].load(std::memory_order_relaxed));
    p.wait_buckets[b] = below;
  }
  p.wait_count = std::max(below, c.pool_wait_count.load(std::memory_order_relaxed));
  p.wait_sum_us = c.pool_wait_sum_us.load(std::memory_order_relaxed);
  return p;
}

std::string address(const std::optional<conf::ListenAddress>& a) {
  return a ? a->host + ":" + std::to_string(a->port) : "";
}

}  // namespace

AdminHub::AdminHub(asio::io_context& main, ProxyShared& shared, health::HealthChecker& health,
                   coordinator::Coordinator& coordinator, std::function<void(admin::StopMode)> stop)
    : shared_(shared),
      health_(health),
      coordinator_(coordinator),
      started_at_(unix_now()),
      pcp_(main.get_executor(), ops_),
      http_(main.get_executor(), ops_, k_git_sha),
      control_(main.get_executor(), ops_) {
  ops_.snapshot = [this] { return snapshot(); };
  ops_.attach = [this](std::size_t node, admin::OpDone done) { done(from(coordinator_.attach(node))); };
  ops_.detach = [this](std::size_t node, admin::OpDone done) { done(from(coordinator_.detach(node))); };
  ops_.promote = [this](std::size_t node, bool switchover, admin::OpDone done) {
    coordinator_.promote(node, switchover,
                         [done = std::move(done)](coordinator::Coordinator::Result r) { done(from(std::move(r))); });
  };
  ops_.reload = [this] { return reload(); };
  ops_.stop = std::move(stop);
  ops_.pcp_users = [this]() -> const std::map<std::string, std::string>& { return shared_.config->admin.pcp_users; };
  ops_.settings = [this] { return settings(); };
}

std::optional<std::string> AdminHub::open() {
  const auto& admin = shared_.config->admin;
  if (admin.pcp_listen) {
    if (auto error = pcp_.open(*admin.pcp_listen)) return "pcp_listen " + *error;
    if (admin.pcp_socket_dir) {
      if (auto error = pcp_.open_socket_dir(*admin.pcp_socket_dir, admin.pcp_listen->port)) {
        return "pcp_socket_dir " + *error;
      }
    }
  }
  if (admin.http_listen) {
    if (auto error = http_.open(*admin.http_listen)) return "http_listen " + *error;
  }
  if (admin.admin_socket) {
    if (auto error = control_.open(*admin.admin_socket)) return "admin_socket " + *error;
  }
  return std::nullopt;
}

void AdminHub::start() {
  pcp_.start();
  http_.start();
  control_.start();
}

void AdminHub::close() {
  pcp_.close();
  http_.close();
  control_.close();
}

void AdminHub::record_probe(std::size_t index, bool ok, std::chrono::milliseconds took, bool down) {
  if (index >= shared_.route_counters.size()) return;
  auto& counters = shared_.route_counters[index];
  const std::lock_guard lock(counters.probes_mutex);
  admin::record_probe(counters.probes, ok, took, down, unix_now());
}

admin::ClusterSnapshot AdminHub::snapshot() const {
  const auto view = health_.current();
  const auto& config = *shared_.config;
  std::vector<admin::NodeTraffic> traffic;
  std::vector<admin::NodePoolStats> pool;
  std::vector<admin::ProbeStats> probes;
  for (std::size_t i = 0; i < view->nodes.size() && i < shared_.route_counters.size(); ++i) {
    const auto& c = shared_.route_counters[i];
    traffic.push_back({c.reads.load(std::memory_order_relaxed), c.writes.load(std::memory_order_relaxed),
                       c.others.load(std::memory_order_relaxed), c.links.load(std::memory_order_relaxed)});
    pool.push_back(pool_stats(c, i < shared_.budgets.size() ? shared_.budgets[i].held() : 0));
    probes.push_back(c.probe_stats());
  }
  admin::ClusterSnapshot s;
  s.generation = view->generation;
  s.primary = view->primary;
  s.nodes = admin::snapshot_nodes(*view, traffic, pool, probes);
  if (shared_.pool_rows) s.pools = shared_.pool_rows();
  s.pool_mode = std::string(conf::to_string(config.pool.mode));
  s.max_backend_connections = config.pool.max_backend_connections;
  s.clients = shared_.client_connections.load(std::memory_order_relaxed);
  s.clients_accepted = shared_.clients_accepted.load(std::memory_order_relaxed);
  for (const auto& counters : shared_.worker_counters) add_worker_traffic(*counters, s.traffic);
  const auto stats = coordinator_.stats();
  s.failovers = stats.failovers;
  s.failover_running = stats.running;
  for (const auto& r : stats.recent) s.recent_failovers.push_back({r.at, r.took_ms, r.promoted, r.summary});
  s.version = std::string(k_version) + " (" + k_git_sha + ")";
  s.started_at = started_at_;
  return s;
}

admin::OpResult AdminHub::reload() {
  const auto applied = shared_.config.shared();
  auto loaded = conf::load_config_file(applied->source_path);
  if (!loaded.config) {
    std::vector<std::string> errors;
    for (const auto& e : loaded.errors) errors.push_back(e.to_string());
    log::error("reload: ", applied->source_path, " rejected, the applied configuration stays: ", joined(errors));
    return {false, "configuration not reloaded; the applied one stays: " + joined(errors)};
  }
  // New TLS contexts (renewed certificates) serve new connections; open sessions keep theirs.
  std::shared_ptr<const TlsContexts> tls;
  if (!(loaded.config->tls == applied->tls)) {
    auto built = make_tls_contexts(loaded.config->tls);
    if (!built.contexts) {
      log::error("reload: ", applied->source_path, " rejected, the applied configuration stays: ", built.error);
      return {false, "configuration not reloaded; the applied one stays: " + built.error};
    }
    tls = std::move(built.contexts);
  }
  const auto diff = conf::diff_configs(*applied, *loaded.config);
  auto refused = diff.errors;
  const auto slots = conf::live_part(*applied, *loaded.config).backends;
  const auto view = health_.current();
  for (std::size_t i = 0; i < applied->backends.size(); ++i) {
    if (!applied->backends[i].removed && slots[i].removed && view->primary == i) {
      refused.push_back("backends: " + applied->backends[i].name +
                        " is the primary and cannot be removed (promote another node first)");
    }
  }
  const bool nodes_change = slots.size() != applied->backends.size() ||
                            !std::equal(slots.begin(), slots.end(), applied->backends.begin(),
                                        [](const auto& a, const auto& b) { return a.removed == b.removed; });
  if (nodes_change && coordinator_.stats().running) {
    refused.emplace_back("backends: a failover is running; reload again when it is over");
  }
  if (!refused.empty()) {
    log::error("reload: ", applied->source_path, " rejected, the applied configuration stays: ", joined(refused));
    return {false, "configuration not reloaded; the applied one stays: " + joined(refused)};
  }
  if (diff.live.empty() && diff.restart.empty()) {
    log::info("reload: ", applied->source_path, ": nothing changed");
    return {true, "reloaded: nothing changed"};
  }
  auto next = std::make_shared<const conf::Config>(conf::live_part(*applied, *loaded.config));
  shared_.config.publish(next);
  if (tls) shared_.tls.publish(std::move(tls));
  log::set_level(log_level_of(next->proxy.log_level));
  health_.reconfigure(next->backends, next->health_check);
  coordinator_.set_config(next);
  std::string message = "reloaded";
  if (!diff.live.empty()) message += "; applied: " + joined(diff.live);
  if (!diff.restart.empty()) message += "; needs a restart (kept as they were): " + joined(diff.restart);
  (diff.restart.empty() ? log::info("reload: ", message) : log::warn("reload: ", message));
  return {true, message};
}

std::vector<std::array<std::string, 3>> AdminHub::settings() const {
  const auto& c = *shared_.config;
  std::vector<std::array<std::string, 3>> out;
  std::string listen;
  for (const auto& a : c.proxy.listen) listen.append(listen.empty() ? "" : ",").append(address(a));
  out.push_back({"listen_addresses", listen, "client-facing addresses"});
  out.push_back({"num_workers", std::to_string(c.proxy.workers), "worker threads"});
  out.push_back({"max_client_connections", std::to_string(c.proxy.max_client_connections), "clients accepted at once"});
  out.push_back({"log_level", std::string(conf::to_string(c.proxy.log_level)), "log level"});
  out.push_back({"auth_method", std::string(conf::to_string(c.auth.method)), "client authentication"});
  out.push_back({"health_check_period", std::to_string(c.health_check.period.count() / 1000), "seconds between probes"});
  out.push_back({"health_check_timeout", std::to_string(c.health_check.timeout.count() / 1000), "probe timeout in seconds"});
  out.push_back({"health_check_max_retries", std::to_string(c.health_check.max_retries), "failed probes retried"});
  out.push_back({"load_balance_mode", c.load_balance.enabled ? "on" : "off", "reads spread over backends"});
  out.push_back({"failover_mode", std::string(conf::to_string(c.failover.mode)), "builtin, command or manual"});
  out.push_back({"pcp_listen", address(c.admin.pcp_listen), "PCP address"});
  out.push_back({"http_listen", address(c.admin.http_listen), "HTTP endpoints"});
  for (std::size_t i = 0; i < c.backends.size(); ++i) {
    const auto& b = c.backends[i];
    if (b.removed) continue;
    const auto n = std::to_string(i);
    out.push_back({"backend_hostname" + n, b.host, "backend #" + n + " hostname"});
    out.push_back({"backend_port" + n, std::to_string(b.port), "backend #" + n + " port number"});
    out.push_back({"backend_weight" + n, std::to_string(b.weight), "weight of backend #" + n});
    out.push_back({"backend_data_directory" + n, b.data_directory.value_or(""), "data directory for backend #" + n});
    out.push_back({"backend_application_name" + n, b.name, "name of backend #" + n});
  }
  return out;
}

}  // namespace pgr::proxy
