// GET /: one self-contained HTML page (no external assets) that refreshes itself every few
// seconds: every node's role, state, timeline, lag and traffic, and the last failovers.
//
// Thread rules: pure functions.
#pragma once

#include <string>

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin {

[[nodiscard]] std::string html_escape(std::string_view text);
[[nodiscard]] std::string status_page(const ClusterSnapshot& snapshot);

}  // namespace pgr::admin
