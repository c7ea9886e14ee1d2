// Fuzzes the hba_file parser and matcher: any bytes give rules and errors, never a crash or a
// hang; every error is one clean line naming the file and a line that exists; matching any
// request against the rules is safe.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "conf/hba.hpp"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t lines = 1;
  for (const char c : text) lines += c == '\n' ? 1U : 0U;
  const auto parsed = pgr::conf::parse_hba(text, "hba.conf");
  for (const auto& error : parsed.errors) {
    check(error.file == "hba.conf" && error.line >= 1 && static_cast<std::size_t>(error.line) <= lines);
    for (const char c : error.to_string()) check(static_cast<unsigned char>(c) >= 0x20);
  }
  for (const auto& rule : parsed.rules) check(rule.line >= 1 && static_cast<std::size_t>(rule.line) <= lines);
  pgr::conf::HbaRequest request;
  request.address = *pgr::conf::parse_hba_address("10.1.2.3");
  request.local_address = *pgr::conf::parse_hba_address("::1");
  for (const bool tls : {false, true}) {
    request.tls = tls;
    request.user = "app";
    request.database = "app";
    (void)pgr::conf::match_hba(parsed.rules, request);
    request.user = text.substr(0, 8);
    request.database = text.substr(0, 4);
    (void)pgr::conf::match_hba(parsed.rules, request);
  }
  return 0;
}
