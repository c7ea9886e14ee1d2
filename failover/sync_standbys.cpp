// The set of standbys that hold every acknowledged commit (see sync_standbys.hpp).
#include "failover/sync_standbys.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pgr::failover {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

bool starts_with_keyword(std::string_view s, std::string_view keyword) {
  if (s.size() <= keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != keyword[i]) return false;
  }
  return std::isspace(static_cast<unsigned char>(s[keyword.size()])) != 0;
}

}  // namespace

std::string SyncSet::describe() const {
  std::string text = quorum ? "ANY " + std::to_string(quorum_k) + " of " : "sync: ";
  if (names.empty()) text += "(none)";
  for (const auto& name : names) text += (&name == &names.front() ? "" : ", ") + name;
  return text + " (" + std::to_string(needed) + " needed)";
}

std::optional<std::size_t> quorum_count(std::string_view setting) {
  std::string_view s = trim(setting);
  if (!starts_with_keyword(s, "ANY")) return std::nullopt;
  s = trim(s.substr(3));
  std::size_t k = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), k);
  if (ec != std::errc{} || ptr == s.data() || k == 0) return std::nullopt;
  return k;
}

std::optional<SyncSet> sync_set(std::string_view setting, std::span<const ReplicationPeer> peers) {
  if (trim(setting).empty()) return std::nullopt;
  SyncSet set;
  const auto k = quorum_count(setting);
  set.quorum = k.has_value();
  set.quorum_k = k.value_or(0);
  const std::string_view wanted = set.quorum ? "quorum" : "sync";
  for (const auto& peer : peers) {
    if (peer.sync_state == wanted && !peer.application_name.empty() &&
        std::find(set.names.begin(), set.names.end(), peer.application_name) == set.names.end()) {
      set.names.push_back(peer.application_name);
    }
  }
  std::sort(set.names.begin(), set.names.end());
  // ANY k of m: a commit may sit on only k of them; m - k + 1 compared always include one
  // that has it. More than m cannot be asked for (m < k means commits wait anyway).
  set.needed = set.quorum && set.names.size() >= set.quorum_k
                   ? set.names.size() - set.quorum_k + 1
                   : std::max<std::size_t>(1, set.quorum ? set.names.size() : 1);
  return set;
}

}  // namespace pgr::failover
