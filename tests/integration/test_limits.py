"""Connection limits: max_client_connections, max_user_connections and max_db_connections
(53300), max_pending_logins, client_login_timeout, the 10000-byte cap on messages before
authentication, max_message_size after it, and 2000 slow clients (one byte a second) that
neither stop a normal client nor hold memory past client_login_timeout."""
from __future__ import annotations

import resource
import socket
import struct
import threading
import time

import psycopg2
import pytest
from clients import wait_until
from conftest import TIMEOUT_SCALE

import pgwire


def login_error(router, user, password, db="app") -> pgwire.ServerError:
    with pgwire.Conn("127.0.0.1", router.port) as c:
        with pytest.raises(pgwire.ServerError) as ei:
            c.login(user, password, db)
    return ei.value


def logged_in(router, user="app", password="app", db="app") -> pgwire.Conn:
    c = pgwire.Conn("127.0.0.1", router.port)
    c.login(user, password, db)
    return c


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_max_client_connections(cluster, auth_users):
    with cluster.pgrouter(name="pgrouter_maxconn", users=auth_users, max_client_connections=3) as r:
        # The readiness login may still be closing: wait until 3 fit.
        held = []
        assert wait_until(lambda: _try_fill(r, held, 3), 10)
        err = login_error(r, "app", "app")
        assert err.sqlstate == "53300"
        assert err.message == "sorry, too many clients already"
        held.pop().close()
        time.sleep(0.2)
        c = logged_in(r)
        assert c.simple_query("SELECT 1") == [("1",)]
        for x in held + [c]:
            x.close()


def test_full_router_still_answers_sslrequest_and_forwards_cancel(cluster, auth_users):
    """At max_client_connections a refused libpq client (sslmode=prefer: SSLRequest first)
    sees the 53300 itself, and a CancelRequest for a running query still gets through."""
    with cluster.pgrouter(name="pgrouter_full_cancel", users=auth_users,
                          max_client_connections=2) as r:
        held = []
        assert wait_until(lambda: _try_fill(r, held, 1), 10)
        busy = None
        deadline = time.monotonic() + 15
        while busy is None:  # the readiness login may still hold the other slot
            try:
                busy = psycopg2.connect(r.dsn(sslmode="prefer"))
            except psycopg2.OperationalError:
                assert time.monotonic() < deadline, "the second slot never became free"
                time.sleep(0.2)
        with pytest.raises(psycopg2.OperationalError) as ei:
            psycopg2.connect(r.dsn(sslmode="prefer"))
        assert "sorry, too many clients already" in str(ei.value)
        outcome = []

        def sleeper():
            try:
                with busy.cursor() as cur:
                    cur.execute("SELECT pg_sleep(30)")
                outcome.append("finished")
            except psycopg2.errors.QueryCanceled:
                outcome.append("cancelled")

        t = threading.Thread(target=sleeper)
        start = time.monotonic()
        t.start()
        time.sleep(0.5)
        busy.cancel()  # a new connection carrying a CancelRequest, while the router is full
        t.join(30)
        assert outcome == ["cancelled"], outcome
        assert time.monotonic() - start < 20
        busy.close()
        for x in held:
            x.close()


def _try_fill(router, held, n) -> bool:
    while len(held) < n:
        try:
            held.append(logged_in(router))
        except pgwire.ServerError:
            return False
    return True


def test_user_and_database_limits(cluster, auth_users):
    with cluster.pgrouter(name="pgrouter_userdb", users=auth_users,
                          proxy_extra="max_user_connections = 2\nmax_db_connections = 3") as r:
        held = [logged_in(r), logged_in(r)]
        err = login_error(r, "app", "app")
        assert err.sqlstate == "53300"
        assert err.message == 'too many connections for role "app"'
        held.append(logged_in(r, "plainuser", "plainpass"))
        err = login_error(r, "plainuser", "plainpass")
        assert err.sqlstate == "53300"
        assert err.message == 'too many connections for database "app"'
        # Another database is not counted against app.
        other = logged_in(r, "plainuser", "plainpass", "postgres")
        other.close()
        held.pop(0).close()
        assert wait_until(lambda: _login_ok(r), 5)
        for c in held:
            c.close()


def _login_ok(router) -> bool:
    try:
        logged_in(router).close()
        return True
    except pgwire.ServerError:
        return False


def test_max_pending_logins(cluster, auth_users):
    with cluster.pgrouter(name="pgrouter_pending", users=auth_users,
                          proxy_extra="max_pending_logins = 3") as r:
        idle = [socket.create_connection(("127.0.0.1", r.port), timeout=10) for _ in range(3)]
        time.sleep(0.3)
        err = login_error(r, "app", "app")
        assert err.sqlstate == "53300"
        assert "logging in" in err.message
        for s in idle:
            s.close()
        assert wait_until(lambda: _login_ok(r), 5)


def test_client_login_timeout_closes_silent_clients(cluster, auth_users):
    with cluster.pgrouter(name="pgrouter_logintimeout", users=auth_users,
                          client_login_timeout="2s") as r:
        with pgwire.Conn("127.0.0.1", r.port) as c:
            start = time.monotonic()
            err = c.expect_error_or_close(timeout=10 * TIMEOUT_SCALE)
            took = time.monotonic() - start
        assert err is not None and err["C"] == "08006", err
        assert err["M"] == "canceling authentication due to timeout"
        assert 1.5 < took < 8 * TIMEOUT_SCALE
        # Also half-way through SCRAM.
        with pgwire.Conn("127.0.0.1", r.port) as c:
            c.send(pgwire.startup_packet({"user": "app", "database": "app"}))
            t, _ = c.recv_message()
            assert t == b"R"
            err = c.expect_error_or_close(timeout=10 * TIMEOUT_SCALE)
        assert err is not None and err["C"] == "08006", err


def test_declared_length_before_auth_is_capped(router):
    """A 1 GB declared password message before authentication is refused at once; pgrouter
    never allocates it."""
    pid = router.proc.pid
    before = rss_kb(pid)
    for _ in range(20):
        with pgwire.Conn("127.0.0.1", router.port) as c:
            c.send(pgwire.startup_packet({"user": "app", "database": "app"}))
            t, _ = c.recv_message()
            assert t == b"R"
            c.send(b"p" + struct.pack("!I", 0x3fffffff) + b"x" * 100)
            err = c.expect_error_or_close()
            assert err is None or err["C"] == "08P01", err
            assert c.closed_by_peer()
    assert rss_kb(pid) - before < 100 * 1024
    # And a startup packet longer than 10000 bytes.
    with pgwire.Conn("127.0.0.1", router.port) as c:
        c.send(struct.pack("!I", 10001) + b"\0" * 100)
        err = c.expect_error_or_close()
        assert err is not None and err["C"] == "08P01", err


def test_max_message_size_after_login(cluster, auth_users):
    with cluster.pgrouter(name="pgrouter_msgsize", users=auth_users,
                          proxy_extra='max_message_size = "4kB"') as r:
        with logged_in(r) as c:
            assert c.simple_query("SELECT '" + "x" * 1000 + "' IS NOT NULL") == [("t",)]
            c.send(pgwire.query_message("SELECT '" + "y" * 8000 + "'"))
            err = c.expect_error_or_close()
            assert err is not None and err["C"] == "08P01", err
            assert c.closed_by_peer()


@pytest.mark.deadline(180)
def test_2000_slow_clients_do_not_stop_a_normal_client(cluster, auth_users):
    n = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < n + 200:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low for {n} sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    timeout_s = 3
    with cluster.pgrouter(name="pgrouter_slowloris", users=auth_users, max_client_connections=n + 100,
                          client_login_timeout=f"{timeout_s}s", workers=2) as r:
        pid = r.proc.pid
        before = rss_kb(pid)
        startup = pgwire.startup_packet({"user": "app", "database": "app"})
        slow = []
        try:
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", r.port), timeout=10)
                s.setblocking(False)
                slow.append(s)
            opened_at = time.monotonic()
            # One byte a second from each, while a normal client logs in and queries.
            normal_done = False
            sent = 0
            for second in range(timeout_s + 4):
                for s in slow:
                    try:
                        s.send(startup[sent:sent + 1])
                    except (BlockingIOError, ConnectionError, OSError):
                        pass
                sent += 1
                if not normal_done:
                    c = psycopg2.connect(r.dsn(connect_timeout=10))
                    with c.cursor() as cur:
                        cur.execute("SELECT 42")
                        assert cur.fetchone() == (42,)
                    c.close()
                    normal_done = True
                    peak = rss_kb(pid)
                time.sleep(max(0.0, opened_at + second + 1 - time.monotonic()))
            assert normal_done
            # Every slow client was closed at client_login_timeout.
            deadline = time.monotonic() + 20 * TIMEOUT_SCALE
            open_ones = list(slow)
            while open_ones and time.monotonic() < deadline:
                still = []
                for s in open_ones:
                    try:
                        data = s.recv(65536)
                        if data and b"canceling authentication due to timeout" not in data:
                            still.append(s)
                    except BlockingIOError:
                        still.append(s)
                    except OSError:
                        pass
                open_ones = still
                if open_ones:
                    time.sleep(0.2)
            assert not open_ones, f"{len(open_ones)} slow clients still open"
        finally:
            for s in slow:
                s.close()
        # Bounded memory: generous, about 100 kB per slow client at most.
        assert peak - before < n * 100, (before, peak)
        assert wait_until(lambda: _login_ok_psycopg(r), 10)


def _login_ok_psycopg(router) -> bool:
    try:
        psycopg2.connect(router.dsn(connect_timeout=5)).close()
        return True
    except psycopg2.Error:
        return False
