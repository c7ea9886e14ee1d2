"""Read/write split inside client sessions (issue 3): which node serves each statement.

Every routing assertion asks the server itself: `SELECT inet_server_port()` (or `SHOW port`,
`pg_is_in_recovery()`, `INSERT ... RETURNING inet_server_port()`) returns the port of the node
that ran it. Writes that reach a hot standby fail there (SQLSTATE 25006 or "during recovery"),
so a misrouted write fails its test too.

Routers (all in front of the session cluster: node0 primary, node1 and node2 hot standbys):
  split   primary_reads = false, weights node1 = 1, node2 = 3, read_your_writes on (default),
          write_functions = rw_touch, rw_marker; health period 500 ms
  norw    the same with read_your_writes = false and equal weights: a session's reads go to
          standbys right after its writes, so pins and prepared statements are seen moving
Others (session mode, enabled = false, weight 0, transaction_reads = primary, debug log, the
read-only port with primary_reads = true) are started by the test that needs them.
Sessions are autocommit unless a test says otherwise (psycopg2 would open a transaction).
"""
from __future__ import annotations

import contextlib
import io
import re
import time
import uuid
from collections import Counter
from types import SimpleNamespace

import psycopg2
import psycopg2.errors
import pytest
from clients import wait_notifies

import pgcluster
import pgwire

HEALTH_PERIOD = "500ms"
READS = 40  # reads per "where do reads go" sample


def _tag(prefix: str = "rw") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# -- helpers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def session(router, autocommit: bool = True, port: int | None = None, **kw):
    """A psycopg2 session through `router` (its client port, or `port`)."""
    if port is not None:
        kw["port"] = port
    c = router.connect(**kw)
    c.autocommit = autocommit
    try:
        yield c
    finally:
        c.close()


def one(conn, sql: str, params=None) -> tuple:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def run(conn, sql: str, params=None) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, params)


def port_of(conn, sql: str = "SELECT inet_server_port()", params=None) -> int:
    """The node port a statement returns in its first column (last result of a string)."""
    return int(one(conn, sql, params)[0])


def sample_ports(conn, n: int = READS, sql: str = "SELECT inet_server_port()") -> Counter:
    return Counter(port_of(conn, sql) for _ in range(n))


def start_router(cluster, users, *, lb: str = "", weights: dict[str, float] | None = None,
                 **kw) -> pgcluster.PgRouter:
    """pgrouter with a [load_balance] table (lb: its lines) and backend weights."""
    extra = ("[load_balance]\n" + lb.strip()) if lb.strip() else ""
    backend_extra = {n: f"weight = {w}" for n, w in (weights or {}).items()}
    kw.setdefault("health_period", HEALTH_PERIOD)
    return cluster.pgrouter(users=users, extra=extra, backend_extra=backend_extra, **kw)


def names(nodes, counter: Counter) -> dict[str, int]:
    return {nodes.name[p]: n for p, n in sorted(counter.items())}


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nodes(cluster):
    cluster.wait_streaming()
    primary = cluster.primary.port
    n1, n2 = cluster.node("node1").port, cluster.node("node2").port
    return SimpleNamespace(primary=primary, n1=n1, n2=n2, standbys={n1, n2},
                           all={primary, n1, n2},
                           name={primary: "node0", n1: "node1", n2: "node2"})


@pytest.fixture(scope="module")
def users(cluster, auth_users) -> dict[str, str]:
    """The default auth_file plus the superuser (for SET SESSION AUTHORIZATION)."""
    return {**auth_users, **cluster.role_secrets(["postgres"])}


SCHEMA = """
DROP SCHEMA IF EXISTS rw_s CASCADE;
DROP TABLE IF EXISTS rw_items, rw_scratch CASCADE;
DROP SEQUENCE IF EXISTS rw_seq;
DROP VIEW IF EXISTS rw_port_view;
CREATE TABLE rw_items(id serial PRIMARY KEY, v int, note text);
INSERT INTO rw_items(v, note) SELECT g, 'seed' FROM generate_series(1, 10) g;
CREATE TABLE rw_scratch(a int);
CREATE SEQUENCE rw_seq;
CREATE VIEW rw_port_view AS SELECT inet_server_port() AS port;
CREATE OR REPLACE FUNCTION rw_marker() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE OR REPLACE FUNCTION rw_plain() RETURNS int LANGUAGE sql AS 'SELECT 2';
CREATE OR REPLACE FUNCTION rw_touch() RETURNS int LANGUAGE sql
    AS 'INSERT INTO rw_items(v, note) VALUES (-1, ''touch'') RETURNING inet_server_port()';
CREATE OR REPLACE PROCEDURE rw_proc(x int) LANGUAGE sql
    AS 'INSERT INTO rw_items(v, note) VALUES (x, ''proc'')';
CREATE SCHEMA rw_s;
CREATE TABLE rw_s.only_here(p int);
INSERT INTO rw_s.only_here VALUES (42);
"""


@pytest.fixture(scope="module")
def schema(cluster, nodes):
    """Tables, a sequence, a view and functions, made on the primary directly (as app) and
    replayed on both standbys; a role rw_reader that app may SET ROLE to."""
    c = psycopg2.connect(cluster.primary.dsn())
    c.autocommit = True
    try:
        run(c, SCHEMA)
    finally:
        c.close()
    cluster.primary.sql("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                        "'rw_reader') THEN CREATE ROLE rw_reader NOLOGIN; END IF; END$$")
    cluster.primary.sql("GRANT rw_reader TO app")
    cluster.wait_replicated()
    return True


@pytest.fixture(scope="module")
def split(cluster, users, schema, nodes):
    r = start_router(cluster, users, weights={"node1": 1, "node2": 3}, lb="""
primary_reads = false
write_functions = ["rw_touch", "rw_marker"]
""")
    r.wait_reads_reach(nodes.standbys, required=False)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def norw(cluster, users, schema, nodes):
    r = start_router(cluster, users, lb="""
primary_reads = false
read_your_writes = false
""")
    r.wait_reads_reach(nodes.standbys, required=False)
    yield r
    r.stop()


# -- statement classification -------------------------------------------------------------------

# Each returns a node port (first column of its last row); all are reads: a standby serves them.
READ_STATEMENTS = {
    "plain": "SELECT inet_server_port()",
    "lowercase": "select inet_server_port()",
    "line_comment_with_write": "  \n-- INSERT INTO rw_items VALUES (1)\nSELECT inet_server_port()",
    "block_comment_with_write": "/* DELETE FROM rw_items */ SELECT inet_server_port()",
    "nested_block_comment": "/* a /* INSERT INTO x */ still a comment; UPDATE rw_items SET v = 1 "
                            "*/ SELECT inet_server_port()",
    "string_with_write": "SELECT inet_server_port() WHERE 'INSERT INTO rw_items VALUES (1)' <> ''",
    "escape_string": "SELECT inet_server_port() WHERE E'it\\'s; DELETE FROM rw_items' <> ''",
    "dollar_quoted": "SELECT inet_server_port() WHERE $$; UPDATE rw_items SET v = 0; $$ <> ''",
    "tagged_dollar_quoted": "SELECT inet_server_port() WHERE $q$ $$ DROP TABLE rw_items; $$ "
                            "$q$ <> ''",
    "quoted_identifiers": 'SELECT inet_server_port() AS "insert", 1 AS "update; delete"',
    "hint_text_inside_string": "SELECT inet_server_port() WHERE '/*pgrouter:primary*/' <> ''",
    "values": "VALUES (inet_server_port())",
    "table": "TABLE rw_port_view",
    "with_select": "WITH x AS (SELECT inet_server_port() AS p) SELECT p FROM x",
    "show": "SHOW port",
    "from_table": "SELECT inet_server_port() FROM rw_items WHERE id = 1",
    "unlisted_function": "SELECT inet_server_port() WHERE rw_plain() = 2",
    "multi_statement_reads": "SELECT 1; SELECT inet_server_port()",
    "standby_hint": "/*pgrouter:standby*/ SELECT inet_server_port()",
}


@pytest.mark.parametrize("sql", READ_STATEMENTS.values(), ids=READ_STATEMENTS.keys())
def test_read_statement_goes_to_a_standby(split, nodes, sql):
    with session(split) as c:
        got = [port_of(c, sql) for _ in range(3)]
    assert set(got) <= nodes.standbys, (sql, got, nodes)


# Each returns a node port and must run on the primary.
PRIMARY_STATEMENTS = {
    "primary_hint": "/*pgrouter:primary*/ SELECT inet_server_port()",
    "pgpool_no_load_balance_hint": "/*NO LOAD BALANCE*/ SELECT inet_server_port()",
    "nextval": "SELECT inet_server_port(), nextval('rw_seq')",
    "setval": "SELECT inet_server_port(), setval('rw_seq', 1000)",
    "write_function_listed": "SELECT inet_server_port(), rw_marker()",
    "write_function_uppercase": "SELECT inet_server_port(), RW_MARKER()",
    "write_function_schema_qualified": "SELECT inet_server_port(), public.rw_marker()",
    "write_function_that_writes": "SELECT rw_touch()",
    "for_update": "SELECT inet_server_port() FROM rw_items WHERE id = 1 FOR UPDATE",
    "for_no_key_update": "SELECT inet_server_port() FROM rw_items WHERE id = 1 "
                         "FOR NO KEY UPDATE",
    "for_share": "SELECT inet_server_port() FROM rw_items WHERE id = 1 FOR SHARE",
    "for_key_share": "SELECT inet_server_port() FROM rw_items WHERE id = 1 FOR KEY SHARE",
    "advisory_xact_lock": "SELECT inet_server_port(), pg_advisory_xact_lock(7001)",
    "large_object_function": "SELECT inet_server_port(), lo_unlink(lo_create(0))",
    "insert_returning": "INSERT INTO rw_items(v) VALUES (1) RETURNING inet_server_port()",
    "lowercase_insert_after_comment": "/* c */ insert into rw_items(v) values (2) "
                                      "returning inet_server_port()",
    "update_returning": "UPDATE rw_items SET v = v WHERE id = 1 RETURNING inet_server_port()",
    "with_insert": "WITH w AS (INSERT INTO rw_items(v) VALUES (4) RETURNING id) "
                   "SELECT inet_server_port() FROM w",
    "with_delete": "WITH d AS (DELETE FROM rw_items WHERE v = -999 RETURNING 1) "
                   "SELECT inet_server_port()",
    "write_then_read_string": "INSERT INTO rw_items(v) VALUES (5); SELECT inet_server_port()",
    "read_then_write_string": "SELECT inet_server_port(); UPDATE rw_items SET v = v "
                              "WHERE id = 1; SELECT inet_server_port()",
}


@pytest.mark.parametrize("sql", PRIMARY_STATEMENTS.values(), ids=PRIMARY_STATEMENTS.keys())
def test_statement_goes_to_the_primary(split, nodes, sql):
    with session(split) as c:
        got = [port_of(c, sql) for _ in range(2)]
    assert got == [nodes.primary] * 2, (sql, got, nodes)


# Writes without a port to show: each fails on a hot standby, so success means the primary.
WRITE_STATEMENTS = {
    "create_table": "CREATE TABLE rw_ddl_{u} (a int)",
    "create_table_as": "CREATE TABLE rw_ctas_{u} AS SELECT 1 AS a",
    "select_into": "SELECT 1 AS a INTO rw_into_{u}",
    "create_index": "CREATE INDEX rw_idx_{u} ON rw_scratch(a)",
    "alter_table": "ALTER TABLE rw_scratch ALTER COLUMN a SET DEFAULT 0",
    "comment": "COMMENT ON TABLE rw_scratch IS 'rw {u}'",
    "grant": "GRANT SELECT ON rw_scratch TO PUBLIC",
    "delete": "DELETE FROM rw_items WHERE v = -999",
    "merge": "MERGE INTO rw_items t USING (VALUES (1)) s(id) ON t.id = s.id "
             "WHEN MATCHED THEN UPDATE SET v = t.v",
    "truncate": "TRUNCATE rw_scratch",
    "do_block": "DO $$BEGIN INSERT INTO rw_items(v, note) VALUES (6, 'do'); END$$",
    "call": "CALL rw_proc(7)",
    "vacuum": "VACUUM rw_scratch",
    "analyze": "ANALYZE rw_scratch",
    "explain_analyze_insert": "EXPLAIN ANALYZE INSERT INTO rw_items(v) VALUES (8)",
    "notify": "NOTIFY rw_chan, 'x'",
    "select_nextval": "SELECT nextval('rw_seq')",
    "lock_in_transaction": "BEGIN; LOCK TABLE rw_scratch IN ACCESS EXCLUSIVE MODE; COMMIT",
    "comment_then_insert_with_semicolon": "-- note\n/* x */ INSERT INTO rw_items(v) VALUES (9);",
}


@pytest.mark.parametrize("sql", WRITE_STATEMENTS.values(), ids=WRITE_STATEMENTS.keys())
def test_write_statement_runs_on_the_primary(split, sql):
    with session(split) as c:
        run(c, sql.replace("{u}", uuid.uuid4().hex[:8]))
        assert c.closed == 0


def test_reads_spread_over_the_standbys_by_weight(split, nodes):
    """primary_reads = false, weights 1 : 3: no read on the primary, node2 about 3/4."""
    with session(split) as c:
        got = Counter()
        for _ in range(200):
            port, in_recovery = one(c, "SELECT inet_server_port(), pg_is_in_recovery()")
            got[port] += 1
            assert in_recovery is True
    assert set(got) == nodes.standbys, names(nodes, got)
    share = got[nodes.n2] / 200
    assert 0.6 <= share <= 0.9, names(nodes, got)


def test_session_reads_its_own_autocommit_writes(split, nodes):
    tag = _tag()
    with session(split) as c:
        for i in range(200):
            rid = one(c, "INSERT INTO rw_items(v, note) VALUES (%s, %s) RETURNING id", (i, tag))[0]
            assert one(c, "SELECT v FROM rw_items WHERE id = %s", (rid,)) == (i,), i


# -- transactions -------------------------------------------------------------------------------


def test_plain_transaction_reads_on_a_standby_until_its_first_write(split, nodes):
    tag = _tag()
    with session(split) as c:
        run(c, "BEGIN")
        before = [port_of(c) for _ in range(5)]
        assert set(before) <= nodes.standbys, before
        assert port_of(c, "INSERT INTO rw_items(v, note) VALUES (1, %s) "
                          "RETURNING inet_server_port()", (tag,)) == nodes.primary
        after = [one(c, "SELECT inet_server_port(), count(*) FROM rw_items WHERE note = %s",
                     (tag,)) for _ in range(5)]
        assert after == [(nodes.primary, 1)] * 5  # the transaction sees its own row
        run(c, "COMMIT")
        for _ in range(20):  # read-your-writes after COMMIT
            assert one(c, "SELECT count(*) FROM rw_items WHERE note = %s", (tag,)) == (1,)


def test_rolled_back_write_and_read_only_commit(split, nodes):
    tag = _tag()
    with session(split) as c:
        run(c, "BEGIN")
        assert port_of(c) in nodes.standbys
        run(c, "INSERT INTO rw_items(v, note) VALUES (1, %s)", (tag,))
        assert port_of(c) == nodes.primary
        run(c, "ROLLBACK")
        assert one(c, "SELECT count(*) FROM rw_items WHERE note = %s", (tag,)) == (0,)
    with session(split) as c:
        # A transaction that only read commits no write: reads stay on the standbys.
        run(c, "BEGIN")
        assert port_of(c) in nodes.standbys
        run(c, "COMMIT")
        got = sample_ports(c, 20)
        assert set(got) <= nodes.standbys, names(nodes, got)


@pytest.mark.parametrize("begin", ["BEGIN READ ONLY", "START TRANSACTION READ ONLY",
                                   "BEGIN; SET TRANSACTION READ ONLY",
                                   "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"])
def test_read_only_transaction_stays_on_one_standby(split, nodes, begin):
    with session(split) as c:
        run(c, begin)
        got = [one(c, "SELECT inet_server_port(), pg_is_in_recovery()") for _ in range(30)]
        assert len(set(got)) == 1, got
        port, in_recovery = got[0]
        assert port in nodes.standbys and in_recovery is True
        with pytest.raises(psycopg2.Error) as ei:
            run(c, "INSERT INTO rw_items(v) VALUES (1)")
        assert ei.value.pgcode == "25006", ei.value
        run(c, "ROLLBACK")
        assert one(c, "SELECT 1") == (1,)


@pytest.mark.parametrize("begin", ["BEGIN ISOLATION LEVEL REPEATABLE READ",
                                   "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                                   "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ WRITE",
                                   "BEGIN; SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"])
def test_repeatable_read_and_serializable_run_on_the_primary(split, nodes, begin):
    level = "serializable" if "SERIALIZABLE" in begin else "repeatable read"
    with session(split) as c:
        run(c, begin)
        got = [one(c, "SELECT inet_server_port(), current_setting('transaction_isolation')")
               for _ in range(10)]
        assert got == [(nodes.primary, level)] * 10
        run(c, "INSERT INTO rw_items(v) VALUES (1)")
        run(c, "COMMIT")


def test_savepoints_around_the_first_write(split, nodes):
    tag = _tag()
    with session(split) as c:
        run(c, "BEGIN")
        assert port_of(c) in nodes.standbys
        run(c, "SAVEPOINT s1")
        run(c, "INSERT INTO rw_items(v, note) VALUES (1, %s)", (tag,))
        run(c, "ROLLBACK TO SAVEPOINT s1")
        run(c, "INSERT INTO rw_items(v, note) VALUES (2, %s)", (tag,))
        run(c, "SAVEPOINT s2")
        run(c, "INSERT INTO rw_items(v, note) VALUES (3, %s)", (tag,))
        run(c, "RELEASE SAVEPOINT s2")
        assert port_of(c) == nodes.primary
        run(c, "COMMIT")
        got = one(c, "SELECT array_agg(v ORDER BY v) FROM rw_items WHERE note = %s", (tag,))
        assert got == ([2, 3],)


def test_errors_inside_and_outside_transactions_leave_the_session_usable(split, nodes):
    with session(split) as c:
        run(c, "BEGIN")
        assert port_of(c) in nodes.standbys
        with pytest.raises(psycopg2.errors.DivisionByZero):
            run(c, "SELECT 1/0")
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            run(c, "SELECT 1")
        run(c, "ROLLBACK")
        assert port_of(c) in nodes.standbys
        with pytest.raises(psycopg2.errors.UndefinedTable):
            run(c, "SELECT * FROM rw_no_such_table")
        with pytest.raises(psycopg2.errors.SyntaxError):
            run(c, "SELEC 1")
        got = sample_ports(c, 10)
        assert set(got) <= nodes.standbys


def test_transaction_reads_primary(cluster, users, schema, nodes):
    with start_router(cluster, users, lb="""
primary_reads = false
transaction_reads = "primary"
""") as r:
        r.wait_reads_reach(nodes.standbys)
        with session(r) as c:
            for begin in ("BEGIN", "BEGIN READ ONLY", "BEGIN ISOLATION LEVEL READ COMMITTED"):
                run(c, begin)
                got = sample_ports(c, 10)
                assert got == Counter({nodes.primary: 10}), (begin, names(nodes, got))
                run(c, "COMMIT")
            got = sample_ports(c, 20)  # outside a transaction: still balanced
            assert set(got) <= nodes.standbys, names(nodes, got)


# -- pins ---------------------------------------------------------------------------------------


def test_temporary_table_pins_the_session_to_the_primary(norw, nodes):
    with session(norw) as c:
        assert set(sample_ports(c, 10)) <= nodes.standbys
        run(c, "CREATE TEMP TABLE rw_tmp(a int)")
        run(c, "INSERT INTO rw_tmp VALUES (1), (2)")
        for _ in range(30):
            assert one(c, "SELECT inet_server_port(), sum(a) FROM rw_tmp") == (nodes.primary, 3)
        got = sample_ports(c, 20)
        assert got == Counter({nodes.primary: 20}), names(nodes, got)


def test_advisory_lock_pins_the_session_to_the_primary(norw, nodes):
    with session(norw) as c:
        assert set(sample_ports(c, 10)) <= nodes.standbys
        run(c, "SELECT pg_advisory_lock(4242)")
        got = sample_ports(c, 20)
        assert got == Counter({nodes.primary: 20}), names(nodes, got)
        # The lock is held where the session is pinned: the unlock finds it.
        assert one(c, "SELECT pg_advisory_unlock(4242)") == (True,)
        got = sample_ports(c, 10)  # pinned from then on
        assert got == Counter({nodes.primary: 10}), names(nodes, got)
    with session(norw) as c:  # a new session is not pinned
        assert set(sample_ports(c, 10)) <= nodes.standbys


def test_listen_pins_the_session_and_receives_notifications(norw, nodes):
    chan = _tag("chan")
    with session(norw) as listener, session(norw) as sender:
        assert set(sample_ports(listener, 10)) <= nodes.standbys
        run(listener, f"LISTEN {chan}")
        got = sample_ports(listener, 10)
        assert got == Counter({nodes.primary: 10}), names(nodes, got)
        run(sender, f"NOTIFY {chan}, 'one'")
        run(sender, "SELECT pg_notify(%s, 'two')", (chan,))
        assert wait_notifies(listener, 2, 5) == [(chan, "one"), (chan, "two")]
        # Still pinned, still listening while it reads.
        assert port_of(listener) == nodes.primary
        run(sender, f"NOTIFY {chan}, 'three'")
        assert wait_notifies(listener, 3, 5)[-1] == (chan, "three")


# -- session state ------------------------------------------------------------------------------


def test_set_custom_guc_then_50_reads(split, nodes):
    with session(split) as c:
        run(c, "SET myapp.x = 'v'")
        got = [one(c, "SELECT current_setting('myapp.x'), inet_server_port()")
               for _ in range(50)]
    assert {v for v, _ in got} == {"v"}, got
    ports = Counter(p for _, p in got)
    assert len(ports) >= 2, names(nodes, ports)


def test_set_search_path_and_reset(split, nodes):
    with session(split) as c:
        run(c, "SET search_path TO rw_s, public")
        run(c, "SET myapp.y TO 'w'")
        got = [one(c, "SELECT p, inet_server_port() FROM only_here") for _ in range(30)]
        assert {p for p, _ in got} == {42}
        assert len({port for _, port in got}) >= 2, got
        run(c, "RESET search_path")
        run(c, "RESET myapp.y")
        for _ in range(20):
            with pytest.raises(psycopg2.errors.UndefinedTable):
                run(c, "SELECT p FROM only_here")
            assert one(c, "SELECT current_setting('myapp.y', true)")[0] in (None, "")


def test_discard_all_reaches_every_backend(split, nodes):
    with session(split) as c:
        run(c, "SET myapp.z = 'before'")
        got = [one(c, "SELECT current_setting('myapp.z', true), inet_server_port()")
               for _ in range(20)]
        assert {v for v, _ in got} == {"before"}, got
        assert len({p for _, p in got}) >= 2, got  # backends on several nodes to discard
        run(c, "DISCARD ALL")
        got = [one(c, "SELECT current_setting('myapp.z', true), inet_server_port()")
               for _ in range(30)]
        assert {v for v, _ in got} <= {None, ""}, got


def test_set_inside_rolled_back_transaction_does_not_stick(split, nodes):
    with session(split) as c:
        run(c, "SET myapp.t = 'kept'")
        run(c, "BEGIN")
        run(c, "SET myapp.t = 'rolled-back'")
        run(c, "ROLLBACK")
        run(c, "BEGIN")
        run(c, "SET LOCAL myapp.t = 'local'")
        assert one(c, "SELECT current_setting('myapp.t')") == ("local",)
        run(c, "COMMIT")
        got = [one(c, "SELECT current_setting('myapp.t'), inet_server_port()")
               for _ in range(30)]
    assert {v for v, _ in got} == {"kept"}, got


def test_set_role_reaches_every_backend(split, nodes):
    with session(split) as c:
        run(c, "SET ROLE rw_reader")
        got = [one(c, "SELECT current_user, session_user, inet_server_port()")
               for _ in range(30)]
        assert {(u, s) for u, s, _ in got} == {("rw_reader", "app")}, got
        assert len({p for _, _, p in got}) >= 2, got
        run(c, "RESET ROLE")
        got = [one(c, "SELECT current_user, inet_server_port()") for _ in range(20)]
        assert {u for u, _ in got} == {"app"}, got


def test_set_session_authorization_reaches_every_backend(split, nodes):
    with session(split, user="postgres", password="postgres") as c:
        run(c, "SET SESSION AUTHORIZATION app")
        got = [one(c, "SELECT session_user, current_user, inet_server_port()")
               for _ in range(30)]
        assert {(s, u) for s, u, _ in got} == {("app", "app")}, got
        assert len({p for _, _, p in got}) >= 2, got
        run(c, "RESET SESSION AUTHORIZATION")
        got = [one(c, "SELECT session_user, inet_server_port()") for _ in range(20)]
        assert {s for s, _ in got} == {"postgres"}, got


# -- prepared statements ------------------------------------------------------------------------


def test_sql_prepare_execute_while_reads_and_writes_alternate(norw, cluster, nodes):
    tag = _tag()
    with session(norw) as c:
        run(c, "PREPARE rw_r(int) AS SELECT $1 * 2, inet_server_port()")
        run(c, "PREPARE rw_w(int, text) AS INSERT INTO rw_items(v, note) VALUES ($1, $2) "
               "RETURNING inet_server_port()")
        reads = Counter()
        for i in range(40):
            if i % 2:
                assert one(c, "EXECUTE rw_w(%s, %s)", (i, tag)) == (nodes.primary,)
            else:
                value, port = one(c, "EXECUTE rw_r(%s)", (i,))
                assert value == 2 * i
                reads[port] += 1
                # A plain read between them still goes to a standby.
                assert port_of(c) in nodes.standbys
        assert set(reads) <= nodes.all
        run(c, "DEALLOCATE rw_r")
        for _ in range(6):
            with pytest.raises(psycopg2.errors.InvalidSqlStatementName):
                run(c, "EXECUTE rw_r(1)")
        assert one(c, "EXECUTE rw_w(100, %s)", (tag,)) == (nodes.primary,)
        run(c, "DEALLOCATE ALL")
        with pytest.raises(psycopg2.errors.InvalidSqlStatementName):
            run(c, "EXECUTE rw_w(101, 'x')")
    assert cluster.primary.sql_value(
        f"SELECT count(*) FROM rw_items WHERE note = '{tag}'", db="app") == "21"


def _unit_types(msgs) -> list[bytes]:
    return [t for t, _ in msgs if t not in (b"N", b"S")]


def _rows(msgs) -> list[tuple]:
    return [pgwire.decode_data_row(p) for t, p in msgs if t == b"D"]


def _error(msgs) -> dict:
    errs = [pgwire.parse_error_fields(p) for t, p in msgs if t == b"E"]
    return errs[0] if errs else {}


def test_raw_pipeline_of_named_and_unnamed_statements(norw, cluster, nodes):
    """JDBC-style extended protocol: two named statements prepared once, then 60+ Sync units
    (named reads, named writes, unnamed Parse/Bind/Describe/Execute, an error, a transaction)
    sent before reading any reply. Replies come back in order; reads ran on standbys, writes
    on the primary, everything of one unit on one node."""
    tag = _tag()
    P, B, E, S = (pgwire.parse_message, pgwire.bind_message, pgwire.execute_message,
                  pgwire.sync_message)
    with pgwire.Conn("127.0.0.1", norw.port, timeout=30) as c:
        c.login("app", "app", "app")
        c.send(P("rd", "SELECT inet_server_port(), $1::int")
               + P("wr", "INSERT INTO rw_items(v, note) VALUES ($1::int, $2) "
                         "RETURNING inet_server_port(), v") + S())
        assert _unit_types(pgwire.read_until_ready(c)) == [b"1", b"1", b"Z"]

        out, expect = b"", []
        for i in range(64):
            k = i % 4
            if i == 33:
                out += (P("", "SELECT 1 / g FROM generate_series(0, 0) g WHERE g < $1::int")
                        + B("", "", ["1"]) + E() + S())  # fails in Execute, not in Bind
                expect.append(("error", i))
            elif i == 50:
                out += (P("", "BEGIN") + B("", "") + E() + B("", "rd", [str(i)]) + E()
                        + B("", "wr", [str(i), tag]) + E() + P("", "COMMIT") + B("", "") + E()
                        + S())
                expect.append(("tx", i))
            elif k in (0, 2):
                out += B("", "rd", [str(i)]) + E() + S()
                expect.append(("read", i))
            elif k == 1:
                out += B("", "wr", [str(i), tag]) + E() + S()
                expect.append(("write", i))
            else:
                out += (P("", "SELECT inet_server_port(), $1::int + 0") + B("", "", [str(i)])
                        + pgwire.describe_message("P", "") + E() + S())
                expect.append(("unnamed", i))
        out += pgwire.describe_message("S", "rd") + S()
        expect.append(("describe", None))
        c.send(out)

        reads, writes = Counter(), 0
        for kind, i in expect:
            msgs = pgwire.read_until_ready(c)
            types, rows = _unit_types(msgs), _rows(msgs)
            assert msgs[-1][1] == b"I", (kind, i, types)
            if kind == "read":
                assert types == [b"2", b"D", b"C", b"Z"], (kind, i, msgs)
                assert rows[0][1] == str(i)
                reads[int(rows[0][0])] += 1
            elif kind == "unnamed":
                assert types == [b"1", b"2", b"T", b"D", b"C", b"Z"], (kind, i, msgs)
                assert rows[0][1] == str(i)
                reads[int(rows[0][0])] += 1
            elif kind == "write":
                assert types == [b"2", b"D", b"C", b"Z"], (kind, i, msgs)
                assert rows[0] == (str(nodes.primary), str(i))
                writes += 1
            elif kind == "error":
                assert types == [b"1", b"2", b"E", b"Z"], (kind, i, msgs)
                assert _error(msgs).get("C") == "22012"
            elif kind == "tx":
                assert types == [b"1", b"2", b"C", b"2", b"D", b"C", b"2", b"D", b"C",
                                 b"1", b"2", b"C", b"Z"], (kind, i, msgs)
                assert rows == [(str(nodes.primary), str(i)), (str(nodes.primary), str(i))]
                writes += 1
            else:
                assert types == [b"t", b"T", b"Z"], (kind, msgs)
        assert set(reads) == nodes.standbys, names(nodes, reads)

        # Close and re-Parse the same name with another text: every node must use the new one.
        c.send(pgwire.close_message("S", "rd") + S())
        assert _unit_types(pgwire.read_until_ready(c)) == [b"3", b"Z"]
        c.send(B("", "rd", ["1"]) + E() + S())
        msgs = pgwire.read_until_ready(c)
        assert _error(msgs).get("C") == "26000", msgs
        c.send(P("rd", "SELECT inet_server_port(), $1::int * 10") + S())
        assert _unit_types(pgwire.read_until_ready(c)) == [b"1", b"Z"]
        out = b"".join(B("", "rd", [str(i)]) + E() + S() for i in range(20))
        c.send(out)
        again = Counter()
        for i in range(20):
            rows = _rows(pgwire.read_until_ready(c))
            assert rows and rows[0][1] == str(i * 10), (i, rows)
            again[int(rows[0][0])] += 1
        assert set(again) == nodes.standbys, names(nodes, again)
        c.send(pgwire.terminate_message())
    assert cluster.primary.sql_value(
        f"SELECT count(*) FROM rw_items WHERE note = '{tag}'", db="app") == str(writes)


# -- COPY ---------------------------------------------------------------------------------------


def test_copy_from_stdin_and_to_stdout(split, cluster, nodes):
    tag = _tag()
    data = "".join(f"{i}\t{tag}\n" for i in range(1000))
    with session(split) as c, c.cursor() as cur:
        cur.copy_expert("COPY rw_items(v, note) FROM STDIN", io.StringIO(data))
        assert cur.rowcount == 1000
    assert cluster.primary.sql_value(
        f"SELECT count(*) FROM rw_items WHERE note = '{tag}'", db="app") == "1000"
    cluster.wait_replicated()
    with session(split) as c, c.cursor() as cur:  # this session never wrote
        ports = Counter()
        for _ in range(10):
            out = io.StringIO()
            cur.copy_expert("COPY (SELECT inet_server_port()) TO STDOUT", out)
            ports[int(out.getvalue())] += 1
        assert set(ports) <= nodes.standbys, names(nodes, ports)
        out = io.StringIO()
        cur.copy_expert(f"COPY (SELECT v, note FROM rw_items WHERE note = '{tag}' ORDER BY v) "
                        f"TO STDOUT", out)
        assert out.getvalue() == data
        # Inside a transaction that wrote, COPY TO runs on the primary.
        cur.execute("BEGIN")
        cur.execute("INSERT INTO rw_items(v, note) VALUES (1, %s)", (tag,))
        out = io.StringIO()
        cur.copy_expert(f"COPY (SELECT inet_server_port(), count(*) FROM rw_items "
                        f"WHERE note = '{tag}') TO STDOUT", out)
        assert out.getvalue() == f"{nodes.primary}\t1001\n"
        cur.execute("COMMIT")


# -- SHOW POOL_NODES ----------------------------------------------------------------------------

POOL_NODES_COLUMNS = ["node_id", "hostname", "port", "status", "pg_status", "lb_weight", "role",
                      "pg_role", "select_cnt", "load_balance_node", "replication_delay",
                      "replication_state", "replication_sync_state", "last_status_change"]


def test_show_pool_nodes(split, nodes):
    before = split.show("SHOW POOL_NODES")
    assert len(before) == 3, before
    assert list(before[0]) == POOL_NODES_COLUMNS
    assert [r["node_id"] for r in before] == ["0", "1", "2"]
    assert [int(r["port"]) for r in before] == [nodes.primary, nodes.n1, nodes.n2]
    assert {r["hostname"] for r in before} == {"127.0.0.1"}
    assert [r["role"] for r in before] == ["primary", "standby", "standby"]
    assert [r["pg_role"] for r in before] == ["primary", "standby", "standby"]
    assert {r["status"] for r in before} == {"up"}, before
    assert {r["pg_status"] for r in before} == {"up"}, before
    assert all(r["last_status_change"] for r in before), before
    w1, w2 = float(before[1]["lb_weight"]), float(before[2]["lb_weight"])
    assert w2 == pytest.approx(3 * w1, rel=0.01), before

    with session(split) as c:
        served = sample_ports(c, 60)
    after = split.show("SHOW POOL_NODES")
    delta = {int(a["port"]): int(a["select_cnt"]) - int(b["select_cnt"])
             for a, b in zip(after, before)}
    assert delta == {p: served[p] for p in (nodes.primary, nodes.n1, nodes.n2)}, (delta, served)


# -- other configurations -----------------------------------------------------------------------


def test_session_mode_keeps_one_node_per_session(cluster, users, schema, nodes):
    with start_router(cluster, users, lb="""
mode = "session"
primary_reads = false
""") as r:
        # One session keeps one node: wait with a new session per read until both standbys
        # have served one (pgrouter has probed them).
        seen: set[int] = set()
        deadline = time.monotonic() + 15
        while seen != nodes.standbys and time.monotonic() < deadline:
            with session(r) as c:
                seen.add(port_of(c))
        chosen = Counter()
        for _ in range(16):
            with session(r) as c:
                got = sample_ports(c, 10)
                assert len(got) == 1, names(nodes, got)
                chosen[next(iter(got))] += 1
        assert set(chosen) == nodes.standbys, names(nodes, chosen)


def test_load_balancing_disabled_sends_everything_to_the_primary(cluster, users, schema, nodes):
    with start_router(cluster, users, lb="enabled = false\nprimary_reads = false") as r:
        time.sleep(1.5)  # three health periods: standbys probed, still unused
        with session(r) as c:
            got = [one(c, "SELECT inet_server_port(), pg_is_in_recovery()") for _ in range(30)]
            assert set(got) == {(nodes.primary, False)}
            run(c, "BEGIN READ ONLY")
            assert sample_ports(c, 10) == Counter({nodes.primary: 10})
            run(c, "COMMIT")
            assert port_of(c, "/*pgrouter:standby*/ SELECT inet_server_port()") == nodes.primary


def test_weight_zero_gets_no_reads(cluster, users, schema, nodes):
    # The primary and node1 weigh 0: even with primary_reads, node2 takes every read.
    with start_router(cluster, users, weights={"node0": 0, "node1": 0, "node2": 1}) as r:
        r.wait_reads_reach({nodes.n2})
        with session(r) as c:
            got = sample_ports(c, 60)
        assert got == Counter({nodes.n2: 60}), names(nodes, got)
    # Both standbys weigh 0: no standby is eligible, reads go to the primary.
    with start_router(cluster, users, weights={"node1": 0, "node2": 0},
                      lb="primary_reads = false") as r:
        time.sleep(1.5)
        with session(r) as c:
            got = sample_ports(c, 30)
        assert got == Counter({nodes.primary: 30}), names(nodes, got)


def test_primary_reads_and_the_read_only_port(cluster, users, schema, nodes):
    """Defaults (primary_reads = true, equal weights): the primary takes its share of reads on
    the client port; the read_only_listen port uses only standbys and refuses writes with
    25006, leaving the session usable."""
    with start_router(cluster, users, read_only_listen=True) as r:
        r.wait_reads_reach(nodes.all)
        with session(r) as c:
            got = sample_ports(c, 300)
        assert set(got) == nodes.all, names(nodes, got)
        assert all(60 <= n <= 140 for n in got.values()), names(nodes, got)

        with session(r, port=r.ro_port) as c:
            got = [one(c, "SELECT inet_server_port(), pg_is_in_recovery()") for _ in range(40)]
            assert {p for p, _ in got} == nodes.standbys, got
            assert {rec for _, rec in got} == {True}
            writes = ["INSERT INTO rw_items(v) VALUES (1)", "CREATE TABLE rw_ro_x(a int)",
                      "SELECT nextval('rw_seq')", "/*pgrouter:primary*/ UPDATE rw_items SET v = 1",
                      "BEGIN; INSERT INTO rw_items(v) VALUES (1); COMMIT"]
            for sql in writes:
                with pytest.raises(psycopg2.Error) as ei:
                    run(c, sql)
                assert ei.value.pgcode == "25006", (sql, ei.value)
                if c.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    run(c, "ROLLBACK")
                assert port_of(c) in nodes.standbys
            with pytest.raises(psycopg2.Error) as ei, c.cursor() as cur:
                cur.copy_expert("COPY rw_items(v) FROM STDIN", io.StringIO("1\n"))
            assert ei.value.pgcode == "25006", ei.value
            assert port_of(c) in nodes.standbys


def test_debug_log_names_target_and_reason(cluster, users, schema, nodes):
    with start_router(cluster, users, log_level="debug", lb="primary_reads = false") as r:
        r.wait_reads_reach(nodes.standbys)
        time.sleep(0.3)
        route = re.compile(r"route .*-> (\S+) \((.+)")
        before = len([ln for ln in r.log_text().splitlines() if "route " in ln])
        with session(r) as c:
            for _ in range(6):
                run(c, "SELECT 'rw-log-read'")
            for _ in range(3):
                run(c, "INSERT INTO rw_items(v, note) VALUES (0, 'rw-log-write')")
        deadline = time.monotonic() + 5
        while True:
            lines = [ln for ln in r.log_text().splitlines() if "route " in ln][before:]
            if len(lines) >= 9 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        lines = [ln for ln in r.log_text().splitlines() if "route " in ln][before:]
        assert len(lines) == 9, lines
        targets = []
        for ln in lines:
            m = route.search(ln)
            assert m, ln
            assert m.group(2).strip(" )"), ln  # a reason follows the target
            targets.append(m.group(1))
        assert all(t in ("node1", "node2") for t in targets[:6]), lines
        assert targets[6:] == ["node0"] * 3, lines
