"""Shared plumbing of the benchmarks: paths, logging, daemons we start and always stop, Debian
packages installed only when missing, the Release build of pgrouter, and machine facts.

Every subprocess here has a timeout; every daemon started through Daemon is stopped by
stop_all() (called from try/finally and from atexit) and gets SIGTERM from the kernel if this
process dies first (PR_SET_PDEATHSIG), so nothing outlives a benchmark run.
"""
from __future__ import annotations

import atexit
import ctypes
import datetime
import os
import platform
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "tests" / "harness"))

import pgcluster  # noqa: E402  (the test harness: Cluster, PgRouter, ...)
import proc_tools  # noqa: E402  (its command runner)

RELEASE_DIR = REPO / "build-release"
RELEASE_BIN = RELEASE_DIR / "proxy" / "pgrouter"
DAEMON_USER = "postgres"  # pgbouncer refuses root; the others run as it too, for uniformity

# What bench/run needs beyond scripts/install-deps (which the build uses).
BENCH_PACKAGES = ["pgbouncer", "pgpool2", "haproxy", "python3-matplotlib", "python3-psycopg2",
                  "postgresql-15", "postgresql-client-15", "util-linux", "procps"]


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and carries the relevant log tail."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_cmd(cmd: list[str], *, timeout: float, check: bool = True, env: dict | None = None,
            cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run a command with a timeout; output captured as text (the harness's runner)."""
    try:
        return proc_tools.run(cmd, timeout=timeout, check=check, env=env, cwd=cwd)
    except proc_tools.HarnessError as e:
        raise BenchError(str(e)) from e


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- packages and build ------------------------------------------------------------------------


def missing_packages(names: list[str]) -> list[str]:
    out = []
    for p in names:
        cp = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                            text=True, timeout=30)
        if "install ok installed" not in cp.stdout:
            out.append(p)
    return out


def ensure_packages(names: list[str]) -> None:
    """apt-get install what is missing, with a policy-rc.d that stops Debian from starting
    the packages' own system services (pgbouncer on 6432, pgpool2 on 5433): the benchmark
    starts its own instances and no system-wide unit may run."""
    missing = missing_packages(names)
    if not missing:
        return
    if os.geteuid() != 0:
        raise BenchError(f"missing Debian packages {missing}: run as root or install them")
    log(f"installing {' '.join(missing)}")
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:
        policy.write_text("#!/bin/sh\n# bench/run: no service starts during its install\n"
                          "exit 101\n")
        policy.chmod(0o755)
    try:
        env = pgcluster.clean_env(DEBIAN_FRONTEND="noninteractive")
        cp = run_cmd(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                     timeout=900, check=False, env=env)
        if cp.returncode != 0:  # the package lists may be stale: update once and retry
            run_cmd(["apt-get", "update", "-q"], timeout=600, env=env)
            run_cmd(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                    timeout=900, env=env)
    finally:
        if made_policy:
            policy.unlink(missing_ok=True)


def build_pgrouter() -> Path:
    """The Release build in build-release/ (the same directory scripts/demo uses)."""
    run_cmd([str(REPO / "scripts" / "install-deps")], timeout=1200)
    log("building pgrouter (Release, build-release/)")
    run_cmd(["cmake", "-S", str(REPO), "-B", str(RELEASE_DIR), "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=Release", "-DPGR_TESTS=OFF"], timeout=300)
    try:
        run_cmd(["ninja", "-C", str(RELEASE_DIR), "pgrouter"], timeout=3600)
    except BenchError as e:
        raise BenchError(f"{e}\nThe Release build of pgrouter failed (above). To benchmark a "
                         f"binary built elsewhere: --pgrouter-bin PATH") from e
    return RELEASE_BIN


def use_pgrouter_binary(path: Path) -> Path:
    """Point the harness (PgRouter) at this binary."""
    path = Path(path).resolve()
    if not os.access(path, os.X_OK):
        raise BenchError(f"pgrouter binary not found at {path}")
    os.environ["PGROUTER_BIN"] = str(path)
    return path


# -- work directory ----------------------------------------------------------------------------


def make_workdir(prefix: str) -> Path:
    """A temporary directory for the daemons' configs, sockets, pid files and logs, owned by
    the daemon user (the daemons write there)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(d, 0o755)
    chown(d)
    return d


def chown(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, DAEMON_USER, DAEMON_USER)


def write_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    chown(path)
    return path


# -- daemons -----------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_daemons: list["Daemon"] = []


def _child_setup() -> None:
    # Runs in the child after the uid switch: a SIGKILLed benchmark still takes it down.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    raise_nofile()


class Daemon:
    """A foreground daemon process in its own session, logging to a file, run as the daemon
    user when we are root. stop() sends SIGTERM to its process group, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], log_path: Path, cwd: Path,
                 as_daemon_user: bool = True):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.cwd = cwd
        self.as_daemon_user = as_daemon_user and os.geteuid() == 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        kw = {}
        if self.as_daemon_user:
            pw = pwd.getpwnam(DAEMON_USER)
            kw = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, cwd=str(self.cwd),
                                         env=pgcluster.clean_env(), start_new_session=True,
                                         preexec_fn=_child_setup, **kw)
        finally:
            logf.close()
        _daemons.append(self)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return pgcluster.tail(self.log_path, lines)

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Children (pgpool's) may linger after the parent: kill the whole group by its id.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            log(f"{self.name}: pid {self.proc.pid} did not exit after SIGKILL")
        if self in _daemons:
            _daemons.remove(self)


def stop_all_daemons() -> None:
    for d in list(reversed(_daemons)):
        try:
            d.stop()
        except Exception as e:  # noqa: BLE001 - cleanup goes on
            log(f"cleanup: {d.name}: {e}")


atexit.register(stop_all_daemons)


def install_sigterm_handler() -> None:
    """SIGTERM/SIGHUP become KeyboardInterrupt, so every finally block (and the harness's
    cluster teardown) runs."""
    def handler(signum, frame):
        signal.signal(signum, signal.SIG_DFL)
        raise KeyboardInterrupt(f"signal {signum}")
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


# -- waiting -----------------------------------------------------------------------------------


def wait_login(port: int, timeout: float, daemon: Daemon | None = None, user: str = "app",
               password: str = "app", db: str = "app") -> None:
    """Wait until `SELECT 1` as app works through 127.0.0.1:port."""
    import psycopg2  # noqa: PLC0415
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if daemon is not None and not daemon.alive():
            raise BenchError(f"{daemon.name} exited during startup (code "
                             f"{daemon.proc.returncode})\n--- {daemon.log_path} ---\n"
                             f"{daemon.log_tail()}")
        try:
            c = psycopg2.connect(host="127.0.0.1", port=port, user=user, password=password,
                                 dbname=db, connect_timeout=3)
            try:
                with c.cursor() as cur:
                    cur.execute("SELECT 1")
                    cur.fetchone()
            finally:
                c.close()
            return
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(0.2)
    tail = f"\n--- {daemon.log_path} ---\n{daemon.log_tail()}" if daemon else ""
    raise BenchError(f"no login through port {port} within {timeout:.0f}s: {last}{tail}")


# -- machine -----------------------------------------------------------------------------------


def machine_info() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_at_start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def tool_versions() -> dict:
    def first_line(cmd: list[str]) -> str:
        try:
            cp = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (cp.stdout or cp.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"
    return {
        "postgresql": first_line([pgcluster.pg_bin("postgres"), "--version"]),
        "pgbench": first_line(["pgbench", "--version"]),
        "pgbouncer": first_line(["pgbouncer", "--version"]),
        "pgpool-II": first_line(["pgpool", "--version"]),
        "haproxy": first_line(["haproxy", "-v"]),
    }
