// Names of the attach states (see attach_state.hpp); the state file stores these words.
#include "failover/attach_state.hpp"

#include <array>

namespace pgr::failover {
namespace {

constexpr std::array k_names{
    std::string_view("attached"), std::string_view("detached"), std::string_view("fenced"),
    std::string_view("diverged"), std::string_view("following"),
};

}  // namespace

std::string_view to_string(AttachState state) {
  const auto i = static_cast<std::size_t>(state);
  return i < k_names.size() ? k_names[i] : std::string_view("?");
}

std::optional<AttachState> parse_attach_state(std::string_view text) {
  for (std::size_t i = 0; i < k_names.size(); ++i) {
    if (k_names[i] == text) return static_cast<AttachState>(i);
  }
  return std::nullopt;
}

}  // namespace pgr::failover
