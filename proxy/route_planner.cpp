// The routing decision of a session (see route_planner.hpp).
#include "proxy/route_planner.hpp"

namespace pgr::proxy {

namespace {

using protocol::Route;
using protocol::StatementKind;

bool is_excluded(const std::vector<bool>& excluded, std::size_t i) {
  return i < excluded.size() && excluded[i];
}

// A node the session may keep using: still configured, not down, not excluded.
bool still_usable(const health::ClusterView& view, const std::vector<bool>& excluded, std::size_t i) {
  return i < view.nodes.size() && view.nodes[i].status != health::NodeStatus::down &&
         !is_excluded(excluded, i);
}

std::optional<std::size_t> usable_primary(const health::ClusterView& view, const std::vector<bool>& excluded) {
  if (!view.primary || !still_usable(view, excluded, *view.primary)) return std::nullopt;
  return view.primary;
}

RouteKind kind_of(const UnitFacts& facts) {
  switch (facts.kind) {
    case StatementKind::read: return RouteKind::read;
    case StatementKind::write:
    case StatementKind::unknown: return RouteKind::write;
    default: return RouteKind::other;
  }
}

bool is_write(const UnitFacts& facts) {
  return facts.route == Route::primary &&
         (facts.kind == StatementKind::write || facts.kind == StatementKind::unknown);
}

PlanResult on_node(std::size_t node, const UnitFacts& facts, std::string_view reason) {
  RouteDecision d;
  d.node = node;
  d.kind = kind_of(facts);
  d.reason = reason;
  d.writes = is_write(facts);
  return {d, NoRoute::no_primary};
}

PlanResult none(NoRoute why) { return {std::nullopt, why}; }

PlanResult to_primary(const health::ClusterView& view, const std::vector<bool>& excluded,
                      const UnitFacts& facts, std::string_view reason) {
  const auto primary = usable_primary(view, excluded);
  if (!primary) return none(NoRoute::no_primary);
  return on_node(*primary, facts, reason);
}

// A standby (never the primary) for a side transaction or the read-only port.
std::optional<std::size_t> choose_standby(RoutingState& state, const health::ClusterView& view,
                                          const RoutingPolicy& policy, double random01,
                                          const std::vector<bool>& excluded) {
  ReadPolicy reads = policy.reads;
  reads.primary_reads = false;
  ReadYourWrites* writes = policy.read_your_writes && !policy.read_only_port ? &state.writes : nullptr;
  if (writes != nullptr && state.unconfirmed_writes > 0) return std::nullopt;  // no standby has them yet
  const auto choice = choose_reader(view, reads, writes, random01, excluded);
  if (!choice.node || choice.fell_back_to_primary) return std::nullopt;
  return choice.node;
}

// A reader outside a transaction: the session's reader (mode = session) while it stays
// eligible, else a weighted choice; the primary when no standby is eligible.
PlanResult choose_read_node(RoutingState& state, const UnitFacts& facts, const health::ClusterView& view,
                            const RoutingPolicy& policy, double random01, const std::vector<bool>& excluded) {
  ReadYourWrites* writes = policy.read_your_writes && !facts.hint_standby ? &state.writes : nullptr;
  if (writes != nullptr && state.unconfirmed_writes > 0) {
    return to_primary(view, excluded, facts, "read, the session's write is still in flight");
  }
  if (policy.session_reader && state.session_reader) {
    const auto i = *state.session_reader;
    if (still_usable(view, excluded, i)) {
      const auto& node = view.nodes[i];
      const bool is_primary = view.primary == i;
      if ((is_primary && policy.reads.primary_reads) ||
          (!is_primary && standby_refusal(view, node, policy.reads, writes) == ReadRefusal::none)) {
        return on_node(i, facts, "read, the session's reader");
      }
    }
  }
  const auto choice = choose_reader(view, policy.reads, writes, random01, excluded);
  if (!choice.node) return none(NoRoute::no_primary);
  if (choice.fell_back_to_primary) {
    if (writes != nullptr && writes->pending()) return on_node(*choice.node, facts, "read, no standby has the session's writes yet");
    return on_node(*choice.node, facts, "read, no standby eligible");
  }
  if (policy.session_reader) state.session_reader = choice.node;
  return on_node(*choice.node, facts, view.primary == choice.node ? "read, weighted choice (primary)" : "read, weighted choice");
}

PlanResult plan_read_only_port(RoutingState& state, const UnitFacts& facts, const health::ClusterView& view,
                               const RoutingPolicy& policy, double random01, const std::vector<bool>& excluded) {
  if (state.txn != TxnMode::none && state.txn_home) {
    if (!still_usable(view, excluded, *state.txn_home)) return none(NoRoute::node_gone);
    return on_node(*state.txn_home, facts, "read-only port, the transaction's standby");
  }
  if (policy.session_reader && state.session_reader && still_usable(view, excluded, *state.session_reader) &&
      standby_refusal(view, view.nodes[*state.session_reader], policy.reads, nullptr) == ReadRefusal::none) {
    return on_node(*state.session_reader, facts, "read-only port, the session's standby");
  }
  const auto standby = choose_standby(state, view, policy, random01, excluded);
  if (!standby) return none(NoRoute::no_standby);
  if (policy.session_reader) state.session_reader = standby;
  return on_node(*standby, facts, "read-only port");
}

// Opens the tentative transaction state for a unit that leaves one open on `node`.
void open_transaction(RoutingState& state, TxnMode mode, std::size_t node) {
  state.txn = mode;
  state.txn_home = node;
  state.txn_side.reset();
  state.txn_written = false;
  state.txn_home_only = false;
  state.txn_failed = false;
}

PlanResult plan_in_transaction(RoutingState& state, const UnitFacts& facts, const health::ClusterView& view,
                               const RoutingPolicy& policy, double random01, const std::vector<bool>& excluded) {
  const std::size_t home = *state.txn_home;
  if (!still_usable(view, excluded, home)) return none(NoRoute::node_gone);
  if (facts.pins_to_primary && !state.pinned) {
    state.pinned = true;  // outlives the transaction (temp tables, session locks, LISTEN)
    state.pin_reason = "temporary objects, advisory locks or LISTEN";
  }
  if (facts.route == Route::primary && !facts.ends_transaction) state.txn_written = true;
  if (facts.ends_transaction || facts.begins_transaction) {
    return on_node(home, facts, "ends the transaction, on its home");
  }
  if (state.txn_failed) {
    const auto where = state.last_node.value_or(home);
    if (!still_usable(view, excluded, where)) return none(NoRoute::node_gone);
    return on_node(where, facts, "failed transaction, where it failed");
  }
  if (facts.required_node) {
    if (!still_usable(view, excluded, *facts.required_node)) return none(NoRoute::node_gone);
    return on_node(*facts.required_node, facts, "portal or cursor lives there");
  }
  if (state.txn != TxnMode::until_write) return on_node(home, facts, "transaction's home");

  // until_write: reads may use a side standby until the transaction writes.
  // SET (LOCAL or not), PREPARE, ...: later reads of this transaction must see their effect.
  if (facts.session_state || facts.kind == StatementKind::session_setting) state.txn_home_only = true;
  const bool needs_home = facts.route == Route::primary || facts.savepoint || facts.pins_to_primary;
  if (needs_home || state.txn_written || state.txn_home_only) {
    if (facts.savepoint) state.txn_written = true;  // savepoints exist on the home only
    return on_node(home, facts, state.txn_written ? "transaction has written, on the primary" : "transaction, on the primary");
  }
  if (facts.route == Route::standby_ok) {
    if (state.txn_side && still_usable(view, excluded, *state.txn_side)) {
      return on_node(*state.txn_side, facts, "read in a transaction, its side standby");
    }
    if (const auto standby = choose_standby(state, view, policy, random01, excluded)) {
      state.txn_side = standby;
      auto result = on_node(*standby, facts, "read in a transaction before its first write");
      result.decision->open_side_transaction = true;
      return result;
    }
    return on_node(home, facts, "read in a transaction, no standby eligible");
  }
  // either: wherever the transaction ran last (SET, FETCH, ...).
  const auto where = state.last_node && still_usable(view, excluded, *state.last_node) ? *state.last_node : home;
  return on_node(where, facts, "no preference, where the transaction ran last");
}

PlanResult plan_outside_transaction(RoutingState& state, const UnitFacts& facts, const health::ClusterView& view,
                                    const RoutingPolicy& policy, double random01, const std::vector<bool>& excluded) {
  if (facts.pins_to_primary && !state.pinned) {
    state.pinned = true;
    state.pin_reason = "temporary objects, advisory locks or LISTEN";
  }
  if (!policy.enabled) return to_primary(view, excluded, facts, "load balancing disabled");
  if (state.pinned) return to_primary(view, excluded, facts, "session pinned to the primary");
  if (facts.route == Route::primary) {
    auto result = to_primary(view, excluded, facts, facts.kind == StatementKind::unknown ? "not known to be read-only" : "write");
    if (result.decision && facts.begins_transaction) {
      open_transaction(state, TxnMode::until_write, result.decision->node);
      state.txn_written = true;
    }
    return result;
  }
  if (facts.begins_transaction) {
    // A hot standby refuses SERIALIZABLE (0A000); REPEATABLE READ READ ONLY is fine there.
    if (facts.read_only_transaction && facts.route != Route::primary && policy.reads_in_transactions &&
        !facts.serializable) {
      auto result = choose_read_node(state, facts, view, policy, random01, excluded);
      if (result.decision) {
        const auto node = result.decision->node;
        open_transaction(state, view.primary == node ? TxnMode::primary_only : TxnMode::read_only_standby, node);
        result.decision->reason = "read-only transaction";
      }
      return result;
    }
    const bool whole_on_primary = facts.serializable_or_repeatable_read || !policy.reads_in_transactions;
    auto result = to_primary(view, excluded, facts, whole_on_primary ? "transaction wholly on the primary" : "begins a transaction");
    if (result.decision) {
      open_transaction(state, whole_on_primary ? TxnMode::primary_only : TxnMode::until_write, result.decision->node);
    }
    return result;
  }
  if (facts.required_node) {
    if (!still_usable(view, excluded, *facts.required_node)) return none(NoRoute::node_gone);
    return on_node(*facts.required_node, facts, "portal or statement lives there");
  }
  if (facts.route == Route::standby_ok) return choose_read_node(state, facts, view, policy, random01, excluded);
  // either (SET, empty query, ...): where the session ran last, else the primary.
  if (state.last_node && still_usable(view, excluded, *state.last_node)) {
    return on_node(*state.last_node, facts, "no preference, where the session ran last");
  }
  if (auto result = to_primary(view, excluded, facts, "no preference"); result.decision) return result;
  return choose_read_node(state, facts, view, policy, random01, excluded);
}

}  // namespace

UnitFacts unit_facts(const protocol::Classification& c) {
  UnitFacts f;
  f.route = c.route;
  f.kind = c.kind;
  f.begins_transaction = c.transaction_effect == protocol::TransactionEffect::begins;
  f.ends_transaction = c.transaction_effect == protocol::TransactionEffect::ends;
  f.read_only_transaction = c.read_only_transaction;
  f.serializable_or_repeatable_read = c.serializable_or_repeatable_read;
  f.serializable = c.isolation == protocol::IsolationLevel::serializable;
  f.savepoint = c.is_savepoint_cmd;
  f.pins_to_primary = c.pins_to_primary || c.cursor_with_hold;
  f.session_state = c.session_state;
  f.hint_standby = c.hint_standby;
  return f;
}

std::string_view to_string(RouteKind kind) {
  switch (kind) {
    case RouteKind::read: return "read";
    case RouteKind::write: return "write";
    case RouteKind::other: return "other";
  }
  return "?";
}

std::string_view describe(NoRoute why) {
  switch (why) {
    case NoRoute::no_primary: return "no primary server is available";
    case NoRoute::no_standby: return "no standby server is available for reads";
    case NoRoute::node_gone: return "the server this transaction ran on is no longer available";
  }
  return "?";
}

PlanResult plan_unit(RoutingState& state, const UnitFacts& facts, const health::ClusterView& view,
                     const RoutingPolicy& policy, double random01, const std::vector<bool>& excluded) {
  PlanResult result;
  if (policy.read_only_port) {
    result = plan_read_only_port(state, facts, view, policy, random01, excluded);
    if (result.decision && facts.begins_transaction && state.txn == TxnMode::none) {
      open_transaction(state, TxnMode::read_only_standby, result.decision->node);
    }
  } else if (state.txn != TxnMode::none && state.txn_home) {
    result = plan_in_transaction(state, facts, view, policy, random01, excluded);
    if (result.decision && facts.ends_transaction && !facts.begins_transaction) {
      state.txn = TxnMode::none;  // tentative; the side transaction is closed by the caller
    }
  } else {
    result = plan_outside_transaction(state, facts, view, policy, random01, excluded);
  }
  if (result.decision) {
    state.last_node = result.decision->node;
    // A transaction that wrote commits with the unit that ends it.
    if (facts.ends_transaction && !facts.begins_transaction && state.txn_written) result.decision->writes = true;
    if (state.txn != TxnMode::none) {
      // Inside a transaction a write is not visible to anyone until the commit.
      if (!facts.ends_transaction) result.decision->writes = false;
    }
    if (result.decision->writes) ++state.unconfirmed_writes;
  }
  return result;
}

void on_unit_finished(RoutingState& state, std::size_t node, char status, bool last, bool wrote, bool committed,
                      std::chrono::system_clock::time_point now) {
  if (wrote && state.unconfirmed_writes > 0) --state.unconfirmed_writes;
  if (status == 'I' && committed && (wrote || (last && state.txn_written))) state.writes.on_write_committed(now);
  if (!last) return;
  switch (status) {
    case 'I':
      state.txn = TxnMode::none;
      state.txn_home.reset();
      state.txn_side.reset();  // the caller rolls the side transaction back
      state.txn_written = false;
      state.txn_home_only = false;
      state.txn_failed = false;
      break;
    case 'T':
      state.txn_failed = false;  // ROLLBACK TO SAVEPOINT recovered it
      if (state.txn == TxnMode::none) {
        // The server opened a transaction the classifier did not foresee (a BEGIN inside a
        // function, an extended-protocol BEGIN in a larger unit, ...): keep it where it is.
        state.txn = TxnMode::primary_only;
        state.txn_home = node;
        state.txn_written = wrote;
      }
      break;
    case 'E':
      if (state.txn == TxnMode::none) {
        state.txn = TxnMode::primary_only;
        state.txn_home = node;
      }
      state.txn_failed = true;
      state.last_node = node;
      break;
    default: break;
  }
}

bool forget_node(RoutingState& state, std::size_t node) {
  if (state.session_reader == node) state.session_reader.reset();
  if (state.last_node == node) state.last_node.reset();
  if (state.txn_side == node) {
    state.txn_side.reset();
    if (state.txn != TxnMode::none) state.txn_failed = true;  // the client's reads there are lost
    state.last_node = state.txn_home;
    return false;
  }
  if (state.txn != TxnMode::none && state.txn_home == node) {
    state.txn = TxnMode::none;
    state.txn_home.reset();
    state.txn_side.reset();
    state.txn_written = false;
    state.txn_failed = false;
    return true;
  }
  return false;
}

}  // namespace pgr::proxy
