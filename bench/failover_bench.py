"""bench/failover: kill the primary (pg_ctl stop -m immediate) under a steady write load through
a proxy, N times, and report per kill: write downtime (last acknowledged write before the kill
to the first after it), the errors clients saw, which node became primary, whether the other
standby followed it, and acknowledged writes the new primary does not have.

Each target gets a fresh primary + 2 standbys. Between kills the cluster is made whole again:
after a failover the killed node is re-cloned (pg_basebackup) as a standby of the new primary
(and re-attached in pgpool-II with pcp_attach_node); when nothing took over, the killed primary
is started again and the time until writes resume is recorded too.
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from pathlib import Path

import common  # first: puts tests/harness on sys.path
import pgcluster  # noqa: E402
from proc_tools import run as pg_run  # noqa: E402 - the harness's runner (as postgres)
from report import write_csv
from target_pgpool import PgpoolTarget
from targets import BenchEnv, PgRouterTarget, pgrouter_version
from writers import WriteLoad

TABLE_SQL = ("CREATE TABLE fo_writes (writer int NOT NULL, seq int NOT NULL, "
             "at timestamptz NOT NULL DEFAULT clock_timestamp()); "
             "ALTER TABLE fo_writes OWNER TO app")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/failover", description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=3, help="primary kills per target (3)")
    p.add_argument("--targets", default="pgrouter,pgpool", help="pgrouter,pgpool")
    p.add_argument("--writers", type=int, default=4, help="writer threads (4)")
    p.add_argument("--recover-timeout", type=float, default=30,
                   help="seconds to wait for writes to come back after a kill (30)")
    p.add_argument("--out", default=str(common.BENCH_DIR / "out"), help="output dir")
    p.add_argument("--pgrouter-bin", default=None,
                   help="use this pgrouter binary instead of building build-release/")
    p.add_argument("--no-install", action="store_true", help="never apt-get install")
    a = p.parse_args(argv)
    a.target_names = [t for t in a.targets.split(",") if t]
    bad = set(a.target_names) - {"pgrouter", "pgpool"}
    if bad:
        p.error(f"unknown targets {sorted(bad)}")
    return a


def running_primary(cluster: pgcluster.Cluster) -> pgcluster.Node | None:
    for n in cluster.nodes:
        if n.is_running():
            try:
                if n.sql_value("SELECT pg_is_in_recovery()", timeout=5) == "f":
                    return n
            except pgcluster.HarnessError:
                pass
    return None


def follows(standby: pgcluster.Node, primary: pgcluster.Node, timeout: float) -> bool:
    """True once `standby` streams from `primary` (its WAL receiver's sender port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            row = standby.sql("SELECT status, sender_port FROM pg_stat_wal_receiver",
                              timeout=5)
            if row and row[0][0] == "streaming" and row[0][1] == str(primary.port):
                return True
        except pgcluster.HarnessError:
            pass
        time.sleep(0.25)
    return False


def lost_writes(load: WriteLoad, kill_at: float, primary: pgcluster.Node) -> int | None:
    """Writes acknowledged before the kill that the (new) primary does not have."""
    try:
        rows = primary.sql("SELECT writer, seq FROM fo_writes", db="app", timeout=30)
    except pgcluster.HarnessError:
        return None
    have = {(int(w), int(s)) for w, s in rows}
    return sum(1 for w, seqs in load.acked_seqs_before(kill_at).items()
               for s in seqs if (w, s) not in have)


def reclone_as_standby(cluster: pgcluster.Cluster, node: pgcluster.Node,
                       primary: pgcluster.Node) -> None:
    """Replace a dead node's data directory with a fresh pg_basebackup of `primary`."""
    node.stop("immediate")
    shutil.rmtree(node.datadir, ignore_errors=True)
    pg_run([pgcluster.pg_bin("pg_basebackup"), "-D", str(node.datadir), "-h", "127.0.0.1", "-p",
         str(primary.port), "-U", pgcluster.SUPERUSER, "-R", "-X", "stream", "-c", "fast",
         "--no-sync"], as_pg=True, env=pgcluster.clean_env(PGPASSWORD=pgcluster.SUPERPASS),
        cwd=str(cluster.base_dir), timeout=300)
    node.write_node_conf({"port": node.port, "cluster_name": node.name})
    node.set_primary_conninfo_offline(primary)
    node.start()


def one_kill(k: int, args, cluster, target, load: WriteLoad) -> dict:
    old = running_primary(cluster)
    standbys = [n for n in cluster.nodes if n is not old and n.is_running()]
    load.wait_acks(20, 10)
    time.sleep(1.0)
    common.log(f"{target.name}: kill {k}: pg_ctl stop -m immediate on {old.name}")
    kill_started = time.monotonic()
    old.stop("immediate")
    # Writes acknowledged while pg_ctl was stopping it still count as before the kill: the
    # kill is the moment the server is gone.
    kill_at = time.monotonic()
    deadline = kill_at + args.recover_timeout
    first = None
    while time.monotonic() < deadline and first is None:
        time.sleep(0.1)
        first = load.first_ack_after(kill_at)
    last = load.last_ack_before(kill_at)
    row = {"target": target.name, "kill": k, "killed": old.name,
           "downtime_s": round(first - last, 3) if first and last else None,
           "errors": load.errors_between(kill_started, first or time.monotonic()),
           "new_primary": None, "other_standby_followed": None, "lost_acked_writes": None,
           "recovered_after_restart_s": None}
    new = running_primary(cluster)
    row["new_primary"] = new.name if new else None
    if new is not None:
        others = [n for n in standbys if n is not new]
        row["other_standby_followed"] = all(follows(n, new, 15) for n in others)
        row["lost_acked_writes"] = lost_writes(load, kill_at, new)
        restore_after_failover(cluster, target, old, new, others)
    else:
        restart_at = time.monotonic()
        old.start()
        resumed = None
        end = restart_at + args.recover_timeout
        while time.monotonic() < end and resumed is None:
            time.sleep(0.1)
            resumed = load.first_ack_after(restart_at)
        row["recovered_after_restart_s"] = (round(resumed - restart_at, 3) if resumed
                                            else None)
        row["lost_acked_writes"] = lost_writes(load, kill_at, old)
        for n in standbys:
            follows(n, old, 15)
    common.log(f"{target.name}: kill {k}: {row}")
    return row


def restore_after_failover(cluster, target, old, new, others) -> None:
    for n in others:  # a standby the failover left behind is repointed by hand
        if not follows(n, new, 1):
            n.follow(new)
    reclone_as_standby(cluster, old, new)
    if isinstance(target, PgpoolTarget):
        node_id = sorted(cluster.nodes, key=lambda n: n.name).index(old)
        target.pcp("pcp_attach_node", "-n", str(node_id))
    for n in [old, *others]:
        follows(n, new, 20)


def bench_target(name: str, args) -> list[dict]:
    rows: list[dict] = []
    workdir = common.make_workdir(f"pgr-failover-{name}-")
    try:
        with pgcluster.Cluster(standbys=2) as cluster:
            cluster.primary.sql(TABLE_SQL, db="app")
            cluster.wait_replicated()
            env = BenchEnv(cluster, workdir, cluster.role_secrets(["app"]))
            target = PgRouterTarget() if name == "pgrouter" else PgpoolTarget(failover=True)
            try:
                target.start(env)
                with WriteLoad(target.port, args.writers) as load:
                    if not load.wait_acks(20, 30):
                        raise common.BenchError(f"{name}: no writes acknowledged in 30 s")
                    for k in range(1, args.kills + 1):
                        rows.append(one_kill(k, args, cluster, target, load))
                if isinstance(target, PgpoolTarget):
                    common.log(f"pgpool failover.log:\n{target.failover_log()}")
            finally:
                target.stop()
                common.stop_all_daemons()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def markdown(rows: list[dict], meta: dict, args) -> str:
    m = meta["machine"]
    L = ["# pgrouter failover benchmark", "",
         f"- Date: {m['date']}; machine: {m['nproc']} CPUs ({m['cpu']}), "
         f"{m['memory_gib']} GiB RAM; load average at start {m['loadavg_at_start']}.",
         f"- Command: `{meta['command']}`",
         f"- {args.writers} writer threads (autocommit INSERT, reconnect on error); the primary "
         f"is stopped with `pg_ctl stop -m immediate`; writes are awaited for "
         f"{args.recover_timeout:.0f} s.",
         "- pgrouter: " + meta["pgrouter"] + "; pgpool-II: health_check_period 1 s, "
         "failover_on_backend_error/shutdown on, failover_command = pg_promote() on the new "
         "main node + ALTER SYSTEM SET primary_conninfo / pg_reload_conf() on the other standby.",
         "", "| target | kill | killed | write downtime | errors seen by clients | new primary "
         "| other standby followed | acked writes lost | writes back after restarting the old "
         "primary |", "|---|---:|---|---:|---|---|---|---:|---:|"]
    for r in rows:
        down = (f"{r['downtime_s']:.2f} s" if r["downtime_s"] is not None
                else f"∞ / not recovered within {args.recover_timeout:.0f} s")
        errs = "; ".join(f"{k} ×{v}" for k, v in sorted(r["errors"].items(),
                                                        key=lambda kv: -kv[1])[:4]) or "none"
        followed = {True: "yes", False: "no", None: "—"}[r["other_standby_followed"]]
        back = ("—" if r["recovered_after_restart_s"] is None
                else f"{r['recovered_after_restart_s']:.2f} s")
        lost = "—" if r["lost_acked_writes"] is None else str(r["lost_acked_writes"])
        L.append(f"| {r['target']} | {r['kill']} | {r['killed']} | {down} | {errs} | "
                 f"{r['new_primary'] or 'none'} | {followed} | {lost} | {back} |")
    return "\n".join(L) + "\n"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    common.install_sigterm_handler()
    if not args.no_install:
        common.ensure_packages(common.BENCH_PACKAGES)
    binary = Path(args.pgrouter_bin) if args.pgrouter_bin else common.build_pgrouter()
    common.use_pgrouter_binary(binary)
    meta = {"machine": common.machine_info(), "pgrouter": pgrouter_version(),
            "command": "bench/failover" + ("" if not argv else " " + shlex.join(argv))}
    rows: list[dict] = []
    try:
        for name in args.target_names:
            rows += bench_target(name, args)
    finally:
        common.stop_all_daemons()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, meta, args)
    (out / "failover.md").write_text(text)
    write_csv(out / "failover.csv", [{**r, "errors": "; ".join(
        f"{k} x{v}" for k, v in r["errors"].items())} for r in rows])
    print(text)
    common.log(f"wrote {out / 'failover.md'}, {out / 'failover.csv'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except common.BenchError as e:
        common.log(f"bench/failover: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        common.log("bench/failover: interrupted; everything it started is stopped")
        sys.exit(130)
