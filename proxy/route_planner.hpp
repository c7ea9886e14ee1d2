// Where one unit of a client's work runs: the pure routing decision of a session.
//
// A unit is what must run on one node: a simple Query, a FunctionCall, or the extended-query
// messages up to a Sync. The planner takes the unit's facts (from the statement classifier and
// the session's prepared statements), the session's routing state (transaction, pins, its
// reader, read-your-writes) and the published ClusterView, and names the node, the reason, and
// whether a read-only side transaction must be opened there first. The session I/O applies the
// decision; replies (ReadyForQuery) come back through on_unit_finished().
//
// Transactions, as pgpool-II users expect them:
//  - BEGIN runs on the primary; until the first write, reads may run on a standby inside a
//    read-only side transaction opened there (transaction_reads = until_write), closed when the
//    client's transaction ends. After a write, savepoint or pin, everything stays on the primary.
//  - BEGIN READ ONLY runs the whole transaction on one standby; REPEATABLE READ/SERIALIZABLE
//    read-write transactions (and transaction_reads = primary) run wholly on the primary.
//  - A failed transaction stays where it failed until it ends.
// Sessions that create temp tables, take advisory locks or LISTEN are pinned to the primary.
//
// Thread rules: a value inside one session, on its worker; functions are pure.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "health/cluster_view.hpp"
#include "protocol/statement_classifier.hpp"
#include "proxy/read_balancer.hpp"
#include "proxy/read_your_writes.hpp"

namespace pgr::proxy {

struct RoutingPolicy {
  bool enabled = true;              // false: everything on the primary
  bool session_reader = false;      // load_balance.mode = session
  bool reads_in_transactions = true;  // transaction_reads = until_write
  bool read_your_writes = true;
  bool read_only_port = false;      // standbys only; writes are refused by them (25006)
  ReadPolicy reads;
};

// What the session knows about one unit before it runs.
struct UnitFacts {
  protocol::Route route = protocol::Route::either;
  protocol::StatementKind kind = protocol::StatementKind::empty;
  bool begins_transaction = false;  // net effect of the unit: leaves a transaction open
  bool ends_transaction = false;    // net effect: closes the open transaction
  bool read_only_transaction = false;
  bool serializable_or_repeatable_read = false;
  bool serializable = false;
  bool savepoint = false;
  bool pins_to_primary = false;
  bool session_state = false;  // SET, PREPARE, ...: in a transaction, keeps it on its home
  bool hint_standby = false;
  // The unit uses a portal or cursor that lives on this node (bound earlier in a transaction).
  std::optional<std::size_t> required_node;
};

// The facts of one SQL string, as the classifier sees them.
UnitFacts unit_facts(const protocol::Classification& c);

enum class TxnMode : std::uint8_t {
  none,               // no transaction block open
  until_write,        // home = primary, reads may go to a side standby until the first write
  primary_only,       // home = primary for the whole transaction
  read_only_standby,  // home = one standby for the whole transaction
};

struct RoutingState {
  TxnMode txn = TxnMode::none;
  std::optional<std::size_t> txn_home;
  std::optional<std::size_t> txn_side;  // the standby holding the read-only side transaction
  bool txn_written = false;
  bool txn_home_only = false;  // a SET/PREPARE ran at home: later reads must see it there
  bool txn_failed = false;
  std::optional<std::size_t> last_node;   // where the previous unit ran
  std::optional<std::size_t> session_reader;  // mode = session: the chosen reader
  bool pinned = false;
  std::string_view pin_reason;
  ReadYourWrites writes;
  // Units with `writes` dispatched whose ReadyForQuery has not come back: reads planned
  // meanwhile (pipelined) go to the primary, since no standby can have those writes yet.
  std::uint32_t unconfirmed_writes = 0;
};

enum class RouteKind : std::uint8_t { read, write, other };
std::string_view to_string(RouteKind kind);

struct RouteDecision {
  std::size_t node = 0;
  RouteKind kind = RouteKind::other;  // for the per-node counters
  std::string_view reason;            // static text, for the debug log
  bool open_side_transaction = false;  // silently BEGIN READ ONLY on `node` before the unit
  // Counts as a write for read-your-writes once it commits: a write outside a transaction, or
  // the unit that ends a transaction that wrote. Pass it back to on_unit_finished().
  bool writes = false;
};

// Why no node could be chosen.
enum class NoRoute : std::uint8_t {
  no_primary,   // the unit needs the primary and there is none up: wait (failover) or fail
  no_standby,   // read-only port and no standby is eligible
  node_gone,    // the unit's portal/transaction lives on a node that is no longer usable
};
std::string_view describe(NoRoute why);

struct PlanResult {
  std::optional<RouteDecision> decision;
  NoRoute why = NoRoute::no_primary;  // when decision is empty
};

// `excluded[i]`: the session may not use node i now (its connection just failed and no probe
// has seen it since); shorter than the node list means "not excluded". `random01` in [0, 1).
// Updates `state` as if the unit will run (transaction mode, written flag, side, pins,
// last_node); on_unit_finished() corrects it from the server's answer.
PlanResult plan_unit(RoutingState& state, const UnitFacts& facts, const health::ClusterView& view,
                     const RoutingPolicy& policy, double random01, const std::vector<bool>& excluded);

// The server answered a unit that ran on `node` with ReadyForQuery `status`. `last` is true
// when no later unit is outstanding (only then may the server's status override the tentative
// state). `wrote`: the decision's `writes` flag; `committed`: the unit saw no error and did not
// end in ROLLBACK. `now` stamps a commit for read-your-writes.
void on_unit_finished(RoutingState& state, std::size_t node, char status, bool last, bool wrote, bool committed,
                      std::chrono::system_clock::time_point now);

// The node `node` is gone for this session (its connection failed): forget it as reader, side
// or home. Returns true when the open transaction lived there (the client's transaction is lost).
bool forget_node(RoutingState& state, std::size_t node);

}  // namespace pgr::proxy
