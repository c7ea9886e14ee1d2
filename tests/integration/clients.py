"""Real PostgreSQL clients (psql, pgbench) run against pgrouter, with timeouts, and the small
waits tests share."""
from __future__ import annotations

import select
import subprocess
import time

import pgcluster


def psql(router, *args: str, input: str | None = None, user: str = "app",
         password: str = "app", db: str = "app", timeout: float = 120,
         check: bool = True) -> subprocess.CompletedProcess:
    """psql -X to pgrouter over TCP; `args` are psql options (e.g. "-Atc", "SELECT 1")."""
    cmd = ["psql", "-X", "-h", "127.0.0.1", "-p", str(router.port), "-U", user, "-d", db,
           *args]
    cp = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                        env=pgcluster.clean_env(PGPASSWORD=password, PGCONNECT_TIMEOUT="10"),
                        stdin=None if input is not None else subprocess.DEVNULL)
    if check and cp.returncode != 0:
        raise AssertionError(f"psql failed ({cp.returncode}): {' '.join(args)}\n"
                             f"stdout: {cp.stdout[-2000:]}\nstderr: {cp.stderr[-2000:]}")
    return cp


def wait_until(predicate, timeout: float, step: float = 0.1) -> bool:
    """Polls `predicate` until it is true or `timeout` seconds passed; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def wait_notifies(conn, n: int, timeout: float) -> list:
    """(channel, payload) of the notifications a psycopg2 connection got, once it has `n` or
    `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while len(conn.notifies) < n and time.monotonic() < deadline:
        if select.select([conn], [], [], 0.1)[0]:
            conn.poll()
    return [(x.channel, x.payload) for x in conn.notifies]
