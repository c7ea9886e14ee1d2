// What the admin interfaces may do to pgrouter, as callbacks the Server provides: a snapshot
// of the cluster, attach / detach / promote through the failover coordinator, reload and
// stop. The PCP socket, the admin socket (pgrouterctl) and the HTTP server share one
// Operations, so a pcp_detach_node and a `pgrouterctl detach` are the same act.
//
// Thread rules: every callback is called on the main thread and may complete later (the
// OpResult callback then runs on main too).
#pragma once

#include <cstddef>
#include <array>
#include <functional>
#include <map>
#include <vector>
#include <string>

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin {

struct OpResult {
  bool ok = false;
  std::string message;
};

using OpDone = std::function<void(OpResult)>;

enum class StopMode { smart, fast, immediate };

struct Operations {
  std::function<ClusterSnapshot()> snapshot;
  std::function<void(std::size_t node, OpDone done)> attach;
  std::function<void(std::size_t node, OpDone done)> detach;
  std::function<void(std::size_t node, bool switchover, OpDone done)> promote;
  std::function<OpResult()> reload;
  std::function<void(StopMode mode)> stop;
  // The applied config's PCP users (user -> md5 hex); read at each login, so reloads apply.
  std::function<const std::map<std::string, std::string>&()> pcp_users;
  // pcp_pool_status: name, value, description of the applied settings.
  std::function<std::vector<std::array<std::string, 3>>()> settings;
};

}  // namespace pgr::admin
