// The read/write statement classifier, table-driven: one row per SQL string with its expected
// route, kind, every flag and the statement count; then names, options, the transaction effect
// and the invariants the fuzzer also checks (trailing `;`, the primary hint, bounds).
#include "protocol/statement_classifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace pgr::protocol {
namespace {

// Expected flags, one bit each; a row lists exactly the flags that must be set.
enum : unsigned {
  BEG = 1u << 0,   // begins_transaction
  END = 1u << 1,   // ends_transaction
  SVP = 1u << 2,   // is_savepoint_cmd
  RO = 1u << 3,    // read_only_transaction
  RW = 1u << 4,    // read_write_transaction
  SER = 1u << 5,   // serializable_or_repeatable_read
  SES = 1u << 6,   // session_state
  PIN = 1u << 7,   // pins_to_primary
  CUR = 1u << 8,   // declares_cursor
  HOLD = 1u << 9,  // cursor_with_hold
  EXE = 1u << 10,  // executes_prepared
  HP = 1u << 11,   // hint_primary
  HS = 1u << 12,   // hint_standby
  BAD = 1u << 13,  // malformed
};

unsigned flags_of(const Classification& c) {
  const std::pair<bool, unsigned> bits[] = {
      {c.begins_transaction, BEG}, {c.ends_transaction, END},      {c.is_savepoint_cmd, SVP},
      {c.read_only_transaction, RO}, {c.read_write_transaction, RW},
      {c.serializable_or_repeatable_read, SER}, {c.session_state, SES},
      {c.pins_to_primary, PIN},    {c.declares_cursor, CUR},       {c.cursor_with_hold, HOLD},
      {c.executes_prepared, EXE},  {c.hint_primary, HP},           {c.hint_standby, HS},
      {c.malformed, BAD}};
  unsigned flags = 0;
  for (const auto& [set, bit] : bits) flags |= set ? bit : 0u;
  return flags;
}

constexpr Route P = Route::primary;
constexpr Route S = Route::standby_ok;
constexpr Route E = Route::either;
constexpr StatementKind R = StatementKind::read;
constexpr StatementKind W = StatementKind::write;
constexpr StatementKind T = StatementKind::transaction_control;
constexpr StatementKind SS = StatementKind::session_setting;
constexpr StatementKind C = StatementKind::cursor;
constexpr StatementKind U = StatementKind::unknown;
constexpr StatementKind N = StatementKind::empty;

struct Case {
  const char* sql;
  Route route;
  StatementKind kind;
  unsigned flags = 0;
  std::size_t count = 1;
};

// Test names show the SQL, control characters escaped.
void PrintTo(const Case& c, std::ostream* os) {
  *os << '"';
  for (const char* p = c.sql; *p != '\0'; ++p) {
    if (*p == '\n') *os << "\\n";
    else if (*p == '\t') *os << "\\t";
    else *os << *p;
  }
  *os << '"';
}

const Case k_cases[] = {
    // Reads.
    {"SELECT 1", S, R},
    {"select * from t where id = 1", S, R},
    {"  \n\tSELECT 1", S, R},
    {"SELECT 1;", S, R},
    {"SeLeCt 1", S, R},
    {"VALUES (1), (2)", S, R},
    {"TABLE t", S, R},
    {"WITH x AS (SELECT 1) SELECT * FROM x", S, R},
    {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 9) SELECT * FROM r",
     S, R},
    {"SHOW search_path", S, R},
    {"SHOW ALL", S, R},
    {"(SELECT 1) UNION (SELECT 2)", S, R},
    {"((SELECT 1))", S, R},
    {"SELECT count(*), max(x) FROM t GROUP BY y", S, R},
    {"SELECT now(), random(), pg_sleep(0), lower(name) FROM t", S, R},
    {"SELECT * FROM generate_series(1, 10)", S, R},
    {"SELECT pg_is_in_recovery()", S, R},
    {"SELECT a FROM t WHERE b IN (SELECT c FROM u) AND EXISTS (SELECT 1)", S, R},
    {"SELECT * FROM t WHERE a = $1 AND b = $2", S, R},
    {"SELECT $1::int", S, R},
    {"COPY t TO STDOUT", S, R},
    {"copy t (a, b) to '/tmp/x'", S, R},
    {"COPY (SELECT * FROM t) TO STDOUT WITH (FORMAT csv)", S, R},
    {"EXPLAIN SELECT 1", S, R},
    {"EXPLAIN ANALYZE SELECT 1", S, R},
    {"EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t", S, R},
    {"explain analyse verbose select 1", S, R},
    // EXPLAIN without ANALYZE only plans: whatever it names is a read.
    {"EXPLAIN DELETE FROM t", S, R},
    {"EXPLAIN VERBOSE UPDATE t SET a = 1", S, R},
    {"EXPLAIN (COSTS OFF, FORMAT JSON) INSERT INTO t VALUES (1)", S, R},
    {"EXPLAIN (ANALYZE false) DELETE FROM t", S, R},
    {"EXPLAIN (ANALYZE off, VERBOSE) UPDATE t SET a = 1", S, R},
    {"EXPLAIN (ANALYZE '0') UPDATE t SET a = 1", S, R},
    {"EXPLAIN SELECT nextval('s')", S, R},
    // Quoted material, comments and qualified names never count.
    {"SELECT 'insert into t'", S, R},
    {"SELECT \"update\" FROM t", S, R},
    {"SELECT 1 AS \"INSERT\"", S, R},
    {"SELECT $$ delete $$", S, R},
    {"SELECT $fn$ update t $fn$", S, R},
    {"SELECT $a$ $$ delete $$ $a$", S, R},
    {"-- insert\nSELECT 1", S, R},
    {"/* delete */ SELECT 1", S, R},
    {"/* outer /* insert */ still a comment */ SELECT 1", S, R},
    {"SELECT 1 -- ; DELETE FROM t", S, R},
    {"SELECT 1 /* ; DROP TABLE t */", S, R},
    {"SELECT E'\\'' AS quote", S, R},
    {"SELECT E'\\' insert' AS x", S, R},
    {"SELECT 'a\\', 'insert'", S, R},
    {"SELECT 'it''s an update'", S, R},
    {"SELECT U&'\\0064elete', B'101', X'FF', N'x'", S, R},
    {"SELECT t.update, t.delete FROM t", S, R},
    {"SELECT x.merge, x.insert FROM x", S, R},
    {"SELECT * FROM t WHERE note = 'for update'", S, R},
    {"SELECT format('%s', 'update')", S, R},
    {"SELECT nextval FROM t", S, R},
    {"SELECT \"NEXTVAL\"('s')", S, R},  // quoted: a different function
    {"SELECT a$$b FROM t", S, R},       // an identifier, not a dollar quote

    // Writes: DML and DDL.
    {"INSERT INTO t VALUES (1)", P, W},
    {"insert into t values (1) returning *", P, W},
    {"UPDATE t SET a = 1", P, W},
    {"DELETE FROM t", P, W},
    {"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", P, W},
    {"CREATE TABLE t (a int)", P, W},
    {"CREATE TABLE temp (a int)", P, W},
    {"CREATE UNLOGGED TABLE u (a int)", P, W},
    {"CREATE INDEX CONCURRENTLY i ON t (a)", P, W},
    {"ALTER TABLE t ADD COLUMN b int", P, W},
    {"ALTER SYSTEM SET work_mem = '64MB'", P, W},
    {"DROP TABLE t", P, W},
    {"TRUNCATE t", P, W},
    {"COMMENT ON TABLE t IS 'x'", P, W},
    {"GRANT SELECT ON t TO bob", P, W},
    {"REVOKE ALL ON t FROM bob", P, W},
    {"REINDEX TABLE t", P, W},
    {"CLUSTER t USING i", P, W},
    {"REFRESH MATERIALIZED VIEW mv", P, W},
    {"SECURITY LABEL ON TABLE t IS 'x'", P, W},
    {"IMPORT FOREIGN SCHEMA s FROM SERVER f INTO local", P, W},
    {"REASSIGN OWNED BY a TO b", P, W},
    {"LOCK TABLE t IN ACCESS EXCLUSIVE MODE", P, W},
    {"LOCK t IN SHARE MODE", P, W},
    {"CALL proc(1)", P, W},
    {"DO $$ BEGIN INSERT INTO t VALUES (1); END $$", P, W},
    {"DO LANGUAGE plpgsql $$ BEGIN NULL; END $$", P, W},
    {"VACUUM t", P, W},
    {"VACUUM (VERBOSE, ANALYZE) t", P, W},
    {"ANALYZE t", P, W},
    {"ANALYSE t", P, W},
    {"NOTIFY chan, 'x'", P, W},
    {"UNLISTEN *", P, W},
    {"LISTEN chan", P, W, PIN},
    {"CHECKPOINT", P, W},
    {"PREPARE TRANSACTION 'gid'", P, W, END},
    {"COMMIT PREPARED 'gid'", P, W},
    {"ROLLBACK PREPARED 'gid'", P, W},
    // Locking reads.
    {"SELECT * FROM t FOR UPDATE", P, W},
    {"SELECT * FROM t FOR NO KEY UPDATE", P, W},
    {"SELECT * FROM t FOR SHARE", P, W},
    {"SELECT * FROM t FOR KEY SHARE NOWAIT", P, W},
    {"SELECT * FROM t FOR UPDATE OF t SKIP LOCKED", P, W},
    {"SELECT * FROM (SELECT * FROM t FOR UPDATE) s", P, W},
    {"select * from t for\n/* c */ share", P, W},
    // SELECT INTO creates a table.
    {"SELECT * INTO newt FROM t", P, W},
    {"SELECT * INTO UNLOGGED u FROM t", P, W},
    {"SELECT * INTO TEMP tt FROM t", P, W, PIN},
    {"SELECT * INTO LOCAL TEMPORARY tt FROM t", P, W, PIN},
    // Data-modifying CTEs, anywhere.
    {"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", P, W},
    {"WITH i AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM i", P, W},
    {"WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT 1", P, W},
    {"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", P, W},
    {"WITH a AS (SELECT 1), b AS (WITH c AS (DELETE FROM t) SELECT 1) SELECT 2", P, W},
    {"WITH m AS MATERIALIZED (MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE) SELECT 1", P,
     W},
    // COPY direction.
    {"COPY t FROM STDIN", P, W},
    {"copy t (a, b) from '/tmp/x' with (format csv)", P, W},
    {"COPY BINARY t FROM STDIN", P, W},
    {"COPY (DELETE FROM t RETURNING *) TO STDOUT", P, W},
    // EXPLAIN ANALYZE runs the statement.
    {"EXPLAIN ANALYZE DELETE FROM t", P, W},
    {"EXPLAIN ANALYSE UPDATE t SET a = 1", P, W},
    {"EXPLAIN ANALYZE VERBOSE INSERT INTO t VALUES (1)", P, W},
    {"EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t", P, W},
    {"EXPLAIN (FORMAT JSON, ANALYZE true) UPDATE t SET a = 1", P, W},
    {"EXPLAIN (ANALYZE) SELECT * FROM t FOR UPDATE", P, W},
    {"EXPLAIN ANALYZE SELECT nextval('s')", P, W},
    {"EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1", P, W},
    // Write functions: an identifier, maybe qualified, followed by `(`.
    {"SELECT nextval('seq')", P, W},
    {"SELECT setval('seq', 10)", P, W},
    {"SELECT currval('seq')", P, W},
    {"SELECT NEXTVAL('seq')", P, W},
    {"SELECT pg_catalog.nextval('seq')", P, W},
    {"SELECT \"pg_catalog\".\"nextval\"('seq')", P, W},
    {"SELECT id, nextval ('seq') FROM t", P, W},
    {"VALUES (nextval('s'))", P, W},
    {"SELECT * FROM t WHERE id = (SELECT nextval('s'))", P, W},
    {"SELECT * FROM nextval('s')", P, W},
    {"SELECT pg_advisory_lock(1)", P, W, PIN},
    {"SELECT pg_try_advisory_lock(1, 2)", P, W, PIN},
    {"SELECT pg_advisory_lock_shared(1)", P, W, PIN},
    {"SELECT pg_advisory_unlock(1)", P, W, PIN},
    {"SELECT pg_advisory_xact_lock(1)", P, W},
    {"SELECT pg_try_advisory_xact_lock_shared(1)", P, W},
    {"SELECT PG_ADVISORY_XACT_LOCK(1)", P, W},
    {"SELECT lo_create(0)", P, W},
    {"SELECT lo_creat(-1)", P, W},
    {"SELECT lo_import('/tmp/f')", P, W},
    {"SELECT lo_export(1, '/tmp/f')", P, W},
    {"SELECT lo_unlink(1)", P, W},
    {"SELECT lo_get(1)", P, W},
    {"SELECT loread(lo_open(1, 262144), 10)", P, W},
    {"SELECT lowrite(0, 'x')", P, W},
    {"SELECT pg_notify('c', 'p')", P, W},
    {"SELECT txid_current()", P, W},
    {"SELECT pg_current_xact_id()", P, W},
    {"SELECT pg_switch_wal()", P, W},
    {"SELECT pg_create_restore_point('r')", P, W},
    {"SELECT pg_create_logical_replication_slot('s', 'pgoutput')", P, W},
    {"SELECT pg_drop_replication_slot('s')", P, W},
    {"SELECT pg_current_wal_lsn()", P, W},
    {"SELECT pg_logical_emit_message(true, 'p', 'm')", P, W},
    {"SELECT * FROM pg_logical_slot_get_changes('s', NULL, NULL)", P, W},
    {"SELECT pg_terminate_backend(123)", P, W},
    {"INSERT INTO t SELECT pg_advisory_lock(1)", P, W, PIN},
    // Temporary objects pin the session to the primary; reading them needs the primary too.
    {"CREATE TEMP TABLE tt (a int)", P, W, PIN},
    {"CREATE TEMPORARY TABLE tt AS SELECT 1", P, W, PIN},
    {"CREATE GLOBAL TEMPORARY TABLE tt (a int)", P, W, PIN},
    {"create local temp table tt (a int)", P, W, PIN},
    {"CREATE TEMP VIEW v AS SELECT 1", P, W, PIN},
    {"CREATE OR REPLACE TEMP VIEW v AS SELECT 1", P, W, PIN},
    {"CREATE TEMP SEQUENCE s", P, W, PIN},
    {"CREATE TABLE pg_temp.tt (a int)", P, W, PIN},
    {"CREATE VIEW v AS SELECT * FROM pg_temp.tt", P, W, PIN},
    {"SELECT * FROM pg_temp.tt", P, R},
    {"SELECT * FROM pg_temp_3.tt", P, R},
    // Statements whose bodies hold `;`.
    {"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", P, W},
    {"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES "
     "(CASE WHEN true THEN 1 ELSE 2 END); END; SELECT 1",
     P, W, 0, 2},
    {"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));"
     " SELECT 1",
     P, W, 0, 2},
    {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 1", P, W, 0, 2},

    // Several statements: any write sends the whole string to the primary.
    {"select 1; insert into t values (1)", P, W, 0, 2},
    {"INSERT INTO t VALUES (1); SELECT 1", P, W, 0, 2},
    {"SELECT 1; SELECT 2; DELETE FROM t", P, W, 0, 3},
    {"SELECT 1;;; SELECT 2;", S, R, 0, 2},
    {"SELECT 1; FROBNICATE", P, U, 0, 2},
    {"SET search_path = app; SELECT * FROM t", S, R, SES, 2},

    // Unknown: the primary.
    {"FROBNICATE the widget", P, U},
    {"42", P, U},
    {"'just a string'", P, U},
    {"(", P, U},
    {"EXPLAIN ANALYZE", P, U},
    {"START foo", P, U},
    {"COPY t", P, U},
    {"DECLARE c", P, U},
    {"\\x", P, U},
    {"EXECUTE stmt(1)", P, U, EXE},
    {"execute \"Stmt\"", P, U, EXE},

    // Transaction control.
    {"BEGIN", E, T, BEG},
    {"begin work", E, T, BEG},
    {"BEGIN TRANSACTION", E, T, BEG},
    {"START TRANSACTION", E, T, BEG},
    {"BEGIN READ ONLY", E, T, BEG | RO},
    {"START TRANSACTION READ ONLY", E, T, BEG | RO},
    {"BEGIN ISOLATION LEVEL SERIALIZABLE", E, T, BEG | SER},
    {"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", E, T, BEG | SER | RO},
    {"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", E, T, BEG | SER | RO},
    {"BEGIN ISOLATION LEVEL READ COMMITTED", E, T, BEG},
    {"BEGIN NOT DEFERRABLE", E, T, BEG},
    {"BEGIN READ WRITE", P, T, BEG | RW},
    {"START TRANSACTION ISOLATION LEVEL READ COMMITTED READ WRITE", P, T, BEG | RW},
    {"COMMIT", E, T, END},
    {"commit work", E, T, END},
    {"END", E, T, END},
    {"END TRANSACTION", E, T, END},
    {"ROLLBACK", E, T, END},
    {"ABORT", E, T, END},
    {"COMMIT AND CHAIN", E, T, BEG | END},
    {"ROLLBACK AND NO CHAIN", E, T, END},
    {"SAVEPOINT sp", E, T, SVP},
    {"RELEASE SAVEPOINT sp", E, T, SVP},
    {"RELEASE sp", E, T, SVP},
    {"ROLLBACK TO SAVEPOINT sp", E, T, SVP},
    {"ROLLBACK TO sp", E, T, SVP},
    {"ROLLBACK WORK TO SAVEPOINT sp", E, T, SVP},
    {"SET TRANSACTION READ ONLY", E, T, RO},
    {"SET TRANSACTION READ WRITE", P, T, RW},
    {"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", E, T, SER},
    {"SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", E, T},
    {"SET transaction_read_only = off", P, T, RW},
    {"SET transaction_read_only TO on", E, T, RO},
    {"BEGIN; SELECT 1; COMMIT", S, R, BEG | END, 3},
    {"BEGIN; INSERT INTO t VALUES (1); COMMIT;", P, W, BEG | END, 3},
    {"BEGIN READ ONLY; SELECT * FROM t", S, R, BEG | RO, 2},

    // Session state.
    {"SET search_path TO app, public", E, SS, SES},
    {"set work_mem = '64MB'", E, SS, SES},
    {"SET SESSION statement_timeout = 0", E, SS, SES},
    {"SET LOCAL statement_timeout = 0", E, SS},
    {"SET ROLE admin", E, SS, SES},
    {"SET SESSION AUTHORIZATION bob", E, SS, SES},
    {"SET LOCAL ROLE admin", E, SS},
    {"SET TIME ZONE 'UTC'", E, SS, SES},
    {"SET CONSTRAINTS ALL DEFERRED", E, SS},
    {"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", E, SS, SES | RO},
    {"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", E, SS, SES | SER},
    {"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", E, SS, SES | RW},
    {"RESET ALL", E, SS, SES},
    {"RESET search_path", E, SS, SES},
    {"DISCARD ALL", E, SS, SES},
    {"DISCARD TEMP", E, SS, SES},
    {"LOAD 'auto_explain'", E, SS, SES},
    {"DEALLOCATE stmt", E, SS, SES},
    {"DEALLOCATE PREPARE ALL", E, SS, SES},
    {"SELECT set_config('search_path', 'app', false)", S, R, SES},
    // PREPARE creates session state and routes like its statement.
    {"PREPARE q AS SELECT * FROM t WHERE id = $1", S, R, SES},
    {"PREPARE q (int, text) AS SELECT $1, $2", S, R, SES},
    {"PREPARE ins AS INSERT INTO t VALUES ($1)", P, W, SES},
    {"PREPARE q AS SELECT * FROM t FOR UPDATE", P, W, SES},
    {"PREPARE q", P, U},

    // Cursors.
    {"DECLARE c CURSOR FOR SELECT * FROM t", S, R, CUR},
    {"DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1", S, R, CUR | HOLD},
    {"DECLARE c BINARY INSENSITIVE SCROLL CURSOR WITHOUT HOLD FOR SELECT 1", S, R, CUR},
    {"DECLARE c CURSOR FOR SELECT * FROM t FOR UPDATE", P, W, CUR},
    {"DECLARE cursor CURSOR FOR SELECT 1", S, R, CUR},
    {"FETCH 10 FROM c", E, C},
    {"MOVE NEXT IN c", E, C},
    {"CLOSE c", E, C},
    {"CLOSE ALL", E, C},

    // Hints.
    {"/*pgrouter:primary*/ SELECT 1", P, R, HP},
    {"/* pgrouter:primary */ SELECT 1", P, R, HP},
    {"/*PGROUTER:PRIMARY*/SELECT 1", P, R, HP},
    {"/*NO LOAD BALANCE*/ SELECT 1", P, R, HP},
    {"/* no  load\tbalance */ SELECT 1", P, R, HP},
    {"  /*pgrouter:standby*/ SELECT 1", S, R, HS},
    {"/*pgrouter:standby*/ DELETE FROM t", P, W, HS},
    {"-- c\n/*pgrouter:primary*/ SELECT 1", P, R, HP},
    {"SELECT /*pgrouter:primary*/ 1", S, R},
    {"/*pgrouter:primary*/ BEGIN", P, T, BEG | HP},
    {"/*pgrouter:other*/ SELECT 1", S, R},
    {"/* /*pgrouter:primary*/ */ SELECT 1", S, R},
    {"/*pgrouter:primary*/", P, N, HP, 0},

    // Unterminated constructs: the server rejects the string; go to the primary.
    {"SELECT 'abc", P, U, BAD},
    {"SELECT \"abc", P, U, BAD},
    {"SELECT 1 /* open", P, U, BAD},
    {"SELECT 1 /* a /* b */", P, U, BAD},
    {"SELECT $$ open", P, U, BAD},
    {"SELECT $t$ open $x$", P, U, BAD},
    {"SELECT E'abc\\'", P, U, BAD},
    {"SELECT '\\''", P, U, BAD},
    {"BEGIN; SELECT 'abc", P, U, BAD, 2},
    {"/*pgrouter:primary", P, U, BAD, 0},
    {"/*pgrouter:primary*/ SELECT 'x", P, U, BAD | HP},

    // Nothing at all.
    {"", E, N, 0, 0},
    {"   ", E, N, 0, 0},
    {";", E, N, 0, 0},
    {"-- only a comment", E, N, 0, 0},
    {"/* c */ ; ;", E, N, 0, 0},
};

class ClassifierTable : public testing::TestWithParam<Case> {};

TEST_P(ClassifierTable, Classifies) {
  const Case& expected = GetParam();
  const Classification c = classify_sql(expected.sql);
  EXPECT_EQ(c.route, expected.route);
  EXPECT_EQ(c.kind, expected.kind);
  EXPECT_EQ(flags_of(c), expected.flags);
  EXPECT_EQ(c.statement_count, expected.count);
}

// The invariants the fuzzer checks, on every row.
TEST_P(ClassifierTable, TrailingSemicolonAndHintInvariants) {
  const std::string sql = GetParam().sql;
  const Classification c = classify_sql(sql);
  EXPECT_EQ(classify_sql(sql + " ;\n\t"), c);
  const Classification hinted = classify_sql("/*pgrouter:primary*/" + sql);
  EXPECT_EQ(hinted.route, Route::primary);
  EXPECT_TRUE(hinted.hint_primary);
}

INSTANTIATE_TEST_SUITE_P(Sql, ClassifierTable, testing::ValuesIn(k_cases));

TEST(Classifier, TableIsLarge) { EXPECT_GE(std::size(k_cases), 150u); }

TEST(Classifier, PreparedStatementNames) {
  EXPECT_EQ(classify_sql("PREPARE q (int) AS SELECT $1").prepared_name, "q");
  EXPECT_EQ(classify_sql("EXECUTE stmt(1)").prepared_name, "stmt");
  EXPECT_EQ(classify_sql("execute \"Stmt\"").prepared_name, "\"Stmt\"");
  EXPECT_EQ(classify_sql("DEALLOCATE PREPARE s1").prepared_name, "s1");
  EXPECT_EQ(classify_sql("DEALLOCATE ALL").prepared_name, "");
  EXPECT_EQ(classify_sql("SELECT 1").prepared_name, "");
  EXPECT_EQ(classify_sql("EXECUTE a; EXECUTE b").prepared_name, "a");
}

TEST(Classifier, TransactionEffectFollowsStatementOrder) {
  EXPECT_EQ(classify_sql("SELECT 1").transaction_effect, TransactionEffect::none);
  EXPECT_EQ(classify_sql("BEGIN").transaction_effect, TransactionEffect::begins);
  EXPECT_EQ(classify_sql("BEGIN; SELECT 1; COMMIT").transaction_effect, TransactionEffect::ends);
  EXPECT_EQ(classify_sql("COMMIT; BEGIN; SELECT 1").transaction_effect, TransactionEffect::begins);
  EXPECT_EQ(classify_sql("COMMIT AND CHAIN").transaction_effect, TransactionEffect::begins);
  EXPECT_EQ(classify_sql("ROLLBACK TO sp").transaction_effect, TransactionEffect::none);
  EXPECT_EQ(classify_sql("PREPARE TRANSACTION 'x'").transaction_effect, TransactionEffect::ends);
}

TEST(Classifier, IsolationLevel) {
  EXPECT_EQ(classify_sql("BEGIN").isolation, IsolationLevel::unspecified);
  EXPECT_EQ(classify_sql("BEGIN ISOLATION LEVEL SERIALIZABLE").isolation,
            IsolationLevel::serializable);
  EXPECT_EQ(classify_sql("START TRANSACTION ISOLATION LEVEL REPEATABLE READ").isolation,
            IsolationLevel::repeatable_read);
  EXPECT_EQ(classify_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED").isolation,
            IsolationLevel::read_committed);
  EXPECT_EQ(classify_sql("BEGIN ISOLATION LEVEL READ UNCOMMITTED").isolation,
            IsolationLevel::read_uncommitted);
}

TEST(Classifier, ConfiguredWriteFunctions) {
  const std::vector<std::string> extra = {"my_write_fn", "Audit.Log_Event"};
  const ClassifierOptions options{extra};
  const auto route = [&](const char* sql) { return classify_sql(sql, options).route; };
  EXPECT_EQ(route("SELECT my_write_fn(1)"), Route::primary);
  EXPECT_EQ(route("SELECT public.MY_WRITE_FN(1)"), Route::primary);
  EXPECT_EQ(route("SELECT \"my_write_fn\"(1)"), Route::primary);
  EXPECT_EQ(route("SELECT audit.log_event('x')"), Route::primary);
  EXPECT_EQ(route("SELECT log_event('x')"), Route::primary);  // might resolve to audit's
  EXPECT_EQ(route("SELECT other.log_event('x')"), Route::standby_ok);
  EXPECT_EQ(route("SELECT my_write_fn FROM t"), Route::standby_ok);  // a column, not a call
  EXPECT_EQ(route("SELECT 'my_write_fn(1)'"), Route::standby_ok);
  EXPECT_EQ(classify_sql("SELECT my_write_fn(1)").route, Route::standby_ok);  // not configured
  EXPECT_EQ(classify_sql("SELECT my_write_fn(1)", options).kind, StatementKind::write);
}

// Every prefix of a long, tricky string classifies without reading past its end (ASan checks
// the bounds: each prefix gets its own exactly-sized heap buffer) and a cut-off quoted
// construct always goes to the primary.
TEST(Classifier, EveryPrefixIsSafe) {
  const std::string sql =
      "/*pgrouter:standby*/ WITH a AS (SELECT E'\\'x', $t$ ; $t$, \"q\"\"q\" FROM t FOR UPDATE)"
      " SELECT nextval('s') INTO TEMP x; BEGIN ISOLATION LEVEL SERIALIZABLE; "
      "CREATE FUNCTION f() BEGIN ATOMIC SELECT CASE WHEN 1 THEN 2 END; END; "
      "EXPLAIN (ANALYZE off) DELETE FROM t; PREPARE p (int) AS SELECT $1; -- tail";
  for (std::size_t n = 0; n <= sql.size(); ++n) {
    const std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
    std::copy_n(sql.data(), n, copy.get());
    const Classification c = classify_sql(std::string_view(copy.get(), n));
    EXPECT_TRUE(!c.malformed || c.route == Route::primary) << n;
    EXPECT_TRUE(c.route != Route::standby_ok || c.kind == StatementKind::read) << n;
  }
}

// Deep nesting is counted, not recursed into.
TEST(Classifier, DeepNestingIsFlat) {
  const std::string parens(200000, '(');
  EXPECT_EQ(classify_sql(parens + "SELECT 1").route, Route::standby_ok);
  std::string comment;
  for (int i = 0; i < 100000; ++i) comment += "/*";
  for (int i = 0; i < 100000; ++i) comment += "*/";
  EXPECT_EQ(classify_sql(comment + " SELECT 1").route, Route::standby_ok);
  const std::string explains = [] {
    std::string s;
    for (int i = 0; i < 20000; ++i) s += "EXPLAIN ANALYZE ";
    return s + "DELETE FROM t";
  }();
  EXPECT_EQ(classify_sql(explains).route, Route::primary);
}

}  // namespace
}  // namespace pgr::protocol
