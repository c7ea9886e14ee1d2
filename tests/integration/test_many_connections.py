"""1000 clients connected through pgrouter at once."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
from conftest import TIMEOUT_SCALE

N = 1000


@pytest.fixture(scope="module")
def big_router(cluster, auth_users, pgrouter_binary):
    # A little headroom over N so a just-closed readiness probe can't make it flaky. The backend
    # logins get 60 s like the clients' (the default 5 s was once crossed by 4 of the 1000 logins
    # under AddressSanitizer on a loaded CI machine: those sessions then went to a standby).
    r = cluster.pgrouter(users=auth_users, max_client_connections=N + 50,
                         proxy_extra='backend_connect_timeout = "60s"\n')
    yield r
    r.stop()


def _app_backends(cluster) -> int:
    return int(cluster.primary.sql_value(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
        "AND backend_type = 'client backend'"))


@pytest.mark.deadline(240)
def test_1000_concurrent_connections(big_router, cluster):
    baseline = _app_backends(cluster)
    start = time.monotonic()
    opened = 0.0
    conns, errors = [], []

    def open_one(i):
        try:
            return psycopg2.connect(big_router.dsn(application_name=f"many-{i}",
                                                   connect_timeout=60))
        except psycopg2.Error as e:
            errors.append(f"{i}: {e}")
            return None

    def select_one(c):
        with c.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone()[0]

    try:
        with ThreadPoolExecutor(32) as pool:
            conns = [c for c in pool.map(open_one, range(N)) if c is not None]
            assert not errors, f"{len(errors)} connections failed, e.g. {errors[:3]}"
            assert len(conns) == N
            opened = time.monotonic() - start
            # All open at once, each with its own backend session on the primary.
            assert _app_backends(cluster) >= baseline + N
            results = list(pool.map(select_one, conns))
        assert results == [1] * N
    finally:
        for c in conns:
            c.close()
    bound = 120 * TIMEOUT_SCALE
    assert time.monotonic() - start < bound, f"took {time.monotonic() - start:.0f}s " \
                                             f"(opening: {opened:.0f}s)"
    # Closing the clients releases their backend sessions.
    deadline = time.monotonic() + 30
    while _app_backends(cluster) > baseline:
        assert time.monotonic() < deadline, \
            f"{_app_backends(cluster) - baseline} backend sessions left 30 s after the " \
            f"clients closed"
        time.sleep(0.5)
    c = big_router.connect()
    c.close()
