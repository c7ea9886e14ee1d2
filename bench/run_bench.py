"""bench/run: pgbench through direct, pgrouter, PgBouncer (session, transaction), pgpool-II and
HAProxy in front of one primary + two standbys, interleaved round after round, plus the
proxies' memory (idle, under load, holding N idle clients). See bench/README.md."""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import common
import cpu
import memory
import report
from pgbench_runner import pgbench_init, run_pgbench
from targets import ALL_TARGETS, DEFAULT_TARGETS, BenchEnv, make_targets, pgrouter_version
from workloads import select_workloads

CLUSTER_MAX_CONNECTIONS = 1500
NON_POOLING_IDLE_CAP = 1000   # idle clients for proxies that give each one a backend


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    p.add_argument("--rounds", type=int, default=None, help="rounds over all workloads (3)")
    p.add_argument("--duration", type=int, default=None, help="seconds per pgbench run (5)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 1 round, 3 s, 5 workloads, 1000 idle clients, scale 2")
    p.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                   help=f"comma-separated, from {','.join(ALL_TARGETS)} (direct is always "
                        f"added: the ratios divide by it)")
    p.add_argument("--workloads", default="", help="comma-separated workload names (all)")
    p.add_argument("--idle-clients", type=int, default=None,
                   help="idle clients for the memory test (10000; --quick 1000)")
    p.add_argument("--scale", type=int, default=None, help="pgbench scale (10; --quick 2)")
    p.add_argument("--out", default=str(common.BENCH_DIR / "out"), help="output dir")
    p.add_argument("--pgrouter-bin", default=None,
                   help="use this pgrouter binary instead of building build-release/")
    p.add_argument("--no-install", action="store_true", help="never apt-get install")
    p.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    p.add_argument("--warmup", type=int, default=5,
                   help="seconds of one unrecorded run per target before round 1 (5; 0: none)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    a = p.parse_args(argv)
    if a.rounds is None:
        a.rounds = 1 if a.quick else 3
    if a.duration is None:
        a.duration = 3 if a.quick else 5
    a.idle_clients = a.idle_clients if a.idle_clients is not None else (
        1000 if a.quick else 10000)
    a.scale = a.scale if a.scale is not None else (2 if a.quick else 10)
    a.target_names = [t for t in a.targets.split(",") if t]
    if "direct" not in a.target_names:
        a.target_names.insert(0, "direct")
    if a.rounds < 1 or a.duration < 1:
        p.error("--rounds and --duration must be at least 1")
    return a


def start_targets(targets, env: BenchEnv) -> None:
    for t in targets:
        try:
            t.start(env)
        except Exception as e:  # noqa: BLE001 - one broken target must not end the run
            t.unavailable = f"error: failed to start: {str(e).splitlines()[0][:200]}"
            common.log(f"{t.name}: {e}")
            t.stop()
        common.log(f"{t.name}: {t.unavailable or f'port {t.port}'}")


def warm_up(args, workloads, targets, scratch: Path) -> None:
    """One unrecorded run per target with the most clients of the selected workloads: fills
    PgBouncer's pools and pgpool-II's per-child backend connections, so round 1 measures the
    steady state (connect-c8 measures connection set-up on its own)."""
    if args.warmup <= 0:
        return
    w = max(workloads, key=lambda w: w.clients)
    for t in targets:
        if not t.unavailable and t.alive():
            r = run_pgbench(w, t.port, args.warmup, scratch)
            common.log(f"warm-up {w.name} {t.name}: "
                       + (f"tps {r.tps:.0f}" if r.tps is not None else f"{r.error}"))


def run_rounds(args, workloads, targets, scratch: Path, mem: dict) -> list[dict]:
    runs: list[dict] = []
    live = [t for t in targets if not t.unavailable]
    total = args.rounds * len(workloads) * len(live)
    done, t0 = 0, time.monotonic()
    for rnd in range(1, args.rounds + 1):
        for w in workloads:
            for t in live:
                if not t.alive():
                    res_err = "target process is gone"
                    runs.append(dict(round=rnd, workload=w.name, target=t.name, tps=None,
                                     lat_avg_ms=None, lat_p99_ms=None, error=res_err,
                                     samples=0))
                    continue
                cpu_before = cpu.target_cpu_seconds(t)
                if w.memory_probe and t.pids():
                    with memory.PeakSampler(t) as sampler:
                        r = run_pgbench(w, t.port, args.duration, scratch)
                    if sampler.peak is not None:
                        mem[t.name].load_peak = max(mem[t.name].load_peak or 0, sampler.peak)
                else:
                    r = run_pgbench(w, t.port, args.duration, scratch)
                cpu_us = cpu.per_transaction_us(cpu_before, cpu.target_cpu_seconds(t), r.processed)
                runs.append(dict(round=rnd, workload=w.name, target=t.name, tps=r.tps,
                                 lat_avg_ms=r.lat_avg_ms, lat_p99_ms=r.lat_p99_ms,
                                 error=r.error, samples=r.samples, cpu_us_per_tx=cpu_us))
                done += 1
                eta = (time.monotonic() - t0) / done * (total - done)
                common.log(f"round {rnd} {w.name:<22} {t.name:<18} "
                           + (f"tps {r.tps:>9.0f} avg {r.lat_avg_ms or 0:7.3f} ms p99 "
                              f"{r.lat_p99_ms or 0:7.3f} ms" if r.tps is not None else "")
                           + (f" cpu {cpu_us:5.1f} us/tx" if cpu_us is not None else "")
                           + (f"  ERROR {r.error}" if r.error else "")
                           + f"  [{done}/{total}, ~{eta / 60:.0f} min left]")
    return runs


def primary_backends(env: BenchEnv) -> int:
    v = env.cluster.primary.sql_value(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
    return int(v or 0)


def idle_client_test(t, row: report.MemoryRow, env: BenchEnv, n: int) -> None:
    """Open up to n logged-in idle clients through t, measure, close them."""
    before_backends = primary_backends(env)
    cap = n
    if not t.pools_connections:
        free = CLUSTER_MAX_CONNECTIONS - 3 - before_backends - 50
        cap = min(n, NON_POOLING_IDLE_CAP, max(0, free))
        row.note = (f"capped at {cap}: each idle client holds a primary backend "
                    f"(max_connections {CLUSTER_MAX_CONNECTIONS})")
    if t.max_idle_clients() is not None and t.max_idle_clients() < cap:
        cap = t.max_idle_clients()
        row.note = f"capped at num_init_children = {cap} (process per client)"
    row.n_requested = n
    row.n_used = cap
    time.sleep(1)
    base = memory.target_memory_bytes(t)
    clients = memory.IdleClients(t.host, t.port, cap)
    try:
        row.opened = clients.open()
        time.sleep(2)
        row.with_idle = memory.target_memory_bytes(t)
        row.backends_before = before_backends
        row.backends_after = primary_backends(env)
        row.errors = dict(clients.errors)
        if row.opened and base is not None and row.with_idle is not None:
            row.per_client = (row.with_idle - base) / row.opened
        common.log(f"{t.name}: {row.opened}/{cap} idle clients in {clients.seconds:.1f}s, "
                   f"{base} -> {row.with_idle} bytes, backends {before_backends} -> "
                   f"{row.backends_after}" + (f", errors {clients.errors}"
                                              if clients.errors else ""))
    finally:
        clients.close()
    time.sleep(2)


def save_logs(targets, dest: Path, limit: int = 1 << 20) -> None:
    """The last `limit` bytes of each target's log, for looking into an odd number later."""
    dest.mkdir(parents=True, exist_ok=True)
    for t in targets:
        src = t.log_path()
        if src is None or not src.exists():
            continue
        with open(src, "rb") as f:
            f.seek(max(0, src.stat().st_size - limit))
            (dest / f"{t.name}.log").write_bytes(f.read())


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    common.install_sigterm_handler()
    make_targets(args.target_names)  # unknown names fail here, before any install or build
    if not args.no_install:
        common.ensure_packages(common.BENCH_PACKAGES)
    binary = Path(args.pgrouter_bin) if args.pgrouter_bin else common.build_pgrouter()
    common.use_pgrouter_binary(binary)
    try:
        workloads = select_workloads(args.quick, [w for w in args.workloads.split(",") if w])
    except ValueError as e:
        raise common.BenchError(str(e)) from e
    meta = {"machine": common.machine_info(),
            "command": "bench/run" + ("" if not argv else " " + shlex.join(argv)),
            "rounds": args.rounds, "duration": args.duration, "scale": args.scale,
            "warmup": args.warmup,
            "versions": {"pgrouter": pgrouter_version(), **common.tool_versions()}}
    workdir = common.make_workdir("pgr-bench-")
    common.log(f"work dir {workdir}; {len(workloads)} workloads x {len(args.target_names)} "
               f"targets x {args.rounds} rounds x {args.duration} s")
    targets = make_targets(args.target_names)
    try:
        with common.pgcluster.Cluster(standbys=2,
                                      max_connections=CLUSTER_MAX_CONNECTIONS) as cluster:
            common.log(f"cluster: {[(n.name, n.port, n.role) for n in cluster.nodes]}")
            pgbench_init(cluster.primary.port, args.scale)
            cluster.wait_replicated(timeout=300)
            env = BenchEnv(cluster, workdir, cluster.role_secrets(["app"]),
                           max_clients=max(12000, args.idle_clients + 500))
            try:
                start_targets(targets, env)
                time.sleep(2)
                mem = {t.name: report.MemoryRow(t.name, t.label, t.mem_kind,
                                                idle=memory.target_memory_bytes(t))
                       for t in targets if t.pids()}
                warm_up(args, workloads, targets, workdir)
                runs = run_rounds(args, workloads, targets, workdir, mem)
                if not args.no_memory:
                    # Each target is stopped after its test, which closes the backend
                    # connections it pools, and the targets whose idle clients need no
                    # backend go first: those that give each client a backend then find
                    # the cluster's connections free instead of held by the others' pools.
                    for t in sorted(targets, key=lambda t: not t.pools_connections):
                        if t.name in mem and t.alive():
                            idle_client_test(t, mem[t.name], env, args.idle_clients)
                            t.stop()
            finally:
                for t in targets:
                    t.stop()
                common.stop_all_daemons()
                save_logs(targets, Path(args.out) / "logs")
        summaries = report.summarize(runs, workloads, targets)
        meta["targets"] = {t.label: t.describe() for t in targets}
        paths = report.write_all(Path(args.out), runs, summaries,
                                 [] if args.no_memory else list(mem.values()), meta)
        print((Path(args.out) / "results.md").read_text())
        common.log("wrote " + ", ".join(str(p) for p in paths))
        return 0
    finally:
        common.stop_all_daemons()
        if args.keep:
            common.log(f"kept {workdir}")
        else:
            import shutil  # noqa: PLC0415
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except common.BenchError as e:
        common.log(f"bench/run: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        common.log("bench/run: interrupted; everything it started is stopped")
        sys.exit(130)
