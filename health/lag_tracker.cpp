// Standby lag from primary WAL samples (see lag_tracker.hpp).
#include "health/lag_tracker.hpp"

#include <algorithm>

namespace pgr::health {

LagTracker::LagTracker(std::chrono::milliseconds history) : history_(history) {}

void LagTracker::record_primary(time_point at, std::uint64_t lsn) {
  if (!samples_.empty()) {
    const auto& newest = samples_.back();
    if (at <= newest.at) return;
    if (lsn < newest.lsn) samples_.clear();  // another primary (or timeline): start over
  }
  // Consecutive samples with the same LSN: only the oldest matters for "first written at",
  // and the newest time is what "has replayed all" compares with, so keep both ends of a run.
  if (samples_.size() >= 2 && samples_.back().lsn == lsn &&
      samples_[samples_.size() - 2].lsn == lsn) {
    samples_.back().at = at;
  } else {
    samples_.push_back({at, lsn});
  }
  while (samples_.size() > 2 && at - samples_.front().at > history_) samples_.pop_front();
}

std::optional<StandbyLag> LagTracker::lag_of(time_point probed_at, std::uint64_t replay_lsn) const {
  if (samples_.empty()) return std::nullopt;
  const auto& newest = samples_.back();
  if (replay_lsn >= newest.lsn) return StandbyLag{};
  StandbyLag lag;
  // Bytes behind the primary *when the standby was probed*: the probes of different nodes
  // are not simultaneous, and under a write load comparing with a later primary sample
  // would charge the standby with WAL written after its probe. Interpolate between the
  // primary samples around the standby's probe (the newest one when it came later).
  std::uint64_t primary_then = newest.lsn;
  for (std::size_t i = 0; i < samples_.size(); ++i) {
    if (samples_[i].at <= probed_at) continue;
    if (i == 0) {
      primary_then = samples_[0].lsn;
    } else {
      const auto& a = samples_[i - 1];
      const auto& b = samples_[i];
      const auto span = std::chrono::duration<double>(b.at - a.at).count();
      const auto into = std::chrono::duration<double>(probed_at - a.at).count();
      const auto grown = static_cast<double>(b.lsn - a.lsn) * (span > 0 ? into / span : 1.0);
      primary_then = a.lsn + static_cast<std::uint64_t>(grown);
    }
    break;
  }
  lag.bytes = primary_then > replay_lsn ? primary_then - replay_lsn : 0;
  // The newest sample the standby has fully replayed. If there is none, the oldest sample only
  // bounds the lag from below (right after start-up that bound is tiny): the lag is unknown.
  for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
    if (it->lsn <= replay_lsn) {
      lag.time = std::chrono::milliseconds{0};
      if (probed_at > it->at) lag.time = std::chrono::duration_cast<std::chrono::milliseconds>(probed_at - it->at);
      return lag;
    }
  }
  lag.time = std::nullopt;
  return lag;
}

void annotate_lag(LagTracker& tracker, std::optional<std::size_t>& tracked_primary, ClusterView& view) {
  if (view.primary != tracked_primary) {
    tracker.reset();
    tracked_primary = view.primary;
  }
  // Only a primary whose last probe succeeded gives a sample: after a failed probe its LSN is
  // the old one, and pairing it with the new time would make standbys look fresher.
  if (const NodeView* primary = view.primary_node(); primary && primary->last_error.empty()) {
    tracker.record_primary(primary->last_probe, primary->current_lsn);
  }
  for (auto& node : view.nodes) {
    if (node.role != NodeRole::standby) continue;
    if (const auto lag = tracker.lag_of(node.last_probe, node.replay_lsn)) {
      node.lag_bytes = lag->bytes;
      node.lag = lag->time;
    }
  }
}

}  // namespace pgr::health
