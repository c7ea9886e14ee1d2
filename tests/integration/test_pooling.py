"""Connection pooling ([pool]): modes none/session/transaction, max_backend_connections per
node across workers, the wait queue and query_wait_timeout (53300), prepared statements
and session state that follow a client across pooled backend connections, pins (temp tables,
session advisory locks, WITH HOLD cursors, LISTEN), SHOW POOL_POOLS, idle_timeout.

How many backend connections pgrouter holds is measured on the servers themselves: client
backends of user app in pg_stat_activity of each node, read as the superuser over the node's
unix socket (health probes log in as postgres, so they are not counted). Every router here is
started by its test (its own name, so its own log file in the cluster directory) and stopped
cleanly at the end; a failing test prints the tail of its router's log.
"""
from __future__ import annotations

import contextlib
import json
import re
import resource
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import psycopg2.errors
import pytest
from clients import wait_notifies, wait_until
from conftest import TIMEOUT_SCALE

import pgcluster
import pgwire

APP_BACKENDS = ("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                "AND backend_type = 'client backend'")
POOL_POOLS_COLUMNS = {"node_id", "database", "username", "pool_mode", "cl_waiting",
                      "sv_active", "sv_idle", "sv_total"}


# -- helpers ------------------------------------------------------------------------------------


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))


def pool_config(lb_enabled: bool | None = None, **pool) -> str:
    """A [pool] table with `pool` keys (and [load_balance] enabled = ... if given)."""
    out = []
    if pool:
        out.append("[pool]")
        out += [f"{k} = {toml_value(v)}" for k, v in pool.items()]
    if lb_enabled is not None:
        out += ["", "[load_balance]", f"enabled = {toml_value(lb_enabled)}"]
    return "\n".join(out) + "\n"


@contextlib.contextmanager
def started(cluster, users, name: str, **kw):
    """A pgrouter named `name`; stopped (and checked for a clean exit) at the end. On a failure
    the tail of its log is printed (pytest shows it with the failure)."""
    r = cluster.pgrouter(name=name, users=users, **kw)
    try:
        yield r
    except BaseException:
        state = "running" if r.alive() else f"EXITED with code {r.proc.poll()}"
        print(f"\n--- {name} ({state}) log ({r.log_path}), tail ---\n"
              f"{pgcluster.tail(r.log_path, 80)}")
        r.stop(check=False)
        raise
    r.stop()


def app_backends(node) -> int:
    return int(node.sql_value(APP_BACKENDS))


def app_backend_counts(cluster) -> dict[str, int]:
    return {n.name: app_backends(n) for n in cluster.nodes}


def settle_baseline(cluster, timeout: float = 15) -> dict[str, int]:
    """Wait (bounded) for the app backends of earlier routers to go; return what is left
    (normally zeros), which the per-node bounds are measured above."""
    wait_until(lambda: not any(app_backend_counts(cluster).values()), timeout, 0.2)
    return app_backend_counts(cluster)


class BackendSampler:
    """Samples every node's app backend count in a thread until stop(); .peak per node."""

    def __init__(self, cluster, period: float = 0.15):
        self.cluster = cluster
        self.period = period
        self.peak = {n.name: 0 for n in cluster.nodes}
        self.samples = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "BackendSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for name, count in app_backend_counts(self.cluster).items():
                    self.peak[name] = max(self.peak[name], count)
                self.samples += 1
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(str(e))
            self._stop.wait(self.period)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def run_threads(fn, n: int, timeout: float) -> list:
    """fn(i) in n threads; returns their results; re-raises the first exception."""
    results: list = [None] * n
    errors: list = []

    def wrap(i):
        try:
            results[i] = fn(i)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append((i, e))

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    alive = [i for i, t in enumerate(threads) if t.is_alive()]
    if errors:
        i, e = errors[0]
        raise AssertionError(f"thread {i} failed ({len(errors)} failed): {e!r}") from e
    assert not alive, f"threads {alive} still running after {timeout:.0f}s"
    return results


def logged_in(router, timeout: float = 30) -> pgwire.Conn:
    c = pgwire.Conn("127.0.0.1", router.port, timeout=timeout)
    try:
        c.login("app", "app", "app")
    except BaseException:
        c.close()
        raise
    return c


def read_unit(c: pgwire.Conn) -> dict:
    """The replies up to ReadyForQuery: rows (text), the first error's fields, message types,
    the transaction status."""
    rows, error, types = [], None, []
    for t, payload in pgwire.read_until_ready(c):
        types.append(t)
        if t == b"D":
            rows.append(pgwire.decode_data_row(payload))
        elif t == b"E" and error is None:
            error = pgwire.parse_error_fields(payload)
        elif t == b"Z":
            return {"rows": rows, "error": error, "types": types, "status": payload[:1]}
    raise AssertionError("unreachable")


def query(c: pgwire.Conn, sql: str) -> dict:
    c.send(pgwire.query_message(sql))
    return read_unit(c)


def ok_rows(unit: dict, what: str = "") -> list[tuple]:
    assert unit["error"] is None, f"{what}: {unit['error']}"
    return unit["rows"]


def exec_unit(statement: str, params: list) -> bytes:
    """Bind the named statement to the unnamed portal, Execute, Sync."""
    return (pgwire.bind_message("", statement, params) + pgwire.execute_message()
            + pgwire.sync_message())


def one(conn, sql: str, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def psycopg(router, autocommit: bool = True, **kw):
    c = router.connect(connect_timeout=30, **kw)
    c.autocommit = autocommit
    return c


def pgbench(router, db: str, *args: str, timeout: float = 60 * TIMEOUT_SCALE
            ) -> tuple[str, int]:
    """pgbench through pgrouter; checks exit 0, no failed or aborted transaction; returns
    (output, transactions processed). A run still going after `timeout` fails with what the
    app backends of each node are doing."""
    cmd = ["pgbench", "-h", "127.0.0.1", "-p", str(router.port), "-U", "app", *args, db]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=pgcluster.clean_env(PGPASSWORD="app", PGCONNECT_TIMEOUT="30"))
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        activity = {n.name: n.sql(
            "SELECT state, left(regexp_replace(query, '\\s+', ' ', 'g'), 50), count(*) "
            "FROM pg_stat_activity WHERE usename = 'app' GROUP BY 1, 2 ORDER BY 3 DESC")
            for n in router.cluster.nodes}
        p.kill()
        out, _ = p.communicate()
        raise AssertionError(f"pgbench {' '.join(args)} still running after {timeout:.0f}s; "
                             f"app backends (state, last query, count): {activity}\n"
                             f"{out[-1500:]}") from None
    assert p.returncode == 0, out
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    assert processed, out
    failed = re.search(r"number of failed transactions: (\d+)", out)
    assert failed is None or int(failed.group(1)) == 0, out
    assert "aborted" not in out, out
    return out, int(processed.group(1))


def select_counts(router) -> dict[str, int]:
    return {r["node_id"]: int(r["select_cnt"]) for r in router.show("SHOW POOL_NODES")}


def app_pool_row(rows: list[dict], node_id: str = "0") -> dict:
    mine = [r for r in rows if r.get("node_id") == node_id and r.get("database") == "app"
            and r.get("username") == "app"]
    assert len(mine) == 1, rows
    return mine[0]


# -- 1. 2000 clients over 10 backend connections per node --------------------------------------

N_CLIENTS = 2000


@pytest.mark.deadline(200)
def test_2000_clients_transaction_mode_10_backends(cluster, auth_users):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < N_CLIENTS + 500:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low for {N_CLIENTS} sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cluster.primary.sql("DROP TABLE IF EXISTS pool_2000; CREATE TABLE pool_2000(id int "
                        "PRIMARY KEY); ALTER TABLE pool_2000 OWNER TO app", db="app")
    cluster.wait_replicated()
    base = settle_baseline(cluster)
    limit = 10
    extra = pool_config(mode="transaction", max_backend_connections=limit,
                        query_wait_timeout="60s")
    with started(cluster, auth_users, "pool_2000", workers=2, max_client_connections=2500,
                 extra=extra) as r, BackendSampler(cluster) as sampler:
        conns: list = [None] * N_CLIENTS
        login_errors: list[str] = []

        def login(i):
            try:
                conns[i] = logged_in(r, timeout=90)
            except Exception as e:  # noqa: BLE001 - counted below
                login_errors.append(f"{i}: {e!r}")

        try:
            t0 = time.monotonic()
            with ThreadPoolExecutor(64) as ex:
                list(ex.map(login, range(N_CLIENTS)))
            login_s = time.monotonic() - t0
            assert not login_errors, (f"{len(login_errors)} logins failed, e.g. "
                                      f"{login_errors[:3]}")
            # All 2000 are connected at once and hold no more than `limit` backends per node.
            counts = app_backend_counts(cluster)
            assert all(counts[n] - base[n] <= limit for n in counts), (counts, base)

            # Every client sends its statement, all at once; then the replies are read.
            def sql_for(i):
                if i % 10 == 0:
                    return f"INSERT INTO pool_2000(id) SELECT {i} FROM pg_sleep(0.005)"
                return f"SELECT {i}, pg_sleep(0.005)"

            t1 = time.monotonic()
            for i, c in enumerate(conns):
                c.send(pgwire.query_message(sql_for(i)))
            problems = []
            for i, c in enumerate(conns):
                c.sock.settimeout(90)
                unit = read_unit(c)
                if unit["error"] is not None:
                    problems.append(f"{i}: {unit['error']}")
                elif i % 10 != 0 and unit["rows"] != [(str(i), "")]:
                    problems.append(f"{i}: rows {unit['rows']}")
                elif unit["status"] != b"I":
                    problems.append(f"{i}: status {unit['status']!r}")
            query_s = time.monotonic() - t1
            assert not problems, f"{len(problems)} clients failed, e.g. {problems[:5]}"
            # A second round on the same 2000 sessions: all are still connected and usable.
            for i, c in enumerate(conns):
                c.send(pgwire.query_message(f"BEGIN; SELECT {i} + 1; COMMIT"))
            for i, c in enumerate(conns):
                rows = ok_rows(read_unit(c), f"client {i}, round 2")
                assert rows == [(str(i + 1),)], (i, rows)
            end_counts = app_backend_counts(cluster)
        finally:
            for c in conns:
                if c is not None:
                    c.close()
        sampler.stop()
    assert not sampler.errors, sampler.errors[:3]
    assert sampler.samples >= 3, sampler.samples
    detail = (f"peaks {sampler.peak} (baseline {base}, {sampler.samples} samples), at the end "
              f"{end_counts}; logins {login_s:.1f}s, queries {query_s:.1f}s")
    print(detail)
    for name, peak in sampler.peak.items():
        assert peak - base[name] <= limit, detail
        assert end_counts[name] - base[name] <= limit, detail
    assert sampler.peak["node0"] > base["node0"], detail  # the sampler did see the pool
    writes = cluster.primary.sql("SELECT count(*), sum(id) FROM pool_2000", db="app")
    n_writes = len(range(0, N_CLIENTS, 10))
    assert writes == [(str(n_writes), str(sum(range(0, N_CLIENTS, 10))))], detail


# -- 2. pgbench -M prepared through 8 backend connections per node --------------------------------

BENCH_DB = "poolbench"


@pytest.fixture(scope="module")
def bench_db(cluster):
    return cluster.pgbench_init(BENCH_DB)


@pytest.mark.deadline(200)
def test_pgbench_prepared_transaction_mode(cluster, auth_users, bench_db):
    limit, clients, per_client = 8, 64, 50
    base = settle_baseline(cluster)
    standbys = {str(i) for i, n in enumerate(sorted(cluster.nodes, key=lambda n: n.is_standby))
                if n.is_standby}
    with started(cluster, auth_users, "pool_pgbench",
                 extra=pool_config(mode="transaction", max_backend_connections=limit)) as r:
        r.wait_reads_reach({n.port for n in cluster.standbys}, required=False)
        before = select_counts(r)
        with BackendSampler(cluster) as sampler:
            out_s, processed_s = pgbench(r, bench_db, "-M", "prepared", "-S", "-n", "-c",
                                         str(clients), "-j", "2", "-t", str(per_client))
            mid = select_counts(r)
            cluster.primary.sql("TRUNCATE pgbench_history", db=bench_db)
            out_w, processed_w = pgbench(r, bench_db, "-M", "prepared", "-n", "-c",
                                         str(clients), "-j", "2", "-t", str(per_client))
            end_counts = app_backend_counts(cluster)
        after = select_counts(r)
    detail = (f"peaks {sampler.peak} (baseline {base}, {sampler.samples} samples), end "
              f"{end_counts}; select_cnt before {before}, after -S {mid}, after tpcb {after}")
    print(detail)
    assert not sampler.errors, sampler.errors[:3]
    assert "query mode: prepared" in out_s and "query mode: prepared" in out_w
    assert processed_s == clients * per_client, out_s
    assert processed_w == clients * per_client, out_w
    for name, peak in sampler.peak.items():
        assert peak - base[name] <= limit, detail
    assert sampler.peak["node0"] > base["node0"], detail
    history = cluster.primary.sql_value("SELECT count(*) FROM pgbench_history", db=bench_db)
    assert int(history) == clients * per_client, detail
    # Reads were spread: at least one standby served some of pgbench -S's selects.
    assert any(mid[s] - before[s] > 0 for s in standbys), detail


# -- 3. named statements across pooled connections ---------------------------------------------


@pytest.mark.deadline(150)
def test_named_statements_across_pooled_connections(cluster, auth_users):
    n_clients, units = 6, 50
    with started(cluster, auth_users, "pool_stmts",
                 extra=pool_config(mode="transaction", max_backend_connections=2)) as r:
        start = threading.Barrier(n_clients)
        used: dict[tuple[str, str], set[int]] = {}
        used_lock = threading.Lock()

        def note(cid, port, pid):
            with used_lock:
                used.setdefault((port, pid), set()).add(cid)

        def protocol_client(cid):
            offset = 1000 * (cid + 1)
            c = logged_in(r)
            try:
                protocol_steps(cid, offset, c)
            except BaseException:
                start.abort()  # the others stop waiting for this one
                raise
            finally:
                c.close()

        def protocol_steps(cid, offset, c):
            start.wait(30)
            c.send(pgwire.parse_message(
                "s1", f"SELECT $1::int + {offset}, pg_backend_pid(), inet_server_port()")
                + pgwire.sync_message())
            u = read_unit(c)
            assert u["error"] is None and b"1" in u["types"], (cid, u)
            # One unit per transaction, interleaved with the other clients.
            for k in range(units):
                c.send(exec_unit("s1", [str(k)]))
                rows = ok_rows(read_unit(c), f"client {cid} unit {k}")
                assert len(rows) == 1 and rows[0][0] == str(k + offset), (cid, k, rows)
                note(cid, rows[0][2], rows[0][1])
            # Pipelines: every client sends 10 units at once, all clients together
            # (their reads go to different nodes), three times.
            c.sock.settimeout(15 * TIMEOUT_SCALE)
            for burst in range(3):
                start.wait(30)
                ks = range(100 + 10 * burst, 110 + 10 * burst)
                c.send(b"".join(exec_unit("s1", [str(k)]) for k in ks))
                for j, k in enumerate(ks):
                    try:
                        u = read_unit(c)
                    except (socket.timeout, TimeoutError):
                        raise AssertionError(
                            f"client {cid}: no reply to pipelined unit {j + 1} of 10 "
                            f"(burst {burst + 1}) within 15 s") from None
                    rows = ok_rows(u, f"client {cid} pipelined {k}")
                    assert rows[0][0] == str(k + offset), (cid, k, rows)
                    note(cid, rows[0][2], rows[0][1])
            c.sock.settimeout(30)
            # Inside an explicit transaction.
            assert query(c, "BEGIN")["status"] == b"T"
            for k in range(200, 203):
                c.send(exec_unit("s1", [str(k)]))
                u = read_unit(c)
                assert ok_rows(u)[0][0] == str(k + offset) and u["status"] == b"T", (cid, u)
            assert query(c, "COMMIT")["status"] == b"I"
            # Describe in a later transaction.
            c.send(pgwire.describe_message("S", "s1") + pgwire.sync_message())
            u = read_unit(c)
            assert u["error"] is None and b"t" in u["types"] and b"T" in u["types"], (cid, u)
            # Parse, Bind, Execute in one unit (a second name), then used alone.
            c.send(pgwire.parse_message("s2", f"SELECT 'two-{cid}-' || $1::text")
                   + exec_unit("s2", ["a"]))
            assert ok_rows(read_unit(c), f"client {cid} s2") == [(f"two-{cid}-a",)]
            c.send(exec_unit("s2", ["b"]))
            assert ok_rows(read_unit(c), f"client {cid} s2 again") == [(f"two-{cid}-b",)]
            # Close s1: a later Bind of s1 is 26000; the session carries on.
            c.send(pgwire.close_message("S", "s1") + pgwire.sync_message())
            u = read_unit(c)
            assert u["error"] is None and b"3" in u["types"], (cid, u)
            c.send(exec_unit("s1", ["1"]))
            u = read_unit(c)
            assert u["error"] is not None and u["error"]["C"] == "26000", (cid, u)
            assert u["status"] == b"I", (cid, u)
            # s1 again, with other SQL.
            c.send(pgwire.parse_message("s1", f"SELECT $1::text || ':{cid}:new'")
                   + pgwire.sync_message())
            assert read_unit(c)["error"] is None
            for k in range(5):
                c.send(exec_unit("s1", [f"x{k}"]))
                assert ok_rows(read_unit(c)) == [(f"x{k}:{cid}:new",)], cid
            c.send(exec_unit("s2", ["c"]))
            assert ok_rows(read_unit(c)) == [(f"two-{cid}-c",)], cid
            assert query(c, "SELECT 1")["rows"] == [("1",)]

        def sql_client(cid):
            offset = 1000 * (cid + 1)
            conn = psycopg(r)
            try:
                with conn.cursor() as cur:
                    cur.execute(f"PREPARE p(int) AS SELECT $1 + {offset}")
                    conn.autocommit = False
                    for k in range(30):  # many short transactions
                        cur.execute("EXECUTE p(%s)", (k,))
                        assert cur.fetchone() == (k + offset,), (cid, k)
                        conn.commit()
                    conn.autocommit = True
                    for k in range(30, 40):  # autocommit statements
                        cur.execute("EXECUTE p(%s)", (k,))
                        assert cur.fetchone() == (k + offset,), (cid, k)
                    cur.execute("DEALLOCATE p")
                    with pytest.raises(psycopg2.errors.InvalidSqlStatementName) as ei:
                        cur.execute("EXECUTE p(1)")
                    assert ei.value.pgcode == "26000"
                    cur.execute(f"PREPARE p(text) AS SELECT $1 || '-{cid}'")
                    for k in range(5):
                        cur.execute("EXECUTE p(%s)", (f"v{k}",))
                        assert cur.fetchone() == (f"v{k}-{cid}",), cid
            finally:
                conn.close()

        run_threads(protocol_client, n_clients, 100 * TIMEOUT_SCALE)
        run_threads(sql_client, n_clients, 60 * TIMEOUT_SCALE)
    # The clients really moved between backend connections, and shared them.
    per_client: dict[int, set] = {}
    for conn_id, cids in used.items():
        for cid in cids:
            per_client.setdefault(cid, set()).add(conn_id)
    assert len(per_client) == n_clients, per_client
    assert all(len(s) >= 2 for s in per_client.values()), per_client
    assert any(len(cids) >= 2 for cids in used.values()), used


# -- 4. session state follows the client in transaction mode -------------------------------------


@pytest.mark.parametrize("lb", ["primary_only", "balanced"])
def test_session_state_follows_client_in_transaction_mode(cluster, auth_users, lb):
    extra = pool_config(lb_enabled=(lb == "balanced"), mode="transaction",
                        max_backend_connections=1)
    default_path = cluster.primary.sql_value("SHOW search_path")
    # One worker: pools are per worker (a connection never changes worker), so with two
    # workers A and B could share the budget of 1 without ever sharing a connection.
    with started(cluster, auth_users, f"pool_state_{lb}", extra=extra, workers=1) as r:
        a, b = psycopg(r), psycopg(r)
        try:
            if lb == "primary_only":  # one backend connection, shared
                assert one(a, "SELECT pg_backend_pid()") == one(b, "SELECT pg_backend_pid()")
            else:  # one backend connection per node: A and B meet on at least one
                where = "SELECT inet_server_port(), pg_backend_pid()"
                seen_a = {one(a, where) for _ in range(15)}
                seen_b = {one(b, where) for _ in range(15)}
                assert seen_a & seen_b, (seen_a, seen_b)
                assert len({port for port, _ in seen_a | seen_b}) >= 2, (seen_a, seen_b)
            with a.cursor() as cur:
                cur.execute("SET application_name = 'a_app'")
                cur.execute("SET search_path = pool_a_schema, public")
                cur.execute("SET statement_timeout = '300ms'")
            for rnd in range(5):
                assert one(b, "SHOW application_name")[0] != "a_app", rnd
                assert one(b, "SHOW search_path") == (default_path,), rnd
                assert one(b, "SHOW statement_timeout") == ("0",), rnd
                assert one(a, "SHOW application_name") == ("a_app",), rnd
                assert one(a, "SHOW search_path") == ("pool_a_schema, public",), rnd
                assert one(a, "SHOW statement_timeout") == ("300ms",), rnd
                assert one(a, "SELECT current_setting('application_name')") == ("a_app",)
                if rnd == 1:
                    with b.cursor() as cur:
                        cur.execute("SET application_name = 'b_app'")
                if rnd >= 1:
                    assert one(b, "SHOW application_name") == ("b_app",), rnd
                # Inside an explicit transaction too.
                a.autocommit = False
                assert one(a, "SHOW application_name") == ("a_app",), rnd
                a.commit()
                a.autocommit = True
            if lb == "primary_only":
                assert one(a, "SELECT pg_backend_pid()") == one(b, "SELECT pg_backend_pid()")
            # A's statement_timeout applies to A only.
            with pytest.raises(psycopg2.errors.QueryCanceled):
                one(a, "SELECT pg_sleep(1)")
            assert one(b, "SELECT 1 FROM pg_sleep(0.6)") == (1,)
            assert one(a, "SHOW application_name") == ("a_app",)
            # RESET goes back to the default for A.
            with a.cursor() as cur:
                cur.execute("RESET statement_timeout")
            assert one(a, "SELECT 1 FROM pg_sleep(0.4)") == (1,)
            assert one(a, "SHOW statement_timeout") == ("0",)
        finally:
            a.close()
            b.close()


# -- 5. session mode: the next client gets a reset connection -----------------------------------


def test_session_mode_set_not_visible_to_next_client(cluster, auth_users):
    default_work_mem = cluster.primary.sql_value("SHOW work_mem")
    assert default_work_mem != "7MB"
    extra = pool_config(lb_enabled=False, mode="session", max_backend_connections=1)
    # One worker: the next client lands on the worker whose pool holds the idle connection
    # (with two, the idle one is closed to make room for the other worker's pool).
    with started(cluster, auth_users, "pool_session_reset", extra=extra, workers=1) as r:
        c1 = psycopg(r)
        try:
            with c1.cursor() as cur:
                cur.execute("SET work_mem = '7MB'")
                cur.execute("CREATE TEMP TABLE pool_tmp(x int)")
                cur.execute("INSERT INTO pool_tmp VALUES (1)")
                cur.execute("PREPARE pool_p AS SELECT 1")
            assert one(c1, "SHOW work_mem") == ("7MB",)
            pid1 = one(c1, "SELECT pg_backend_pid()")[0]
        finally:
            c1.close()
        c2 = psycopg(r)
        try:
            pid2 = one(c2, "SELECT pg_backend_pid()")[0]
            assert pid2 == pid1, "the backend connection was not reused"
            assert one(c2, "SHOW work_mem") == (default_work_mem,)
            assert one(c2, "SELECT to_regclass('pool_tmp')") == (None,)
            assert one(c2, "SELECT count(*) FROM pg_prepared_statements") == (0,)
        finally:
            c2.close()


# -- 6. the wait queue and query_wait_timeout ----------------------------------------------------


def _hold(router, n: int) -> tuple[list[pgwire.Conn], list[str]]:
    """n raw sessions, each in a transaction that ran a statement: each holds a backend."""
    holders, pids = [], []
    for _ in range(n):
        c = logged_in(router)
        holders.append(c)
        assert query(c, "BEGIN")["status"] == b"T"
        u = query(c, "SELECT pg_backend_pid()")
        pids.append(ok_rows(u)[0][0])
        assert u["status"] == b"T"
    return holders, pids


def test_pool_exhausted_waits_then_succeeds(cluster, auth_users):
    limit = 10
    base = settle_baseline(cluster)
    extra = pool_config(lb_enabled=False, mode="transaction", max_backend_connections=limit)
    with started(cluster, auth_users, "pool_wait", extra=extra) as r:
        waiter = logged_in(r)  # logged in while the pool has room
        holders, pids = _hold(r, limit)
        try:
            assert len(set(pids)) == limit, pids
            assert app_backends(cluster.primary) - base["node0"] <= limit
            waiter.send(pgwire.query_message("SELECT pg_backend_pid()"))
            waiter.sock.settimeout(0.5)
            with pytest.raises((socket.timeout, TimeoutError)):
                waiter.recv_message()
            waiter.sock.settimeout(10 * TIMEOUT_SCALE)
            assert query(holders[0], "COMMIT")["status"] == b"I"
            t0 = time.monotonic()
            u = read_unit(waiter)
            rows = ok_rows(u, "the waiting client")
            assert rows[0][0] not in pids[1:], (rows, pids)
            assert time.monotonic() - t0 < 5 * TIMEOUT_SCALE
            assert app_backends(cluster.primary) - base["node0"] <= limit
            # The released holder and the waiter go on working.
            assert ok_rows(query(holders[0], "SELECT 1")) == [("1",)]
            assert ok_rows(query(waiter, "SELECT 2")) == [("2",)]
            for h in holders[1:]:
                assert query(h, "COMMIT")["status"] == b"I"
        finally:
            for c in holders + [waiter]:
                c.close()


def test_query_wait_timeout(cluster, auth_users):
    limit = 10
    extra = pool_config(lb_enabled=False, mode="transaction", max_backend_connections=limit,
                        query_wait_timeout="1s")
    with started(cluster, auth_users, "pool_wait_timeout", extra=extra) as r:
        waiter = logged_in(r)
        holders, pids = _hold(r, limit)
        try:
            assert len(set(pids)) == limit, pids
            waiter.sock.settimeout(30)
            t0 = time.monotonic()
            u = query(waiter, "SELECT 1")
            took = time.monotonic() - t0
            assert u["error"] is not None and u["error"]["C"] in ("53300", "57014"), u
            assert u["rows"] == [] and u["status"] == b"I", u
            assert 0.8 <= took <= 5 * TIMEOUT_SCALE, took
            # A login needs a backend too: with none free it fails the same way.
            t0 = time.monotonic()
            with pgwire.Conn("127.0.0.1", r.port, timeout=30) as c:
                with pytest.raises(pgwire.ServerError) as ei:
                    c.login("app", "app", "app")
            took = time.monotonic() - t0
            assert ei.value.sqlstate == "53300", ei.value.fields
            assert 0.8 <= took <= 5 * TIMEOUT_SCALE, took
            # Once the holders commit, the same session's next query succeeds.
            for h in holders:
                assert query(h, "COMMIT")["status"] == b"I"
            assert ok_rows(query(waiter, "SELECT 1"), "after the release") == [("1",)]
            assert ok_rows(query(holders[3], "SELECT 3")) == [("3",)]
            with logged_in(r) as c:
                assert ok_rows(query(c, "SELECT 4")) == [("4",)]
        finally:
            for c in holders + [waiter]:
                c.close()


# -- 7. pins ----------------------------------------------------------------------------------


@pytest.mark.deadline(150)
def test_pins_keep_connection_in_transaction_mode(cluster, auth_users):
    cluster.primary.sql("DROP TABLE IF EXISTS pool_traffic; CREATE TABLE pool_traffic(c int, "
                        "k int); ALTER TABLE pool_traffic OWNER TO app", db="app")
    primary_port = cluster.primary.port
    base = settle_baseline(cluster)
    limit = 3
    with started(cluster, auth_users, "pool_pins",
                 extra=pool_config(mode="transaction", max_backend_connections=limit)) as r, \
            BackendSampler(cluster) as sampler:
        stop = threading.Event()
        traffic_done = [0] * 4

        def traffic(i):
            conn = psycopg(r)
            try:
                k = 0
                while not stop.is_set() and k < 5000:
                    one(conn, "SELECT pg_backend_pid()")
                    with conn.cursor() as cur:
                        cur.execute("INSERT INTO pool_traffic VALUES (%s, %s)", (i, k))
                    conn.autocommit = False
                    one(conn, "SELECT count(*) FROM pool_traffic WHERE c = %s", (i,))
                    conn.commit()
                    conn.autocommit = True
                    k += 1
                traffic_done[i] = k
            finally:
                conn.close()

        errors: list = []

        def traffic_safe(i):
            try:
                traffic(i)
            except Exception as e:  # noqa: BLE001 - asserted below
                errors.append(f"traffic {i}: {e!r}")

        threads = [threading.Thread(target=traffic_safe, args=(i,), daemon=True)
                   for i in range(4)]
        for t in threads:
            t.start()
        a = psycopg(r)
        try:
            with a.cursor() as cur:
                cur.execute("CREATE TEMP TABLE t(x int)")
            pid = one(a, "SELECT pg_backend_pid()")[0]
            for i in range(20):
                with a.cursor() as cur:
                    cur.execute("INSERT INTO t VALUES (%s)", (i,))
                assert one(a, "SELECT count(*), sum(x) FROM t") == (i + 1, i * (i + 1) // 2)
                assert one(a, "SELECT pg_backend_pid(), inet_server_port()") == (pid,
                                                                                  primary_port)
                time.sleep(0.02)
            # WITH HOLD cursor, outside a transaction block, fetched across statements.
            with a.cursor() as cur:
                cur.execute("DECLARE hc CURSOR WITH HOLD FOR SELECT g FROM "
                            "generate_series(1, 6) g")
            fetched = []
            for _ in range(3):
                with a.cursor() as cur:
                    cur.execute("FETCH 2 FROM hc")
                    fetched += [x[0] for x in cur.fetchall()]
                time.sleep(0.05)
            assert fetched == [1, 2, 3, 4, 5, 6]
            with a.cursor() as cur:
                cur.execute("CLOSE hc")
            # A session advisory lock stays with A's connection.
            one(a, "SELECT pg_advisory_lock(424242)")
            b = psycopg(r)
            try:
                assert one(b, "SELECT pg_try_advisory_lock(424242)") == (False,)
            finally:
                b.close()
            time.sleep(0.1)
            assert one(a, "SELECT pg_advisory_unlock(424242)") == (True,)
            # LISTEN / NOTIFY.
            with a.cursor() as cur:
                cur.execute("LISTEN pool_chan")
            sender = psycopg(r)
            try:
                with sender.cursor() as cur:
                    cur.execute("NOTIFY pool_chan, 'one'")
                assert wait_notifies(a, 1, 5) == [("pool_chan", "one")]
                assert one(a, "SELECT count(*) FROM t") == (20,)
                with sender.cursor() as cur:
                    cur.execute("SELECT pg_notify('pool_chan', 'two')")
                assert wait_notifies(a, 2, 5)[-1] == ("pool_chan", "two")
            finally:
                sender.close()
            assert one(a, "SELECT pg_backend_pid()") == (pid,)
        finally:
            stop.set()
            a.close()
            for t in threads:
                t.join(30)
        sampler.stop()
        assert not errors, errors
        assert all(k > 0 for k in traffic_done), traffic_done
    # Seven client sessions (A, B, the sender, four traffic clients) on at most 3 backends.
    assert not sampler.errors, sampler.errors[:3]
    for name, peak in sampler.peak.items():
        assert peak - base[name] <= limit, (sampler.peak, base)
    assert sampler.peak["node0"] > base["node0"], (sampler.peak, base)


# -- 8. SHOW POOL_POOLS --------------------------------------------------------------------------


def test_show_pool_pools(cluster, auth_users):
    limit = 2
    extra = pool_config(lb_enabled=False, mode="transaction", max_backend_connections=limit,
                        query_wait_timeout="20s")
    with started(cluster, auth_users, "pool_show", extra=extra) as r:
        admin = logged_in(r)
        waiter = logged_in(r)
        holders: list = []
        try:
            conn = psycopg(r)
            try:
                for i in range(20):
                    assert one(conn, "SELECT %s", (i,)) == (i,)
            finally:
                conn.close()
            rows = pgwire.query_rows(admin, "SHOW POOL_POOLS")
            assert rows, "SHOW POOL_POOLS returned no rows"
            assert POOL_POOLS_COLUMNS <= set(rows[0]), list(rows[0])
            row = app_pool_row(rows)
            assert row["pool_mode"] == "transaction", row
            for col in ("cl_waiting", "sv_active", "sv_idle", "sv_total"):
                assert int(row[col]) >= 0, row
            assert 1 <= int(row["sv_total"]) <= limit, row
            assert int(row["sv_idle"]) >= 1, row
            # Both connections held, a third client waiting.
            holders, _ = _hold(r, limit)
            waiter.send(pgwire.query_message("SELECT 42"))
            time.sleep(0.5)
            busy = None
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                busy = app_pool_row(pgwire.query_rows(admin, "SHOW POOL_POOLS"))
                if int(busy["cl_waiting"]) >= 1:
                    break
                time.sleep(0.2)
            assert int(busy["cl_waiting"]) >= 1, busy
            assert int(busy["sv_active"]) == limit, busy
            assert int(busy["sv_total"]) == limit, busy
            for h in holders:
                assert query(h, "COMMIT")["status"] == b"I"
            assert ok_rows(read_unit(waiter)) == [("42",)]
            assert wait_until(
                lambda: int(app_pool_row(pgwire.query_rows(admin, "SHOW POOL_POOLS"))["sv_active"])
                == 0, 5)
            idle = app_pool_row(pgwire.query_rows(admin, "SHOW POOL_POOLS"))
            assert int(idle["cl_waiting"]) == 0, idle
            assert 1 <= int(idle["sv_idle"]) <= int(idle["sv_total"]) <= limit, idle
        finally:
            for c in holders + [admin, waiter]:
                c.close()


# -- 9. idle_timeout -------------------------------------------------------------------------


def test_idle_timeout_closes_connections(cluster, auth_users):
    base = settle_baseline(cluster)
    extra = pool_config(lb_enabled=False, mode="session", idle_timeout="4s", min_idle=0)
    with started(cluster, auth_users, "pool_idle_timeout", extra=extra) as r:
        c = psycopg(r)
        pid = one(c, "SELECT pg_backend_pid()")[0]
        c.close()
        closed_at = time.monotonic()
        state = cluster.primary.sql(f"SELECT state FROM pg_stat_activity WHERE pid = {pid}")
        assert time.monotonic() - closed_at < 3.0, "too slow to check"
        assert state == [("idle",)], f"backend {pid} not kept idle after the client left: {state}"
        gone = wait_until(lambda: not cluster.primary.sql(
            f"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"), 12 * TIMEOUT_SCALE, 0.2)
        assert gone, f"backend {pid} still open {time.monotonic() - closed_at:.1f}s later"
        took = time.monotonic() - closed_at
        assert took >= 3.0, f"closed after {took:.1f}s, before idle_timeout"
        # Nothing else stays open either (min_idle = 0).
        assert wait_until(lambda: app_backends(cluster.primary) <= base["node0"],
                          8 * TIMEOUT_SCALE, 0.2), app_backend_counts(cluster)


# -- 10. the default is session pooling ----------------------------------------------------------


def test_session_mode_default_reuses(cluster, auth_users):
    with started(cluster, auth_users, "pool_default", extra=pool_config(lb_enabled=False)) as r:
        pids = []
        for _ in range(20):
            c = psycopg(r)
            try:
                pids.append(one(c, "SELECT pg_backend_pid()")[0])
            finally:
                c.close()
            time.sleep(0.1)
        assert len(set(pids)) <= 3, pids


# -- 11. mode = "none": no pooling --------------------------------------------------------------


def test_mode_none_closes_backends_at_session_end(cluster, auth_users):
    base = settle_baseline(cluster)
    with started(cluster, auth_users, "pool_none",
                 extra=pool_config(lb_enabled=False, mode="none")) as r:
        pids = []
        for _ in range(4):
            c = psycopg(r)
            try:
                pids.append(one(c, "SELECT pg_backend_pid()")[0])
            finally:
                c.close()
            pid = pids[-1]
            assert wait_until(lambda: not cluster.primary.sql(
                f"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"), 5 * TIMEOUT_SCALE), \
                f"backend {pid} still open after its client left (mode none)"
        assert len(set(pids)) == len(pids), pids
        assert wait_until(lambda: app_backends(cluster.primary) <= base["node0"],
                          5 * TIMEOUT_SCALE), app_backend_counts(cluster)


# -- cancel requests between transactions ------------------------------------------------------


@pytest.mark.deadline(90)
def test_cancel_reaches_only_the_clients_own_statement(cluster, auth_users):
    """Transaction mode, one backend connection: a client's CancelRequest sent while it holds
    no connection must not cancel another client's statement on the connection it used
    before; a cancel while its own statement runs does cancel it."""
    with started(cluster, auth_users, "pool_cancel", workers=1,
                 extra=pool_config(lb_enabled=False, mode="transaction",
                                   max_backend_connections=1)) as r:
        a = psycopg(r)
        b = psycopg(r)
        try:
            pid_a = one(a, "SELECT pg_backend_pid()")[0]
            outcome: dict = {}

            def run_b():
                try:
                    outcome["b"] = one(b, "SELECT pg_backend_pid(), true FROM pg_sleep(1.5)")
                except Exception as e:  # noqa: BLE001 - asserted below
                    outcome["b"] = e

            t = threading.Thread(target=run_b, daemon=True)
            t.start()
            time.sleep(0.5)  # b runs on the only connection, the one a used
            a.cancel()
            t.join(10 * TIMEOUT_SCALE)
            assert not t.is_alive()
            assert outcome["b"] == (pid_a, True), outcome["b"]
            # a's own statement can still be cancelled.
            canceller = threading.Timer(0.5, a.cancel)
            canceller.start()
            t0 = time.monotonic()
            with pytest.raises(psycopg2.errors.QueryCanceled):
                one(a, "SELECT pg_sleep(30)")
            assert time.monotonic() - t0 < 10 * TIMEOUT_SCALE
            canceller.join()
            assert one(a, "SELECT 1") == (1,)
            assert one(b, "SELECT 2") == (2,)
        finally:
            a.close()
            b.close()


# -- the admin interfaces ----------------------------------------------------------------------


def _metric(text: str, name: str, labels: str = "") -> float | None:
    """The value of `name{labels}` (labels as Prometheus prints them, "" for none)."""
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)$"
    m = re.search(pattern, text, re.MULTILINE)
    return float(m.group(1)) if m else None


@pytest.mark.deadline(120)
def test_pools_in_metrics_and_pgrouterctl(cluster, auth_users):
    from admin_support import AdminRouter  # noqa: PLC0415 - only this test needs [admin]

    r = AdminRouter(cluster, name="pool_admin", users=auth_users)
    r.opts["extra"] += "\n" + pool_config(lb_enabled=False, mode="transaction",
                                          max_backend_connections=1, query_wait_timeout="20s")
    cluster.start_router(r)
    holder = logged_in(r)
    waiter = logged_in(r)
    try:
        assert query(holder, "BEGIN")["status"] == b"T"  # holds the only connection
        waiter.send(pgwire.query_message("SELECT 7"))
        labels = 'node="node0"'

        def waiting_in_metrics():
            status, body = r.http("/metrics")
            return status == 200 and _metric(body, "pgrouter_pool_waiting_clients", labels) == 1

        assert wait_until(waiting_in_metrics, 10), r.http("/metrics")[1][-3000:]
        _, body = r.http("/metrics")
        assert _metric(body, "pgrouter_pool_max_backend_connections") == 1, body[-2000:]
        assert _metric(body, "pgrouter_pool_held_connections", labels) == 1
        listed = r.ctl("list", "--pools")
        assert listed.returncode == 0, listed.stderr
        assert "transaction mode" in listed.stdout and "app" in listed.stdout, listed.stdout
        assert query(holder, "COMMIT")["status"] == b"I"
        assert ok_rows(read_unit(waiter)) == [("7",)]
        # The wait was counted in the histogram, and the connection is now idle.
        _, body = r.http("/metrics")
        assert _metric(body, "pgrouter_pool_wait_seconds_count", labels) >= 1, body[-3000:]
        assert _metric(body, "pgrouter_pool_waiting_clients", labels) == 0
        assert _metric(body, "pgrouter_pool_connections", labels + ',state="idle"') == 1
        as_json = json.loads(r.ctl("--json", "list").stdout)
        pools = as_json["cluster"]["pools"] if "cluster" in as_json else as_json["pools"]
        assert any(p["user"] == "app" and p["database"] == "app" for p in pools), pools
    finally:
        holder.close()
        waiter.close()
        r.stop()
