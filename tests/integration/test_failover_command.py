"""Failover with mode = "command": the operator's failover_command gets pgpool-II 4.3's
placeholder values and promotes; follow_primary_command repoints the other standby; a
failover_command that exits 1 leaves every standby unpromoted and the failure reported."""
from __future__ import annotations

import time

import pytest

import pgcluster
from failover_support import (new_primary, start_router, streams_from, timeline, wait_for,
                              wait_log, write_script)


@pytest.fixture
def fresh():
    with pgcluster.Cluster(standbys=2) as c:
        yield c


def _as_postgres() -> str:
    return "runuser -u postgres -- " if pgcluster.IS_ROOT else ""


def _scripts(tmp_path, fail: bool):
    args = tmp_path / "failover.args"
    failover = write_script(tmp_path / "failover.sh", f"""#!/bin/sh
printf '%s\\n' "$@" > {args}
{"exit 1" if fail else ""}
exec {_as_postgres()}{pgcluster.pg_bin("pg_ctl")} -D "$8" -w promote
""")
    follow_args = tmp_path / "follow.args"
    follow = write_script(tmp_path / "follow.sh", f"""#!/bin/sh
# follow.sh %d %h %p %H %r: point standby %d (%h:%p) at the new primary %H:%r
printf '%s\\n' "$@" >> {follow_args}
export PGPASSWORD={pgcluster.SUPERPASS}
psql -X -h "$2" -p "$3" -U postgres -d postgres -c "ALTER SYSTEM SET primary_conninfo = \
'host=$4 port=$5 user=postgres password={pgcluster.SUPERPASS} application_name=node$1'" &&
psql -X -h "$2" -p "$3" -U postgres -d postgres -c "SELECT pg_reload_conf()"
""")
    config = (f'mode = "command"\n'
              f'failover_command = "{failover} %d %h %p %D %m %H %r %R %M %P %N %S %%"\n'
              f'follow_primary_command = "{follow} %d %h %p %H %r"\n'
              f'command_timeout = "20s"\nwait_timeout = "20s"\n')
    return config, args, follow_args


@pytest.mark.deadline(150)
def test_failover_command_gets_pgpool_placeholders(fresh, tmp_path):
    cluster = fresh
    config, args, follow_args = _scripts(tmp_path, fail=False)
    router = start_router(cluster, cluster.role_secrets(["app"]), name="fo_cmd", failover=config)
    old = cluster.node("node0")
    cluster.wait_replicated()
    old.stop("immediate")
    wait_for("failover_command to run", args.exists, 20)
    primary = wait_for("a promoted standby", lambda: new_primary(cluster, exclude="node0"), 30)
    got = wait_for("all arguments", lambda: (lines := args.read_text().splitlines()) and
                   len(lines) == 13 and lines, 10)
    m = int(got[4])
    promoted = cluster.node(f"node{m}")
    assert promoted.name == primary.name
    # %d %h %p %D failed node; %m %H %r %R new main; %M old main; %P %N %S old primary; %%
    assert got == ["0", "127.0.0.1", str(old.port), str(old.datadir),
                   str(m), "127.0.0.1", str(promoted.port), str(promoted.datadir),
                   "0", "0", "127.0.0.1", str(old.port), "%"]
    other = next(n for n in cluster.nodes if n.name not in ("node0", primary.name))
    tli = timeline(primary)
    wait_for(f"{other.name} streaming from {primary.name}",
             lambda: streams_from(other, primary) == tli, 30)
    assert follow_args.read_text().splitlines()[:5] == [
        other.name[-1], "127.0.0.1", str(other.port), "127.0.0.1", str(primary.port)]
    wait_log(router, r"failover: done in \d+ ms")
    with router.connect() as c:
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("/*NO LOAD BALANCE*/ SELECT inet_server_port(), pg_is_in_recovery()")
            assert cur.fetchone() == (primary.port, False)
    c.close()
    router.stop()


@pytest.mark.deadline(120)
def test_failover_command_exit_1_promotes_nothing(fresh, tmp_path):
    cluster = fresh
    config, args, _ = _scripts(tmp_path, fail=True)
    router = start_router(cluster, cluster.role_secrets(["app"]), name="fo_cmd_fail",
                          failover=config)
    cluster.node("node0").stop("immediate")
    wait_log(router, r"failover: aborted", 30)
    assert args.exists()
    text = router.log_text()
    assert "failover_command exited with code 1" in text
    assert "pgrouter promoted no node" in text
    time.sleep(3)
    for n in ("node1", "node2"):
        assert cluster.node(n).sql_value("SELECT pg_is_in_recovery()") == "t"
    assert router.log_text().count("failover_command node") == text.count("failover_command node")
    router.stop()
