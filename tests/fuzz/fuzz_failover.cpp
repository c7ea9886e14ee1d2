// Fuzzes the failover module's inputs. The first byte picks the part:
//   0: the state file parser — errors are one printable line; what parses serializes to text
//      that parses back to the same state and serializes identically.
//   1: placeholder expansion — never crashes; validate and expand agree; with plain values the
//      result is exactly pgpool's naive substitution (quoting changes nothing there).
//   2: the failover plan fed a decoded event sequence — finished stays finished, actions name
//      configured nodes, nothing is followed before a node accepts writes, the failed primary
//      is never attached, and steps end no earlier than they start.
//   3: the timeline history parser (TIMELINE_HISTORY's content) — a result or one printable
//      error; a history is strictly increasing below its own timeline; check_follow on it
//      never names a switchpoint for the newest timeline and agrees with its own verdict.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "failover/failover_plan.hpp"
#include "failover/placeholders.hpp"
#include "failover/state_file.hpp"
#include "failover/timeline_history.hpp"
#include "fuzz_support.hpp"

namespace {

using pgr::fuzz::check;
using pgr::fuzz::split_once;
namespace fo = pgr::failover;

void fuzz_state_file(std::string_view text) {
  const auto parsed = fo::parse_state(text);
  check(parsed.state.has_value() != parsed.error.has_value());
  if (parsed.error) {
    check(parsed.error->line >= 0 && !parsed.error->problem.empty());
    for (const char c : parsed.error->to_string()) check(static_cast<unsigned char>(c) >= 0x20);
    return;
  }
  const std::string once = fo::serialize_state(*parsed.state);
  const auto again = fo::parse_state(once);
  check(again.state.has_value() && *again.state == *parsed.state);
  check(fo::serialize_state(*again.state) == once);
}

// pgpool's substitution without quoting: right whenever every value is plain.
std::string naive(std::string_view text, const fo::PlaceholderValues& v) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
    } else if (i + 1 < text.size()) {
      const char p = text[++i];
      const auto& n = std::string_view("dhpD").find(p) != std::string_view::npos ? v.node
                      : std::string_view("mHrR").find(p) != std::string_view::npos ? v.new_main
                                                                                   : v.old_primary;
      if (p == '%') out += '%';
      else if (p == 'd' || p == 'm' || p == 'P') out += std::to_string(n->id);
      else if (p == 'h' || p == 'H' || p == 'N') out += n->host;
      else if (p == 'p' || p == 'r' || p == 'S') out += std::to_string(n->port);
      else if (p == 'D' || p == 'R') out += n->data_directory;
      else if (p == 'M') out += std::to_string(*v.old_main_id);
    }
  }
  return out;
}

void fuzz_placeholders(std::string_view data) {
  const auto [text, rest] = split_once(data, '\x01');
  const auto [host, dir] = split_once(rest, '\x01');
  fo::PlaceholderValues v;
  v.node = fo::PlaceholderNode{3, std::string(host), 5432, std::string(dir)};
  v.new_main = fo::PlaceholderNode{1, "db1", 5433, "/pg/1"};
  v.old_main_id = 0;
  v.old_primary = fo::PlaceholderNode{0, "db0", 5434, ""};
  const auto expanded = fo::expand_command(text, v);
  check(expanded.command.has_value() != expanded.error.has_value());
  if (expanded.error) check(expanded.error->offset < text.size());

  // validate is expand without values and stricter (it also refuses what pgpool drops): it
  // refuses whatever expand refuses for the template's sake, at the same spot or earlier.
  const auto problem = fo::validate_command_template(text);
  const bool value_error =
      expanded.error && expanded.error->problem.starts_with("the value of");
  if (expanded.error && !value_error) check(problem && problem->offset <= expanded.error->offset);
  if (!problem) check(expanded.command || value_error);
  bool plain = !host.empty() && !dir.empty();
  for (const char c : std::string(host) + std::string(dir)) {
    plain = plain && fo::quote_for_shell(std::string(1, c)).size() == 1;
  }
  if (!problem && plain) check(expanded.command && *expanded.command == naive(text, v));
}

void fuzz_plan(std::string_view data) {
  fo::PlanInputs in;
  for (std::size_t i = 0; i < 4; ++i) {
    fo::PlanNode n;
    n.name = "node" + std::to_string(i);
    n.host = "h" + std::to_string(i);
    n.up = i != 0 && !data.empty() && ((static_cast<unsigned char>(data[0]) >> i) & 1u) != 0;
    n.standby = i != 0;
    n.system_identifier = 7;
    n.timeline = 2;
    n.received_lsn = 0x5000000 + i * 0x10;
    in.nodes.push_back(n);
  }
  in.failed = pgr::failover::FailedPrimary{7, 2, 0x5000100};
  const auto mode = data.empty() ? 0u : (static_cast<unsigned char>(data[0]) >> 5) % 3;
  in.settings.mode = static_cast<fo::FailoverMode>(mode);
  in.settings.failover_command = "f %d %m";
  const unsigned flags = data.size() > 1 ? static_cast<unsigned char>(data[1]) : 0u;
  in.settings.follow_primary_command = (flags & 1u) != 0 ? "g %d" : "";
  in.settings.rewind_command = (flags & 2u) != 0 ? "r %d" : "";
  fo::FailoverPlan plan(in);

  auto now = fo::TimePoint{} + std::chrono::seconds(1);
  bool was_finished = false;
  for (std::size_t i = 2; i + 2 < data.size(); i += 3) {
    const auto kind = static_cast<fo::EventKind>(static_cast<unsigned char>(data[i]) % 15);
    const auto node = static_cast<std::size_t>(static_cast<unsigned char>(data[i + 1]) % 5);
    const auto value = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 2]));
    fo::Event e;
    e.kind = kind;
    e.node = node;
    e.timeline = value % 5;
    e.replay_lsn = 0x5000000 + value * 0x4;
    e.exit_code = static_cast<int>(value % 3);
    e.from_primary = (value & 8) != 0;
    e.text = value & 16 ? "1\t0/3000158\tx\n2\t0/5000060\ty\n" : "junk";
    now += std::chrono::milliseconds(value);
    const fo::Action a = plan.next(e, now);
    check(!was_finished || plan.finished());
    was_finished = plan.finished();
    check(a.node < in.nodes.size());
    const bool follow_step = a.kind == fo::ActionKind::probe_standby ||
                             a.kind == fo::ActionKind::repoint ||
                             a.kind == fo::ActionKind::mark_following ||
                             a.kind == fo::ActionKind::mark_diverged ||
                             a.kind == fo::ActionKind::wait_for_streaming ||
                             a.kind == fo::ActionKind::attach;
    check(!follow_step || plan.outcome().new_primary.has_value());
    check(!(a.kind == fo::ActionKind::attach && a.node == in.failed_primary));
  }
  for (const auto& step : plan.steps()) check(!step.finished || *step.finished >= step.started);
}

}  // namespace

void fuzz_timeline_history(std::string_view input) {
  const std::uint32_t timeline = input.empty() ? 1u : static_cast<unsigned char>(input[0]) % 9u + 1u;
  const std::string_view text = input.empty() ? input : input.substr(1);
  const auto parsed = fo::parse_timeline_history(text, timeline);
  check(parsed.history.has_value() != parsed.error.has_value());
  if (parsed.error) {
    check(!parsed.error->problem.empty());
    for (const char c : parsed.error->to_string()) check(static_cast<unsigned char>(c) >= 0x20);
    return;
  }
  const auto& h = *parsed.history;
  check(h.timeline == timeline);
  std::uint32_t previous = 0;
  for (const auto& a : h.ancestors) {
    check(a.timeline > previous && a.timeline < timeline);
    previous = a.timeline;
  }
  for (std::uint32_t standby = 1; standby <= timeline + 1; ++standby) {
    for (const pgr::protocol::lsn_t replay : {pgr::protocol::lsn_t{0}, pgr::protocol::lsn_t{0x3000158},
                                              ~pgr::protocol::lsn_t{0}}) {
      const auto verdict = fo::check_follow(h, standby, replay);
      if (standby == timeline) check(verdict.verdict == fo::FollowVerdict::follows);
      if (standby > timeline) check(verdict.verdict == fo::FollowVerdict::unknown_timeline);
      if (verdict.verdict == fo::FollowVerdict::follows && verdict.switchpoint) {
        check(replay <= *verdict.switchpoint);
      }
      if (verdict.verdict == fo::FollowVerdict::diverged) {
        check(verdict.switchpoint.has_value() && replay > *verdict.switchpoint);
      }
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: fuzz_state_file(input); break;
    case 1: fuzz_placeholders(input); break;
    case 3: fuzz_timeline_history(input); break;
    default: fuzz_plan(input); break;
  }
  return 0;
}
