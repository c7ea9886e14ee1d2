"""Helpers for the failover tests: a fresh cluster per test (failover changes it for good), a
pgrouter with fast health checks and a [failover] section, write loops that measure downtime,
and questions to PostgreSQL about who streams from whom."""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import psycopg2

import pgcluster

# Fast but not flaky: a probe a second, one retry after 500 ms, 1 s probe timeout, so a dead
# primary is confirmed within ~2.5 s (and a hung one within ~4 s).
HEALTH = {"max_retries": 1, "retry_delay": '"500ms"'}


class FailoverRouter(pgcluster.PgRouter):
    """A PgRouter whose config also sets [health_check] retries, each backend's
    data_directory and a [failover] section (TOML lines in `failover`)."""

    def __init__(self, cluster, *, failover: str = "", **kw):
        kw.setdefault("extra", "")
        super().__init__(cluster, **kw)
        self.failover = failover
        self.opts["extra"] = "[failover]\n" + failover

    def write_config(self) -> None:
        opts = dict(self.opts)
        if opts.get("health_timeout") in (None, "2s"):
            opts["health_timeout"] = "1s"
        text = pgcluster.render_pgrouter_toml(
            port=self.port, backends=[(n.name, "127.0.0.1", n.port) for n in self.backends()],
            auth_file=str(self.auth_file) if self.auth_file else None, **opts)
        health = "".join(f"{k} = {v}\n" for k, v in HEALTH.items())
        text = text.replace("[health_check]\n", "[health_check]\n" + health, 1)
        # Every [[backends]] block ends with its port line: add the data directory after it.
        for n in self.backends():
            text = text.replace(f"port = {n.port}\n",
                                f"port = {n.port}\ndata_directory = \"{n.datadir}\"\n", 1)
        self.config_path.write_text(text)


def start_router(cluster, users, *, name: str, failover: str = "", **kw) -> FailoverRouter:
    r = FailoverRouter(cluster, name=name, users=users, failover=failover, **kw)
    return cluster.start_router(r)


def wait_for(what: str, predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


def wait_log(router, pattern: str, timeout: float = 30) -> re.Match:
    return wait_for(f"{pattern!r} in {router.log_path}",
                    lambda: re.search(pattern, router.log_text()), timeout)


class Writers:
    """`n` threads inserting through pgrouter, each on its own connection; after an error a
    thread reconnects. Records the time of every successful commit and every error."""

    def __init__(self, router, table: str, n: int = 8, reconnect_each: bool = False):
        self.router, self.table, self.n = router, table, n
        self.reconnect_each = reconnect_each
        self.ok: list[float] = []
        self.errors: list[tuple[float, str]] = []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(n)]

    def __enter__(self) -> "Writers":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, timeout: float = 15) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout)

    def _run(self, i: int) -> None:
        conn = None
        while not self.stop_event.is_set():
            try:
                if conn is None:
                    conn = self.router.connect(connect_timeout=5)
                    conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f"INSERT INTO {self.table}(writer) VALUES (%s)", (i,))
                with self.lock:
                    self.ok.append(time.monotonic())
                if self.reconnect_each:
                    conn.close()
                    conn = None
            except psycopg2.Error as e:
                with self.lock:
                    self.errors.append((time.monotonic(), str(e).strip().splitlines()[0]
                                        if str(e).strip() else type(e).__name__))
                try:
                    if conn is not None:
                        conn.close()
                except psycopg2.Error:
                    pass
                conn = None
                time.sleep(0.05)
            time.sleep(0.01)
        if conn is not None:
            conn.close()

    def oks_after(self, t: float) -> list[float]:
        with self.lock:
            return [x for x in self.ok if x > t]

    def downtime(self, t: float) -> float:
        """The outage that began after `t`: the longest gap between consecutive successful
        writes from `t` on (last ok write before it, first ok write after), in seconds."""
        with self.lock:
            oks = sorted(self.ok)
        before = [x for x in oks if x <= t]
        assert before and any(x > t for x in oks), "need writes on both sides of the failure"
        times = [before[-1]] + [x for x in oks if x > t]
        return max(b - a for a, b in zip(times, times[1:]))


def new_primary(cluster, exclude: str) -> pgcluster.Node:
    """The running node other than `exclude` that is not in recovery."""
    found = [n for n in cluster.nodes if n.name != exclude and n.is_running()
             and n.sql_value("SELECT pg_is_in_recovery()") == "f"]
    assert len(found) == 1, f"writable nodes besides {exclude}: {found}"
    return found[0]


def streams_from(standby: pgcluster.Node, primary: pgcluster.Node) -> int | None:
    """The timeline `standby` streams on from `primary`, or None."""
    rows = standby.sql("SELECT status, sender_port, received_tli FROM pg_stat_wal_receiver")
    if rows and rows[0][0] == "streaming" and rows[0][1] == str(primary.port):
        return int(rows[0][2])
    return None


def timeline(node: pgcluster.Node) -> int:
    return int(node.sql_value(
        "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), 16)


def client_sessions(node: pgcluster.Node) -> int:
    """Backends of clients (user app) on `node`: pgrouter's own probes log in as postgres."""
    return int(node.sql_value(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"))


def write_script(path: Path, text: str) -> Path:
    path.write_text(text)
    os.chmod(path, 0o755)
    return path
