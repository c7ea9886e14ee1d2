// Read-your-writes freshness (see read_your_writes.hpp).
#include "proxy/read_your_writes.hpp"

#include <algorithm>

namespace pgr::proxy {

void ReadYourWrites::on_write_committed(time_point at) {
  // A newer commit needs a newer primary sample; it covers every older commit too.
  pending_since_ = at;
}

void ReadYourWrites::resolve(const health::ClusterView& view) {
  if (!pending_since_) return;
  const health::NodeView* primary = view.primary_node();
  if (primary == nullptr || !primary->last_error.empty()) return;
  if (primary->last_probe <= *pending_since_) return;
  required_lsn_ = std::max(required_lsn_, primary->current_lsn);
  pending_since_.reset();
}

bool ReadYourWrites::allows(const health::ClusterView& view, const health::NodeView& node) {
  if (view.primary && *view.primary == node.index) return true;
  resolve(view);
  if (pending_since_) return false;
  return node.replay_lsn >= required_lsn_;
}

}  // namespace pgr::proxy
