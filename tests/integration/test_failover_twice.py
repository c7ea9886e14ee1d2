"""Two failovers in a row: after the first, the operator re-clones the killed primary as a
standby of the new one (pg_basebackup -R); then the new primary dies too. A standby must be
promoted again, and writes come back."""
from __future__ import annotations

import shutil
import time
import uuid

import pytest

import pgcluster
from proc_tools import run as pg_run
from failover_support import Writers, new_primary, start_router, wait_for, wait_log


@pytest.fixture
def fresh():
    with pgcluster.Cluster(standbys=2) as c:
        yield c


def _reclone(cluster, node, primary) -> None:
    node.stop("immediate")
    shutil.rmtree(node.datadir, ignore_errors=True)
    pg_run([pgcluster.pg_bin("pg_basebackup"), "-D", str(node.datadir), "-h", "127.0.0.1",
            "-p", str(primary.port), "-U", pgcluster.SUPERUSER, "-R", "-X", "stream",
            "-c", "fast", "--no-sync"],
           as_pg=True, env=pgcluster.clean_env(PGPASSWORD=pgcluster.SUPERPASS), cwd=str(cluster.base_dir),
           timeout=300)
    node.write_node_conf({"port": node.port, "cluster_name": node.name})
    node.set_primary_conninfo_offline(primary)
    node.start()


@pytest.mark.deadline(240)
def test_second_failover_after_the_old_primary_is_recloned(fresh):
    cluster = fresh
    t = "fo2_" + uuid.uuid4().hex[:8]
    cluster.primary.sql(f"CREATE TABLE {t}(id bigserial PRIMARY KEY, writer int, at timestamptz DEFAULT now()); "
                        f"GRANT ALL ON {t} TO app; GRANT ALL ON SEQUENCE {t}_id_seq TO app", db="app")
    router = start_router(cluster, cluster.role_secrets(["app"]), name="fo_twice",
                          failover='wait_timeout = "20s"\n')
    first = cluster.node("node0")
    with Writers(router, t, n=4) as writers:
        wait_for("writes", lambda: len(writers.ok) > 20, 15)
        killed_at = time.monotonic()
        first.stop("immediate")
        # Writes acknowledged while pg_ctl was still stopping the node do not count.
        dead_at = time.monotonic()
        wait_for("writes after the first failover", lambda: len(writers.oks_after(dead_at)) > 10, 40)
        second = new_primary(cluster, exclude=first.name)
        _reclone(cluster, first, second)
        time.sleep(1)
        killed_at = time.monotonic()
        second.stop("immediate")
        dead_at = time.monotonic()
        try:
            wait_for("writes after the second failover", lambda: len(writers.oks_after(dead_at)) > 10, 60)
        except AssertionError:
            print(router.log_text())
            raise
    third = new_primary(cluster, exclude=second.name)
    print(f"\nsecond failover promoted {third.name}; downtime {writers.downtime(killed_at):.2f} s")
    assert third.name != second.name
