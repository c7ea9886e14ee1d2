// The HTTP endpoints' decisions, without sockets: a request line in, a status, a content type
// and a body out. Patroni's REST API is the model, so an HAProxy `option httpchk GET /primary`
// (or OPTIONS, or HEAD) or a cloud load balancer's check works as it does against port 8008:
//
//   /primary   200 when pgrouter has a writable primary in service, else 503 (also /leader)
//   /replica   200 when a standby is eligible for reads; ?lag=16MB (or bytes) bounds its lag
//   /health    200 while pgrouter serves
//   /cluster   every node as JSON (the snapshot)
//   /metrics   Prometheus text format
//   /          the status page (HTML)
//
// Thread rules: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "admin/cluster_snapshot.hpp"

namespace pgr::admin {

struct HttpAnswer {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct HttpContext {
  const ClusterSnapshot& snapshot;
  std::string_view git_sha;
};

[[nodiscard]] HttpAnswer answer_http(std::string_view method, std::string_view target,
                                     const HttpContext& context);

}  // namespace pgr::admin
