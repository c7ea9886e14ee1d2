// Fuzzes config loading: any bytes given to load_config_text (and to the auth file parser)
// give either a Config or errors, never an exception, a crash or a hang; and every error
// renders as one clean line. Catches nothing: an exception escaping is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "conf/auth_file.hpp"
#include "conf/config.hpp"

namespace {

// A broken invariant is a finding: crash so libFuzzer saves the input.
void check(bool condition) {
  if (!condition) __builtin_trap();
}

void check_error(const pgr::conf::ConfigError& error) {
  const std::string text = error.to_string();
  check(!error.problem.empty() && error.line >= 0);
  // One line, no control characters: user-written keys and values are quoted and escaped.
  for (const char c : text) check(static_cast<unsigned char>(c) >= 0x20);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // An empty base dir keeps relative paths relative to the working directory: a fuzzed
  // auth_file = "x" then reads nothing that matters, and absolute paths read what they name.
  const auto result = pgr::conf::load_config_text(text, "fuzz.toml", "");
  check((result.config == nullptr) != result.errors.empty());
  for (const auto& error : result.errors) check_error(error);
  if (result.config) {
    check(!result.config->backends.empty() && !result.config->proxy.listen.empty());
    check(result.config->proxy.workers >= 1);
  }

  const auto users = pgr::conf::parse_auth_file(text, "users.txt");
  for (const auto& error : users.errors) check_error(error);
  return 0;
}
