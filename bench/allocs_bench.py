"""bench/allocs: heap allocations per transaction in each proxy's process.

A uprobe on the C library's malloc (perf) counts the calls a proxy's process makes while
pgbench runs a fixed number of transactions through it. Two runs per workload, short and long,
with the same clients: their difference divided by the difference in transactions is the cost
of one transaction, with logins and warm-up left out; what the short run spent beyond its
transactions, per client, is the cost of a connection (login and goodbye).

Every target sits in front of one primary (no standbys: reads and writes go to the same
server for all). Needs root (uprobes) and perf (Debian's linux-perf).
"""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import common  # first: puts tests/harness on sys.path
import pgcluster  # noqa: E402
from pgbench_runner import PASSWORD, pgbench_init
from report import write_csv
from targets import BenchEnv, make_targets, pgrouter_version
from workloads import select_workloads

PROBE_GROUP = "probe_libc"
PROBE_NAME = "pgr_bench_malloc"
EVENT = f"{PROBE_GROUP}:{PROBE_NAME}"
DEFAULT_WORKLOADS = "select-simple-c8,select-extended-c8,select-prepared-c8,tpcb-c8"
DEFAULT_TARGETS = "pgrouter,pgrouter-tx,pgbouncer-session,pgbouncer-tx,haproxy"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/allocs", description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", default=DEFAULT_TARGETS, help=f"comma-separated ({DEFAULT_TARGETS})")
    p.add_argument("--workloads", default=DEFAULT_WORKLOADS, help=f"comma-separated ({DEFAULT_WORKLOADS})")
    p.add_argument("--short", type=int, default=200, help="transactions per client, short run (200)")
    p.add_argument("--long", type=int, default=2200, help="transactions per client, long run (2200)")
    p.add_argument("--out", default=str(common.BENCH_DIR / "out"), help="output dir")
    p.add_argument("--pgrouter-bin", default=None,
                   help="use this pgrouter binary instead of building build-release/")
    p.add_argument("--no-install", action="store_true", help="never apt-get install")
    a = p.parse_args(argv)
    if a.long <= a.short:
        p.error("--long must be more than --short")
    return a


def libc_of(binary: Path) -> str:
    out = common.run_cmd(["ldd", str(binary)], timeout=30).stdout
    for line in out.splitlines():
        if "libc.so" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    raise common.BenchError(f"no libc found in `ldd {binary}`")


def add_probe(libc: str) -> None:
    listed = common.run_cmd(["perf", "probe", "-l"], timeout=60, check=False).stdout
    if EVENT not in listed:
        common.run_cmd(["perf", "probe", "-q", "-x", libc, "-a", f"{PROBE_NAME}=malloc"], timeout=120)


def remove_probe() -> None:
    common.run_cmd(["perf", "probe", "-q", "-d", EVENT], timeout=60, check=False)


def counted_run(pid: int, port: int, args: tuple[str, ...], clients: int, per_client: int) -> tuple[int, int]:
    """(malloc calls in `pid`, transactions) for one pgbench run of `per_client` transactions
    per client."""
    pgbench = ["pgbench", "-n", "-h", "127.0.0.1", "-p", str(port), "-U", "app", "-c", str(clients),
               "-j", str(min(clients, 2)), "-t", str(per_client), *args, "app"]
    cmd = ["perf", "stat", "-x", ",", "-e", EVENT, "-p", str(pid), "--", *pgbench]
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                        env=pgcluster.clean_env(PGPASSWORD=PASSWORD), stdin=subprocess.DEVNULL)
    if cp.returncode != 0:
        raise common.BenchError(f"{shlex.join(cmd)} failed:\n{cp.stdout[-1500:]}{cp.stderr[-1500:]}")
    processed = None
    for line in cp.stdout.splitlines():
        if line.startswith("number of transactions actually processed:"):
            processed = int(line.split(":")[1].split("/")[0])
    mallocs = None
    for line in cp.stderr.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] == EVENT and fields[0].isdigit():
            mallocs = int(fields[0])
    if processed is None or mallocs is None:
        raise common.BenchError(f"no count in the output of {shlex.join(cmd)}:\n{cp.stdout[-800:]}{cp.stderr[-800:]}")
    return mallocs, processed


def measure(target, workload, args) -> dict:
    pid = target.pids()[0]
    # Unrecorded first: a pooler opens its backend connections on first use.
    counted_run(pid, target.port, workload.args, workload.clients, args.short)
    short_m, short_tx = counted_run(pid, target.port, workload.args, workload.clients, args.short)
    long_m, long_tx = counted_run(pid, target.port, workload.args, workload.clients, args.long)
    per_tx = (long_m - short_m) / (long_tx - short_tx)
    per_connection = (short_m - per_tx * short_tx) / workload.clients
    return {"target": target.name, "workload": workload.name, "mallocs_per_tx": round(per_tx, 2),
            "mallocs_per_connection": round(per_connection), "short_mallocs": short_m,
            "short_tx": short_tx, "long_mallocs": long_m, "long_tx": long_tx}


def markdown(rows: list[dict], targets, workloads, meta: dict) -> str:
    labels = {t.name: t.label for t in targets}
    by = {(r["target"], r["workload"]): r for r in rows}
    names = [t.name for t in targets if any(r["target"] == t.name for r in rows)]
    m = meta["machine"]
    lines = [
        "## bench/allocs",
        "",
        f"- Date: {m['date']}; machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, "
        f"kernel {m['kernel']}",
        f"- Command: `{meta['command']}`",
        f"- pgrouter: {meta['pgrouter']}",
        "",
        "malloc calls per transaction in the proxy's process (connections excluded):",
        "",
        "| workload | " + " | ".join(labels[n] for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for w in workloads:
        cells = [f"{by[(n, w.name)]['mallocs_per_tx']:.2f}" if (n, w.name) in by else "—" for n in names]
        lines.append(f"| {w.title} | " + " | ".join(cells) + " |")
    lines += ["", "malloc calls per connection (login to goodbye), from the short runs:", "",
              "| workload | " + " | ".join(labels[n] for n in names) + " |",
              "|---|" + "---:|" * len(names)]
    for w in workloads:
        cells = [f"{by[(n, w.name)]['mallocs_per_connection']:,}" if (n, w.name) in by else "—" for n in names]
        lines.append(f"| {w.title} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    common.install_sigterm_handler()
    if not args.no_install:
        common.ensure_packages(common.BENCH_PACKAGES + ["linux-perf"])
    binary = Path(args.pgrouter_bin) if args.pgrouter_bin else common.build_pgrouter()
    binary = common.use_pgrouter_binary(binary)
    workloads = select_workloads(False, [w for w in args.workloads.split(",") if w])
    meta = {"machine": common.machine_info(), "pgrouter": pgrouter_version(),
            "command": "bench/allocs" + ("" if not argv else " " + shlex.join(argv))}
    add_probe(libc_of(binary))
    rows: list[dict] = []
    targets = make_targets([t for t in args.targets.split(",") if t and t != "direct"])
    workdir = common.make_workdir("pgr-allocs-")
    try:
        with pgcluster.Cluster(standbys=0, max_connections=200) as cluster:
            pgbench_init(cluster.primary.port, 2)
            env = BenchEnv(cluster, workdir, cluster.role_secrets(["app"]), max_clients=200)
            for t in targets:
                t.start(env)
            for w in workloads:
                for t in targets:
                    if t.unavailable or not t.pids():
                        continue
                    common.log(f"{w.name} through {t.name}")
                    try:
                        rows.append(measure(t, w, args))
                    except common.BenchError as e:  # e.g. PgBouncer transaction with -M prepared
                        common.log(f"  not measured: {str(e).splitlines()[-1][:200]}")
            for t in targets:
                t.stop()
    finally:
        common.stop_all_daemons()
        remove_probe()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, targets, workloads, meta)
    (out / "allocs.md").write_text(text)
    write_csv(out / "allocs.csv", rows)
    print(text)
    common.log(f"wrote {out / 'allocs.md'}, {out / 'allocs.csv'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except common.BenchError as e:
        common.log(f"bench/allocs: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        common.log("bench/allocs: interrupted; everything it started is stopped")
        sys.exit(130)
