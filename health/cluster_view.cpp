// Names of the ClusterView enums (see cluster_view.hpp), for logs and admin output.
#include "health/cluster_view.hpp"

namespace pgr::health {

std::string_view to_string(NodeRole role) {
  switch (role) {
    case NodeRole::unknown: return "unknown";
    case NodeRole::primary: return "primary";
    case NodeRole::standby: return "standby";
  }
  return "?";
}

std::string_view to_string(NodeStatus status) {
  switch (status) {
    case NodeStatus::up: return "up";
    case NodeStatus::suspect: return "suspect";
    case NodeStatus::down: return "down";
  }
  return "?";
}

}  // namespace pgr::health
