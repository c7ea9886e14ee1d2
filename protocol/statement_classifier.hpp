// Read/write classification of SQL text for the read/write split: may this simple query ('Q')
// or Parse ('P') SQL run on a hot standby, and what does it do to the session's transaction and
// session state? Pure and allocation-free: one lexer pass (plus short look-aheads) over the
// input, string_views into it, no recursion on anything the input controls.
//
// The rule is pgpool-II's: whatever is not known to be read-only goes to the primary. A string
// with several statements is routed as a whole (any write → primary). The classifier reports
// facts; the router (which knows the session's transaction state) makes the final decision.
//
// Thread rules: none; every function here is a pure function of its arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pgr::protocol {

// Where the SQL may run. Ordered by strength: a string's route is the strongest of its
// statements'.
enum class Route : std::uint8_t {
  either,      // no preference of its own (BEGIN, SET, FETCH, empty query): goes wherever the
               // session/transaction currently is; the router decides
  standby_ok,  // read-only: a hot standby can run it
  primary,     // writes, or might: only the primary can run it
};

// What the SQL is. Ordered by strength like Route; for several statements the strongest wins.
enum class StatementKind : std::uint8_t {
  empty,                // no statement at all (only whitespace, comments, `;`)
  session_setting,      // SET, RESET, DISCARD, DEALLOCATE, LOAD, SET LOCAL, SET CONSTRAINTS
  transaction_control,  // BEGIN/START, COMMIT/END, ROLLBACK/ABORT, SAVEPOINT, RELEASE, SET TRANSACTION
  cursor,               // FETCH, MOVE, CLOSE: they run wherever the cursor lives
  read,                 // SELECT/VALUES/TABLE/WITH/SHOW/COPY TO/EXPLAIN that write nothing
  unknown,              // not recognised, EXECUTE, or malformed (routed to the primary)
  write,                // DML, DDL, locking reads, write functions, maintenance, ...
};

enum class IsolationLevel : std::uint8_t {
  unspecified,
  read_uncommitted,
  read_committed,
  repeatable_read,
  serializable,
};

// Net effect on the explicit transaction block, in statement order: the last of the string's
// statements that begins or ends one decides ("BEGIN; ...; COMMIT" ends, "COMMIT; BEGIN" begins).
enum class TransactionEffect : std::uint8_t { none, begins, ends };

// The classification of a whole SQL string. Flags are ORed over its statements.
// prepared_name views into the classified string: it lives only as long as that string.
struct Classification {
  Route route = Route::either;
  StatementKind kind = StatementKind::empty;
  std::size_t statement_count = 0;  // non-empty statements
  // An unterminated quote, quoted identifier, comment or dollar quote: the server will reject
  // the whole string, so route = primary, kind = unknown and the facts below are cleared.
  bool malformed = false;

  // Transaction facts.
  bool begins_transaction = false;  // BEGIN, START TRANSACTION, or ... AND CHAIN
  bool ends_transaction = false;    // COMMIT/END/ROLLBACK/ABORT (not ... TO SAVEPOINT), PREPARE TRANSACTION
  TransactionEffect transaction_effect = TransactionEffect::none;
  bool is_savepoint_cmd = false;  // SAVEPOINT, RELEASE [SAVEPOINT], ROLLBACK TO [SAVEPOINT]
  // Access mode / isolation named by BEGIN, START TRANSACTION, SET TRANSACTION, SET SESSION
  // CHARACTERISTICS AS TRANSACTION (session_state tells the last one apart) or
  // SET transaction_read_only. READ WRITE also forces route = primary: a standby refuses it.
  bool read_only_transaction = false;
  bool read_write_transaction = false;
  IsolationLevel isolation = IsolationLevel::unspecified;
  bool serializable_or_repeatable_read = false;

  // Session facts.
  // Effects that outlive the transaction and must be replayed on every backend the session
  // uses: SET (not SET LOCAL/SET TRANSACTION/SET CONSTRAINTS), RESET, DISCARD, SET ROLE,
  // SET SESSION AUTHORIZATION, SET SESSION CHARACTERISTICS, PREPARE, DEALLOCATE, LOAD,
  // and SELECT set_config(...).
  bool session_state = false;
  // State that exists only on the primary from now on: CREATE TEMP objects (or objects in
  // pg_temp), SELECT ... INTO TEMP, session-level advisory locks, LISTEN.
  bool pins_to_primary = false;
  bool declares_cursor = false;    // DECLARE ... CURSOR (route follows its query)
  bool cursor_with_hold = false;   // DECLARE ... WITH HOLD: the cursor outlives the transaction
  bool executes_prepared = false;  // EXECUTE name: the router knows what `name` is
  // The statement name of the first PREPARE name AS / EXECUTE name / DEALLOCATE [PREPARE] name,
  // as written (a quoted name keeps its quotes; see identifier_name() in sql_lexer.hpp).
  std::string_view prepared_name;

  // Hints: a block comment before the first token. /*pgrouter:primary*/ and pgpool's
  // /*NO LOAD BALANCE*/ force route = primary. /*pgrouter:standby*/ only sets hint_standby:
  // it never makes a write eligible for a standby; the router may use it for reads it would
  // otherwise pin. Case and whitespace inside the comment do not matter.
  bool hint_primary = false;
  bool hint_standby = false;

  friend bool operator==(const Classification&, const Classification&) = default;
};

struct ClassifierOptions {
  // Extra functions that make a statement a write, on top of the built-in list (nextval,
  // setval, advisory locks, large objects, pg_notify, txid_current, pg_switch_wal, ...).
  // "name" matches name(...) and any_schema.name(...); "schema.name" matches schema.name(...)
  // and unqualified name(...). Compared ASCII case-insensitively.
  std::span<const std::string> write_functions{};
};

Classification classify_sql(std::string_view sql, const ClassifierOptions& options);
Classification classify_sql(std::string_view sql);

}  // namespace pgr::protocol
