// What the pure failover plan needs from the [failover] configuration. conf/ owns the keys;
// the coordinator copies them into this struct, so failover/ does not depend on conf/.
// Credentials (user, password) and the state file path stay with the I/O layer.
//
// Thread rules: a plain value, copied into each FailoverPlan.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgr::failover {

enum class FailoverMode : std::uint8_t {
  builtin,  // pgrouter promotes with pg_promote() and repoints standbys with ALTER SYSTEM
  command,  // the operator's failover_command promotes; follow_primary_command repoints
  manual,   // pgrouter only detaches the failed primary and waits for an operator
};

std::string_view to_string(FailoverMode mode);

struct FailoverSettings {
  FailoverMode mode = FailoverMode::manual;  // the safe default: never promotes by itself
  // Templates with pgpool-II placeholders (failover/placeholders.hpp); "" = not configured.
  std::string failover_command;        // required in command mode
  std::string follow_primary_command;  // command mode: run once per standby that can follow;
                                       // "" leaves repointing to failover_command
  std::string rewind_command;          // run once per diverged standby; "" = only mark it
  std::chrono::milliseconds command_timeout{60'000};  // each command; then it counts as failed
  // Builtin: pg_promote's wait, then until the promoted node accepts writes. All modes: how
  // long repointed standbys get to stream from the new primary before the plan stops waiting.
  std::chrono::milliseconds wait_timeout{30'000};
  // Command mode: how long after failover_command succeeds to look for the new primary.
  std::chrono::milliseconds search_primary_timeout{300'000};
  // Standbys further than this behind the failed primary's last known LSN are not promoted.
  std::optional<std::uint64_t> max_lag_on_failover;
  // Synchronous mode: only these may be promoted; nullopt = any standby.
  std::optional<std::vector<std::string>> sync_standby_names;
  std::size_t sync_needed = 1;  // how many of them must qualify (see CandidatePolicy)
  bool auto_failback = false;  // see failover/fencing.hpp
};

}  // namespace pgr::failover
