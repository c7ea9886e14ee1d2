// Timeline history parsing and the follow-without-rewind test (see timeline_history.hpp).
#include "failover/timeline_history.hpp"

#include <charconv>

namespace pgr::failover {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim_front(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trim_back(std::string_view s) {
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Splits off the leading token (up to the first blank); `rest` keeps what follows it.
std::string_view take_token(std::string_view& rest) {
  std::size_t end = 0;
  while (end < rest.size() && !is_blank(rest[end])) ++end;
  const std::string_view token = rest.substr(0, end);
  rest = trim_front(rest.substr(end));
  return token;
}

std::optional<std::uint32_t> parse_timeline_id(std::string_view text) {
  std::uint32_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value == 0) return std::nullopt;
  return value;
}

HistoryParseResult fail(int line, std::string problem) {
  return {std::nullopt, HistoryError{line, std::move(problem)}};
}

}  // namespace

std::string HistoryError::to_string() const {
  return line > 0 ? "line " + std::to_string(line) + ": " + problem : problem;
}

HistoryParseResult parse_timeline_history(std::string_view content, std::uint32_t timeline) {
  if (timeline == 0) return fail(0, "timeline 0 does not exist");
  TimelineHistory history;
  history.timeline = timeline;
  int line_number = 0;
  while (!content.empty()) {
    const std::size_t newline = content.find('\n');
    std::string_view line = content.substr(0, newline);
    content = newline == std::string_view::npos ? std::string_view() : content.substr(newline + 1);
    ++line_number;

    line = trim_back(trim_front(line));
    if (line.empty() || line.front() == '#') continue;
    const auto parent = parse_timeline_id(take_token(line));
    if (!parent) return fail(line_number, "expected a numeric timeline ID");
    const auto switchpoint = protocol::parse_lsn(take_token(line));
    if (!switchpoint) return fail(line_number, "expected a switchpoint location like 0/3000158");
    if (!history.ancestors.empty() && *parent <= history.ancestors.back().timeline) {
      return fail(line_number, "timeline IDs must be in increasing sequence");
    }
    if (*parent >= timeline) {
      return fail(line_number, "timeline " + std::to_string(*parent) +
                                   " is not older than the history's timeline " +
                                   std::to_string(timeline));
    }
    history.ancestors.push_back({*parent, *switchpoint, std::string(line)});
  }
  return {std::move(history), std::nullopt};
}

FollowCheck check_follow(const TimelineHistory& history, std::uint32_t standby_timeline,
                         protocol::lsn_t replay_lsn) {
  if (standby_timeline == history.timeline) return {FollowVerdict::follows, std::nullopt};
  for (const TimelineSwitch& entry : history.ancestors) {
    if (entry.timeline != standby_timeline) continue;
    // Equal is fine: the standby stopped exactly where the new timeline begins.
    const bool follows = replay_lsn <= entry.switchpoint;
    return {follows ? FollowVerdict::follows : FollowVerdict::diverged, entry.switchpoint};
  }
  return {FollowVerdict::unknown_timeline, std::nullopt};
}

std::string_view to_string(FollowVerdict verdict) {
  switch (verdict) {
    case FollowVerdict::follows: return "follows";
    case FollowVerdict::diverged: return "diverged";
    case FollowVerdict::unknown_timeline: return "unknown_timeline";
  }
  return "?";
}

}  // namespace pgr::failover
