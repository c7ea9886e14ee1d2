"""Fixtures for pgrouter's integration tests: a real PostgreSQL primary with two hot standbys
(tests/harness/pgcluster.py) and the real pgrouter binary in front of it.

Run: /usr/bin/python3 -m pytest tests/integration -q
Environment: PGROUTER_BIN (default build/proxy/pgrouter), PGR_TIMEOUT_SCALE (stretch the
per-test watchdogs and time bounds; default 3 for a sanitizer build, else 1),
PGR_HARNESS_KEEP=1 (keep the cluster directory).

Every test runs under a watchdog (default 120 s, `@pytest.mark.deadline(s)` to change): when it
fires, the stacks are dumped and the pgrouter processes are killed, which unblocks a client
stuck on a silent proxy, so nothing hangs forever.
"""
from __future__ import annotations

import faulthandler
import os
import resource
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import pgcluster  # noqa: E402

DEFAULT_DEADLINE = 120


def _sanitized_binary() -> bool:
    try:
        data = pgcluster.pgrouter_bin().read_bytes()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle" in data or b"__tsan_init" in data


# Deadlines (not the protocol-level limits such as "cancel within 1 s") stretch 3x for an
# ASan/UBSan build, which runs 2-3x slower.
TIMEOUT_SCALE = float(os.environ.get("PGR_TIMEOUT_SCALE") or (3 if _sanitized_binary() else 1))

# 1000 client connections plus their backend connections need more than the usual 1024 fds.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft < _hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))


def pytest_configure(config):
    config.addinivalue_line("markers", "deadline(seconds): watchdog timeout of one test")


# -- the cluster and pgrouter -------------------------------------------------------------------


@pytest.fixture(scope="session")
def cluster():
    """Primary node0 + hot standbys node1, node2 (async). Roles: app/app (SCRAM, owns db
    app), md5user/md5pass (md5-stored), plainuser/plainpass (SCRAM-stored in PostgreSQL,
    given to pgrouter as a plain-text secret)."""
    with pgcluster.Cluster(standbys=2) as c:
        c.create_role("plainuser", "plainpass")
        yield c


@pytest.fixture(scope="session")
def auth_users(cluster) -> dict[str, str]:
    """The default auth_file: app (SCRAM verifier) and md5user (md5 hash) from pg_authid,
    plainuser with a plain-text secret."""
    users = cluster.role_secrets(["app", "md5user"])
    assert users["app"].startswith("SCRAM-SHA-256$"), users
    assert users["md5user"].startswith("md5"), users
    users["plainuser"] = "plainpass"
    return users


@pytest.fixture(scope="session")
def pgrouter_binary() -> Path:
    b = pgcluster.pgrouter_bin()
    if not os.access(b, os.X_OK):
        pytest.fail(f"pgrouter binary not found at {b}: build it first (or set PGROUTER_BIN)",
                    pytrace=False)
    return b


@pytest.fixture(scope="module")
def router(cluster, auth_users, pgrouter_binary):
    """pgrouter (SCRAM, auth_file, 2 workers) in front of the session cluster. Teardown
    asserts that it exits 0 on SIGTERM with no sanitizer report in its log."""
    r = cluster.pgrouter(users=auth_users)
    yield r
    r.stop()


@pytest.fixture
def conn(router):
    """A psycopg2 connection as app to db app through pgrouter (closed afterwards)."""
    c = router.connect()
    yield c
    c.close()


# -- watchdog and failure reports -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _watchdog(request):
    marker = request.node.get_closest_marker("deadline")
    seconds = (marker.args[0] if marker else DEFAULT_DEADLINE) * TIMEOUT_SCALE
    fired = threading.Event()

    def fire():
        fired.set()
        sys.stderr.write(f"\n*** watchdog: {request.node.nodeid} still running after "
                         f"{seconds:.0f}s: dumping stacks, killing pgrouter to unblock it\n")
        faulthandler.dump_traceback(all_threads=True)
        for r in pgcluster.live_routers():
            r.killed_by = f"the watchdog of {request.node.nodeid}"
            r.proc.kill()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()
    if fired.is_set():
        pytest.fail(f"watchdog: test exceeded {seconds:.0f}s", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of every pgrouter log the failing test used."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        seen = set()
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, pgcluster.PgRouter) and value.name not in seen:
                seen.add(value.name)
                report.sections.append((f"{value.name} log (tail)",
                                        pgcluster.tail(value.log_path, 40)))
