// Per-worker traffic counters (see traffic_counters.hpp).
#include "proxy/traffic_counters.hpp"

#include <algorithm>

namespace pgr::proxy {

namespace {

int class_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

char digit_char(std::size_t d) { return d < 10 ? static_cast<char>('0' + d) : static_cast<char>('A' + d - 10); }

}  // namespace

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::max_connections: return "max_connections";
    case RejectReason::login_timeout: return "login_timeout";
    case RejectReason::auth_failed: return "auth_failed";
    case RejectReason::protocol_error: return "protocol_error";
    case RejectReason::no_backend: return "no_backend";
  }
  return "protocol_error";
}

RejectReason login_failure_reason(std::string_view sqlstate) {
  if (sqlstate.starts_with("28")) return RejectReason::auth_failed;
  if (sqlstate == "53300") return RejectReason::max_connections;
  return RejectReason::protocol_error;
}

std::size_t sqlstate_class_index(std::string_view sqlstate) {
  if (sqlstate.size() < 2) return k_error_classes;
  const int a = class_digit(sqlstate[0]);
  const int b = class_digit(sqlstate[1]);
  if (a < 0 || b < 0) return k_error_classes;
  return static_cast<std::size_t>(a * 36 + b);
}

std::string sqlstate_class_text(std::size_t index) {
  if (index >= k_error_classes) return "??";
  return {digit_char(index / 36), digit_char(index % 36)};
}

void add_worker_traffic(const WorkerCounters& c, admin::ClientTraffic& out) {
  out.bytes_to_server += c.bytes_to_server.load(std::memory_order_relaxed);
  out.bytes_to_client += c.bytes_to_client.load(std::memory_order_relaxed);
  if (out.rejected.empty()) {
    for (std::size_t i = 0; i < k_reject_reasons; ++i) {
      out.rejected.emplace_back(std::string(to_string(static_cast<RejectReason>(i))), 0);
    }
  }
  for (std::size_t i = 0; i < k_reject_reasons; ++i) out.rejected[i].second += c.rejected[i].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i <= k_error_classes; ++i) {
    const auto n = c.errors[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    const auto text = sqlstate_class_text(i);
    const auto it = std::find_if(out.errors.begin(), out.errors.end(), [&](const auto& e) { return e.first == text; });
    if (it != out.errors.end()) {
      it->second += n;
    } else {
      out.errors.emplace_back(text, n);
    }
  }
  std::sort(out.errors.begin(), out.errors.end());
}

}  // namespace pgr::proxy
