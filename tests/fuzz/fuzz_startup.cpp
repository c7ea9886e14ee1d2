// Fuzzes the startup-phase decoder: the length peek and decode_startup must agree, and every
// StartupMessage decoded must re-encode to one that decodes to the same parameters.
#include <algorithm>
#include <variant>

#include "fuzz_support.hpp"
#include "protocol/messages.hpp"
#include "protocol/startup.hpp"

namespace {
using namespace pgr::protocol;
using pgr::fuzz::check;

void check_startup_round_trip(const StartupMessage& s) {
  check(s.major == 3 && s.find("user") != nullptr && !s.find("user")->empty());
  byte_buffer out;
  write_startup_message(out, s.parameters);
  const auto again = decode_startup(out);
  check(std::holds_alternative<StartupPacket>(again));
  const auto& packet = std::get<StartupPacket>(again);
  check(std::holds_alternative<StartupMessage>(packet));
  const auto& s2 = std::get<StartupMessage>(packet);
  check(s2.parameters == s.parameters && s2.minor == 0 && s2.protocol_options.empty());

  if (s.needs_negotiation()) {
    byte_buffer reply;
    write_negotiate_protocol_version(reply, s);
    const auto view = view_message(reply);
    check(view.has_value() && view->type == 'v');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const bytes_view data(bytes, size);
  const auto peeked = peek_startup_length(data);
  check(peeked.has_value() == (size >= 4));

  const auto result = decode_startup(data);
  if (const auto* error = std::get_if<StartupError>(&result)) {
    check(error->sqlstate.size() == 5 && !error->message.empty());
    return 0;
  }
  // Anything decoded had a valid length that covers exactly the input.
  check(peeked && !peeked->error && peeked->length == size);
  const auto& packet = std::get<StartupPacket>(result);
  if (const auto* startup = std::get_if<StartupMessage>(&packet)) {
    check_startup_round_trip(*startup);
  } else if (const auto* cancel = std::get_if<CancelRequest>(&packet)) {
    byte_buffer out;
    write_cancel_request(out, *cancel);
    check(out.size() == size && std::equal(out.begin(), out.end(), bytes));
  } else {
    check(size == 8);
  }
  return 0;
}
