"""psycopg2 features through pgrouter: server-side cursors, executemany, COPY, autocommit and
transaction blocks, session state reported back to the driver."""
from __future__ import annotations

import io
import uuid

import psycopg2
import psycopg2.extensions as ext
import pytest


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_named_cursor_fetches_in_batches(conn):
    with conn.cursor(name="big_cursor") as cur:
        cur.itersize = 2000
        cur.execute("SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g")
        with conn.cursor() as side:  # the cursor lives on the server, in this transaction
            side.execute("SELECT name FROM pg_cursors")
            assert ("big_cursor",) in side.fetchall()
        batches, total, count = 0, 0, 0
        while True:
            rows = cur.fetchmany(5000)
            if not rows:
                break
            batches += 1
            count += len(rows)
            total += sum(r[0] for r in rows)
        assert (batches, count, total) == (10, 50000, 50000 * 50001 // 2)
    conn.commit()
    # Iterating a named cursor (itersize round trips).
    with conn.cursor(name="iter_cursor") as cur:
        cur.itersize = 333
        cur.execute("SELECT g FROM generate_series(1, 1000) g")
        assert sum(r[0] for r in cur) == 500500
    conn.commit()


def test_executemany(conn):
    t = _name("many")
    rows = [(i, f"name-{i}-\u00fc\u20ac", None if i % 7 == 0 else i * 1.5) for i in range(2000)]
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {t}(id int PRIMARY KEY, name text, v float8)")
        cur.executemany(f"INSERT INTO {t} VALUES (%s, %s, %s)", rows)
        conn.commit()
        cur.execute(f"SELECT count(*), count(v), sum(id) FROM {t}")
        assert cur.fetchone() == (2000, 2000 - len(range(0, 2000, 7)), 1999 * 2000 // 2)
        cur.execute(f"SELECT name FROM {t} WHERE id = 1234")
        assert cur.fetchone() == ("name-1234-\u00fc\u20ac",)


def test_copy_expert_both_ways(conn):
    t = _name("cp")
    src = "".join(f"{i},\"text, with comma {i}\",{i * 2}\n" for i in range(50000))
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {t}(a int, b text, c bigint)")
        cur.copy_expert(f"COPY {t} FROM STDIN WITH (FORMAT csv)", io.StringIO(src))
        assert cur.rowcount == 50000
        cur.execute(f"SELECT count(*), sum(c) FROM {t}")
        assert cur.fetchone() == (50000, 2 * (49999 * 50000 // 2))
        out = io.StringIO()
        cur.copy_expert(f"COPY (SELECT * FROM {t} ORDER BY a) TO STDOUT WITH (FORMAT csv)",
                        out)
        assert out.getvalue() == src
        # Binary COPY too.
        bout = io.BytesIO()
        cur.copy_expert(f"COPY {t} TO STDOUT WITH (FORMAT binary)", bout)
        assert bout.getvalue().startswith(b"PGCOPY\n\xff\r\n\0")
        cur.execute(f"TRUNCATE {t}")
        bout.seek(0)
        cur.copy_expert(f"COPY {t} FROM STDIN WITH (FORMAT binary)", bout)
        cur.execute(f"SELECT count(*) FROM {t}")
        assert cur.fetchone() == (50000,)
    conn.rollback()


def test_autocommit_and_transaction_blocks(router):
    t = _name("tx")
    writer, reader = router.connect(), router.connect()
    try:
        reader.autocommit = True
        rc = reader.cursor()

        def visible() -> list:
            # Another session's view of committed data: read it on the primary (a standby
            # may lag behind writes that are not this session's own).
            rc.execute(f"/*NO LOAD BALANCE*/ SELECT a FROM {t} ORDER BY a")
            return [r[0] for r in rc.fetchall()]

        writer.autocommit = True
        wc = writer.cursor()
        wc.execute(f"CREATE TABLE {t}(a int)")
        wc.execute(f"INSERT INTO {t} VALUES (1)")
        assert writer.info.transaction_status == ext.TRANSACTION_STATUS_IDLE
        assert visible() == [1]

        writer.autocommit = False
        wc.execute(f"INSERT INTO {t} VALUES (2)")
        assert writer.info.transaction_status == ext.TRANSACTION_STATUS_INTRANS
        assert visible() == [1]
        writer.commit()
        assert visible() == [1, 2]

        wc.execute(f"INSERT INTO {t} VALUES (3)")
        writer.rollback()
        assert visible() == [1, 2]

        with writer:  # the context manager commits
            writer.cursor().execute(f"INSERT INTO {t} VALUES (4)")
        assert visible() == [1, 2, 4]
        with pytest.raises(psycopg2.errors.UniqueViolation):
            with writer:  # ... and rolls back on an exception
                writer.cursor().execute(f"INSERT INTO {t} VALUES (5)")
                writer.cursor().execute(f"CREATE UNIQUE INDEX ON {t}(a)")
                writer.cursor().execute(f"INSERT INTO {t} VALUES (5)")
        assert visible() == [1, 2, 4]
    finally:
        writer.close()
        reader.close()


def test_session_parameters_reach_the_driver(conn):
    assert conn.server_version >= 150000
    assert conn.get_parameter_status("server_encoding") == "UTF8"
    assert conn.get_parameter_status("integer_datetimes") == "on"
    conn.set_client_encoding("LATIN1")
    assert conn.get_parameter_status("client_encoding") == "LATIN1"
    with conn.cursor() as cur:
        cur.execute("SET application_name = 'psycopg2-test'")
        assert conn.get_parameter_status("application_name") == "psycopg2-test"
        cur.execute("SHOW client_encoding")
        assert cur.fetchone() == ("LATIN1",)
        cur.execute("SELECT %s::text", ("\u00e9t\u00e9",))
        assert cur.fetchone() == ("\u00e9t\u00e9",)
    conn.rollback()
