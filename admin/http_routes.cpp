// HTTP endpoint decisions (see http_routes.hpp).
#include "admin/http_routes.hpp"

#include <boost/json/serialize.hpp>

#include "admin/cluster_json.hpp"
#include "admin/metrics.hpp"
#include "admin/status_page.hpp"
#include "conf/config.hpp"

namespace pgr::admin {

namespace {

namespace json = boost::json;

HttpAnswer json_answer(unsigned status, const json::value& body) {
  return {status, "application/json", json::serialize(body) + "\n"};
}

HttpAnswer error_answer(unsigned status, std::string_view message) {
  return json_answer(status, json::object{{"error", message}});
}

// "a=1&lag=16MB" -> the value of `key`, nullopt when absent.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

HttpAnswer primary(const ClusterSnapshot& s) {
  if (s.primary && *s.primary < s.nodes.size() && s.nodes[*s.primary].serving) {
    return json_answer(200, to_json(s.nodes[*s.primary]));
  }
  return json_answer(503, json::object{{"role", "none"},
                                       {"error", s.failover_running ? "failover in progress"
                                                                    : "no writable primary"}});
}

HttpAnswer replica(const ClusterSnapshot& s, std::string_view query) {
  std::optional<std::uint64_t> max_lag;
  if (const auto lag = query_value(query, "lag")) {
    max_lag = conf::parse_size(*lag);
    if (!max_lag) return error_answer(400, "lag must be a size such as 16MB or a number of bytes");
  }
  for (const auto& n : s.nodes) {
    if (n.removed || n.is_primary || n.role != "standby" || !n.serving || n.weight <= 0) continue;
    if (max_lag && (!n.lag_bytes || *n.lag_bytes > *max_lag)) continue;
    return json_answer(200, to_json(n));
  }
  return json_answer(503, json::object{{"error", max_lag ? "no standby within the lag limit"
                                                         : "no standby in service"}});
}

}  // namespace

HttpAnswer answer_http(std::string_view method, std::string_view target, const HttpContext& ctx) {
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const bool check = method == "GET" || method == "HEAD" || method == "OPTIONS";
  if (!check) return error_answer(405, "only GET, HEAD and OPTIONS are served");
  const auto& s = ctx.snapshot;
  if (path == "/primary" || path == "/leader" || path == "/master" || path == "/read-write") return primary(s);
  if (path == "/replica" || path == "/read-only") return replica(s, query);
  if (path == "/health" || path == "/liveness" || path == "/readiness") {
    return json_answer(200, json::object{{"status", "ok"}, {"version", s.version}});
  }
  if (path == "/cluster") return json_answer(200, to_json(s));
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(s, ctx.git_sha)};
  }
  if (path == "/" || path == "/index.html") return {200, "text/html; charset=utf-8", status_page(s)};
  return error_answer(404, "no such endpoint; try /primary /replica /health /cluster /metrics /");
}

}  // namespace pgr::admin
