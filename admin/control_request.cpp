// The admin socket's request language (see control_request.hpp).
#include "admin/control_request.hpp"

#include <vector>

namespace pgr::admin {

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::optional<ControlRequest> parse_control_request(std::string_view line, std::string& error) {
  if (line.size() > k_max_control_line) {
    error = "request too long";
    return std::nullopt;
  }
  const auto w = words(line);
  if (w.empty()) {
    error = "empty request";
    return std::nullopt;
  }
  ControlRequest r;
  const auto want = [&](std::size_t min, std::size_t max) {
    if (w.size() < min || w.size() > max) {
      error = "usage: " + std::string(w[0]) + (min > 1 ? " NODE" : "") +
              (w[0] == "promote" ? " [switchover]" : w[0] == "stop" ? " [smart|fast|immediate]" : "");
      return false;
    }
    return true;
  };
  if (w[0] == "list") {
    if (!want(1, 1)) return std::nullopt;
    r.kind = ControlKind::list;
  } else if (w[0] == "attach" || w[0] == "detach") {
    if (!want(2, 2)) return std::nullopt;
    r.kind = w[0] == "attach" ? ControlKind::attach : ControlKind::detach;
    r.node = std::string(w[1]);
  } else if (w[0] == "promote") {
    if (!want(2, 3)) return std::nullopt;
    if (w.size() == 3 && w[2] != "switchover") {
      error = "usage: promote NODE [switchover]";
      return std::nullopt;
    }
    r.kind = ControlKind::promote;
    r.node = std::string(w[1]);
    r.switchover = w.size() == 3;
  } else if (w[0] == "reload") {
    if (!want(1, 1)) return std::nullopt;
    r.kind = ControlKind::reload;
  } else if (w[0] == "stop") {
    if (!want(1, 2)) return std::nullopt;
    r.kind = ControlKind::stop;
    if (w.size() == 2) {
      if (w[1] == "smart") {
        r.stop_mode = StopMode::smart;
      } else if (w[1] == "fast") {
        r.stop_mode = StopMode::fast;
      } else if (w[1] == "immediate") {
        r.stop_mode = StopMode::immediate;
      } else {
        error = "stop mode must be smart, fast or immediate";
        return std::nullopt;
      }
    }
  } else {
    error = "unknown command \"" + std::string(w[0].substr(0, 40)) +
            "\"; known: list attach detach promote reload stop";
    return std::nullopt;
  }
  return r;
}

std::string format_control_request(const ControlRequest& r) {
  switch (r.kind) {
    case ControlKind::list: return "list\n";
    case ControlKind::attach: return "attach " + r.node + "\n";
    case ControlKind::detach: return "detach " + r.node + "\n";
    case ControlKind::promote: return "promote " + r.node + (r.switchover ? " switchover\n" : "\n");
    case ControlKind::reload: return "reload\n";
    case ControlKind::stop:
      return std::string("stop ") +
             (r.stop_mode == StopMode::smart ? "smart" : r.stop_mode == StopMode::fast ? "fast" : "immediate") + "\n";
  }
  return "list\n";
}

}  // namespace pgr::admin
