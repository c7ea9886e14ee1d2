"""The cluster harness itself (tests/harness): replication, node control, persistence, and
the raw protocol client checked against PostgreSQL, so that the pgrouter tests built on them
judge pgrouter and not the tools."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import pgcluster
import pgwire

HARNESS_CLI = Path(pgcluster.__file__).resolve()


def _table() -> str:
    return "h_" + uuid.uuid4().hex[:10]


def test_replication_reaches_both_standbys(cluster):
    t = _table()
    cluster.primary.sql(f"CREATE TABLE {t}(a int); INSERT INTO {t} SELECT generate_series(1, 100)",
                        db="app")
    cluster.wait_replicated()
    assert len(cluster.standbys) == 2
    for s in cluster.standbys:
        assert s.sql(f"SELECT count(*), sum(a) FROM {t}", db="app") == [("100", "5050")]
        assert s.sql_value("SELECT pg_is_in_recovery()") == "t"
        with pytest.raises(pgcluster.HarnessError, match="read-only transaction"):
            s.sql(f"INSERT INTO {t} VALUES (1)", db="app")
    names = {r[0] for r in cluster.primary.sql(
        "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")}
    assert names == {"node1", "node2"}


def test_settings_and_roles(cluster):
    for n in cluster.nodes:
        assert n.sql_value("SHOW max_connections") == "1200"
        assert n.sql_value("SHOW wal_log_hints") == "on"
        assert n.sql_value("SHOW hot_standby_feedback") == "on"
        assert n.sql_value("SHOW listen_addresses") == "127.0.0.1"
        assert n.sql_value("SHOW unix_socket_directories") == str(cluster.sockdir)
    secrets = cluster.role_secrets(["postgres", "app", "md5user"])
    assert secrets["postgres"].startswith("SCRAM-SHA-256$")
    assert secrets["app"].startswith("SCRAM-SHA-256$")
    assert secrets["md5user"].startswith("md5")
    assert cluster.primary.sql_value(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'") == "app"


def test_auth_file_format(cluster, tmp_path):
    path = cluster.write_auth_file(tmp_path / "users.txt", ["app", "md5user"],
                                   extra={"plain": "secret"})
    lines = path.read_text().splitlines()
    secrets = cluster.role_secrets(["app", "md5user"])
    assert lines == [f'"app" "{secrets["app"]}"', f'"md5user" "{secrets["md5user"]}"',
                     '"plain" "secret"']


def test_pgwire_client_against_postgres(cluster):
    """Calibrates the raw client (and the expectations of test_auth / test_bad_input) on
    PostgreSQL itself."""
    p = cluster.primary
    with pgwire.Conn("127.0.0.1", p.port) as c:
        c.login("app", "app", "app")
        assert c.auth_requests == [pgwire.AUTH_SASL, pgwire.AUTH_SASL_CONTINUE,
                                   pgwire.AUTH_SASL_FINAL, pgwire.AUTH_OK]
        assert c.backend_key is not None
        assert c.simple_query("SELECT current_user, 40 + 2") == [("app", "42")]
    with pgwire.Conn("127.0.0.1", p.port) as c:
        c.login("md5user", "md5pass", "app")
        assert c.auth_requests == [pgwire.AUTH_MD5, pgwire.AUTH_OK]
    with pgwire.Conn("127.0.0.1", p.port) as c:
        c.login("app", "app", "app", extra={"_pq_.no_such_option": "1"}, version=(3 << 16) | 5)
        assert c.negotiated == struct.pack("!II", pgwire.PROTOCOL_3_0, 1) + \
            b"_pq_.no_such_option\0"
    for user in ("app", "nosuchuser"):
        with pgwire.Conn("127.0.0.1", p.port) as c:
            with pytest.raises(pgwire.ServerError) as ei:
                c.login(user, "wrong", "app")
            assert ei.value.sqlstate == "28P01"
            assert ei.value.message == f'password authentication failed for user "{user}"'
    with pgwire.Conn("127.0.0.1", p.port) as c:
        c.send(pgwire.startup_packet({"database": "app"}))
        fields = c.expect_error_or_close()
        assert fields and fields["C"] == "28000"
    with pgwire.Conn("127.0.0.1", p.port) as c:
        c.send(pgwire.startup_packet({"user": "app"}, version=4 << 16))
        fields = c.expect_error_or_close()
        assert fields and fields["C"] == "0A000"


def test_pause_and_resume(cluster):
    node = cluster.node("node2")
    t = _table()
    cluster.primary.sql(f"CREATE TABLE {t}(a int)", db="app")
    cluster.wait_replicated()
    node.pause()
    try:
        assert node.paused
        with pytest.raises(pgcluster.HarnessError, match="timed out"):
            node.sql("SELECT 1", timeout=2)
        cluster.primary.sql(f"INSERT INTO {t} VALUES (7)", db="app")
        time.sleep(0.5)
    finally:
        node.resume()
    assert not node.paused
    cluster.wait_replicated([node])
    assert node.sql_value(f"SELECT sum(a) FROM {t}", db="app") == "7"


def test_kill9_and_start(cluster):
    node = cluster.node("node2")
    old_pid = node.postmaster_pid()
    node.kill9()
    assert not node.is_running()
    assert not pgcluster.pid_alive(old_pid)
    t = _table()
    cluster.primary.sql(f"CREATE TABLE {t} AS SELECT 1 AS a", db="app")
    node.start()
    assert node.postmaster_pid() not in (None, old_pid)
    cluster.wait_streaming()
    cluster.wait_replicated([node])
    assert node.sql_value(f"SELECT a FROM {t}", db="app") == "1"


def test_stop_and_restart(cluster):
    node = cluster.node("node1")
    node.stop("immediate")
    assert not node.is_running()
    node.start()
    node.restart("fast")
    cluster.wait_streaming()
    assert node.sql_value("SELECT pg_is_in_recovery()") == "t"


def test_temporary_cluster_is_removed():
    c = pgcluster.Cluster(standbys=0)
    base, pid = c.base_dir, c.primary.postmaster_pid()
    assert base.is_dir() and pgcluster.pid_alive(pid)
    c.close()
    assert not base.exists()
    assert pgcluster.wait_gone([pid], 10) == []


def test_promote_and_follow():
    with pgcluster.Cluster(standbys=2) as c:
        old, new, other = c.nodes
        old.stop("fast")
        new.promote()
        assert c.primary is new
        other.follow(new)
        new.sql("CREATE TABLE after_promote AS SELECT 5 AS a", db="app")
        c.wait_replicated([other])
        assert other.sql_value("SELECT a FROM after_promote", db="app") == "5"
        assert new.sql_value("SELECT timeline_id FROM pg_control_checkpoint()") is not None


def _persistent_dir() -> Path:
    # Not pytest's tmp_path: its parents are 0700 root and postgres must reach the directory.
    d = Path(tempfile.mkdtemp(prefix="pgr-persist-"))
    os.chmod(d, 0o755)
    return d / "cluster"


def test_sync_replication_apply_delay_and_reuse():
    base = _persistent_dir()
    ports = [pgcluster.free_port() for _ in range(3)]
    try:
        c = pgcluster.Cluster(2, base_dir=base, ports=ports, sync=True,
                              apply_delay={"node2": "3s"})
        assert [n.port for n in c.nodes] == ports
        states = dict(c.primary.sql(
            "SELECT application_name, sync_state FROM pg_stat_replication"))
        assert states == {"node1": "quorum", "node2": "quorum"}
        assert c.primary.sql_value("SHOW synchronous_standby_names") == \
            "ANY 1 (node0, node1, node2)"
        c.primary.sql("CREATE TABLE d AS SELECT 1 AS a", db="app")
        start = time.monotonic()
        c.wait_replicated([c.node("node1")])
        assert c.node("node2").sql_value(
            "SELECT count(*) FROM pg_class WHERE relname = 'd'", db="app") == "0"
        c.wait_replicated([c.node("node2")], timeout=30)
        assert time.monotonic() - start >= 2.5
        sysid = c.primary.sql_value("SELECT system_identifier FROM pg_control_system()")
        c.stop_all()
        assert not any(n.is_running() for n in c.nodes)

        again = pgcluster.Cluster(2, base_dir=base, ports=ports)
        assert again.primary.sql_value(
            "SELECT system_identifier FROM pg_control_system()") == sysid
        assert again.node("node2").sql_value("SELECT a FROM d", db="app") == "1"
        assert again.sync
        again.stop_all()
    finally:
        _force_remove(base)


def test_cli_up_status_down_and_reuse():
    base = _persistent_dir()
    ports = ",".join(str(pgcluster.free_port()) for _ in range(2))
    cli = [sys.executable, str(HARNESS_CLI)]
    try:
        up = subprocess.run(cli + ["up", "--dir", str(base), "--ports", ports],
                            capture_output=True, text=True, timeout=120)
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout)
        assert [n["port"] for n in info["nodes"]] == [int(p) for p in ports.split(",")]
        assert [n["role"] for n in info["nodes"]] == ["primary", "standby"]
        assert all(n["running"] for n in info["nodes"])

        users = base / "users.txt"
        af = subprocess.run(cli + ["authfile", "--dir", str(base), "--out", str(users), "app"],
                            capture_output=True, text=True, timeout=60)
        assert af.returncode == 0, af.stderr
        assert users.read_text().startswith('"app" "SCRAM-SHA-256$')

        down = subprocess.run(cli + ["down", "--dir", str(base)], capture_output=True,
                              text=True, timeout=120)
        assert down.returncode == 0, down.stderr
        assert not any(n["running"] for n in json.loads(down.stdout)["nodes"])

        again = subprocess.run(cli + ["up", "--dir", str(base), "--ports", ports],
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        status = subprocess.run(cli + ["status", "--dir", str(base)], capture_output=True,
                                text=True, timeout=60)
        assert all(n["running"] for n in json.loads(status.stdout)["nodes"])
        assert subprocess.run(cli + ["down", "--dir", str(base)], capture_output=True,
                              timeout=120).returncode == 0
    finally:
        _force_remove(base)


def _force_remove(base: Path) -> None:
    """Stop whatever still runs in a persistent test cluster and delete it."""
    meta = base / "cluster.json"
    if meta.exists():
        for m in json.loads(meta.read_text())["nodes"]:
            n = pgcluster.Node(m["name"], m["port"], base)
            try:
                n.stop("immediate", timeout=30)
            except pgcluster.HarnessError:
                n.kill9()
    shutil.rmtree(base.parent, ignore_errors=True)
