// The snapshot as JSON and back: GET /cluster and the admin socket send it, pgrouterctl
// reads it. One field list for both directions, so they cannot drift apart.
//
// Thread rules: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin {

[[nodiscard]] boost::json::value to_json(const NodeSnapshot& node);
[[nodiscard]] boost::json::value to_json(const ClusterSnapshot& snapshot);
// nullopt (and `error`) when `json` is not a snapshot.
[[nodiscard]] std::optional<ClusterSnapshot> snapshot_from_json(const boost::json::value& json,
                                                                std::string& error);

}  // namespace pgr::admin
