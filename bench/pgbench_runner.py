"""Running pgbench against one target and parsing its result: TPS, average latency (pgbench's
summary) and p99 latency (from the sampled per-transaction log, deleted right after)."""
from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import common  # noqa: F401 - first: puts tests/harness on sys.path
import pgcluster  # noqa: E402
from workloads import Workload

PASSWORD = "app"


@dataclass
class RunResult:
    tps: float | None = None
    lat_avg_ms: float | None = None
    lat_p99_ms: float | None = None
    failed_tx: int = 0
    processed: int | None = None
    conn_ms: float | None = None  # pgbench's "initial connection time"
    error: str | None = None     # None: the run completed with every client
    samples: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.tps is not None


def pgbench_init(port: int, scale: int, timeout: float = 600) -> None:
    env = pgcluster.clean_env(PGPASSWORD=PASSWORD)
    cp = subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), "-h", "127.0.0.1", "-p",
                         str(port), "-U", "app", "app"], capture_output=True, text=True,
                        timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    if cp.returncode != 0:
        raise RuntimeError(f"pgbench -i failed:\n{cp.stderr[-2000:]}")


def run_pgbench(w: Workload, port: int, duration: int, scratch: Path) -> RunResult:
    """One pgbench run of `duration` s (plus the workload's connect_slack). A hung run is
    killed after 90 s more."""
    logdir = Path(tempfile.mkdtemp(prefix="pgbench-", dir=scratch))
    seconds = duration + w.connect_slack
    cmd = ["pgbench", "-n", "-h", "127.0.0.1", "-p", str(port), "-U", "app",
           "-c", str(w.clients), "-j", str(w.threads), "-T", str(seconds), *w.args,
           "-l", f"--log-prefix={logdir}/tx", f"--sampling-rate={w.sampling_rate}", "app"]
    env = pgcluster.clean_env(PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="10")
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 90,
                            env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        shutil.rmtree(logdir, ignore_errors=True)
        return RunResult(error=f"pgbench hung (killed after {seconds + 90}s)")
    try:
        res = parse_summary(cp.stdout)
        lat = read_latencies(logdir)
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    res.samples = len(lat)
    res.lat_p99_ms = percentile(lat, 99) / 1000 if lat else None
    if cp.returncode == 0 and res.processed == 0:
        # pgbench prints no TPS when no transaction completed: the clients' logins took the
        # whole -T (a connection storm through a cold pool on a busy machine).
        res.error = f"0 transactions completed in {seconds} s (clients still connecting)"
    elif cp.returncode != 0 or res.tps is None:
        res.error = (first_error(cp.stderr) or f"pgbench exit code {cp.returncode}: "
                     + " / ".join(cp.stdout.strip().splitlines()[-2:])[:120])
    elif res.failed_tx:
        res.error = f"{res.failed_tx} failed transactions"
    return res


def parse_summary(out: str) -> RunResult:
    r = RunResult()
    m = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", out, re.M)
    if not m:  # -C prints "including reconnection times" in some versions
        m = re.search(r"^tps = ([\d.]+)", out, re.M)
    if m:
        r.tps = float(m.group(1))
    m = re.search(r"^latency average = ([\d.]+) ms", out, re.M)
    if m:
        r.lat_avg_ms = float(m.group(1))
    m = re.search(r"^number of failed transactions: (\d+)", out, re.M)
    if m:
        r.failed_tx = int(m.group(1))
    m = re.search(r"^number of transactions actually processed: (\d+)", out, re.M)
    if m:
        r.processed = int(m.group(1))
    m = re.search(r"^initial connection time = ([\d.]+) ms", out, re.M)
    if m:
        r.conn_ms = float(m.group(1))
    return r


def read_latencies(logdir: Path) -> list[int]:
    """Per-transaction latencies (µs) from pgbench's -l logs (3rd column)."""
    out: list[int] = []
    for f in logdir.glob("tx*"):
        with open(f) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    out.append(int(parts[2]))
    return out


def percentile(values: list[int], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return float(s[k])


def first_error(stderr: str) -> str | None:
    """The first line of pgbench's stderr that says what went wrong, shortened."""
    for line in stderr.splitlines():
        low = line.lower()
        if any(k in low for k in ("error", "fatal", "abort", "failed", "could not")):
            return re.sub(r"\s+", " ", line.strip())[:160]
    return stderr.strip().splitlines()[0][:160] if stderr.strip() else None
