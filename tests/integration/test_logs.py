"""pgrouter's log: one line when a session starts and one when it ends (user, database,
client address, duration, bytes), and no secrets ever; and its worker threads, named for top -H
and perf."""
from __future__ import annotations

import os
import re
import socket
import time

import pytest

import pgwire


def _lines_about(router, needle: str, want: int, timeout: float = 5) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in router.log_text().splitlines() if needle in l]
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_session_start_and_end_lines(router):
    c = router.connect(application_name="log-probe")
    s = socket.socket(fileno=os.dup(c.fileno()))
    client_addr = "%s:%d" % s.getsockname()
    s.close()
    with c.cursor() as cur:
        cur.execute("SELECT repeat('y', 100000)")
        assert len(cur.fetchone()[0]) == 100000
    time.sleep(0.2)
    started = _lines_about(router, client_addr, 1)
    assert started, f"no log line names the client {client_addr}"
    assert re.search(r"\bapp\b", started[0]), started[0]
    c.close()
    lines = _lines_about(router, client_addr, 2)
    assert len(lines) >= 2, f"no session-end line for {client_addr}: {lines}"
    end = lines[-1]
    assert re.search(r"\bapp\b", end), end                     # user (and database)
    assert re.search(r"(?i)db=app|database=app|/app\b|\bapp\b.*\bapp\b", end), end
    assert re.search(r"(?i)\d+\s*(ms|s)\b|duration", end), f"no duration: {end}"
    assert re.search(r"(?i)bytes", end), f"no byte counts: {end}"
    counts = [int(n) for n in re.findall(r"\d+", end)]
    # the 100 kB result went through this session: some count must be at least that
    assert any(n >= 100000 for n in counts), f"no byte count >= 100000 in: {end}"


def test_no_secrets_in_the_log(router, auth_users):
    for user, password in [("app", "app"), ("md5user", "md5pass"), ("plainuser", "plainpass")]:
        with pgwire.Conn("127.0.0.1", router.port) as c:
            try:
                c.login(user, password, "app")
            except pgwire.ServerError:
                pass  # md5user can't log in where SCRAM is required; its secret still matters
    with pgwire.Conn("127.0.0.1", router.port) as c:
        with pytest.raises(pgwire.ServerError):
            c.login("app", "Wr0ngS3cretValue", "app")
    time.sleep(0.3)
    text = router.log_text()
    for secret in ["md5pass", "plainpass", "Wr0ngS3cretValue", auth_users["md5user"],
                   auth_users["app"], auth_users["app"].split("$")[-1].split(":")[0]]:
        assert secret not in text, f"the log contains a secret: {secret[:12]}..."


def test_worker_threads_are_named(router):
    """The router fixture runs 2 workers: top -H and perf show pgr-worker-0 and pgr-worker-1
    beside the main thread."""
    task_dir = f"/proc/{router.pid}/task"
    names = sorted(open(f"{task_dir}/{tid}/comm").read().strip() for tid in os.listdir(task_dir))
    assert [n for n in names if n.startswith("pgr-worker-")] == ["pgr-worker-0", "pgr-worker-1"], names
