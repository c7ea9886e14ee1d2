"""Reloading backends while client sessions stay open: pgrouter starts in front of the primary
and one standby of a three-node cluster; a reload (SIGHUP, pgrouterctl reload, pcp_reload_config)
adds the second standby, and the sessions opened before it read from it without reconnecting;
a later reload removes it again, and no read reaches it while the sessions keep working and
their links to it close; a statement running there when it goes finishes, or fails with 08006
once it outlives failover.wait_timeout. A broken file, or one that would remove the primary,
changes nothing and says why."""
from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest

from admin_support import start_admin_router
from conftest import TIMEOUT_SCALE
from failover_support import wait_for, wait_log

SESSIONS = 3


@pytest.fixture
def router(cluster, request):
    """pgrouter in front of node0 (primary) and node1 only."""
    name = "reload_" + re.sub(r"\W", "_", request.node.name)[-40:]
    r = start_admin_router(cluster, cluster.role_secrets(["app"]), name=name,
                           backends=[cluster.node("node0"), cluster.node("node1")])
    r.wait_reads_reach({cluster.node("node0").port, cluster.node("node1").port})
    yield r
    r.stop()


def _open_sessions(router) -> list:
    conns = [router.connect() for _ in range(SESSIONS)]
    for c in conns:
        c.autocommit = True
    return conns


def _read_ports(conn, n: int) -> dict[int, int]:
    seen: dict[int, int] = {}
    with conn.cursor() as cur:
        for _ in range(n):
            cur.execute("SELECT inet_server_port()")
            port = int(cur.fetchone()[0])
            seen[port] = seen.get(port, 0) + 1
    return seen


def _until_reads_reach(conns, port: int, timeout: float) -> None:
    """Each session, on its own connection, reads until one read runs on `port` (bounded)."""
    for i, conn in enumerate(conns):
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        seen: dict[int, int] = {}
        while port not in seen:
            assert time.monotonic() < deadline, f"session {i}: no read reached port {port}: {seen}"
            for p, n in _read_ports(conn, 20).items():
                seen[p] = seen.get(p, 0) + n


def _pool_nodes(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SHOW POOL_NODES")
        return cur.fetchall()


def _metrics(router) -> dict[str, float]:
    status, body = router.http("/metrics")
    assert status == 200, body
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def _app_backends(node) -> int:
    return int(node.sql_value("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"))


def _set_backends(router, nodes) -> None:
    router._backends = nodes
    router.write_config()


def test_added_standby_serves_open_sessions_and_removed_one_stops(router, cluster):
    node0, node1, node2 = (cluster.node(n) for n in ("node0", "node1", "node2"))
    conns = _open_sessions(router)
    for conn in conns:
        assert node2.port not in _read_ports(conn, 30)
    accepted = _metrics(router)["pgrouter_clients_accepted_total"]
    assert 'pgrouter_node_up{node="node2"}' not in _metrics(router)

    # Add node2 with SIGHUP: probed, published, and the open sessions read from it.
    _set_backends(router, [node0, node1, node2])
    os.kill(router.pid, signal.SIGHUP)
    wait_log(router, r"reload: reloaded; applied: backends: added node2 \(node 2, ")
    _until_reads_reach(conns, node2.port, 30)
    after = _metrics(router)
    assert after["pgrouter_clients_accepted_total"] == accepted  # nobody reconnected
    assert after['pgrouter_node_up{node="node2"}'] == 1
    assert after['pgrouter_node_backend_connections{node="node2"}'] >= SESSIONS
    listed = {n["name"]: n for n in router.cluster_json()["nodes"]}
    assert listed["node2"]["index"] == 2 and listed["node2"]["traffic"]["connections"] >= SESSIONS
    r = router.pcp("pcp_node_count")
    assert r.returncode == 0 and r.stdout.strip() == "3", r
    r = router.pcp("pcp_node_info", "-n", "2")
    assert r.returncode == 0 and str(node2.port) in r.stdout, r
    assert [int(row[2]) for row in _pool_nodes(conns[0])] == [node0.port, node1.port, node2.port]

    # Remove it with pgrouterctl: no further reads there, the sessions carry on, their idle
    # links to node2 close.
    _set_backends(router, [node0, node1])
    r = router.ctl("reload")
    assert r.returncode == 0, r
    assert "backends: removed node2 (node 2, " in r.stdout, r.stdout
    for conn in conns:
        ports = _read_ports(conn, 60)
        assert node2.port not in ports, ports
        assert set(ports) <= {node0.port, node1.port}, ports
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM generate_series(1, 10)")
            assert cur.fetchone()[0] == 10
    wait_for("the sessions' links to node2 closed", lambda: _app_backends(node2) == 0, 15 * TIMEOUT_SCALE)
    after = _metrics(router)
    assert after["pgrouter_clients_accepted_total"] == accepted
    assert not [k for k in after if 'node="node2"' in k], "node2 still in /metrics"
    assert "node2" not in router.ctl("list").stdout
    assert [n["name"] for n in router.cluster_json()["nodes"]] == ["node0", "node1"]
    assert [int(row[2]) for row in _pool_nodes(conns[0])] == [node0.port, node1.port]
    r = router.pcp("pcp_node_info", "-n", "2")  # the index stays taken: an unused slot
    assert r.returncode == 0 and "unused" in r.stdout, r
    r = router.pcp("pcp_node_info", "-n", "1")  # unchanged nodes keep their index
    assert r.returncode == 0 and str(node1.port) in r.stdout, r
    wait_log(router, r"closing idle link to node2 \(node now removed from the configuration")

    # Back again through the same slot.
    _set_backends(router, [node0, node1, node2])
    r = router.ctl("reload")
    assert r.returncode == 0 and "added node2 (node 2, " in r.stdout, r
    _until_reads_reach(conns[:1], node2.port, 30)
    for conn in conns:
        conn.close()


def test_broken_file_changes_nothing_then_pcp_reload_adds(router, cluster):
    node0, node1, node2 = (cluster.node(n) for n in ("node0", "node1", "node2"))
    conns = _open_sessions(router)
    good = router.config_path.read_text()

    # node2 added, but with a port out of range: rejected with the key and its line.
    _set_backends(router, [node0, node1, node2])
    added = router.config_path.read_text()
    broken = added.replace(f"port = {node2.port}\n", "port = 70000\n", 1)
    line = broken.splitlines().index("port = 70000") + 1
    router.config_path.write_text(broken)
    r = router.ctl("reload")
    assert r.returncode == 1, r
    assert "not reloaded" in r.stderr and f":{line}: backends[2].port" in r.stderr, r.stderr
    os.kill(router.pid, signal.SIGHUP)
    wait_log(router, rf"reload: .* rejected, the applied configuration stays: .*:{line}: backends\[2\]\.port")
    r = router.pcp("pcp_reload_config")  # the PCP client prints the refusal too
    assert f":{line}: backends[2].port" in r.stdout + r.stderr, r
    r = router.pcp("pcp_node_count")
    assert r.stdout.strip() == "2", r
    for conn in conns:
        ports = _read_ports(conn, 30)
        assert set(ports) <= {node0.port, node1.port}, ports

    # A file without the primary is refused too: it would take writes away.
    router.config_path.write_text(good.replace(f"port = {node0.port}\n", f"port = {node2.port}\n", 1))
    r = router.ctl("reload")
    assert r.returncode == 1 and "is the primary and cannot be removed" in r.stderr, r
    with conns[0].cursor() as cur:
        cur.execute("CREATE TEMP TABLE reload_w(x int)")  # writes still reach node0
        cur.execute("INSERT INTO reload_w VALUES (1)")

    # Fixed: pcp_reload_config applies it, and the open sessions reach node2.
    router.config_path.write_text(added)
    r = router.pcp("pcp_reload_config")
    assert r.returncode == 0, r
    _until_reads_reach(conns[1:], node2.port, 30)

    # The log level reloads too, for the same open sessions.
    router.config_path.write_text(added.replace('log_level = "info"', 'log_level = "debug"', 1))
    r = router.ctl("reload")
    assert r.returncode == 0 and "applied: proxy.log_level" in r.stdout, r
    with conns[0].cursor() as cur:
        cur.execute("SELECT 'after the log level reload'")
    wait_log(router, r"route read -> node\d \(")
    for conn in conns:
        conn.close()


def test_statement_running_on_a_removed_standby_finishes(cluster):
    """Reads go to node2 only (weight 0 elsewhere); a reload removes node2 while a session's
    pg_sleep runs there: the statement completes with its result, the session's next reads go
    elsewhere and its link to node2 closes."""
    node0, node1, node2 = (cluster.node(n) for n in ("node0", "node1", "node2"))
    r = start_admin_router(cluster, cluster.role_secrets(["app"]), name="reload_inflight",
                           backend_extra={"node0": "weight = 0", "node1": "weight = 0"})
    try:
        r.wait_reads_reach({node2.port})
        conn = r.connect()
        conn.autocommit = True
        result: dict = {}

        def slow_read():
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_sleep(3), inet_server_port()")
                    result["port"] = int(cur.fetchone()[1])
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                result["error"] = e

        t = threading.Thread(target=slow_read)
        t.start()
        wait_for("the pg_sleep running on node2", lambda: int(node2.sql_value(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%'")) == 1,
            10 * TIMEOUT_SCALE)
        _set_backends(r, [node0, node1])
        rr = r.ctl("reload")
        assert rr.returncode == 0 and "removed node2" in rr.stdout, rr
        t.join(30 * TIMEOUT_SCALE)
        assert not t.is_alive()
        assert result == {"port": node2.port}, result
        ports = _read_ports(conn, 20)
        assert node2.port not in ports, ports
        wait_for("the link to node2 closed", lambda: _app_backends(node2) == 0, 15 * TIMEOUT_SCALE)
        wait_log(r, r"closing idle link to node2 \(node now removed from the configuration\)")
        assert "lost backend node2" not in r.log_text()
        conn.close()
    finally:
        r.stop()


def test_statement_outliving_the_drain_on_a_removed_standby_fails_cleanly(cluster):
    """As above, but the statement on node2 outlives failover.wait_timeout (2 s): it gets
    08006, and the same session carries on elsewhere."""
    import psycopg2  # noqa: PLC0415

    node0, node1, node2 = (cluster.node(n) for n in ("node0", "node1", "node2"))
    r = start_admin_router(cluster, cluster.role_secrets(["app"]), name="reload_drain",
                           failover='wait_timeout = "2s"',
                           backend_extra={"node0": "weight = 0", "node1": "weight = 0"})
    try:
        r.wait_reads_reach({node2.port})
        conn = r.connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT inet_server_port()")
            assert int(cur.fetchone()[0]) == node2.port
            _set_backends(r, [node0, node1])
            # The reload lands while the statement runs: a second connection sends it.
            reloads: list = []
            timer = threading.Timer(1.0, lambda: reloads.append(r.ctl("reload")))
            timer.start()
            started = time.monotonic()
            with pytest.raises(psycopg2.OperationalError) as failed:
                cur.execute("SELECT pg_sleep(30)")
            timer.join()
            assert reloads[0].returncode == 0 and "removed node2" in reloads[0].stdout, reloads
            assert failed.value.pgcode == "08006", failed.value
            assert time.monotonic() - started < 20 * TIMEOUT_SCALE
        ports = _read_ports(conn, 20)  # the same session, on the remaining nodes
        assert node2.port not in ports, ports
        wait_log(r, r"lost backend node2 \(server node2 was removed from the configuration and did not answer")
        conn.close()
    finally:
        r.stop()
