"""Ordinary SQL sessions through pgrouter: psql and psycopg2 doing what applications do."""
from __future__ import annotations

import hashlib
import io
import random
import uuid

import psycopg2
import psycopg2.errors
import pytest

from clients import psql, wait_notifies


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_simple_queries(router):
    out = psql(router, "-Atc", "SELECT 1 + 1, current_user, current_database()")
    assert out.stdout == "2|app|app\n"
    out = psql(router, "-Atc", "SELECT g FROM generate_series(1, 5) g")
    assert out.stdout.split() == ["1", "2", "3", "4", "5"]
    out = psql(router, "-Atc", "SELECT NULL IS NULL, 'caf\u00e9'::text, length('caf\u00e9')")
    assert out.stdout == "t|caf\u00e9|4\n"


def test_multi_statement_string(router, conn):
    out = psql(router, "-Atqc", "CREATE TEMP TABLE m(a int); INSERT INTO m VALUES (1), (2), "
                                "(3); SELECT sum(a) FROM m")
    assert out.stdout.strip().splitlines()[-1] == "6"
    with conn.cursor() as cur:
        cur.execute("SELECT 1; SELECT 2; SELECT 'last'")
        assert cur.fetchall() == [("last",)]
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute("SELECT 1; SELECT 1/0; SELECT 3")
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("SELECT 4")
        assert cur.fetchone() == (4,)


def test_transactions_with_savepoints_and_error_recovery(router, conn):
    t = _name("sp")
    script = f"""
BEGIN;
CREATE TABLE {t}(a int);
INSERT INTO {t} VALUES (1);
SAVEPOINT s1;
INSERT INTO {t} VALUES (2);
ROLLBACK TO SAVEPOINT s1;
INSERT INTO {t} VALUES (3);
SAVEPOINT s2;
SELECT 1/0;
ROLLBACK TO SAVEPOINT s2;
INSERT INTO {t} VALUES (4);
RELEASE SAVEPOINT s2;
COMMIT;
SELECT string_agg(a::text, ',' ORDER BY a) FROM {t};
"""
    out = psql(router, "-Atq", "-f", "-", input=script)
    assert "division by zero" in out.stderr
    assert out.stdout.strip().splitlines()[-1] == "1,3,4"
    # Committed: another session (psycopg2) sees the same rows.
    with conn.cursor() as cur:
        cur.execute(f"SELECT array_agg(a ORDER BY a) FROM {t}")
        assert cur.fetchone() == ([1, 3, 4],)


def test_error_aborts_transaction_until_rollback(conn):
    t = _name("abort")
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {t}(a int)")
        conn.commit()
        cur.execute(f"INSERT INTO {t} VALUES (1)")
        with pytest.raises(psycopg2.errors.DivisionByZero) as ei:
            cur.execute("SELECT 1/0")
        assert ei.value.pgcode == "22012"
        assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INERROR
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cur.execute(f"INSERT INTO {t} VALUES (2)")
        conn.rollback()
        assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        # Recovery with a savepoint inside one transaction.
        cur.execute(f"INSERT INTO {t} VALUES (10)")
        cur.execute("SAVEPOINT before_error")
        with pytest.raises(psycopg2.errors.UndefinedTable):
            cur.execute("SELECT * FROM no_such_table_here")
        cur.execute("ROLLBACK TO SAVEPOINT before_error")
        cur.execute(f"INSERT INTO {t} VALUES (11)")
        conn.commit()
        cur.execute(f"SELECT array_agg(a ORDER BY a) FROM {t}")
        assert cur.fetchone() == ([10, 11],)


COPY_ROWS = 100_000


def test_copy_from_stdin_and_to_stdout_100k_rows(router):
    # One psql session for the load and the reads: a new session may read from a standby that
    # has not replayed the COPY yet (read-your-writes is per session, as documented).
    t = _name("copy")
    rows = [f"{i}\t{hashlib.md5(str(i).encode()).hexdigest()}" for i in range(1, COPY_ROWS + 1)]
    data = "\n".join(rows) + "\n"
    psql(router, "-Atqc", f"CREATE TABLE {t}(a int PRIMARY KEY, b text)")
    out = psql(router, "-At",
               "-c", f"COPY {t} FROM STDIN",
               "-c", f"SELECT count(*), sum(a), md5(string_agg(a || E'\\t' || b, E'\\n' "
                     f"ORDER BY a)) FROM {t}",
               "-c", f"COPY (SELECT a, b FROM {t} ORDER BY a) TO STDOUT",
               input=data)
    lines = out.stdout.split("\n")
    assert lines[0] == f"COPY {COPY_ROWS}"
    expected_md5 = hashlib.md5("\n".join(rows).encode()).hexdigest()
    assert lines[1] == f"{COPY_ROWS}|{COPY_ROWS * (COPY_ROWS + 1) // 2}|{expected_md5}"
    copied = "\n".join(lines[2:2 + COPY_ROWS]) + "\n"
    assert len(copied) == len(data)
    assert hashlib.sha256(copied.encode()).hexdigest() == hashlib.sha256(data.encode()).hexdigest()


def test_copy_error_leaves_session_usable(conn):
    t = _name("copyerr")
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {t}(a int)")
        with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
            cur.copy_expert(f"COPY {t} FROM STDIN", io.StringIO("1\n2\nnot-a-number\n"))
        conn.rollback()
        cur.execute("SELECT 7")
        assert cur.fetchone() == (7,)


def test_listen_notify_between_two_sessions(router):
    listener, sender = router.connect(), router.connect()
    try:
        listener.autocommit = sender.autocommit = True
        chan = _name("chan")
        listener.cursor().execute(f"LISTEN {chan}")
        sender.cursor().execute(f"NOTIFY {chan}, 'hello'")
        sender.cursor().execute("SELECT pg_notify(%s, %s)", (chan, "second"))
        assert wait_notifies(listener, 2, 5) == [(chan, "hello"), (chan, "second")]
        # A NOTIFY inside a transaction is delivered at COMMIT, not before.
        sender.autocommit = False
        sender.cursor().execute(f"NOTIFY {chan}, 'in-tx'")
        assert len(wait_notifies(listener, 3, 1.0)) == 2
        sender.commit()
        assert wait_notifies(listener, 3, 5)[-1] == (chan, "in-tx")
    finally:
        listener.close()
        sender.close()


@pytest.mark.deadline(300)
def test_bytea_100mb_round_trip(conn):
    size = 100 * 1024 * 1024
    data = random.Random(20261122).randbytes(size)
    digest = hashlib.md5(data).hexdigest()
    t = _name("blob")
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {t}(id int, b bytea)")
        cur.execute(f"INSERT INTO {t} VALUES (1, %s)", (psycopg2.Binary(data),))
        cur.execute(f"SELECT length(b), md5(b) FROM {t}")
        assert cur.fetchone() == (size, digest)
        del data
        cur.execute(f"SELECT b FROM {t}")
        got = cur.fetchone()[0]
        assert len(got) == size
        assert hashlib.md5(got).hexdigest() == digest
        del got
    conn.rollback()


def test_prepare_execute(router, conn):
    out = psql(router, "-Atq", "-f", "-", input="""
PREPARE p1(int, text) AS SELECT $1 * 2, upper($2);
EXECUTE p1(21, 'abc');
EXECUTE p1(5, 'x');
SELECT count(*) FROM pg_prepared_statements WHERE name = 'p1';
DEALLOCATE p1;
SELECT count(*) FROM pg_prepared_statements WHERE name = 'p1';
""")
    assert out.stdout.split() == ["42|ABC", "10|X", "1", "0"]
    with conn.cursor() as cur:
        cur.execute("PREPARE q(int) AS SELECT $1 + 1")
        cur.execute("EXECUTE q(41)")
        assert cur.fetchone() == (42,)
        cur.execute("DEALLOCATE q")
        with pytest.raises(psycopg2.errors.InvalidSqlStatementName) as ei:
            cur.execute("EXECUTE q(1)")
        assert ei.value.pgcode == "26000"
    conn.rollback()


def test_temp_tables_are_per_session(router):
    t = _name("tmp")
    a, b = router.connect(), router.connect()
    try:
        with a.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {t}(a int) ON COMMIT PRESERVE ROWS")
            cur.execute(f"INSERT INTO {t} SELECT generate_series(1, 10)")
            a.commit()
            cur.execute(f"SELECT sum(a) FROM {t}")
            assert cur.fetchone() == (55,)
        with b.cursor() as cur:
            with pytest.raises(psycopg2.errors.UndefinedTable):
                cur.execute(f"SELECT * FROM {t}")
        b.rollback()
        a.close()
        c = router.connect()
        try:
            with c.cursor() as cur:
                with pytest.raises(psycopg2.errors.UndefinedTable):
                    cur.execute(f"SELECT * FROM {t}")
        finally:
            c.close()
    finally:
        a.close()
        b.close()
