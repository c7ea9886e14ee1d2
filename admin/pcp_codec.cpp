// PCP codec (see pcp_codec.hpp).
#include "admin/pcp_codec.hpp"

#include <cstdio>

#include "protocol/md5_auth.hpp"

namespace pgr::admin::pcp {

namespace {

constexpr std::string_view k_complete = "CommandComplete";
constexpr double k_rand_max = 2147483647.0;  // pcp_node_info divides the weight by RAND_MAX

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

// A packet of NUL-terminated strings.
std::string packet(char type, const std::vector<std::string_view>& strings) {
  std::string body;
  for (const auto s : strings) body.append(s).push_back('\0');
  std::string out(1, type);
  put_u32(out, static_cast<std::uint32_t>(body.size() + 4));
  return out + body;
}


}  // namespace

FrameReader::Result FrameReader::next() {
  if (buffer_.size() < 5) return {};
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(buffer_[i])); };
  const std::uint32_t length = (byte(1) << 24) | (byte(2) << 16) | (byte(3) << 8) | byte(4);
  if (length < 4 || length > k_max_packet) {
    return {std::nullopt, "invalid PCP packet length " + std::to_string(length)};
  }
  if (buffer_.size() < 1 + static_cast<std::size_t>(length)) return {};
  Frame frame{buffer_[0], buffer_.substr(5, length - 4)};
  buffer_.erase(0, 1 + static_cast<std::size_t>(length));
  return {std::move(frame), {}};
}

std::optional<AuthRequest> parse_auth(std::string_view payload) {
  const auto nul = payload.find('\0');
  if (nul == std::string_view::npos || nul == 0 || nul > 128) return std::nullopt;
  const auto rest = payload.substr(nul + 1);
  const auto end = rest.find('\0');
  if (end == std::string_view::npos || end != 32) return std::nullopt;
  return AuthRequest{std::string(payload.substr(0, nul)), std::string(rest.substr(0, end))};
}

std::optional<int> parse_node_id(std::string_view payload) {
  const auto nul = payload.find('\0');
  if (nul == std::string_view::npos) return std::nullopt;
  std::string_view digits = payload.substr(0, nul);
  while (!digits.empty() && digits.back() == ' ') digits.remove_suffix(1);
  bool negative = false;
  if (digits.starts_with('-')) {
    negative = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 6) return std::nullopt;
  int value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

std::optional<PromoteRequest> parse_promote(std::string_view payload) {
  const auto nul = payload.find('\0');
  if (nul == std::string_view::npos || nul + 1 >= payload.size()) return std::nullopt;
  const auto id = parse_node_id(payload.substr(0, nul + 1));
  const char option = payload[nul + 1];
  if (!id || *id < 0 || (option != 's' && option != 'n')) return std::nullopt;
  return PromoteRequest{*id, option == 's'};
}

std::string expected_hash(std::string_view md5_password, std::string_view user,
                          const std::array<std::uint8_t, 4>& salt) {
  std::string first(md5_password);
  first.append(user);
  std::string second = protocol::md5_hex(first);
  second.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  return protocol::md5_hex(second);
}

bool hashes_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string salt_reply(const std::array<std::uint8_t, 4>& salt) {
  std::string out(1, 'm');
  put_u32(out, 8);
  out.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  return out;
}

std::string auth_ok_reply() { return packet('r', {"AuthenticationOK"}); }

std::string error_reply(std::string_view severity, std::string_view message, std::string_view detail) {
  std::string body;
  body.append("S").append(severity).push_back('\0');
  body.append("M").append(message).push_back('\0');
  if (!detail.empty()) body.append("D").append(detail).push_back('\0');
  body.push_back('\0');
  std::string out(1, 'E');
  put_u32(out, static_cast<std::uint32_t>(body.size() + 4));
  return out + body;
}

std::string command_complete(char type) { return packet(type, {k_complete}); }

std::string node_count_reply(std::size_t count) {
  const auto n = std::to_string(count);
  return packet('l', {k_complete, n});
}

std::string node_info_reply(const std::vector<NodeInfo>& nodes) {
  const auto size = std::to_string(nodes.size());
  std::string out = packet('i', {"ArraySize", size});
  for (const auto& n : nodes) {
    char weight[32];
    std::snprintf(weight, sizeof weight, "%f", n.weight * k_rand_max);
    const auto port = std::to_string(n.port);
    const auto status = std::to_string(n.status);
    const auto role = std::to_string(n.role);
    const auto delay = std::to_string(n.delay);
    const auto changed = std::to_string(n.status_changed);
    // 4.3's order: hostname, port, status, quarantine, pg_status, weight (scaled by
    // RAND_MAX, as pgpool keeps it), role, pg_role, delay, replication state, sync state,
    // status change time
    out += packet('i', {"NodeInfo", n.host, port, status, "0", n.pg_status, weight, role, n.pg_role, delay,
                        n.replication_state, n.replication_sync_state, changed});
  }
  out += packet('i', {k_complete});
  return out;
}

std::string health_check_stats_reply(const std::vector<std::string>& fields) {
  std::vector<std::string_view> strings{k_complete};
  for (const auto& f : fields) strings.push_back(f);
  return packet('h', strings);
}

std::string process_count_reply(const std::vector<int>& pids) {
  std::vector<std::string> text{std::to_string(pids.size())};
  for (const int pid : pids) text.push_back(std::to_string(pid));
  std::vector<std::string_view> strings{k_complete};
  for (const auto& t : text) strings.push_back(t);
  return packet('n', strings);
}

std::string process_info_reply(const std::vector<std::vector<std::string>>& records) {
  const auto size = std::to_string(records.size());
  std::string out = packet('p', {"ArraySize", size});
  for (const auto& record : records) {
    std::vector<std::string_view> strings{"ProcessInfo"};
    for (const auto& f : record) strings.push_back(f);
    out += packet('p', strings);
  }
  out += packet('p', {k_complete});
  return out;
}

std::string pool_status_reply(const std::vector<ConfigItem>& items) {
  // ArraySize carries a binary big-endian count here, unlike every other reply.
  std::string out(1, 'b');
  put_u32(out, static_cast<std::uint32_t>(4 + 10 + 4));
  out.append("ArraySize").push_back('\0');
  put_u32(out, static_cast<std::uint32_t>(items.size()));
  for (const auto& item : items) {
    out += packet('b', {"ProcessConfig", item.name, item.value, item.description});
  }
  out += packet('b', {k_complete});
  return out;
}

}  // namespace pgr::admin::pcp
