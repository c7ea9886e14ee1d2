// How far behind the primary each standby is, in bytes and in time, from probe results only.
//
// The primary's WAL position is sampled at every probe; a standby that has replayed LSN R is
// at least as fresh as the newest sample at or below R, and missing everything written after
// it. Its time lag is therefore taken as (standby probe time - that sample's time): an upper
// bound, so a delayed standby never looks fresher than it is, and 0 once it has replayed all
// the primary had at its last sample (an idle cluster shows no lag).
//
// Thread rules: a value owned by the health checker on the main thread; no clock of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "health/cluster_view.hpp"

namespace pgr::health {

struct StandbyLag {
  std::uint64_t bytes = 0;
  // nullopt when no primary sample the standby has replayed is in the history yet (just after
  // start-up, or a standby further behind than the history): its time lag is unknown.
  std::optional<std::chrono::milliseconds> time = std::chrono::milliseconds{0};
};

class LagTracker {
 public:
  using time_point = std::chrono::system_clock::time_point;

  // Keeps samples for at most `history` (older ones cannot change any decision: a standby
  // further behind than that is over every sensible limit anyway).
  explicit LagTracker(std::chrono::milliseconds history = std::chrono::minutes(5));

  // A primary probe at `at` saw its current WAL position `lsn`. Samples must come in time
  // order; one equal to the newest is ignored. A lower LSN (a new primary) restarts history.
  void record_primary(time_point at, std::uint64_t lsn);
  void reset() { samples_.clear(); }

  // nullopt until a primary sample exists.
  [[nodiscard]] std::optional<StandbyLag> lag_of(time_point probed_at,
                                                 std::uint64_t replay_lsn) const;
  [[nodiscard]] std::size_t sample_count() const { return samples_.size(); }

 private:
  struct Sample {
    time_point at;
    std::uint64_t lsn = 0;
  };
  std::chrono::milliseconds history_;
  std::deque<Sample> samples_;
};

// Feeds the view's primary sample to `tracker` (history restarts when the primary changes)
// and fills lag_bytes/lag for every standby with a successful probe.
void annotate_lag(LagTracker& tracker, std::optional<std::size_t>& tracked_primary, ClusterView& view);

}  // namespace pgr::health
