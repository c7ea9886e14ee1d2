// The statement classifier's tables: which leading keyword starts which kind of statement, and
// which function calls write, pin the session to the primary, or change session state. Kept
// apart from the classifier's logic so that extending a list never touches the control flow.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "protocol/sql_lexer.hpp"

namespace pgr::protocol::rules {

// The statement families the classifier tells apart by their first keyword.
enum class Head : std::uint8_t {
  unknown,      // not a statement we know: route to the primary
  write,        // DML, DDL, maintenance, CALL, DO, LOCK, NOTIFY, ...
  query,        // SELECT, VALUES, TABLE, WITH: a read unless its body writes
  show,         // SHOW
  explain,      // EXPLAIN [ANALYZE] <statement>
  copy,         // COPY ... FROM (write) / COPY ... TO (read)
  create,       // CREATE (TEMP objects pin the session)
  listen,       // LISTEN: write that pins the session
  begin,        // BEGIN [WORK|TRANSACTION] modes
  start,        // START TRANSACTION modes
  commit,       // COMMIT [AND CHAIN] / COMMIT PREPARED
  rollback,     // ROLLBACK [AND CHAIN] / ROLLBACK TO / ROLLBACK PREPARED
  end,          // END, ABORT
  savepoint,    // SAVEPOINT, RELEASE
  prepare,      // PREPARE name AS <statement> / PREPARE TRANSACTION
  execute,      // EXECUTE name
  deallocate,   // DEALLOCATE [PREPARE] name|ALL
  declare,      // DECLARE name ... CURSOR ... FOR <query>
  cursor_op,    // FETCH, MOVE, CLOSE
  set,          // SET ...
  session,      // RESET, DISCARD, LOAD
};

// The family `first` (a statement's first significant token) starts.
Head head_of(const Token& first) noexcept;

// What calling a function does, as bit flags.
enum FunctionEffect : std::uint8_t {
  function_none = 0,
  function_writes = 1,   // fails on a standby, or changes data: route to the primary
  function_pins = 2,     // leaves state on this backend for the session (advisory locks)
  function_session = 4,  // changes session state (set_config)
};

// The effect of calling `name` (an identifier or quoted identifier), optionally qualified by
// `schema` (nullptr when unqualified), given the configured extra write functions.
std::uint8_t function_effect(const Token* schema, const Token& name,
                             std::span<const std::string> extra_write_functions) noexcept;

}  // namespace pgr::protocol::rules
