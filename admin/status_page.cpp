// The status page (see status_page.hpp).
#include "admin/status_page.hpp"

#include <cstdio>
#include <ctime>

#include "admin/list_table.hpp"
#include "admin/pgpool_report.hpp"

namespace pgr::admin {

namespace {

// "-" for never, else pgpool's local time format (as pcp_health_check_stats shows it).
std::string when(std::int64_t unix_seconds) {
  return unix_seconds == 0 ? "-" : format_unix_time(unix_seconds);
}

std::string number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", value);
  return buf;
}

std::string cell(std::string_view text, std::string_view css = "") {
  std::string out = "<td";
  if (!css.empty()) out.append(" class=\"").append(css).append("\"");
  return out.append(">").append(html_escape(text)).append("</td>");
}

constexpr std::string_view k_head = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>pgrouter status</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.35em .8em;border:1px solid #ccc;text-align:left}
th{background:#333;color:#fff}td.num{text-align:right}
.ok{background:#d8f5d8}.warn{background:#fff2c2}.bad{background:#f9d0d0}.primary{font-weight:bold}
small{color:#666}
</style></head><body>
)";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string status_page(const ClusterSnapshot& s) {
  std::string out(k_head);
  out.append("<h1>pgrouter ").append(html_escape(s.version)).append("</h1>\n<p>");
  out.append(std::to_string(s.clients)).append(" clients connected, ");
  out.append(std::to_string(s.clients_accepted)).append(" accepted since ").append(when(s.started_at));
  out.append("; ").append(std::to_string(s.failovers)).append(" failovers");
  if (s.failover_running) out.append(" &mdash; <b>a failover is running</b>");
  out.append("</p>\n<table id=\"nodes\"><tr><th>Node</th><th>Host</th><th>Role</th><th>State</th>"
             "<th>TL</th><th>Lag (MB)</th><th>Lag (s)</th><th>Weight</th><th>Reads</th><th>Writes</th>"
             "<th>Other</th><th>Connections</th><th>Probes ok/failed</th><th>Last error</th></tr>\n");
  for (const auto& n : s.nodes) {
    if (n.removed) continue;
    const std::string state = node_state(n);
    const char* css = n.serving ? "ok" : (n.held_out.empty() && n.status == "suspect") ? "warn" : "bad";
    out.append("<tr class=\"").append(css).append(n.is_primary ? " primary" : "").append("\">");
    out += cell(n.name);
    out += cell(n.host + ":" + std::to_string(n.port));
    out += cell(n.is_primary ? "primary" : n.role);
    out += cell(n.held_out.empty() ? state : n.held_out);
    out += cell(n.timeline == 0 ? "" : std::to_string(n.timeline), "num");
    const bool standby = !n.is_primary && n.role == "standby";
    out += cell(standby && n.lag_bytes ? number(static_cast<double>(*n.lag_bytes) / 1048576.0) : "", "num");
    out += cell(standby && n.lag_ms ? number(static_cast<double>(*n.lag_ms) / 1000.0) : "", "num");
    out += cell(number(n.weight), "num");
    out += cell(std::to_string(n.traffic.reads), "num");
    out += cell(std::to_string(n.traffic.writes), "num");
    out += cell(std::to_string(n.traffic.others), "num");
    out += cell(std::to_string(n.traffic.connections), "num");
    out += cell(std::to_string(n.probes.success) + " / " + std::to_string(n.probes.fail), "num");
    out += cell(n.last_error);
    out.append("</tr>\n");
  }
  out.append("</table>\n<h2>Last failovers</h2>\n");
  if (s.recent_failovers.empty()) {
    out.append("<p>None since start.</p>\n");
  } else {
    out.append("<table id=\"failovers\"><tr><th>Started</th><th>Took (ms)</th><th>Result</th><th>Summary</th></tr>\n");
    for (auto it = s.recent_failovers.rbegin(); it != s.recent_failovers.rend(); ++it) {
      out.append("<tr class=\"").append(it->promoted ? "ok" : "bad").append("\">");
      out += cell(when(it->at));
      out += cell(std::to_string(it->took_ms), "num");
      out += cell(it->promoted ? "promoted" : "no promotion");
      out += cell(it->summary);
      out.append("</tr>\n");
    }
    out.append("</table>\n");
  }
  out.append("<p><small>Refreshes every 3 s. JSON: <a href=\"/cluster\">/cluster</a>, metrics: "
             "<a href=\"/metrics\">/metrics</a></small></p>\n</body></html>\n");
  return out;
}

}  // namespace pgr::admin
