"""Operating pgrouter: the real pcp_* programs of pgpool-II 4.3 against the PCP socket, the
HTTP endpoints (/primary /replica /health /cluster /metrics and the status page), pgrouterctl,
the SHOW POOL_* commands, detach/attach taking effect for routing at once, and reload. The
switchover, which changes the cluster for good, is in test_admin_switchover.py."""
from __future__ import annotations

import json
import os
import random
import re
import signal
import shutil
import socket
import subprocess
import time

import pytest

import pgcluster
from admin_support import PCP_USER, pgrouterctl_bin, read_ports, start_admin_router
from failover_support import wait_for, wait_log


@pytest.fixture(scope="module")
def admin(cluster):
    r = start_admin_router(cluster, cluster.role_secrets(["app"]), name="admin")
    r.wait_reads_reach({n.port for n in cluster.nodes})
    yield r
    r.stop()


def _node_port(cluster, name: str) -> int:
    return cluster.node(name).port


# -- PCP -------------------------------------------------------------------------------------


def test_pcp_node_count_and_info_match_the_cluster(admin, cluster):
    r = admin.pcp("pcp_node_count")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "3"
    r = admin.pcp("pcp_node_info", "-a")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3, r.stdout
    for line, node in zip(lines, cluster.nodes):
        f = line.split()
        # host port status weight status_name pg_status role pg_role delay state sync date time
        assert f[0] == "127.0.0.1" and int(f[1]) == node.port, line
        assert f[2] == "2" and f[4] == "up" and f[5] == "up", line
        expected = "primary" if node.name == "node0" else "standby"
        assert f[6] == expected and f[7] == expected, line
        assert abs(float(f[3]) - 1 / 3) < 0.01, line
    r = admin.pcp("pcp_node_info", "-v", "-n", "1")
    assert "Replication State      : streaming" in r.stdout, r.stdout
    r = admin.pcp("pcp_node_info", "-n", "7")
    assert r.returncode != 0 or "invalid node ID" in r.stderr, r


def test_pcp_other_programs(admin):
    r = admin.pcp("pcp_health_check_stats", "-v", "-n", "0")
    assert r.returncode == 0, r.stderr
    assert re.search(r"Success Count\s+: [1-9]", r.stdout), r.stdout
    assert re.search(r"Role\s+: primary", r.stdout), r.stdout
    r = admin.pcp("pcp_pool_status")
    assert r.returncode == 0, r.stderr
    assert "backend_hostname0" in r.stdout and "backend_port2" in r.stdout, r.stdout
    r = admin.pcp("pcp_proc_count")
    assert r.returncode == 0 and r.stdout.strip() == str(admin.pid), (r.stdout, r.stderr)
    r = admin.pcp("pcp_proc_info")
    assert r.returncode == 0, r.stderr
    r = admin.pcp("pcp_watchdog_info")
    assert "watchdog is not enabled" in r.stderr, (r.stdout, r.stderr)
    r = admin.pcp("pcp_recovery_node", "-n", "1")
    assert "not supported by pgrouter" in r.stderr, (r.stdout, r.stderr)


def test_pcp_over_the_unix_socket(admin):
    r = admin.pcp("pcp_node_count", host=admin.ends["socket_dir"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "3"


def test_pcp_wrong_password_is_refused(admin):
    r = admin.pcp("pcp_node_count", password="not-the-password")
    assert r.returncode != 0
    assert "authentication failed" in r.stderr, r.stderr
    assert r.stdout.strip() == ""


@pytest.mark.deadline(180)
def test_pcp_random_bytes_get_an_error_or_a_close(admin):
    rng = random.Random(5)
    port = admin.ends["pcp_port"]
    answered = closed = 0
    for i in range(1000):
        n = rng.randint(1, 64)
        data = bytes(rng.getrandbits(8) for _ in range(n))
        if i % 4 == 0:  # a well-formed header with a random type: reaches the dispatcher
            data = bytes([rng.randint(32, 126)]) + (4 + n).to_bytes(4, "big") + data
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        if reply:
            assert reply[:1] in (b"E", b"m"), reply[:40]
            answered += 1
        else:
            closed += 1
    print(f"\n1000 random PCP inputs: {answered} answered with an error, {closed} closed")
    assert admin.alive()
    assert admin.pcp("pcp_node_count").stdout.strip() == "3"
    assert admin.show()[0]["role"] == "primary"


# -- detach / attach take effect for routing at once -------------------------------------------


def test_pcp_detach_stops_reads_at_once_and_attach_brings_them_back(admin, cluster):
    node1 = _node_port(cluster, "node1")
    r = admin.pcp("pcp_detach_node", "-n", "1")
    assert r.returncode == 0, r.stderr
    try:
        assert node1 not in read_ports(admin, 90)  # the very next statements avoid it
        info = admin.pcp("pcp_node_info", "-n", "1").stdout.split()
        assert info[2] == "3" and info[4] == "down", info
        assert [row["status"] for row in admin.show() if row["node_id"] == "1"] == ["down"]
    finally:
        r = admin.pcp("pcp_attach_node", "-n", "1")
    assert r.returncode == 0, r.stderr
    assert node1 in read_ports(admin, 90)
    assert admin.pcp("pcp_node_info", "-n", "1").stdout.split()[4] == "up"


def test_pgrouterctl_detach_attach_and_refusals(admin, cluster):
    node2 = _node_port(cluster, "node2")
    r = admin.ctl("detach", "node2")
    assert r.returncode == 0, r.stderr
    assert "detached" in r.stdout and re.search(r"\| node2 .*\| detached", r.stdout), r.stdout
    assert node2 not in read_ports(admin, 90)
    r = admin.ctl("attach", "2")
    assert r.returncode == 0, r.stderr
    assert node2 in read_ports(admin, 90)
    r = admin.ctl("detach", "node0")  # the primary: refused, with the way out
    assert r.returncode == 1 and "is the primary" in r.stderr, r
    r = admin.ctl("attach", "nosuchnode")
    assert r.returncode == 1 and "no node named" in r.stderr, r


# -- pgrouterctl ---------------------------------------------------------------------------------


def test_pgrouterctl_list_and_json(admin, cluster):
    r = admin.ctl("list")
    assert r.returncode == 0, r.stderr
    print("\n" + r.stdout)
    assert r.stdout.startswith("+ Cluster: pgrouter")
    assert re.search(r"\| Member \| Host +\| Role +\| State +\| TL \| Lag in MB \| Lag in s \| Weight \| Reads \| Writes \| "
                     r"Connections \|", r.stdout), r.stdout
    assert re.search(r"\| node0 +\| 127\.0\.0\.1:\d+ \| Primary \| running +\| +1 \|", r.stdout), r.stdout
    assert len(re.findall(r"\| Standby \| streaming", r.stdout)) == 2, r.stdout
    r = admin.ctl("--json", "list")
    data = json.loads(r.stdout)
    assert [n["name"] for n in data["nodes"]] == ["node0", "node1", "node2"]
    assert data["primary"] == 0 and data["nodes"][1]["role"] == "standby"
    assert all(n["traffic"]["connections"] >= 0 for n in data["nodes"])


def test_admin_socket_bad_input_gets_an_error(admin):
    rng = random.Random(7)
    for i in range(200):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 3000)))
        if i % 2:
            data = data.replace(b"\n", b"") + b"\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(15)
            s.connect(admin.ends["socket"])
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # closed on us mid-send: a line too long
            reply = b""
            try:
                while chunk := s.recv(4096):
                    reply += chunk
            except ConnectionResetError:
                pass  # reset after the answer, which then may be lost: a close
        if reply:
            answer = json.loads(reply)
            assert answer["ok"] is False and answer["message"], answer
    assert admin.ctl("list").returncode == 0


def test_pgrouterctl_unreachable_and_usage(tmp_path):
    r = subprocess.run([str(pgrouterctl_bin()), "-s", str(tmp_path / "nothing.sock"), "list"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 3
    assert "cannot reach pgrouter" in r.stderr, r.stderr
    r = subprocess.run([str(pgrouterctl_bin()), "-s", "x", "frobnicate"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown command" in r.stderr


# -- SQL on the client port -------------------------------------------------------------------


def test_show_pool_commands(admin, cluster):
    nodes = admin.show("SHOW POOL_NODES")
    assert [(r["port"], r["status"], r["role"]) for r in nodes] == [
        (str(n.port), "up", "primary" if n.name == "node0" else "standby") for n in cluster.nodes]
    stats = admin.show("SHOW POOL_HEALTH_CHECK_STATS")
    assert len(stats) == 3 and int(stats[0]["success_count"]) > 0, stats
    assert list(stats[0])[:6] == ["node_id", "hostname", "port", "status", "role", "last_status_change"]
    backend = admin.show("show pool_backend_stats;")
    assert [r["role"] for r in backend] == ["primary", "standby", "standby"]
    assert sum(int(r["select_cnt"]) for r in backend) > 0


# -- HTTP ---------------------------------------------------------------------------------------

METRIC_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? '
                         r'(-?[0-9.e+E-]+|\+Inf|-Inf|NaN)$')


def _metrics(admin) -> dict[str, float]:
    status, body = admin.http("/metrics")
    assert status == 200
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            assert not line or re.match(r"^# (HELP|TYPE) pgrouter_\w+ ", line), line
            continue
        assert METRIC_LINE.match(line), line
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


def test_http_checks_cluster_and_metrics(admin, cluster):
    assert admin.http("/primary")[0] == 200
    assert admin.http("/primary", method="OPTIONS")[0] == 200
    status, body = admin.http("/replica?lag=16MB")
    assert status == 200 and json.loads(body)["role"] == "standby"
    assert admin.http("/replica?lag=abc")[0] == 400
    assert admin.http("/health")[0] == 200
    data = admin.cluster_json()
    assert [n["port"] for n in data["nodes"]] == [n.port for n in cluster.nodes]
    assert admin.http("/nope")[0] == 404
    assert admin.http("/primary", method="DELETE")[0] == 405

    key = 'pgrouter_node_statements_routed_total{node="node0",kind="write"}'
    before = _metrics(admin)
    conn = admin.connect()
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t(x int)")
        cur.execute("INSERT INTO t VALUES (1)")
    conn.close()
    after = _metrics(admin)
    assert after[key] >= before.get(key, 0) + 1, (before.get(key), after[key])
    assert after["pgrouter_clients_accepted_total"] > before["pgrouter_clients_accepted_total"]
    assert after['pgrouter_node_up{node="node1"}'] == 1
    assert after['pgrouter_node_role{node="node0",role="primary"}'] == 1
    assert 'pgrouter_health_check_duration_seconds_count{node="node0"}' in after


def test_metrics_move_with_traffic_rejections_and_errors(admin, cluster):
    import psycopg2  # noqa: PLC0415

    rejected = 'pgrouter_clients_rejected_total{reason="auth_failed"}'
    errors22 = 'pgrouter_client_errors_total{class="22"}'
    to_server = 'pgrouter_bytes_relayed_total{direction="client_to_server"}'
    to_client = 'pgrouter_bytes_relayed_total{direction="server_to_client"}'
    links0 = 'pgrouter_node_backend_connections{node="node0"}'
    before = _metrics(admin)
    assert before[rejected] >= 0 and before['pgrouter_clients_rejected_total{reason="max_connections"}'] >= 0

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        admin.connect(password="not-the-password")
    conn = admin.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute("SELECT 1/0")
        cur.execute("SELECT repeat('x', 100000)")
        assert len(cur.fetchone()[0]) == 100000
        cur.execute("CREATE TEMP TABLE m(x int)")  # a link to the primary, held by the session
    during = _metrics(admin)
    assert during[rejected] == before[rejected] + 1, (before[rejected], during[rejected])
    assert during[errors22] == before.get(errors22, 0) + 1
    assert during[to_client] >= before[to_client] + 100000
    assert during[to_server] >= before[to_server] + len("SELECT repeat('x', 100000)")
    assert during[links0] >= before[links0] + 1
    listed = {n["name"]: n for n in json.loads(admin.ctl("--json", "list").stdout)["nodes"]}
    assert listed["node0"]["traffic"]["connections"] >= 1
    assert "Connections" in admin.ctl("list").stdout
    conn.close()
    wait_for("the session's links closed", lambda: _metrics(admin)[links0] <= before[links0], 10)


def test_metrics_count_clients_over_max_connections(cluster):
    import psycopg2  # noqa: PLC0415

    r = start_admin_router(cluster, cluster.role_secrets(["app"]), name="admin_maxconn", max_client_connections=1)
    try:
        # The readiness probe's connection may still be closing: retry until the one slot is
        # free, and count only the refusals that come after.
        conn = None
        deadline = time.monotonic() + 15
        while conn is None:
            try:
                conn = r.connect()
            except psycopg2.OperationalError:
                assert time.monotonic() < deadline, "the only slot never became free"
                time.sleep(0.2)
        before = _metrics(r)
        with pytest.raises(psycopg2.OperationalError, match="too many clients"):
            r.connect()
        m = _metrics(r)
        key = 'pgrouter_clients_rejected_total{reason="max_connections"}'
        assert m[key] - before.get(key, 0) == 1
        key = 'pgrouter_client_errors_total{class="53"}'
        assert m[key] - before.get(key, 0) == 1
        conn.close()
    finally:
        r.stop()


def test_http_bad_requests_get_400_and_pgrouter_keeps_serving(admin):
    for raw in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n",
                bytes(range(256))):
        with socket.create_connection(("127.0.0.1", admin.ends["http_port"]), timeout=5) as s:
            try:
                s.sendall(raw)
                s.shutdown(socket.SHUT_WR)
                reply = s.recv(4096)
            except OSError:
                reply = b""  # answered and closed before all of it was read: a reset
        assert reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply[:80]
    assert admin.http("/health")[0] == 200


def test_status_page_renders(admin, tmp_path):
    status, body = admin.http("/")
    assert status == 200
    assert "http-equiv=\"refresh\"" in body and "<link" not in body and "src=" not in body
    for name in ("node0", "node1", "node2"):
        assert f"<td>{name}</td>" in body
    assert "<th>Connections</th>" in body
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed: the screenshot step needs Debian's chromium")
    shot = tmp_path / "status.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,600", f"http://127.0.0.1:{admin.ends['http_port']}/"],
                   capture_output=True, timeout=60, check=True)
    assert shot.stat().st_size > 1000


# -- reload ----------------------------------------------------------------------------------------


def test_reload_weight_takes_effect_and_broken_file_is_rejected(admin, cluster):
    node2 = _node_port(cluster, "node2")
    original = admin.config_path.read_text()
    try:
        admin.config_path.write_text(original.replace(f"port = {node2}\n", f"port = {node2}\nweight = 0\n", 1))
        r = admin.ctl("reload")
        assert r.returncode == 0, r.stderr
        assert "backends[2].weight" in r.stdout, r.stdout
        conn = admin.connect()  # a session opened before the change keeps working
        assert node2 not in read_ports(admin, 90)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")

        admin.config_path.write_text(original.replace("[health_check]", "[health_check]\nperiod = \"soon\"", 1))
        r = admin.ctl("reload")
        assert r.returncode == 1 and "not reloaded" in r.stderr and "period" in r.stderr, r
        admin.pcp("pcp_reload_config")  # the broken file again, through PCP: answered, nothing breaks
        assert admin.http("/health")[0] == 200
        assert node2 not in read_ports(admin, 60)  # the applied config (weight 0) stays
        with conn.cursor() as cur:
            cur.execute("SELECT 2")
        conn.close()
    finally:
        admin.config_path.write_text(original)
    os.kill(admin.pid, signal.SIGHUP)  # SIGHUP reloads too: weight back to 1
    wait_log(admin, r"reload: reloaded; applied: backends\[2\]\.weight")
    admin.wait_reads_reach({node2})
    r = admin.pcp("pcp_reload_config")
    assert r.returncode == 0, r.stderr


def test_reload_reports_keys_that_need_a_restart(admin, cluster):
    original = admin.config_path.read_text()
    try:
        admin.config_path.write_text(original.replace("workers = 2", "workers = 3", 1))
        r = admin.ctl("reload")
        assert r.returncode == 0 and "needs a restart" in r.stdout and "proxy.workers" in r.stdout, r
    finally:
        admin.config_path.write_text(original)
        admin.ctl("reload")


# -- stop ------------------------------------------------------------------------------------------


def test_pcp_stop_pgpool_fast(cluster):
    r = start_admin_router(cluster, cluster.role_secrets(["app"]), name="admin_stop")
    res = r.pcp("pcp_stop_pgpool", "-m", "fast")
    assert res.returncode == 0, res.stderr
    wait_for("pgrouter to exit", lambda: r.proc.poll() is not None, 15)
    assert r.proc.returncode == 0
    r.stop()
