"""Lag awareness and read-your-writes (issue 3), against a standby that applies WAL late.

For this module node2 of the session cluster gets recovery_min_apply_delay = '2s' (set at run
time on that standby only, reset at the end); node1 stays current. A session's read served by
node2 right after its own write would miss the row; a standby over max_lag / max_lag_bytes gets
no reads.
"""
from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from types import SimpleNamespace

import psycopg2
import pytest

import pgwire

APPLY_DELAY = "2s"
# Short, so that the current standby (node1) never looks more than ~2 periods (0.5 s) behind
# in pgrouter's sampled lag while node2 is 2 s behind.
HEALTH_PERIOD = "250ms"


def _tag() -> str:
    return f"lag_{uuid.uuid4().hex[:10]}"


@contextlib.contextmanager
def session(router, **kw):
    c = router.connect(**kw)
    c.autocommit = True
    try:
        yield c
    finally:
        c.close()


def start_router(cluster, users, lb: str, **kw):
    return cluster.pgrouter(users=users, extra="[load_balance]\n" + lb.strip(),
                            health_period=HEALTH_PERIOD, **kw)


class Filler:
    """Commits on the primary directly every 20 ms (rows of ~1.5 kB, below the TOAST
    threshold, so WAL grows by ~80 kB/s): the delayed standby stays ~2 s and ~150 kB behind."""

    def __init__(self, primary):
        self.conn = psycopg2.connect(primary.dsn())
        self.conn.autocommit = True
        self.stop_event = threading.Event()
        self.errors: list[str] = []
        self.commits = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with self.conn.cursor() as cur:
                while not self.stop_event.is_set():
                    cur.execute("INSERT INTO lag_fill(payload) SELECT string_agg(md5(random()"
                                "::text), '') FROM generate_series(1, 46)")
                    self.commits += 1
                    time.sleep(0.02)
        except psycopg2.Error as e:
            self.errors.append(str(e))

    def __enter__(self) -> "Filler":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)
        self.conn.close()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nodes(cluster):
    cluster.wait_streaming()
    p, n1, n2 = cluster.primary, cluster.node("node1"), cluster.node("node2")
    return SimpleNamespace(primary=p, n1=n1, n2=n2, standbys={n1.port, n2.port},
                           name={p.port: "node0", n1.port: "node1", n2.port: "node2"})


@pytest.fixture(scope="module")
def delayed(cluster, nodes):
    """node2 applies WAL 2 s late for the whole module; tables lag_rows and lag_fill."""
    nodes.primary.sql("DROP TABLE IF EXISTS lag_rows, lag_fill; "
                      "CREATE TABLE lag_rows(i int, tag text); "
                      "CREATE TABLE lag_fill(id bigserial, payload text); "
                      "GRANT ALL ON lag_rows, lag_fill, lag_fill_id_seq TO app", db="app")
    cluster.wait_replicated()
    cluster.set_apply_delay("node2", APPLY_DELAY)
    try:
        yield nodes.n2
    finally:
        cluster.set_apply_delay("node2", None)
        cluster.wait_replicated(timeout=60)


# -- tests --------------------------------------------------------------------------------------


@pytest.mark.deadline(180)
def test_read_your_writes_with_a_delayed_standby(cluster, auth_users, delayed, nodes):
    """2000 x (INSERT, then SELECT it back) in autocommit never misses the row, then 300
    x the same with BEGIN/COMMIT; meanwhile another session's reads go to both standbys."""
    tag = _tag()
    with start_router(cluster, auth_users, "primary_reads = false") as r:
        r.wait_reads_reach(nodes.standbys, required=False)
        stop = threading.Event()
        other: Counter = Counter()
        other_errors: list[str] = []

        def other_session() -> None:
            try:
                with session(r) as c, c.cursor() as cur:
                    while not stop.is_set():
                        cur.execute("SELECT inet_server_port()")
                        other[cur.fetchone()[0]] += 1
                        time.sleep(0.005)
            except psycopg2.Error as e:
                other_errors.append(str(e))

        t = threading.Thread(target=other_session, daemon=True)
        t.start()
        misses, served = [], Counter()
        deadline = time.monotonic() + 120
        try:
            with session(r) as c, c.cursor() as cur:
                for i in range(2000):
                    cur.execute("INSERT INTO lag_rows(i, tag) VALUES (%s, %s)", (i, tag))
                    cur.execute("SELECT i, inet_server_port() FROM lag_rows "
                                "WHERE tag = %s AND i = %s", (tag, i))
                    row = cur.fetchone()
                    if row is None:
                        misses.append(i)
                    else:
                        served[row[1]] += 1
                    assert time.monotonic() < deadline, f"only {i} iterations in 120 s"
                for i in range(2000, 2300):
                    cur.execute("BEGIN")
                    cur.execute("INSERT INTO lag_rows(i, tag) VALUES (%s, %s)", (i, tag))
                    cur.execute("COMMIT")
                    cur.execute("SELECT count(*) FROM lag_rows WHERE tag = %s AND i = %s",
                                (tag, i))
                    if cur.fetchone()[0] != 1:
                        misses.append(i)
        finally:
            stop.set()
            t.join(30)
    seen = {nodes.name[p]: n for p, n in served.items()}
    assert misses == [], f"{len(misses)} misses, first {misses[:10]}; reads served by {seen}"
    assert not other_errors, other_errors
    assert sum(other.values()) >= 50, other
    assert set(other) == nodes.standbys, {nodes.name[p]: n for p, n in other.items()}


def _lag_bytes(nodes, name: str) -> float:
    return float(nodes.primary.sql_value(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication "
        f"WHERE application_name = '{name}'") or 0)


@contextlib.contextmanager
def replay_paused(node, timeout: float = 10):
    """Pause WAL replay on standby `node` (waiting until it has paused); yields a function that
    resumes it, which the exit calls too if the body did not. While replay is paused under a
    write load, the standby's lag in bytes and in time only grows: a test's "still behind all
    along" then holds whatever the machine's load does to the write rate."""
    node.sql("SELECT pg_wal_replay_pause()")
    resumed = False

    def resume() -> None:
        nonlocal resumed
        if not resumed:
            resumed = True
            node.sql("SELECT pg_wal_replay_resume()")

    try:
        deadline = time.monotonic() + timeout
        while (state := node.sql_value("SELECT pg_get_wal_replay_pause_state()")) != "paused":
            assert time.monotonic() < deadline, f"{node.name}: replay {state} after {timeout} s"
            time.sleep(0.05)
        yield resume
    finally:
        resume()


def _wait_lagging(nodes, timeout: float = 20) -> float:
    """Wait until node2 is well behind (replayed transactions > 1.5 s old, > 32 kB of WAL);
    returns its lag in bytes (median of 5 samples)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        last = nodes.n2.sql_value("SELECT extract(epoch FROM now() - "
                                  "pg_last_xact_replay_timestamp())") or "0"
        if float(last) > 1.5 and _lag_bytes(nodes, "node2") > 32 * 1024:
            samples = []
            for _ in range(5):
                samples.append(_lag_bytes(nodes, "node2"))
                time.sleep(0.1)
            return sorted(samples)[2]
        time.sleep(0.2)
    raise AssertionError(f"node2 not lagging after {timeout}s (replay {last} s behind, "
                         f"{_lag_bytes(nodes, 'node2')} bytes)")


@pytest.mark.deadline(180)
@pytest.mark.parametrize("what", ["max_lag", "max_lag_bytes"])
def test_lagging_standby_gets_no_reads(cluster, auth_users, delayed, nodes, what):
    """With node2 more than 1.5 s behind (max_lag = "1s"), or behind by four times
    max_lag_bytes (set from its measured lag: node1's sampled lag stays far below), a router
    started then never sends node2 a read; node1 takes them all. Once node2 replays again, the
    writes stop and it has caught up, it reads again.

    node2's replay is paused under the write load, so its lag only grows while the reads run.
    With the apply delay alone the lag in bytes is the WAL of the last 2 s, and on a loaded CI
    machine the writer once stalled long enough to bring it below the limit (node2 then rightly
    got reads)."""
    with Filler(nodes.primary) as filler, replay_paused(nodes.n2) as resume_replay:
        lag = _wait_lagging(nodes)
        if what == "max_lag":
            limit = 'max_lag = "1s"'
        else:
            limit = f'max_lag_bytes = "{max(8, int(lag / 4 / 1024))}kB"'
        with start_router(cluster, auth_users, f"primary_reads = false\n{limit}",
                          log_level="debug") as r:  # debug: the route lines say why
            r.wait_reads_reach({nodes.n1.port}, required=False)
            got: Counter = Counter()
            with session(r) as c, c.cursor() as cur:
                for _ in range(300):
                    cur.execute("SELECT inet_server_port()")
                    got[cur.fetchone()[0]] += 1
                    time.sleep(0.005)
            try:
                counts = {row["port"]: int(row["select_cnt"])
                          for row in r.show("SHOW POOL_NODES")}
            except pgwire.ServerError as e:
                counts = {"error": str(e)}
            _wait_lagging(nodes, timeout=2)  # still behind all along
            resume_replay()
            filler.stop()
            assert not filler.errors, filler.errors
            caught_up = r.wait_reads_reach({nodes.n2.port}, timeout=20, required=False)
    reasons = Counter(ln.split("route ", 1)[1] for ln in r.log_text().splitlines()
                      if "route " in ln)
    detail = (f"reads {({nodes.name[p]: n for p, n in got.items()})}, {limit}, node2 "
              f"{lag:.0f} bytes behind; pgrouter's routes: {dict(reasons)}")
    assert got == Counter({nodes.n1.port: 300}), detail
    assert counts.get(str(nodes.n2.port)) == 0, counts
    assert nodes.n2.port in caught_up, \
        f"node2 got no read within 20 s of catching up: {caught_up}"
