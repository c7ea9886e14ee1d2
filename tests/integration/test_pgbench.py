"""pgbench through pgrouter in the three query modes, select-only and TPC-B."""
from __future__ import annotations

import re
import subprocess

import pytest

import pgcluster

CLIENTS = 16
SECONDS = 5


@pytest.fixture(scope="module")
def pgbench_tables(cluster):
    """pgbench -i (scale 1) on the primary directly, as app in database app."""
    cluster.pgbench_init("app", create=False)
    return True


@pytest.mark.parametrize("script", ["select-only", "tpcb"])
@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
def test_pgbench(router, pgbench_tables, mode, script):
    cmd = ["pgbench", "-h", "127.0.0.1", "-p", str(router.port), "-U", "app",
           "-c", str(CLIENTS), "-j", "2", "-T", str(SECONDS), "-M", mode]
    # select-only needs no vacuum; TPC-B runs pgbench's vacuum through pgrouter too.
    cmd += ["-S", "-n"] if script == "select-only" else []
    cp = subprocess.run(cmd + ["app"], capture_output=True, text=True, timeout=SECONDS + 60,
                        env=pgcluster.clean_env(PGPASSWORD="app", PGCONNECT_TIMEOUT="10"))
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    assert processed, out
    assert int(processed.group(1)) > 0, out
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if failed:
        assert int(failed.group(1)) == 0, out
    assert f"number of clients: {CLIENTS}" in out
    assert f"query mode: {mode}" in out
    assert "aborted" not in out, out
