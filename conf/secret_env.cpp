// Secrets from environment variables (the *_env keys): one rule for every secret key — X,
// X_file or X_env, exactly one of them.
#include <cstdlib>

#include "conf/key_reader.hpp"

namespace pgr::conf::detail {

std::optional<std::string> read_secret_env(const Field& f) {
  const auto name = read_nonempty_string(f);
  if (!name) return std::nullopt;
  bool valid = name->size() <= 255 && !(name->front() >= '0' && name->front() <= '9');
  for (const char c : *name) {
    valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!valid) {
    f.error("not an environment variable name: " + quote_value(*name));
    return std::nullopt;
  }
  const char* value = std::getenv(name->c_str());
  if (value == nullptr || *value == '\0') {
    f.error("environment variable " + *name + " is not set or empty");
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace pgr::conf::detail
