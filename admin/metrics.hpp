// GET /metrics: the Prometheus text format, rendered from a snapshot at scrape time with
// prometheus-cpp's MetricFamily and TextSerializer. Every metric is declared once in the
// table in metrics.cpp (Envoy's ALL_*_STATS idea); names are pgrouter_<what>[_total].
//
// Thread rules: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin {

enum class MetricType { counter, gauge, histogram };

struct MetricDef {
  std::string_view name;
  MetricType type;
  std::string_view help;
};

[[nodiscard]] std::span<const MetricDef> metric_table();

[[nodiscard]] std::string render_metrics(const ClusterSnapshot& snapshot, std::string_view git_sha);

}  // namespace pgr::admin
