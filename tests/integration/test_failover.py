"""Automatic failover, builtin mode: a killed or hung primary is replaced by a standby, the
other standby follows it on the new timeline, the old primary is fenced (also across a
pgrouter restart), and a stopped standby causes no failover. Each test gets its own cluster:
a failover changes it for good."""
from __future__ import annotations

import time
import uuid

import pytest

import pgcluster
from failover_support import (Writers, client_sessions, new_primary, start_router, streams_from,
                              timeline, wait_for, wait_log)


@pytest.fixture
def fresh():
    with pgcluster.Cluster(standbys=2) as c:
        yield c


def _table(cluster) -> str:
    t = "fo_" + uuid.uuid4().hex[:8]
    cluster.primary.sql(f"CREATE TABLE {t}(id bigserial PRIMARY KEY, writer int, "
                        f"at timestamptz DEFAULT now()); GRANT ALL ON {t} TO app; "
                        f"GRANT ALL ON SEQUENCE {t}_id_seq TO app", db="app")
    return t


def _users(cluster) -> dict[str, str]:
    return cluster.role_secrets(["app"])


def _check_followed(cluster, old: pgcluster.Node) -> pgcluster.Node:
    """The promoted node, after checking that the other standby streams from it on its new
    timeline (pg_stat_wal_receiver there, pg_stat_replication on the new primary)."""
    primary = new_primary(cluster, exclude=old.name)
    tli = timeline(primary)
    assert tli >= 2
    other = next(n for n in cluster.nodes if n.name not in (old.name, primary.name))
    # Generous: on a loaded machine a repointed WAL receiver may take a while to reconnect.
    wait_for(f"{other.name} streaming from {primary.name} on timeline {tli}",
             lambda: streams_from(other, primary) == tli, 90)
    rows = primary.sql("SELECT application_name, state FROM pg_stat_replication")
    assert (other.name, "streaming") in rows, rows
    return primary


@pytest.mark.deadline(180)
def test_kill9_primary_failover_then_old_primary_fenced(fresh, tmp_path):
    cluster = fresh
    table = _table(cluster)
    old = cluster.node("node0")
    state_file = tmp_path / "pgrouter.state"
    router = start_router(cluster, _users(cluster), name="fo_kill",
                          failover=f'state_file = "{state_file}"\nwait_timeout = "20s"\n')
    with Writers(router, table, n=8) as writers:
        wait_for("writes through pgrouter", lambda: len(writers.ok) > 50, 15)
        killed_at = time.monotonic()
        old.stop("immediate")  # pg_ctl stop -m immediate: a crash
        # Writes acknowledged while pg_ctl was still stopping the node do not count.
        dead_at = time.monotonic()
        wait_for("writes after the failover", lambda: len(writers.oks_after(dead_at)) > 20, 40)
    downtime = writers.downtime(killed_at)
    print(f"\nwrite downtime across the failover: {downtime:.2f} s "
          f"({len(writers.errors)} failed writes, {len(writers.ok)} ok)")
    assert downtime < 15

    primary = _check_followed(cluster, old)
    wait_log(router, r"failover: done in \d+ ms")
    text = state_file.read_text()
    assert f'primary "{primary.name}"' in text, text
    assert 'state=fenced' in text, text

    # The old primary, restarted as it was (crash recovery: writable, on timeline 1), gets no
    # client traffic — neither reads nor writes.
    old.start()
    assert old.sql_value("SELECT pg_is_in_recovery()") == "f"
    time.sleep(2.5)  # a couple of probe periods: pgrouter sees it writable

    def no_traffic_on_old(r):
        conns = [r.connect() for _ in range(6)]
        try:
            for c in conns:
                c.autocommit = True
                with c.cursor() as cur:
                    cur.execute(f"INSERT INTO {table}(writer) VALUES (-1)")
                    cur.execute("SELECT inet_server_port()")
                    assert cur.fetchone()[0] == primary.port
            assert client_sessions(old) == 0
        finally:
            for c in conns:
                c.close()
        assert old.sql_value(f"SELECT count(*) FROM {table} WHERE writer = -1", db="app") == "0"

    no_traffic_on_old(router)
    wait_log(router, r"node0 .*fenced|false primary")
    router.stop()
    # ... also after pgrouter itself restarts (the state file keeps node0 fenced).
    again = start_router(cluster, _users(cluster), name="fo_kill2",
                         failover=f'state_file = "{state_file}"\n')
    no_traffic_on_old(again)
    assert "fenced per the state file" in again.log_text() or "is fenced" in again.log_text()
    again.stop()


@pytest.mark.deadline(180)
def test_sigstop_primary_fails_over_and_is_fenced_after_sigcont(fresh):
    cluster = fresh
    table = _table(cluster)
    old = cluster.node("node0")
    router = start_router(cluster, _users(cluster), name="fo_stop",
                          failover='wait_timeout = "20s"\n')
    # Persistent sessions: the writes in flight on the hung node fail once failover takes it
    # out of service, and the same sessions carry on on the new primary.
    writers = Writers(router, table, n=4)
    with writers:
        wait_for("writes through pgrouter", lambda: len(writers.ok) > 20, 15)
        paused_at = time.monotonic()
        old.pause()
        wait_for("writes after the failover", lambda: len(writers.oks_after(paused_at)) > 10, 40)
        print(f"\nwrite downtime across the failover (SIGSTOP): "
              f"{writers.downtime(paused_at):.2f} s")
        writers.stop_event.set()
        old.resume()
    primary = _check_followed(cluster, old)
    assert old.sql_value("SELECT pg_is_in_recovery()") == "f"  # it still thinks it is primary
    time.sleep(2.5)
    for _ in range(5):
        with router.connect() as c:
            c.autocommit = True
            with c.cursor() as cur:
                cur.execute(f"INSERT INTO {table}(writer) VALUES (-2)")
                cur.execute("SELECT inet_server_port()")
                assert cur.fetchone()[0] == primary.port
        c.close()
    assert client_sessions(old) == 0
    assert old.sql_value(f"SELECT count(*) FROM {table} WHERE writer = -2", db="app") == "0"
    wait_log(router, r"node0 .*(fenced|false primary)")
    router.stop()


@pytest.mark.deadline(120)
def test_stopped_standby_no_failover_no_hooks(fresh, tmp_path):
    cluster = fresh
    marker = tmp_path / "hook-ran"
    router = start_router(
        cluster, _users(cluster), name="fo_standby",
        failover=f'mode = "command"\nfailover_command = "touch {marker}"\n'
                 f'follow_primary_command = "touch {marker}"\n')
    standby = cluster.node("node2")
    standby.stop("fast")
    wait_log(router, r"node2 .*(-> down|: down)", 15)
    time.sleep(2)
    with router.connect() as c:
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("/*NO LOAD BALANCE*/ SELECT inet_server_port(), pg_is_in_recovery()")
            assert cur.fetchone() == (cluster.node("node0").port, False)
    c.close()
    text = router.log_text()
    assert "starting failover" not in text
    assert not marker.exists()
    standby.start()
    router.stop()
