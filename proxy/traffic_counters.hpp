// Per-worker traffic counters for /metrics: bytes relayed each way, ErrorResponses sent to
// clients by SQLSTATE class, and clients turned away by reason. Summed over the workers at
// scrape time (admin_hub.cpp), so the per-message path touches only its own worker's counters.
//
// Thread rules: written only on the owning worker's thread, with relaxed atomics (one writer,
// no contention, no locks); read by main when a snapshot is taken.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "admin/cluster_snapshot.hpp"

namespace pgr::proxy {

enum class RejectReason : std::uint8_t {
  max_connections,  // max_client_connections reached (53300)
  login_timeout,    // not logged in within client_login_timeout
  auth_failed,      // SQLSTATE class 28: wrong password, unknown user, method mismatch
  protocol_error,   // a malformed startup (08P01) or another login failure
  no_backend,       // authenticated, but no backend took the login
};
inline constexpr std::size_t k_reject_reasons = 5;
std::string_view to_string(RejectReason reason);
// A failed login's reason from the SQLSTATE it ends with (max_connections and login_timeout
// are known where they happen).
[[nodiscard]] RejectReason login_failure_reason(std::string_view sqlstate);

// 0..1295 for a class of two characters from 0-9 A-Z; k_error_classes when malformed.
inline constexpr std::size_t k_error_classes = 36 * 36;
[[nodiscard]] std::size_t sqlstate_class_index(std::string_view sqlstate);
[[nodiscard]] std::string sqlstate_class_text(std::size_t index);

struct alignas(64) WorkerCounters {
  std::atomic<std::uint64_t> bytes_to_server{0};
  std::atomic<std::uint64_t> bytes_to_client{0};
  std::array<std::atomic<std::uint64_t>, k_reject_reasons> rejected{};
  std::array<std::atomic<std::uint64_t>, k_error_classes + 1> errors{};  // the last: malformed

  void add_to_server(std::uint64_t n) { bytes_to_server.fetch_add(n, std::memory_order_relaxed); }
  void add_to_client(std::uint64_t n) { bytes_to_client.fetch_add(n, std::memory_order_relaxed); }
  void count_error(std::string_view sqlstate) {
    errors[sqlstate_class_index(sqlstate)].fetch_add(1, std::memory_order_relaxed);
  }
  void count_rejection(RejectReason reason) {
    rejected[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
};

// Adds one worker's counters into `out` (main thread, at snapshot time).
void add_worker_traffic(const WorkerCounters& counters, admin::ClientTraffic& out);

}  // namespace pgr::proxy
