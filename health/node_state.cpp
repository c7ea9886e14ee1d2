// The per-node health state machine (see node_state.hpp).
#include "health/node_state.hpp"

#include <algorithm>

namespace pgr::health {

std::string_view to_string(NodeTransition transition) {
  switch (transition) {
    case NodeTransition::none: return "none";
    case NodeTransition::first_up: return "first_up";
    case NodeTransition::first_down: return "first_down";
    case NodeTransition::became_suspect: return "became_suspect";
    case NodeTransition::went_down: return "went_down";
    case NodeTransition::recovered: return "recovered";
    case NodeTransition::came_back: return "came_back";
  }
  return "?";
}

NodeDecision NodeState::on_probe_result(bool ok, time_point now) {
  const bool first = !probed_;
  probed_ = true;
  last_result_ = now;

  if (ok) {
    const NodeStatus before = status_;
    status_ = NodeStatus::up;
    failed_retries_ = 0;
    next_probe_ = now + settings_.period;
    if (first) return decide(NodeTransition::first_up);
    if (before == NodeStatus::suspect) return decide(NodeTransition::recovered);
    if (before == NodeStatus::down) return decide(NodeTransition::came_back);
    return decide(NodeTransition::none);
  }

  switch (status_) {
    case NodeStatus::up:
      if (settings_.max_retries > 0) {
        status_ = NodeStatus::suspect;
        failed_retries_ = 0;
        next_probe_ = now + settings_.retry_delay;
        return decide(NodeTransition::became_suspect);
      }
      status_ = NodeStatus::down;
      next_probe_ = now + settings_.period;
      return decide(NodeTransition::went_down);
    case NodeStatus::suspect:
      ++failed_retries_;
      if (failed_retries_ < settings_.max_retries) {
        next_probe_ = now + settings_.retry_delay;
        return decide(NodeTransition::none);
      }
      status_ = NodeStatus::down;
      next_probe_ = now + settings_.period;
      return decide(NodeTransition::went_down);
    case NodeStatus::down:
      // A node is never trusted before its first success, so an unprobed node goes straight
      // to down: retries protect a node in service from a blip, and this one is in none.
      next_probe_ = now + settings_.period;
      return decide(first ? NodeTransition::first_down : NodeTransition::none);
  }
  return decide(NodeTransition::none);
}

NodeDecision NodeState::on_failure_report(time_point now) {
  if (status_ == NodeStatus::up) {
    const auto gap = std::min(settings_.retry_delay, k_report_probe_gap);
    const time_point earliest = probed_ ? last_result_ + gap : now;
    next_probe_ = std::min(next_probe_, std::max(now, earliest));
  }
  return decide(NodeTransition::none);
}

}  // namespace pgr::health
