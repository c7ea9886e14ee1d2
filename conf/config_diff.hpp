// What a reload changes: the keys whose values differ between the applied config and a newly
// loaded one, split into those applied live and those that need a restart. Live: log_level,
// max_client_connections, timeouts, [auth] users and settings, [load_balance], [health_check],
// [failover], backend weights and data directories, the PCP users. Restart: listen addresses,
// workers, max_message_size, adding, removing or re-addressing backends, and the [admin]
// addresses.
//
// Thread rules: pure functions.
#pragma once

#include <string>
#include <vector>

#include "conf/config.hpp"

namespace pgr::conf {

struct ConfigDiff {
  std::vector<std::string> live;     // "load_balance", "backends[1].weight", ...
  std::vector<std::string> restart;  // "proxy.listen", "backends", ...
};

[[nodiscard]] ConfigDiff diff_configs(const Config& applied, const Config& loaded);

// `loaded` with every restart-only setting taken from `applied`: what a reload applies.
[[nodiscard]] Config live_part(const Config& applied, const Config& loaded);

}  // namespace pgr::conf
