// What a client session carries from one backend to another: its session settings (SET, RESET,
// SET ROLE, SET SESSION AUTHORIZATION, DISCARD, PREPARE, ...) as a replay log, and its
// protocol-level prepared statements. A session may use one backend per node, opened lazily;
// before a unit runs on a backend, the log entries that backend has not applied are replayed
// on it, and statements the unit needs are re-Parsed there, so the client sees one session.
//
// The log is bounded by keying plain SET/RESET statements by their parameter: a newer SET of
// the same parameter replaces the older entry. DISCARD ALL is a reset point: a fresh backend
// starts after the last one. (RESET ALL is not: it keeps the role and session authorization.)
//
// Thread rules: a value inside one session, on its worker. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/byte_io.hpp"
#include "protocol/classification_memo.hpp"
#include "protocol/statement_classifier.hpp"

namespace pgr::proxy {

class SettingsLog {
 public:
  struct Entry {
    std::uint64_t id = 0;
    std::string sql;
    std::string key;  // "" when the statement is not a plain SET/RESET of one parameter
    bool reset = false;  // DISCARD ALL
  };

  // Records a statement that succeeded (outside a transaction, or in one that committed).
  // Returns the new entry's id: the backend that ran it has applied everything up to it.
  std::uint64_t record(std::string_view sql);
  // Inside a transaction: held until the transaction commits (SET is transactional).
  void hold(std::string_view sql) { held_.emplace_back(sql); }
  // Returns the id after the held statements, or nullopt when nothing was held.
  std::optional<std::uint64_t> commit_held();
  void drop_held() { held_.clear(); }

  // The statements a backend must run, in order, to catch up. `applied` is the last id it has
  // applied; 0 means a fresh connection (which starts after the last reset point).
  std::vector<const Entry*> pending_for(std::uint64_t applied) const;
  std::uint64_t last_id() const { return next_id_ - 1; }
  std::size_t size() const { return entries_.size(); }

  // "SET [SESSION] name ..." / "RESET name" → lowercased name; "" for anything else.
  static std::string setting_key(std::string_view sql);
  // DISCARD ALL (and, for statements, DEALLOCATE ALL): what they wipe.
  static bool is_reset_all(std::string_view sql);
  static bool deallocates_all(std::string_view sql);
  // ROLLBACK / ABORT (not ROLLBACK TO SAVEPOINT, not ROLLBACK PREPARED).
  static bool is_rollback(std::string_view sql);

 private:
  std::vector<Entry> entries_;  // a vector: a deque allocates 576 bytes even when empty
  std::vector<std::string> held_;
  std::uint64_t next_id_ = 1;
  std::uint64_t last_reset_id_ = 0;
};

// The client's protocol-level prepared statements ("" is the unnamed one), each with the
// Parse message that made it (to replay on another backend) and what its SQL does.
class PreparedStatements {
 public:
  // Transaction pooling: statements get content-derived names on backends.
  void use_pooled_names(bool on) { pooled_names_ = on; }
  bool pooled_names() const { return pooled_names_; }
  // FNV-1a of a Parse's query and parameter types; never 0 (0 means "unknown" on a link).
  static std::uint64_t content_hash(protocol::bytes_view definition);

  struct Statement {
    std::uint64_t generation = 0;     // changes whenever the client re-Parses the name
    std::uint64_t content = 0;        // hash of its query and parameter types (never 0)
    // Its name on backends: the client's own, or with pooled names "pgr_<content hash>", the
    // same for every client preparing the same statement, so a pooled connection's copy
    // serves them all and one client's "s1" never meets another's.
    std::string server_name;
    protocol::byte_buffer parse;      // the client's framed Parse message, as sent
    protocol::Classification facts;   // views into `sql` below
    std::string sql;
  };

  // The client Parsed `name`: remember it and return its generation. `memo`: the worker's, if
  // there is one (a Parse of the same text is classified once, not per Parse).
  std::uint64_t parsed(std::string_view name, protocol::bytes_view framed_parse, std::string_view sql,
                       const protocol::ClassifierOptions& options, protocol::ClassificationMemo* memo = nullptr);
  void closed(std::string_view name) { statements_.erase(std::string(name)); }
  void clear() { statements_.clear(); }
  const Statement* find(std::string_view name) const;
  std::size_t size() const { return statements_.size(); }

 private:
  std::map<std::string, Statement, std::less<>> statements_;
  std::uint64_t next_generation_ = 1;
  bool pooled_names_ = false;
};

}  // namespace pgr::proxy
