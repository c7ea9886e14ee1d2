// The admin socket's request language, shared by the server and pgrouterctl: one line of
// words, answered by one JSON object ({"ok": bool, "message": "...", "cluster": {...}}) after
// which the server closes the connection.
//
//   list | attach NODE | detach NODE | promote NODE [switchover] | reload | stop [smart|fast|immediate]
//
// NODE is a backend's name or index.
//
// Thread rules: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "admin/operations.hpp"

namespace pgr::admin {

enum class ControlKind { list, attach, detach, promote, reload, stop };

struct ControlRequest {
  ControlKind kind = ControlKind::list;
  std::string node;
  bool switchover = false;
  StopMode stop_mode = StopMode::smart;
};

inline constexpr std::size_t k_max_control_line = 1024;

[[nodiscard]] std::optional<ControlRequest> parse_control_request(std::string_view line, std::string& error);
[[nodiscard]] std::string format_control_request(const ControlRequest& request);

}  // namespace pgr::admin
