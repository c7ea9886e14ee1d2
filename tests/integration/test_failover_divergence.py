"""Divergence: the old primary holds writes its standbys never received. After the standbys
come back and one is promoted, the old primary started as a standby of the new one has
replayed past the switch point: pgrouter sees it in the new timeline's history, marks it
diverged, gives it no traffic and runs rewind_command; once pg_rewind has run and it streams
from the new primary on the new timeline, auto_failback re-attaches it."""
from __future__ import annotations

import time

import pytest

import pgcluster
from failover_support import (client_sessions, new_primary, start_router, streams_from, timeline,
                              wait_for, wait_log, write_script)


@pytest.fixture
def fresh():
    with pgcluster.Cluster(standbys=2) as c:
        yield c


@pytest.mark.deadline(240)
def test_diverged_old_primary_rewound_and_failed_back(fresh, tmp_path):
    cluster = fresh
    old, s1, s2 = cluster.node("node0"), cluster.node("node1"), cluster.node("node2")
    marker = tmp_path / "rewind.args"
    rewind = write_script(tmp_path / "rewind.sh",
                          f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {marker}\n")
    state_file = tmp_path / "pgrouter.state"
    router = start_router(
        cluster, cluster.role_secrets(["app"]), name="fo_div",
        failover=f'auto_failback = true\nstate_file = "{state_file}"\n'
                 f'rewind_command = "{rewind} %d %H %r"\nwait_timeout = "20s"\n')

    # Writes that only the old primary will ever have. node2 stops last, so it holds all the
    # WAL node1 has (the old primary writes some even when idle: a hint bit set by a health
    # check is logged); it comes back first and is promoted, and node1, down during that
    # failover, follows it when it returns. (The other way round node1 would have diverged
    # too, correctly, by a record.)
    s1.stop("fast")
    s2.stop("fast")
    old.sql("CREATE TABLE lost(a int); INSERT INTO lost SELECT generate_series(1, 10000)",
            db="app")
    old.stop("immediate")
    wait_log(router, r"failover: aborted", 20)  # no standby is up: nothing to promote

    s2.start()
    primary = wait_for("a promoted standby", lambda: new_primary(cluster, exclude="node0"), 40)
    assert primary is s2
    s1.start()
    tli = timeline(primary)
    wait_for("node1 streaming from node2", lambda: streams_from(s1, primary) == tli, 30)
    wait_log(router, r"failover: done in \d+ ms")

    # The old primary, started as a standby of the new one: it replayed past the switch point.
    pgcluster.write_pg_file(old.datadir / "standby.signal", "")
    old.set_primary_conninfo_offline(primary)
    old.start()
    assert old.sql_value("SELECT pg_is_in_recovery()") == "t"
    wait_log(router, r"node0 .*-> diverged", 20)
    assert "state=diverged" in state_file.read_text()
    wait_for("rewind_command", marker.exists, 20)
    assert marker.read_text().splitlines() == ["0", "127.0.0.1", str(primary.port)]
    for _ in range(5):
        with router.connect() as c:
            with c.cursor() as cur:
                cur.execute("SELECT inet_server_port()")
                assert cur.fetchone()[0] != old.port
        c.close()
    assert client_sessions(old) == 0

    # pg_rewind (as an operator, or a fuller rewind_command, would run it), then a restart.
    old.stop("fast")
    pgcluster.run([pgcluster.pg_bin("pg_rewind"), "-D", str(old.datadir), "--source-server",
                   f"host=127.0.0.1 port={primary.port} user={pgcluster.SUPERUSER} "
                   f"password={pgcluster.SUPERPASS} dbname=postgres", "-R"],
                  as_pg=True, timeout=120, cwd=str(cluster.base_dir))
    # pg_rewind copied the source's configuration files, its port and name among them.
    old.write_node_conf({"port": old.port, **cluster._node_settings(old)})
    old.set_primary_conninfo_offline(primary)
    old.start()
    wait_for("node0 streaming from the new primary", lambda: streams_from(old, primary) == tli, 30)
    wait_log(router, r"node0 .*diverged -> attached", 20)
    wait_for("the state file to record the attach", lambda: "state=diverged" not in state_file.read_text(), 5)
    time.sleep(0.5)
    router.stop()
