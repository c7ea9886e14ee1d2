// Whether a node may carry traffic, as failover decides it and the state file remembers it
// across restarts. The health checker says whether a node answers; this says whether pgrouter
// lets it serve, whatever it answers.
//
// Thread rules: plain enum and free functions; callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pgr::failover {

enum class AttachState : std::uint8_t {
  attached,   // in service (when the health checker also has it up)
  detached,   // taken out by an operator, or by manual failover mode; only an operator
              // re-attaches it
  fenced,     // the old primary, a false primary, a foreign or newer-timeline node
  diverged,   // replayed past the new timeline's switch point: needs pg_rewind
  following,  // repointed (or to be repointed) to the current primary; re-attached by itself
              // once it streams from it on the current timeline
};

std::string_view to_string(AttachState state);
// Inverse of to_string; nullopt for anything else.
std::optional<AttachState> parse_attach_state(std::string_view text);

}  // namespace pgr::failover
