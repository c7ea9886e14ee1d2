"""Promotion through the admin interfaces, on a fresh cluster each (it changes the cluster for
good): `pcp_promote_node -s` is a real switchover — the old primary is made read-only, the
candidate catches up, is promoted, the other standby follows it, and writes through pgrouter
continue — and in manual failover mode `pgrouterctl promote` replaces a dead primary while
/primary and /replica answer 200/503 as the cluster changes."""
from __future__ import annotations

import time
import uuid

import pytest

import pgcluster
from admin_support import start_admin_router
from failover_support import Writers, new_primary, streams_from, timeline, wait_for


@pytest.fixture
def fresh():
    with pgcluster.Cluster(standbys=2) as c:
        yield c


def _table(cluster) -> str:
    t = "sw_" + uuid.uuid4().hex[:8]
    cluster.primary.sql(f"CREATE TABLE {t}(id bigserial PRIMARY KEY, writer int, "
                        f"at timestamptz DEFAULT now()); GRANT ALL ON {t} TO app; "
                        f"GRANT ALL ON SEQUENCE {t}_id_seq TO app", db="app")
    return t


@pytest.mark.deadline(180)
def test_pcp_promote_switchover(fresh):
    cluster = fresh
    table = _table(cluster)
    router = start_admin_router(cluster, cluster.role_secrets(["app"]), name="sw",
                                failover='wait_timeout = "20s"\n')
    router.wait_reads_reach({n.port for n in cluster.nodes})
    assert router.http("/primary")[0] == 200
    with Writers(router, table, n=4) as writers:
        wait_for("writes through pgrouter", lambda: len(writers.ok) > 30, 15)
        started = time.monotonic()
        r = router.pcp("pcp_promote_node", "-s", "-n", "1", timeout=90)
        assert r.returncode == 0, (r.stdout, r.stderr)
        done = time.monotonic()
        wait_for("writes after the switchover", lambda: len(writers.oks_after(done)) > 10, 30)
    print(f"\nswitchover took {time.monotonic() - started:.2f} s; write downtime "
          f"{writers.downtime(started):.2f} s, {len(writers.errors)} failed writes")

    node1 = cluster.node("node1")
    assert new_primary(cluster, exclude="node0").name == "node1"
    tli = timeline(node1)
    assert tli == 2
    wait_for("node2 streaming from node1", lambda: streams_from(cluster.node("node2"), node1) == tli, 30)
    # Every acknowledged write is on the new primary: the candidate caught up first.
    count = int(node1.sql_value(f"SELECT count(*) FROM {table}", db="app"))
    assert count >= len(writers.ok), (count, len(writers.ok))

    info = router.pcp("pcp_node_info", "-a").stdout.strip().splitlines()
    assert info[1].split()[6] == "primary" and info[1].split()[2] == "2", info
    assert info[0].split()[2] == "3", info  # the old primary is out of service (fenced)
    assert router.http("/primary")[0] == 200
    assert router.cluster_json()["primary"] == 1
    # The old primary no longer takes writes even directly: it was made read-only.
    assert cluster.node("node0").sql_value("SHOW default_transaction_read_only") == "on"
    r = router.ctl("list")
    assert "| node1  " in r.stdout and "fenced" in r.stdout, r.stdout
    assert router.cluster_json()["failovers"] == 1


@pytest.mark.deadline(180)
def test_manual_mode_http_checks_and_pgrouterctl_promote(fresh):
    cluster = fresh
    router = start_admin_router(cluster, cluster.role_secrets(["app"]), name="manual",
                                failover='mode = "manual"\nwait_timeout = "20s"\n')
    router.wait_reads_reach({n.port for n in cluster.nodes})
    assert router.http("/primary")[0] == 200
    assert router.http("/replica")[0] == 200
    cluster.node("node0").stop("immediate")
    wait_for("/primary to answer 503", lambda: router.http("/primary")[0] == 503, 20)
    assert router.http("/replica")[0] == 200  # the standbys still serve reads
    # Manual mode still runs its (short) detach plan after the primary is confirmed down:
    # pgrouterctl refuses a promote until it is over, so retry while it says so.
    def promote():
        r = router.ctl("promote", "node2", timeout=90)
        return None if "a failover is running" in r.stderr else r
    r = wait_for("promote accepted", promote, 30)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "node2" in r.stdout and "is the primary" in r.stdout, r.stdout
    assert router.http("/primary")[0] == 200
    assert router.cluster_json()["primary"] == 2
    node2 = cluster.node("node2")
    wait_for("node1 streaming from node2", lambda: streams_from(cluster.node("node1"), node2) == timeline(node2), 30)
    conn = router.connect()
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE x(i int)")
        cur.execute("SELECT inet_server_port()")
        assert cur.fetchone()[0] == node2.port
    conn.close()
