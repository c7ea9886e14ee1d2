// Session state that follows a client across backends: the SettingsLog replay log (keyed SET
// dedupe, reset points, held statements, catch-up for fresh and partially applied backends,
// the statement tables) and the PreparedStatements registry.
#include "proxy/session_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace pgr::proxy {
namespace {

// The SQL a backend that has applied `applied` must run to catch up, in order.
std::vector<std::string> pending_sql(const SettingsLog& log, std::uint64_t applied) {
  std::vector<std::string> out;
  for (const auto* entry : log.pending_for(applied)) out.push_back(entry->sql);
  return out;
}

using Sql = std::vector<std::string>;

// Test names show the SQL, control characters escaped.
void print_sql(const char* sql, std::ostream* os) {
  *os << '"';
  for (const char* p = sql; *p != '\0'; ++p) {
    if (*p == '\n') *os << "\\n";
    else *os << *p;
  }
  *os << '"';
}

// --- Replay and catch-up ----------------------------------------------------------------------

TEST(SettingsLog, StartsEmpty) {
  SettingsLog log;
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.last_id(), 0u);
  EXPECT_TRUE(log.pending_for(0).empty());
  EXPECT_FALSE(log.commit_held());
}

TEST(SettingsLog, AFreshBackendReplaysEverythingInOrder) {
  SettingsLog log;
  const auto a = log.record("SET search_path = app, public");
  const auto b = log.record("SET ROLE reporting");
  const auto c = log.record("PREPARE q AS SELECT 1");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(log.last_id(), c);
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET search_path = app, public", "SET ROLE reporting", "PREPARE q AS SELECT 1"}));
}

TEST(SettingsLog, APartiallyAppliedBackendReplaysOnlyWhatItMissed) {
  SettingsLog log;
  const auto a = log.record("SET a.x = 1");
  const auto b = log.record("SET b.x = 2");
  const auto c = log.record("SET c.x = 3");
  EXPECT_EQ(pending_sql(log, a), (Sql{"SET b.x = 2", "SET c.x = 3"}));
  EXPECT_EQ(pending_sql(log, b), (Sql{"SET c.x = 3"}));
  EXPECT_TRUE(log.pending_for(c).empty());
  const auto entries = log.pending_for(a);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]->id, b);
  EXPECT_EQ(entries[1]->id, c);
  EXPECT_EQ(entries[0]->key, "b.x");
  EXPECT_FALSE(entries[0]->reset);
}

// --- Keyed dedupe --------------------------------------------------------------------------

struct DedupeCase {
  const char* first;
  const char* second;
  bool replaced;  // the second statement replaces the first in the log
};

void PrintTo(const DedupeCase& c, std::ostream* os) {
  print_sql(c.first, os);
  *os << " then ";
  print_sql(c.second, os);
}

class Dedupe : public testing::TestWithParam<DedupeCase> {};

TEST_P(Dedupe, KeepsOnlyTheLatestOfAKey) {
  const auto& c = GetParam();
  SettingsLog log;
  log.record(c.first);
  log.record("SET other_param = 1");
  log.record(c.second);
  if (c.replaced) {
    EXPECT_EQ(pending_sql(log, 0), (Sql{"SET other_param = 1", c.second}));
  } else {
    EXPECT_EQ(pending_sql(log, 0), (Sql{c.first, "SET other_param = 1", c.second}));
  }
}

INSTANTIATE_TEST_SUITE_P(
    SettingsLog, Dedupe,
    testing::Values(DedupeCase{"SET x = 1", "SET x = 2", true}, DedupeCase{"SET x = 1", "set X to 2", true},
                    DedupeCase{"SET x = 1", "SET SESSION x = 2", true},
                    DedupeCase{"SET SESSION x = 1", "SET x TO DEFAULT", true}, DedupeCase{"SET x = 1", "RESET x", true},
                    DedupeCase{"RESET x", "SET x = 1", true},
                    DedupeCase{"SET search_path = a", "SET \"search_path\" = b", true},
                    DedupeCase{"SET myapp.x = 1", "SET myapp.x = 2", true},
                    DedupeCase{"SET myapp.x = 1", "SET SESSION MyApp.X TO 'b'", true},
                    DedupeCase{"SET myapp.x = 1", "RESET myapp.x", true},
                    DedupeCase{"SET ROLE a", "SET ROLE b", true}, DedupeCase{"SET ROLE a", "RESET ROLE", true},
                    DedupeCase{"SET SESSION AUTHORIZATION a", "SET SESSION AUTHORIZATION DEFAULT", true},
                    DedupeCase{"/* first */ SET x = 1", "SET x = 2 -- again", true},
                    DedupeCase{"SET x = 1;", "SET x = 2;", true},
                    // Not the same key, or not keyed at all.
                    DedupeCase{"SET x = 1", "SET y = 2", false}, DedupeCase{"SET myapp.x = 1", "SET myapp.y = 2", false},
                    DedupeCase{"SET myapp.x = 1", "SET otherapp.x = 2", false},
                    DedupeCase{"SET myapp.x = 1", "SET x = 2", false},
                    DedupeCase{"SET LOCAL x = 1", "SET LOCAL x = 2", false},
                    DedupeCase{"SET x = 1", "SET LOCAL x = 2", false},
                    DedupeCase{"SET x = 1; SET y = 2", "SET x = 3", false},
                    DedupeCase{"PREPARE p AS SELECT 1", "PREPARE p AS SELECT 2", false},
                    DedupeCase{"SELECT set_config('x', '1', false)", "SELECT set_config('x', '2', false)", false}));

TEST(SettingsLog, DedupeKeepsTheLogBounded) {
  SettingsLog log;
  for (int i = 0; i < 1000; ++i) log.record("SET statement_timeout = " + std::to_string(i));
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(log.last_id(), 1000u);
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET statement_timeout = 999"}));
}

TEST(SettingsLog, ABackendThatAppliedAReplacedEntryGetsTheReplacement) {
  SettingsLog log;
  const auto first = log.record("SET x = 1");
  const auto other = log.record("SET y = 1");
  log.record("SET x = 2");
  EXPECT_EQ(pending_sql(log, first), (Sql{"SET y = 1", "SET x = 2"}));
  EXPECT_EQ(pending_sql(log, other), (Sql{"SET x = 2"}));
}

// --- Reset points ----------------------------------------------------------------------------

class ResetPoint : public testing::TestWithParam<const char*> {};

TEST_P(ResetPoint, AFreshBackendStartsAfterIt) {
  SettingsLog log;
  const auto before = log.record("SET x = 1");
  log.record("SET y = 1");
  const auto reset = log.record(GetParam());
  const auto after = log.record("SET z = 1");
  EXPECT_LT(reset, after);
  // Everything before the reset is gone for every backend.
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET z = 1"}));
  // A backend that applied older entries runs the reset itself, then what followed.
  EXPECT_EQ(pending_sql(log, before), (Sql{GetParam(), "SET z = 1"}));
  EXPECT_EQ(pending_sql(log, reset), (Sql{"SET z = 1"}));
  EXPECT_TRUE(log.pending_for(after).empty());
  const auto entries = log.pending_for(before);
  ASSERT_FALSE(entries.empty());
  EXPECT_TRUE(entries[0]->reset);
  EXPECT_TRUE(entries[0]->key.empty());
}

TEST_P(ResetPoint, KeysAfterItStillDedupe) {
  SettingsLog log;
  log.record("SET x = 1");
  log.record(GetParam());
  log.record("SET x = 2");
  log.record("SET x = 3");
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET x = 3"}));
  EXPECT_EQ(pending_sql(log, 1), (Sql{GetParam(), "SET x = 3"}));
}

TEST_P(ResetPoint, TheLastOneCounts) {
  SettingsLog log;
  log.record(GetParam());
  log.record("SET x = 1");
  const auto second = log.record(GetParam());
  EXPECT_TRUE(log.pending_for(0).empty());
  EXPECT_TRUE(log.pending_for(second).empty());
  EXPECT_EQ(pending_sql(log, 1), (Sql{GetParam()}));
}

INSTANTIATE_TEST_SUITE_P(SettingsLog, ResetPoint,
                         testing::Values("DISCARD ALL", "discard all;", "/* pool */ DISCARD ALL"));

// RESET ALL leaves role and session_authorization alone (both are GUC_NO_RESET_ALL in
// PostgreSQL's guc_tables.c); only DISCARD ALL resets them. A fresh backend must still get them.
TEST(SettingsLog, ResetAllKeepsRoleAndSessionAuthorization) {
  SettingsLog log;
  log.record("SET SESSION AUTHORIZATION alice");
  log.record("SET ROLE reporting");
  log.record("SET x = 1");
  log.record("RESET ALL");
  const auto fresh = pending_sql(log, 0);
  const auto has = [&](std::string_view sql) { return std::find(fresh.begin(), fresh.end(), sql) != fresh.end(); };
  EXPECT_TRUE(has("SET SESSION AUTHORIZATION alice")) << testing::PrintToString(fresh);
  EXPECT_TRUE(has("SET ROLE reporting")) << testing::PrintToString(fresh);
  // RESET ALL is replayed in order after the SET it undoes, not used as a reset point.
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(fresh.back(), "RESET ALL");
}

TEST(SettingsLog, DiscardAllResetsRoleToo) {
  SettingsLog log;
  log.record("SET ROLE reporting");
  log.record("DISCARD ALL");
  EXPECT_TRUE(log.pending_for(0).empty());
}

// --- Held statements (inside a transaction) --------------------------------------------------

TEST(SettingsLog, HeldStatementsAreRecordedOnCommit) {
  SettingsLog log;
  const auto before = log.record("SET a.x = 1");
  log.hold("SET b.x = 2");
  log.hold("SET a.x = 3");
  EXPECT_EQ(log.size(), 1u) << "nothing recorded before the commit";
  EXPECT_EQ(log.last_id(), before);
  const auto last = log.commit_held();
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, log.last_id());
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET b.x = 2", "SET a.x = 3"}));
  EXPECT_EQ(pending_sql(log, before), (Sql{"SET b.x = 2", "SET a.x = 3"}));
  EXPECT_FALSE(log.commit_held()) << "held statements are recorded once";
}

TEST(SettingsLog, DroppedHeldStatementsAreForgotten) {
  SettingsLog log;
  log.record("SET a.x = 1");
  log.hold("SET a.x = 2");
  log.hold("DISCARD ALL");
  log.drop_held();
  EXPECT_FALSE(log.commit_held());
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET a.x = 1"}));
}

TEST(SettingsLog, AHeldResetPointTakesEffectOnCommit) {
  SettingsLog log;
  log.record("SET a.x = 1");
  log.hold("DISCARD ALL");
  log.hold("SET b.x = 1");
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET a.x = 1"}));
  ASSERT_TRUE(log.commit_held());
  EXPECT_EQ(pending_sql(log, 0), (Sql{"SET b.x = 1"}));
  EXPECT_EQ(pending_sql(log, 1), (Sql{"DISCARD ALL", "SET b.x = 1"}));
}

// --- The statement tables ----------------------------------------------------------------------

struct KeyCase {
  const char* sql;
  const char* key;
};

void PrintTo(const KeyCase& c, std::ostream* os) { print_sql(c.sql, os); }

class SettingKey : public testing::TestWithParam<KeyCase> {};

TEST_P(SettingKey, NamesTheParameter) {
  const auto& c = GetParam();
  EXPECT_EQ(SettingsLog::setting_key(c.sql), c.key);
}

INSTANTIATE_TEST_SUITE_P(
    SettingsLog, SettingKey,
    testing::Values(
        KeyCase{"SET x = 1", "x"}, KeyCase{"set X to 1", "x"}, KeyCase{"SET search_path TO a, b", "search_path"},
        KeyCase{"SET SESSION x = 1", "x"}, KeyCase{"set session Work_Mem = '64MB'", "work_mem"},
        KeyCase{"SET x TO DEFAULT", "x"}, KeyCase{"SET x FROM CURRENT", "x"}, KeyCase{"RESET x", "x"},
        KeyCase{"reset Statement_Timeout", "statement_timeout"},
        // Custom dotted names.
        KeyCase{"SET myapp.x = 1", "myapp.x"}, KeyCase{"SET SESSION MyApp.User_Id TO '7'", "myapp.user_id"},
        KeyCase{"RESET myapp.x", "myapp.x"}, KeyCase{"SET myapp . x = 1", "myapp.x"},
        // Comments anywhere.
        KeyCase{"/* c */ SET x = 1", "x"}, KeyCase{"-- c\nSET x = 1", "x"}, KeyCase{"SET /* c */ x = 1", "x"},
        KeyCase{"SET -- c\n x = 1", "x"}, KeyCase{"/* a /* nested */ b */ RESET x", "x"},
        KeyCase{"SET SESSION /* c */ x = 1", "x"},
        // Quoted identifiers: the name without its quotes.
        KeyCase{"SET \"search_path\" = a", "search_path"}, KeyCase{"SET \"my.var\" = 1", "my.var"},
        KeyCase{"SET \"myapp\".\"x\" = 1", "myapp.x"},
        // A trailing semicolon or comment is still one statement.
        KeyCase{"SET x = 1;", "x"}, KeyCase{"SET x = 1; -- done", "x"}, KeyCase{"SET x = 1 ; ;", "x"},
        // Role and session authorization.
        KeyCase{"SET ROLE bob", "role"}, KeyCase{"SET SESSION ROLE bob", "role"}, KeyCase{"RESET ROLE", "role"},
        KeyCase{"SET SESSION AUTHORIZATION bob", "session_authorization"},
        KeyCase{"SET SESSION AUTHORIZATION DEFAULT", "session_authorization"},
        KeyCase{"RESET SESSION AUTHORIZATION", "session_authorization"},
        // Not keyed.
        KeyCase{"SET LOCAL x = 1", ""}, KeyCase{"set local myapp.x = 1", ""},
        KeyCase{"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", ""}, KeyCase{"RESET ALL", ""},
        KeyCase{"SET x = 1; SET y = 2", ""}, KeyCase{"SET x = 1; SELECT 1", ""}, KeyCase{"SELECT 1", ""},
        KeyCase{"DISCARD ALL", ""}, KeyCase{"", ""}, KeyCase{"SET", ""}, KeyCase{"RESET", ""},
        KeyCase{"-- SET x = 1", ""}, KeyCase{"SET 'x' = 1", ""}, KeyCase{"SELECT 'SET x = 1'", ""},
        KeyCase{"\"set\" x = 1", ""}, KeyCase{"PREPARE p AS SELECT 1", ""}));

struct BoolCase {
  const char* sql;
  bool expected;
};

void PrintTo(const BoolCase& c, std::ostream* os) { print_sql(c.sql, os); }

class IsResetAll : public testing::TestWithParam<BoolCase> {};

TEST_P(IsResetAll, RecognisesResetPoints) {
  EXPECT_EQ(SettingsLog::is_reset_all(GetParam().sql), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    SettingsLog, IsResetAll,
    testing::Values(BoolCase{"DISCARD ALL", true}, BoolCase{"discard all", true}, BoolCase{"DISCARD ALL;", true},
                    BoolCase{"RESET ALL", false}, BoolCase{"reset all ;", false}, BoolCase{"/* c */ DISCARD ALL", true},
                    BoolCase{"-- c\nRESET ALL -- c", false}, BoolCase{"DISCARD /* c */ ALL", true},
                    BoolCase{"DISCARD PLANS", false}, BoolCase{"DISCARD TEMP", false}, BoolCase{"DISCARD", false},
                    BoolCase{"RESET x", false}, BoolCase{"RESET ROLE", false}, BoolCase{"DEALLOCATE ALL", false},
                    BoolCase{"DISCARD ALL; SET x = 1", false}, BoolCase{"SELECT 'DISCARD ALL'", false},
                    BoolCase{"-- DISCARD ALL", false}, BoolCase{"\"discard\" all", false}, BoolCase{"", false}));

class DeallocatesAll : public testing::TestWithParam<BoolCase> {};

TEST_P(DeallocatesAll, RecognisesWhatWipesPreparedStatements) {
  EXPECT_EQ(SettingsLog::deallocates_all(GetParam().sql), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    SettingsLog, DeallocatesAll,
    testing::Values(BoolCase{"DEALLOCATE ALL", true}, BoolCase{"deallocate all;", true},
                    BoolCase{"DEALLOCATE PREPARE ALL", true}, BoolCase{"DISCARD ALL", true},
                    BoolCase{"/* c */ DEALLOCATE ALL", true}, BoolCase{"-- c\ndeallocate /* c */ prepare all", true},
                    BoolCase{"DEALLOCATE p", false}, BoolCase{"DEALLOCATE PREPARE p", false},
                    BoolCase{"DEALLOCATE \"all\"", false}, BoolCase{"DEALLOCATE", false},
                    BoolCase{"DISCARD PLANS", false}, BoolCase{"RESET ALL", false}, BoolCase{"SELECT 1", false},
                    BoolCase{"-- DEALLOCATE ALL", false}, BoolCase{"", false}));

// --- Prepared statements ----------------------------------------------------------------------

// A framed Parse message: 'P', length, name, SQL, no parameter types.
protocol::byte_buffer parse_message(std::string_view name, std::string_view sql) {
  protocol::byte_buffer out;
  protocol::ByteWriter w(out);
  w.begin_message('P');
  w.cstr(name);
  w.cstr(sql);
  w.i16(0);
  w.end_message();
  return out;
}

std::uint64_t parse(PreparedStatements& statements, std::string_view name, std::string_view sql,
                    const protocol::ClassifierOptions& options = {}) {
  const auto message = parse_message(name, sql);
  return statements.parsed(name, message, sql, options);
}

TEST(PreparedStatements, RemembersTheParseAndWhatItsSqlDoes) {
  PreparedStatements statements;
  EXPECT_EQ(statements.find("s1"), nullptr);
  const auto generation = parse(statements, "s1", "SELECT * FROM t WHERE id = $1");
  const auto* s = statements.find("s1");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->generation, generation);
  EXPECT_EQ(s->sql, "SELECT * FROM t WHERE id = $1");
  EXPECT_EQ(s->parse, parse_message("s1", "SELECT * FROM t WHERE id = $1"));
  EXPECT_EQ(s->facts.route, protocol::Route::standby_ok);
  EXPECT_EQ(s->facts.kind, protocol::StatementKind::read);
  EXPECT_EQ(s->facts, protocol::classify_sql("SELECT * FROM t WHERE id = $1"));
  EXPECT_EQ(statements.size(), 1u);
}

TEST(PreparedStatements, ReParsingANameChangesItsGeneration) {
  PreparedStatements statements;
  const auto first = parse(statements, "s1", "SELECT 1");
  const auto other = parse(statements, "s2", "SELECT 2");
  const auto second = parse(statements, "s1", "INSERT INTO t VALUES ($1)");
  EXPECT_NE(first, second);
  EXPECT_NE(first, other);
  EXPECT_NE(second, other);
  EXPECT_EQ(statements.size(), 2u);
  const auto* s = statements.find("s1");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->generation, second);
  EXPECT_EQ(s->sql, "INSERT INTO t VALUES ($1)");
  EXPECT_EQ(s->facts.route, protocol::Route::primary);
  EXPECT_EQ(s->facts.kind, protocol::StatementKind::write);
  EXPECT_EQ(s->parse, parse_message("s1", "INSERT INTO t VALUES ($1)"));
  // Even the same SQL again is a new generation: the backends' copies are stale.
  const auto third = parse(statements, "s1", "INSERT INTO t VALUES ($1)");
  EXPECT_NE(third, second);
  EXPECT_EQ(statements.find("s2")->generation, other);
}

TEST(PreparedStatements, TheUnnamedStatementIsOneLikeAnyOther) {
  PreparedStatements statements;
  const auto first = parse(statements, "", "SELECT 1");
  ASSERT_NE(statements.find(""), nullptr);
  EXPECT_EQ(statements.find("")->facts.route, protocol::Route::standby_ok);
  const auto second = parse(statements, "", "UPDATE t SET a = 1");
  EXPECT_NE(first, second);
  EXPECT_EQ(statements.find("")->facts.route, protocol::Route::primary);
  EXPECT_EQ(statements.size(), 1u);
}

TEST(PreparedStatements, CloseAndClearForgetStatements) {
  PreparedStatements statements;
  parse(statements, "a", "SELECT 1");
  parse(statements, "b", "SELECT 2");
  statements.closed("a");
  EXPECT_EQ(statements.find("a"), nullptr);
  EXPECT_NE(statements.find("b"), nullptr);
  statements.closed("never_parsed");  // closing an unknown name is not an error
  EXPECT_EQ(statements.size(), 1u);
  statements.clear();
  EXPECT_EQ(statements.size(), 0u);
  EXPECT_EQ(statements.find("b"), nullptr);
  // A name parsed again after a close gets a fresh generation.
  const auto again = parse(statements, "a", "SELECT 1");
  EXPECT_EQ(statements.find("a")->generation, again);
}

struct FactsCase {
  const char* sql;
  protocol::Route route;
  protocol::StatementKind kind;
  bool begins;
  bool pins;
};

void PrintTo(const FactsCase& c, std::ostream* os) { print_sql(c.sql, os); }

class PreparedFacts : public testing::TestWithParam<FactsCase> {};

TEST_P(PreparedFacts, ClassifyTheSql) {
  const auto& c = GetParam();
  PreparedStatements statements;
  parse(statements, "s", c.sql);
  const auto* s = statements.find("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->facts.route, c.route);
  EXPECT_EQ(s->facts.kind, c.kind);
  EXPECT_EQ(s->facts.begins_transaction, c.begins);
  EXPECT_EQ(s->facts.pins_to_primary, c.pins);
}

using protocol::Route;
using protocol::StatementKind;

INSTANTIATE_TEST_SUITE_P(
    PreparedStatements, PreparedFacts,
    testing::Values(FactsCase{"SELECT $1::int", Route::standby_ok, StatementKind::read, false, false},
                    FactsCase{"INSERT INTO t VALUES ($1)", Route::primary, StatementKind::write, false, false},
                    FactsCase{"SELECT nextval('s')", Route::primary, StatementKind::write, false, false},
                    FactsCase{"BEGIN", Route::either, StatementKind::transaction_control, true, false},
                    FactsCase{"CREATE TEMP TABLE x (a int)", Route::primary, StatementKind::write, false, true},
                    FactsCase{"/*pgrouter:primary*/ SELECT 1", Route::primary, StatementKind::read, false, false},
                    FactsCase{"", Route::either, StatementKind::empty, false, false}));

TEST(PreparedStatements, ClassifiesWithTheWriteFunctionsOption) {
  PreparedStatements statements;
  const std::vector<std::string> write_functions{"bump_counter"};
  protocol::ClassifierOptions options;
  options.write_functions = write_functions;
  parse(statements, "w", "SELECT bump_counter($1)", options);
  parse(statements, "r", "SELECT bump_counter($1)");
  EXPECT_EQ(statements.find("w")->facts.route, protocol::Route::primary);
  EXPECT_EQ(statements.find("r")->facts.route, protocol::Route::standby_ok);
}

TEST(PreparedStatements, FactsViewTheStoredSqlNotTheCallersBuffer) {
  PreparedStatements statements;
  {
    std::string sql = "EXECUTE a_rather_long_prepared_statement_name_beyond_sso(1)";
    const auto message = parse_message("s", sql);
    statements.parsed("s", message, sql, {});
    sql.assign(sql.size(), 'x');  // the caller's buffer is reused
  }
  for (int i = 0; i < 100; ++i) parse(statements, "other" + std::to_string(i), "SELECT 1");
  const auto* s = statements.find("s");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->facts.executes_prepared);
  EXPECT_EQ(s->facts.prepared_name, "a_rather_long_prepared_statement_name_beyond_sso");
  const auto* begin = s->sql.data();
  EXPECT_GE(s->facts.prepared_name.data(), begin);
  EXPECT_LE(s->facts.prepared_name.data() + s->facts.prepared_name.size(), begin + s->sql.size());
}

TEST(PreparedStatements, ContentIdentifiesTheStatementNotItsName) {
  PreparedStatements statements;
  parse(statements, "a", "SELECT $1::int");
  parse(statements, "b", "SELECT $1::int");
  parse(statements, "c", "SELECT $1::int + 1");
  EXPECT_EQ(statements.find("a")->content, statements.find("b")->content);
  EXPECT_NE(statements.find("a")->content, statements.find("c")->content);
  EXPECT_NE(statements.find("a")->content, 0u);
  // Without pooled names a statement keeps the client's name on backends.
  EXPECT_EQ(statements.find("a")->server_name, "a");
}

TEST(PreparedStatements, PooledNamesAreSharedBySameSqlAndDifferOtherwise) {
  PreparedStatements one;
  PreparedStatements two;
  one.use_pooled_names(true);
  two.use_pooled_names(true);
  parse(one, "s1", "SELECT $1::int + 1");
  parse(two, "s1", "SELECT $1::int + 2");  // another client's "s1"
  parse(two, "other", "SELECT $1::int + 1");
  const auto& a = one.find("s1")->server_name;
  EXPECT_EQ(a.rfind("pgr_", 0), 0u);
  EXPECT_EQ(a.size(), 4u + 16u);
  EXPECT_NE(a, two.find("s1")->server_name);
  EXPECT_EQ(a, two.find("other")->server_name);
  // The unnamed statement stays unnamed.
  parse(one, "", "SELECT 1");
  EXPECT_EQ(one.find("")->server_name, "");
}

TEST(PreparedStatements, ParameterTypesArePartOfTheContent) {
  PreparedStatements statements;
  statements.use_pooled_names(true);
  protocol::byte_buffer typed;
  protocol::ByteWriter w(typed);
  w.begin_message('P');
  w.cstr("t");
  w.cstr("SELECT $1");
  w.i16(1);
  w.u32(23);
  w.end_message();
  statements.parsed("t", typed, "SELECT $1", {});
  parse(statements, "u", "SELECT $1");
  EXPECT_NE(statements.find("t")->content, statements.find("u")->content);
  EXPECT_NE(statements.find("t")->server_name, statements.find("u")->server_name);
}

}  // namespace
}  // namespace pgr::proxy
