"""Clients that vanish in every protocol state (mid-auth, mid-COPY in both directions,
mid-pipeline, mid-transaction, mid-query on a standby): pgrouter leaves no backend session
busy or in a transaction behind on any node (idle ones are the pool's), commits nothing the client did not finish, keeps serving, and its memory
stops growing once the same disconnects repeat."""
from __future__ import annotations

import socket
import struct
import time
import uuid

import pytest
from conftest import TIMEOUT_SCALE

import pgwire
from proc_tools import proc_status_kb

ROUNDS = 12


def _abort(c: pgwire.Conn) -> None:
    """Close with a RST, as a killed client does: nothing more is read or sent."""
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    c.close()


def _login(router, tag: str) -> pgwire.Conn:
    c = pgwire.Conn("127.0.0.1", router.port, timeout=20)
    c.login("app", "app", "app", extra={"application_name": tag})
    return c


def _recv_until(c: pgwire.Conn, wanted: bytes) -> bytes:
    while True:
        m = c.recv_message()
        assert m is not None, f"connection closed before {wanted!r}"
        if m[0] == b"E":
            raise pgwire.ServerError(pgwire.parse_error_fields(m[1]))
        if m[0] == wanted:
            return m[1]


def _sessions(cluster, tag: str) -> dict[str, int]:
    """Backend sessions carrying `tag` as application_name that are busy or inside a
    transaction, per node. (An idle connection is the pool's: reset and kept for the next
    client with the same startup parameters.)"""
    q = ("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
         f"'{tag}' AND pid <> pg_backend_pid() AND state <> 'idle'")
    return {n.name: int(n.sql_value(q)) for n in cluster.nodes}


def _wait_no_sessions(cluster, tag: str, what: str) -> None:
    deadline = time.monotonic() + 15 * TIMEOUT_SCALE
    while True:
        left = {k: v for k, v in _sessions(cluster, tag).items() if v}
        if not left:
            return
        assert time.monotonic() < deadline, \
            f"{what}: backend sessions left 15 s after the client vanished: {left}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def table(cluster):
    t = "disc_" + uuid.uuid4().hex[:8]
    cluster.primary.sql(f"CREATE TABLE {t}(a int, note text); GRANT ALL ON {t} TO app",
                        db="app")
    cluster.wait_replicated()
    return t


def mid_auth(router, cluster, table, tag):
    c = pgwire.Conn("127.0.0.1", router.port, timeout=20)
    c.send(pgwire.startup_packet({"user": "app", "database": "app",
                                  "application_name": tag}))
    m = c.recv_message()
    assert m is not None and m[0] == b"R", m  # the SASL request: the client leaves here
    _abort(c)


def mid_copy_in(router, cluster, table, tag):
    c = _login(router, tag)
    c.send(pgwire.query_message(f"COPY {table}(a, note) FROM STDIN"))
    _recv_until(c, b"G")
    for i in range(200):
        c.send(pgwire.message(b"d", f"{i}\t{tag}\n".encode()))
    _abort(c)  # no CopyDone: the COPY must not commit


def mid_copy_out(router, cluster, table, tag):
    c = _login(router, tag)
    c.send(pgwire.query_message(
        "COPY (SELECT g, repeat('x', 200) FROM generate_series(1, 3000000) g) TO STDOUT"))
    _recv_until(c, b"H")
    got = 0
    while got < 200_000:
        chunk = c.recv_raw()
        assert chunk, "closed early"
        got += len(chunk)
    _abort(c)


def mid_pipeline(router, cluster, table, tag):
    c = _login(router, tag)
    # Parse/Bind/Execute of an insert and a Flush, but no Sync: the implicit transaction is
    # never committed.
    c.send(pgwire.parse_message("s1", f"INSERT INTO {table} VALUES ($1, '{tag}')")
           + pgwire.bind_message("", "s1", ["1"]) + pgwire.execute_message()
           + pgwire.flush_message())
    _recv_until(c, b"C")
    _abort(c)


def mid_transaction(router, cluster, table, tag):
    c = _login(router, tag)
    c.simple_query("BEGIN")
    c.simple_query(f"INSERT INTO {table} VALUES (2, '{tag}')")
    c.simple_query("SELECT count(*) FROM pg_class")
    _abort(c)


def mid_standby_query(router, cluster, table, tag):
    c = _login(router, tag)
    for _ in range(4):  # links to the standbys and the primary
        c.simple_query("SELECT 1")
    c.send(pgwire.query_message("SELECT pg_sleep(60)"))
    time.sleep(0.3)
    _abort(c)


SCENARIOS = [mid_auth, mid_copy_in, mid_copy_out, mid_pipeline, mid_transaction,
             mid_standby_query]


@pytest.mark.deadline(400)
def test_vanishing_clients_leave_nothing_behind(router, cluster, table):
    rss = []
    for round_no in range(ROUNDS):
        for scenario in SCENARIOS:
            tag = f"disc-{scenario.__name__}-{round_no}"
            scenario(router, cluster, table, tag)
            if round_no in (0, ROUNDS - 1):
                # Checked on the first and last round (each check waits for the backends).
                _wait_no_sessions(cluster, tag, scenario.__name__)
        if round_no == 2 or round_no == ROUNDS - 1:
            rss.append(proc_status_kb(router.pid, "VmRSS"))
    for scenario in SCENARIOS:
        for round_no in range(ROUNDS):
            _wait_no_sessions(cluster, f"disc-{scenario.__name__}-{round_no}", scenario.__name__)
    # Nothing the clients did not finish was committed.
    assert cluster.primary.sql_value(f"SELECT count(*) FROM {table}", db="app") == "0"
    # pgrouter still serves, and the same disconnects repeated do not make it grow (a
    # generous bound: ASan's quarantine holds freed memory for a while).
    with router.connect() as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 6 * 7")
            assert cur.fetchone() == (42,)
    conn.close()
    assert router.alive()
    grown = rss[-1] - rss[0]
    bound = (256 if TIMEOUT_SCALE > 1 else 32) * 1024
    assert grown < bound, f"pgrouter's RSS grew by {grown} kB over {ROUNDS - 3} rounds"
