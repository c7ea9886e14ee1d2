"""CancelRequest through pgrouter: psycopg2's conn.cancel(), psql on SIGINT, and a cancel key
that must not cancel anyone."""
from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid

import psycopg2
import psycopg2.errors
import pytest
from conftest import TIMEOUT_SCALE

import pgcluster
import pgwire


def _wait_active(cluster, tag: str, timeout: float = 10) -> None:
    # A read may run on any node (the read/write split), so look on all of them.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for node in cluster.nodes:
            n = node.sql_value(
                f"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                f"AND query LIKE '%{tag}%' AND pid <> pg_backend_pid()")
            if n == "1":
                return
        time.sleep(0.05)
    raise AssertionError(f"query {tag} never became active on any node")


def test_psycopg2_cancel_ends_the_query_at_once(router, cluster):
    victim, bystander = router.connect(), router.connect()
    victim.autocommit = bystander.autocommit = True
    tag = "cancel_" + uuid.uuid4().hex[:8]
    cancelled_at = []

    def cancel():
        _wait_active(cluster, tag)
        cancelled_at.append(time.monotonic())
        victim.cancel()

    bystander_result = []

    def bystander_query():
        with bystander.cursor() as cur:
            cur.execute("SELECT pg_sleep(2), 'bystander done'")
            bystander_result.append(cur.fetchone()[1])

    side = threading.Thread(target=bystander_query)
    side.start()
    t = threading.Thread(target=cancel)
    t.start()
    try:
        with victim.cursor() as cur:
            with pytest.raises(psycopg2.errors.QueryCanceled) as ei:
                cur.execute(f"SELECT pg_sleep(30) /* {tag} */")
            raised_at = time.monotonic()
        t.join(10)
        side.join(10)
        assert ei.value.pgcode == "57014"
        assert cancelled_at, "cancel() never ran"
        # The query would sleep 30 s: ending within a few seconds of the cancel shows the cancel
        # ended it (a bound, not a speed figure; a shared CI machine stalls for a second).
        assert raised_at - cancelled_at[0] < 5 * TIMEOUT_SCALE, f"took {raised_at - cancelled_at[0]:.2f}s"
        # Only the right session was cancelled, and both stay usable.
        assert bystander_result == ["bystander done"]
        with victim.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        victim.close()
        bystander.close()


def test_psql_sigint_cancels_the_query(router, cluster):
    tag = "psqlcancel_" + uuid.uuid4().hex[:8]
    proc = subprocess.Popen(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(router.port), "-U", "app", "-d", "app",
         "-c", f"SELECT pg_sleep(30) /* {tag} */"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=pgcluster.clean_env(PGPASSWORD="app", PGCONNECT_TIMEOUT="10"))
    try:
        _wait_active(cluster, tag)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "canceling statement due to user request" in err, err
    assert proc.returncode == 1
    # The query would sleep 30 s (a bound, not a speed figure).
    assert elapsed < 5 * TIMEOUT_SCALE, f"psql took {elapsed:.2f}s to return after SIGINT"


def test_cancel_with_a_wrong_key_cancels_nothing(router):
    with pgwire.Conn("127.0.0.1", router.port) as c:
        c.login("app", "app", "app")
        pid, key = c.backend_key
        c.send(pgwire.query_message("SELECT pg_sleep(1.5), 'finished'"))
        time.sleep(0.3)
        for bad in [(pid, key ^ 1), (pid ^ 1, key), (0, 0)]:
            with pgwire.Conn("127.0.0.1", router.port) as k:
                k.send(pgwire.cancel_packet(*bad))
                assert k.closed_by_peer(5)
        rows, error = [], None
        while True:
            t, payload = c.recv_message()
            if t == b"D":
                rows.append(payload)
            elif t == b"E":
                error = pgwire.parse_error_fields(payload)
            elif t == b"Z":
                break
        assert error is None, error
        assert len(rows) == 1 and b"finished" in rows[0]


def test_raw_cancel_request_uses_pgrouter_key(router):
    """The key from pgrouter's BackendKeyData cancels the session it was issued for."""
    with pgwire.Conn("127.0.0.1", router.port) as c:
        c.login("app", "app", "app")
        c.send(pgwire.query_message("SELECT pg_sleep(30)"))
        time.sleep(0.3)
        sent = time.monotonic()
        with pgwire.Conn("127.0.0.1", router.port) as k:
            k.send(pgwire.cancel_packet(*c.backend_key))
        error = None
        while True:
            m = c.recv_message()
            assert m is not None, "connection closed instead of cancelling"
            if m[0] == b"E":
                error = pgwire.parse_error_fields(m[1])
            elif m[0] == b"Z":
                break
        assert error and error["C"] == "57014", error
        assert time.monotonic() - sent < 5 * TIMEOUT_SCALE
        assert c.simple_query("SELECT 'alive'") == [("alive",)]
