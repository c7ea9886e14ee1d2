// Fuzzes FrameScanner in both directions with random options and whole-type sets, feeding the
// same stream whole, in random pieces and byte by byte: all must reassemble the same messages
// and end the same way, and no event may claim bytes it was not given.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "protocol/frame_scanner.hpp"

namespace {
using namespace pgr::protocol;
using pgr::fuzz::check;

struct Outcome {
  std::vector<std::string> messages;
  FrameError error = FrameError::none;
  std::size_t leftover = 0;
  bool operator==(const Outcome&) const = default;
};

struct Setup {
  FrameScanner::Options options;
  std::string whole;
};

void check_header(const Setup& setup, const FrameEvent& e) {
  check(e.length >= 4 && e.length <= setup.options.max_message_length);
  const auto* t = setup.options.direction == Direction::frontend ? find_frontend_type(e.type)
                                                                 : find_backend_type(e.type);
  check(t != nullptr || !setup.options.reject_unknown_types);
  if (t != nullptr) check(e.length <= t->max_length);
  if (t != nullptr && t->exact_length > 0) check(e.length == t->exact_length);
}

// Consumes one message or partial event, reassembling streamed pieces.
void apply(const Setup& setup, const FrameEvent& e, std::string& pending, std::string& current,
           Outcome& out) {
  check(e.consumed > 0 && e.consumed <= pending.size());
  if (e.kind == FrameEvent::Kind::message) {
    check(current.empty() && e.type == pending[0] && std::size_t{e.length} + 1 == e.consumed);
    check_header(setup, e);
    out.messages.push_back(pending.substr(0, e.consumed));
  } else {
    check(e.kind == FrameEvent::Kind::partial);
    check(e.starts_message == current.empty());
    check(setup.whole.find(e.type) == std::string::npos);
    if (e.starts_message) check_header(setup, e);
    current.append(pending, 0, e.consumed);
    check(current.size() <= std::size_t{e.length} + 1);
    if (e.ends_message) {
      check(current.size() == std::size_t{e.length} + 1);
      out.messages.push_back(current);
      current.clear();
    }
  }
  pending.erase(0, e.consumed);
}

Outcome run(const Setup& setup, std::string_view stream, const std::vector<std::size_t>& cuts) {
  FrameScanner scanner(setup.options);
  for (char t : setup.whole) scanner.deliver_whole(t);
  Outcome out;
  std::string pending;
  std::string current;
  std::size_t at = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : stream.size();
    pending.append(stream.substr(at, end - at));
    at = end;
    for (;;) {
      const auto e = scanner.next(as_bytes(pending));
      if (e.kind == FrameEvent::Kind::error) {
        out.error = e.error;
        check(e.error != FrameError::none);
        return out;
      }
      if (e.kind == FrameEvent::Kind::need_more) {
        check(e.wanted > pending.size());
        break;
      }
      apply(setup, e, pending, current, out);
      check(scanner.at_boundary() == current.empty());
    }
  }
  out.leftover = pending.size() + current.size();
  return out;
}

Setup read_setup(bytes_view& data) {
  Setup setup;
  const auto flags = pgr::fuzz::take_byte(data);
  const auto hi = pgr::fuzz::take_byte(data);
  const auto lo = pgr::fuzz::take_byte(data);
  setup.options.direction = (flags & 1) != 0 ? Direction::backend : Direction::frontend;
  setup.options.reject_unknown_types = (flags & 2) != 0;
  if ((flags & 4) != 0) setup.options.max_message_length = 4u + (std::uint32_t{hi} << 8) + lo;
  const auto whole_count = pgr::fuzz::take_byte(data) % 8;
  for (int i = 0; i < whole_count; ++i) {
    setup.whole += static_cast<char>(pgr::fuzz::take_byte(data));
  }
  return setup;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  bytes_view data(bytes, size);
  const Setup setup = read_setup(data);
  const auto seed = pgr::fuzz::take_byte(data);
  const auto stream = as_chars(data);

  const Outcome whole = run(setup, stream, {});
  std::vector<std::size_t> cuts;
  for (std::size_t at = 0, i = 1; seed != 0 && at < stream.size(); ++i) {
    at += 1 + (seed * i) % 23;
    if (at < stream.size()) cuts.push_back(at);
  }
  check(run(setup, stream, cuts) == whole);
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  check(run(setup, stream, every_byte) == whole);
  return 0;
}
