// pgpool-II 4.3's PCP wire protocol, as data: frames in, typed requests out; replies as bytes.
// No sockets. Every packet is one type byte, a 4-byte big-endian length that counts itself,
// then the payload (mostly NUL-terminated strings). A session goes:
//
//   client 'M'                 server 'm' + 4 salt bytes
//   client 'R' user\0 hash\0   server 'r' "AuthenticationOK\0", or 'E' and close
//   client request ...         server reply (types below), or 'E' with S/M/D fields
//   client 'X'                 (close)
//
// where hash = md5hex(md5hex(pcp.conf's md5hex + user) + salt). Requests: L node count,
// I node info (id, -1 = all), H health check stats, C attach, D/d detach, J/j promote
// ("id \0" then 's' for a switchover or 'n'), Z reload, T/t stop (mode s/f/i), N process
// count, P process info, B pool status. Replies carry the request's letter in lower case.
//
// Thread rules: pure values and functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgr::admin::pcp {

inline constexpr std::size_t k_max_packet = 8192;  // pgpool-II's own limit on requests

struct Frame {
  char type = 0;
  std::string payload;
};

// Splits a byte stream into frames. A length outside 4..k_max_packet is an error: the
// connection is answered with 'E' and closed.
class FrameReader {
 public:
  void append(std::string_view bytes) { buffer_.append(bytes); }
  struct Result {
    std::optional<Frame> frame;  // set when one is complete
    std::string error;           // set when the stream is malformed
  };
  [[nodiscard]] Result next();

 private:
  std::string buffer_;
};

// --- requests -----------------------------------------------------------------------------

struct AuthRequest {
  std::string user;
  std::string hash;  // 32 hex digits
};
[[nodiscard]] std::optional<AuthRequest> parse_auth(std::string_view payload);
// A node id as pcp sends it: decimal digits (or "-1") then NUL. nullopt when malformed.
[[nodiscard]] std::optional<int> parse_node_id(std::string_view payload);
struct PromoteRequest {
  int node = 0;
  bool switchover = false;
};
[[nodiscard]] std::optional<PromoteRequest> parse_promote(std::string_view payload);

// The hash a client with pcp.conf's `md5_password` sends for `salt`.
[[nodiscard]] std::string expected_hash(std::string_view md5_password, std::string_view user,
                                        const std::array<std::uint8_t, 4>& salt);
// Constant-time comparison.
[[nodiscard]] bool hashes_equal(std::string_view a, std::string_view b);

// --- replies ------------------------------------------------------------------------------

[[nodiscard]] std::string salt_reply(const std::array<std::uint8_t, 4>& salt);
[[nodiscard]] std::string auth_ok_reply();
// 'E': severity ("ERROR", "FATAL"), message and detail, as pcp prints them.
[[nodiscard]] std::string error_reply(std::string_view severity, std::string_view message,
                                      std::string_view detail);
// `type` + "CommandComplete\0": attach 'c', detach 'd', promote 'd', reload 'z', stop 't'.
[[nodiscard]] std::string command_complete(char type);
[[nodiscard]] std::string node_count_reply(std::size_t count);

// One pcp_node_info record; pgpool's numeric codes.
struct NodeInfo {
  std::string host;
  std::uint16_t port = 0;
  int status = 3;  // 1 waiting, 2 up, 3 down
  std::string pg_status;  // "up" / "down" as the node answers
  double weight = 0;      // normalized: this node's share
  int role = 3;           // 2 primary, 3 standby
  std::string pg_role;    // "primary" / "standby" / "unknown" as the node answers
  std::uint64_t delay = 0;  // bytes
  std::string replication_state;
  std::string replication_sync_state;
  std::int64_t status_changed = 0;  // unix seconds
};
[[nodiscard]] std::string node_info_reply(const std::vector<NodeInfo>& nodes);
// 'h': the 20 POOL_HEALTH_CHECK_STATS strings, in pgpool's order.
[[nodiscard]] std::string health_check_stats_reply(const std::vector<std::string>& fields);
[[nodiscard]] std::string process_count_reply(const std::vector<int>& pids);
// 'p': ArraySize, one ProcessInfo per record (POOL_REPORT_POOLS strings), CommandComplete.
[[nodiscard]] std::string process_info_reply(const std::vector<std::vector<std::string>>& records);
struct ConfigItem {
  std::string name;
  std::string value;
  std::string description;
};
[[nodiscard]] std::string pool_status_reply(const std::vector<ConfigItem>& items);

}  // namespace pgr::admin::pcp
