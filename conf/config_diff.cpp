// Reload diffs (see config_diff.hpp).
#include "conf/config_diff.hpp"

#include "conf/backend_slots.hpp"

namespace pgr::conf {

namespace {

std::string slot_label(const BackendConfig& b, std::size_t index) {
  return b.name + " (node " + std::to_string(index) + ", " + b.host + ":" + std::to_string(b.port) + ")";
}

}  // namespace

ConfigDiff diff_configs(const Config& a, const Config& b) {
  ConfigDiff d;
  const auto check = [](std::vector<std::string>& out, bool differs, const char* key) {
    if (differs) out.emplace_back(key);
  };
  check(d.restart, a.proxy.listen != b.proxy.listen, "proxy.listen");
  check(d.restart, a.proxy.read_only_listen != b.proxy.read_only_listen, "proxy.read_only_listen");
  check(d.restart, a.proxy.workers != b.proxy.workers, "proxy.workers");
  check(d.restart, a.proxy.max_message_size != b.proxy.max_message_size, "proxy.max_message_size");
  check(d.live, a.proxy.log_level != b.proxy.log_level, "proxy.log_level");
  check(d.live, a.proxy.max_client_connections != b.proxy.max_client_connections, "proxy.max_client_connections");
  check(d.live, a.proxy.client_login_timeout != b.proxy.client_login_timeout, "proxy.client_login_timeout");
  check(d.live, a.proxy.backend_connect_timeout != b.proxy.backend_connect_timeout, "proxy.backend_connect_timeout");
  check(d.live, a.proxy.max_user_connections != b.proxy.max_user_connections ||
                    a.proxy.max_db_connections != b.proxy.max_db_connections ||
                    a.proxy.max_pending_logins != b.proxy.max_pending_logins,
        "proxy limits");
  check(d.live, !(a.auth == b.auth), "auth");
  check(d.live, !(a.health_check == b.health_check), "health_check");
  check(d.live, !(a.load_balance == b.load_balance), "load_balance");
  check(d.restart, a.pool.mode != b.pool.mode, "pool.mode");
  {
    auto pa = a.pool;
    pa.mode = b.pool.mode;
    check(d.live, !(pa == b.pool), "pool");
  }
  check(d.live, !(a.failover == b.failover), "failover");
  check(d.live, !(a.tls == b.tls), "tls");
  check(d.restart, a.admin.pcp_listen != b.admin.pcp_listen, "admin.pcp_listen");
  check(d.restart, a.admin.pcp_socket_dir != b.admin.pcp_socket_dir, "admin.pcp_socket_dir");
  check(d.restart, a.admin.http_listen != b.admin.http_listen, "admin.http_listen");
  check(d.restart, a.admin.admin_socket != b.admin.admin_socket, "admin.admin_socket");
  check(d.live, a.admin.pcp_users != b.admin.pcp_users || a.admin.pcp_users_file != b.admin.pcp_users_file,
        "admin.pcp_users_file");
  const SlotPlan plan = assign_backend_slots(a.backends, b.backends);
  d.errors = plan.errors;
  for (const auto i : plan.added) d.live.push_back("backends: added " + slot_label(plan.slots[i], i));
  for (const auto i : plan.removed) d.live.push_back("backends: removed " + slot_label(plan.slots[i], i));
  for (const auto i : plan.changed) {
    const std::string prefix = "backends[" + std::to_string(i) + "].";
    if (a.backends[i].weight != plan.slots[i].weight) d.live.push_back(prefix + "weight");
    if (a.backends[i].data_directory != plan.slots[i].data_directory) d.live.push_back(prefix + "data_directory");
    if (a.backends[i].name != plan.slots[i].name || a.backends[i].named != plan.slots[i].named) {
      d.live.push_back(prefix + "name");
    }
  }
  return d;
}

Config live_part(const Config& applied, const Config& loaded) {
  Config out = loaded;
  out.proxy.listen = applied.proxy.listen;
  out.proxy.read_only_listen = applied.proxy.read_only_listen;
  out.proxy.workers = applied.proxy.workers;
  out.proxy.max_message_size = applied.proxy.max_message_size;
  out.admin.pcp_listen = applied.admin.pcp_listen;
  out.admin.pcp_socket_dir = applied.admin.pcp_socket_dir;
  out.admin.http_listen = applied.admin.http_listen;
  out.admin.admin_socket = applied.admin.admin_socket;
  out.pool.mode = applied.pool.mode;
  out.backends = assign_backend_slots(applied.backends, loaded.backends).slots;
  return out;
}

}  // namespace pgr::conf
