// Snapshot <-> JSON (see cluster_json.hpp).
#include "admin/cluster_json.hpp"

#include <boost/json.hpp>

namespace pgr::admin {

namespace json = boost::json;

namespace {

template <typename T>
json::value optional_value(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value(*v);
}

json::object probes_json(const ProbeStats& p) {
  return json::object{{"total", p.total},
                      {"success", p.success},
                      {"fail", p.fail},
                      {"retry", p.retry},
                      {"max_retry", p.max_retry},
                      {"duration_ms_sum", p.duration_ms_sum},
                      {"max_duration_ms", p.max_duration_ms},
                      {"min_duration_ms", p.min_duration_ms},
                      {"last_probe", p.last_probe},
                      {"last_success", p.last_success},
                      {"last_failure", p.last_failure}};
}

json::object pool_stats_json(const NodePoolStats& p) {
  json::array buckets;
  for (const auto count : p.wait_buckets) buckets.push_back(count);
  return json::object{{"idle", p.idle},
                      {"waiting", p.waiting},
                      {"held", p.held},
                      {"wait_buckets", std::move(buckets)},
                      {"wait_count", p.wait_count},
                      {"wait_sum_us", p.wait_sum_us}};
}

json::object pool_json(const PoolSnapshot& p) {
  return json::object{{"node", p.node},
                      {"database", p.database},
                      {"user", p.user},
                      {"active", p.active},
                      {"idle", p.idle},
                      {"waiting", p.waiting},
                      {"max_wait_us", p.max_wait_us}};
}

// Readers that tolerate missing fields (an older pgrouter) but not wrong types.
struct Reader {
  const json::object& o;
  std::string& error;

  template <typename T>
  void number(const char* key, T& out) const {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return;
    boost::system::error_code ec;
    const auto value = v->to_number<T>(ec);
    if (ec) {
      error = std::string("field ") + key + " is not a number";
      return;
    }
    out = value;
  }
  template <typename T>
  void optional_number(const char* key, std::optional<T>& out) const {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return;
    T value{};
    number(key, value);
    out = value;
  }
  void string(const char* key, std::string& out) const {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return;
    if (!v->is_string()) {
      error = std::string("field ") + key + " is not a string";
      return;
    }
    out = std::string(v->as_string());
  }
  void boolean(const char* key, bool& out) const {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return;
    if (!v->is_bool()) {
      error = std::string("field ") + key + " is not a boolean";
      return;
    }
    out = v->as_bool();
  }
};

void pool_stats_from_json(const json::value& value, NodePoolStats& p, std::string& error) {
  const Reader r{value.as_object(), error};
  r.number("idle", p.idle);
  r.number("waiting", p.waiting);
  r.number("held", p.held);
  r.number("wait_count", p.wait_count);
  r.number("wait_sum_us", p.wait_sum_us);
  const auto* buckets = value.as_object().if_contains("wait_buckets");
  if (buckets == nullptr || buckets->is_null()) return;
  if (!buckets->is_array()) {
    error = "field wait_buckets is not an array";
    return;
  }
  // Another pgrouter's bounds may differ in number: the common ones are read.
  const auto& items = buckets->as_array();
  for (std::size_t i = 0; i < items.size() && i < p.wait_buckets.size(); ++i) {
    boost::system::error_code ec;
    p.wait_buckets[i] = items[i].to_number<std::uint64_t>(ec);
    if (ec) error = "field wait_buckets has a non-number";
  }
}

PoolSnapshot pool_from_json(const json::object& o, std::string& error) {
  PoolSnapshot p;
  const Reader r{o, error};
  r.number("node", p.node);
  r.string("database", p.database);
  r.string("user", p.user);
  r.number("active", p.active);
  r.number("idle", p.idle);
  r.number("waiting", p.waiting);
  r.number("max_wait_us", p.max_wait_us);
  return p;
}

NodeSnapshot node_from_json(const json::object& o, std::string& error) {
  NodeSnapshot n;
  const Reader r{o, error};
  r.number("index", n.index);
  r.string("name", n.name);
  r.string("host", n.host);
  r.number("port", n.port);
  r.number("weight", n.weight);
  r.string("role", n.role);
  r.string("status", n.status);
  r.boolean("is_primary", n.is_primary);
  r.string("held_out", n.held_out);
  r.boolean("serving", n.serving);
  r.number("timeline", n.timeline);
  r.optional_number("lag_bytes", n.lag_bytes);
  r.optional_number("lag_ms", n.lag_ms);
  r.string("replication_state", n.replication_state);
  r.string("upstream", n.upstream);
  r.string("last_error", n.last_error);
  r.number("last_status_change", n.last_status_change);
  if (const auto* t = o.if_contains("traffic"); t != nullptr && t->is_object()) {
    const Reader tr{t->as_object(), error};
    tr.number("reads", n.traffic.reads);
    tr.number("writes", n.traffic.writes);
    tr.number("others", n.traffic.others);
    tr.number("connections", n.traffic.connections);
  }
  if (const auto* p = o.if_contains("pool"); p != nullptr && p->is_object()) pool_stats_from_json(*p, n.pool, error);
  if (const auto* p = o.if_contains("health_check"); p != nullptr && p->is_object()) {
    const Reader pr{p->as_object(), error};
    pr.number("total", n.probes.total);
    pr.number("success", n.probes.success);
    pr.number("fail", n.probes.fail);
    pr.number("retry", n.probes.retry);
    pr.number("max_retry", n.probes.max_retry);
    pr.number("duration_ms_sum", n.probes.duration_ms_sum);
    pr.number("max_duration_ms", n.probes.max_duration_ms);
    pr.number("min_duration_ms", n.probes.min_duration_ms);
    pr.number("last_probe", n.probes.last_probe);
    pr.number("last_success", n.probes.last_success);
    pr.number("last_failure", n.probes.last_failure);
  }
  return n;
}

}  // namespace

json::value to_json(const NodeSnapshot& n) {
  return json::object{
      {"index", n.index},
      {"name", n.name},
      {"host", n.host},
      {"port", n.port},
      {"weight", n.weight},
      {"role", n.role},
      {"status", n.status},
      {"is_primary", n.is_primary},
      {"held_out", n.held_out},
      {"serving", n.serving},
      {"timeline", n.timeline},
      {"lag_bytes", optional_value(n.lag_bytes)},
      {"lag_ms", optional_value(n.lag_ms)},
      {"replication_state", n.replication_state},
      {"upstream", n.upstream},
      {"last_error", n.last_error},
      {"last_status_change", n.last_status_change},
      {"traffic",
       json::object{{"reads", n.traffic.reads},
                    {"writes", n.traffic.writes},
                    {"others", n.traffic.others},
                    {"connections", n.traffic.connections}}},
      {"pool", pool_stats_json(n.pool)},
      {"health_check", probes_json(n.probes)},
  };
}

json::value to_json(const ClusterSnapshot& s) {
  json::array nodes;
  for (const auto& n : s.nodes) {
    if (!n.removed) nodes.push_back(to_json(n));
  }
  json::array pools;
  for (const auto& p : s.pools) pools.push_back(pool_json(p));
  json::array failovers;
  for (const auto& f : s.recent_failovers) {
    failovers.push_back(json::object{
        {"at", f.at}, {"took_ms", f.took_ms}, {"promoted", f.promoted}, {"summary", f.summary}});
  }
  return json::object{
      {"version", s.version},
      {"started_at", s.started_at},
      {"generation", s.generation},
      {"primary", s.primary ? json::value(*s.primary) : json::value(nullptr)},
      {"clients", s.clients},
      {"clients_accepted", s.clients_accepted},
      {"failovers", s.failovers},
      {"failover_running", s.failover_running},
      {"recent_failovers", std::move(failovers)},
      {"nodes", std::move(nodes)},
      {"pool_mode", s.pool_mode},
      {"max_backend_connections", s.max_backend_connections},
      {"pools", std::move(pools)},
  };
}

std::optional<ClusterSnapshot> snapshot_from_json(const json::value& value, std::string& error) {
  if (!value.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto& o = value.as_object();
  ClusterSnapshot s;
  const Reader r{o, error};
  r.string("version", s.version);
  r.number("started_at", s.started_at);
  r.number("generation", s.generation);
  r.optional_number("primary", s.primary);
  r.number("clients", s.clients);
  r.number("clients_accepted", s.clients_accepted);
  r.number("failovers", s.failovers);
  r.boolean("failover_running", s.failover_running);
  r.string("pool_mode", s.pool_mode);
  r.number("max_backend_connections", s.max_backend_connections);
  if (const auto* pools = o.if_contains("pools"); pools != nullptr && !pools->is_null()) {
    if (!pools->is_array()) {
      error = "field pools is not an array";
      return std::nullopt;
    }
    for (const auto& item : pools->as_array()) {
      if (!item.is_object()) {
        error = "a pool is not an object";
        return std::nullopt;
      }
      s.pools.push_back(pool_from_json(item.as_object(), error));
    }
  }
  if (const auto* f = o.if_contains("recent_failovers"); f != nullptr && f->is_array()) {
    for (const auto& item : f->as_array()) {
      if (!item.is_object()) continue;
      FailoverRecord rec;
      const Reader fr{item.as_object(), error};
      fr.number("at", rec.at);
      fr.number("took_ms", rec.took_ms);
      fr.boolean("promoted", rec.promoted);
      fr.string("summary", rec.summary);
      s.recent_failovers.push_back(std::move(rec));
    }
  }
  const auto* nodes = o.if_contains("nodes");
  if (nodes == nullptr || !nodes->is_array()) {
    error = "no nodes array";
    return std::nullopt;
  }
  for (const auto& item : nodes->as_array()) {
    if (!item.is_object()) {
      error = "a node is not an object";
      return std::nullopt;
    }
    s.nodes.push_back(node_from_json(item.as_object(), error));
  }
  if (!error.empty()) return std::nullopt;
  return s;
}

}  // namespace pgr::admin
