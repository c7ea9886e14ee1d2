"""Real PostgreSQL clients (psql, pgbench) run against pgrouter, with timeouts."""
from __future__ import annotations

import subprocess

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
