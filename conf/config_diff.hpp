// What a reload changes: the keys whose values differ between the applied config and a newly
// loaded one, split into those applied live and those that need a restart. Live: log_level,
// max_client_connections, timeouts, [auth] users and settings, [load_balance], [health_check],
// [failover], backends added and removed (node slots: conf/backend_slots.hpp), backend weights
// and data directories, the PCP users. Restart: listen addresses, workers, max_message_size
// and the [admin] addresses. `applied` is an applied config (its backends are node slots).
//
// Thread rules: pure functions.
#pragma once

#include <string>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf {

struct ConfigDiff {
  std::vector<std::string> live;     // "load_balance", "backends[1].weight", ...
  std::vector<std::string> restart;  // "proxy.listen", "admin.http_listen", ...
  std::vector<std::string> errors;   // why `loaded` cannot be applied over `applied`
};

[[nodiscard]] ConfigDiff diff_configs(const Config& applied, const Config& loaded);

// `loaded` with every restart-only setting taken from `applied`: what a reload applies.
[[nodiscard]] Config live_part(const Config& applied, const Config& loaded);

}  // namespace pgr::conf
