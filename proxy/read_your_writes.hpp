// Read-your-writes for one session, without a round trip on any write.
//
// When a write commits, pgrouter does not know its LSN. What it does know, from the health
// checker, is the primary's WAL position at each probe and each standby's replay position.
// Any primary position sampled after the commit is at or past the commit, so: once a primary
// probe newer than the commit exists, its LSN becomes the session's requirement, and a standby
// may serve the session's reads only if it has replayed at least that. Until such a probe
// exists, the session reads from the primary.
//
// Thread rules: a value inside one session, on its worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "health/cluster_view.hpp"

namespace pgr::proxy {

class ReadYourWrites {
 public:
  using time_point = std::chrono::system_clock::time_point;

  // The session's write committed (ReadyForQuery 'I' after a writing transaction, or an
  // autocommit write) at `at`.
  void on_write_committed(time_point at);

  // Resolves a pending commit against `view` (a primary probe after it fixes the LSN), then
  // says whether `node` may serve this session's reads. The primary always may.
  bool allows(const health::ClusterView& view, const health::NodeView& node);

  bool pending() const { return pending_since_.has_value(); }
  std::uint64_t required_lsn() const { return required_lsn_; }

 private:
  void resolve(const health::ClusterView& view);

  std::optional<time_point> pending_since_;
  std::uint64_t required_lsn_ = 0;
};

}  // namespace pgr::proxy
