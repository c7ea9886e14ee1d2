"""Found by scripts/chaos (kill -9 of the primary): a backend lost inside a transaction must
not let the client's COMMIT succeed elsewhere (run on a fresh link with no transaction, it
would be answered "there is no transaction in progress" + COMMIT: an acknowledged write that
never committed). The session fails the rest of the transaction with 08006 until the client
ends it: COMMIT gets an error, ROLLBACK succeeds, and the session goes on."""
from __future__ import annotations

import time

import psycopg2
import pytest


def test_commit_after_backend_lost_in_transaction_fails(cluster, router):
    cluster.primary.sql("CREATE TABLE IF NOT EXISTS lost_tx(x int); GRANT ALL ON lost_tx TO app",
                        db="app")
    conn = router.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO lost_tx VALUES (1) RETURNING pg_backend_pid()")
            pid = cur.fetchone()[0]
        cluster.primary.sql(f"SELECT pg_terminate_backend({pid})")
        time.sleep(0.3)
        with pytest.raises(psycopg2.Error) as ei:
            conn.commit()
        assert ei.value.pgcode == "08006", ei.value
        with conn.cursor() as cur:  # the session carries on, on a fresh link
            cur.execute("INSERT INTO lost_tx VALUES (2)")
        conn.commit()
    finally:
        conn.close()
    assert cluster.primary.sql_value("SELECT count(*) FROM lost_tx WHERE x = 1", db="app") == "0"


def test_statements_after_a_lost_transaction_fail_until_rollback(cluster, router):
    cluster.primary.sql("CREATE TABLE IF NOT EXISTS lost_tx2(x int); GRANT ALL ON lost_tx2 TO app",
                        db="app")
    conn = router.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO lost_tx2 VALUES (1) RETURNING pg_backend_pid()")
            pid = cur.fetchone()[0]
        cluster.primary.sql(f"SELECT pg_terminate_backend({pid})")
        time.sleep(0.3)
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.Error) as ei:
                cur.execute("INSERT INTO lost_tx2 VALUES (2)")
            assert ei.value.pgcode == "08006"
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO lost_tx2 VALUES (3)")
        conn.commit()
    finally:
        conn.close()
    assert cluster.primary.sql("SELECT x FROM lost_tx2 ORDER BY x", db="app") in ([("3",)], [["3"]], ["3"])
