"""Process, port and command helpers of the test harness (standard library only)."""
from __future__ import annotations

import glob
import os
import random
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

IS_ROOT = os.geteuid() == 0


class HarnessError(RuntimeError):
    """A cluster or pgrouter operation failed; the message carries the relevant log tail."""


def pg_bindir() -> str:
    """PostgreSQL server binaries: $PG_BINDIR, else `pg_config --bindir`, else the newest
    /usr/lib/postgresql/*/bin. (Never PATH: /usr/local/bin may hold stray copies.)"""
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
        if out and os.path.exists(os.path.join(out, "initdb")):
            return out
    except (OSError, subprocess.TimeoutExpired):
        pass
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                   key=lambda p: int(re.sub(r"\D", "", p.split("/")[-2]) or 0))
    if not cands:
        raise HarnessError("no PostgreSQL server binaries found (set PG_BINDIR)")
    return cands[-1]


def pg_bin(name: str) -> str:
    return os.path.join(pg_bindir(), name)


def clean_env(**extra: str) -> dict:
    """The environment for client and server programs: no stray libpq/server PG* settings
    (PGHOST, PGPORT, PGDATA, ...); pgrouter's own PGR*/PGROUTER* variables stay."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("PG") and not k.startswith("PGR"))}
    env.setdefault("LC_ALL", "C.UTF-8")
    env.update(extra)
    return env


def runuser_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--"] + cmd if IS_ROOT else cmd


def run(cmd: list[str], *, as_pg: bool = False, timeout: float = 120, check: bool = True,
         env: dict | None = None, cwd: str | None = None, input: str | None = None
         ) -> subprocess.CompletedProcess:
    full = runuser_pg(cmd) if as_pg else cmd
    try:
        cp = subprocess.run(full, capture_output=True, text=True, timeout=timeout,
                            env=env if env is not None else clean_env(), cwd=cwd or "/",
                            input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"timed out after {timeout}s: {' '.join(cmd)}") from e
    if check and cp.returncode != 0:
        raise HarnessError(f"command failed ({cp.returncode}): {' '.join(cmd)}\n"
                           f"{cp.stdout[-2000:]}{cp.stderr[-4000:]}")
    return cp


def tail(path: Path | str, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(data.splitlines()[-lines:])


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, starttime) of a process, None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[19])


def proc_status_kb(pid: int, field: str) -> int:
    """A size from /proc/PID/status in kB (field "VmRSS", "VmHWM", ...); 0 if absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def pid_alive(pid: int) -> bool:
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st and st[1] == pid and st[0] not in ("Z", "X"):
                out.append(int(entry))
    return out


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if pid_alive(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def send_signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


_port_lock = threading.Lock()
_ports_taken: set[int] = set()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port free right now. Picked below the kernel's ephemeral range so that
    outgoing connections (pgrouter opens many) never take it while a node is restarting;
    the caller still retries on a collision, as another process may bind it first."""
    lo, hi = 20000, 32000
    try:
        eph_lo = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
        hi = min(hi, eph_lo)
        lo = min(lo, hi - 2000)
    except (OSError, ValueError, IndexError):
        pass
    with _port_lock:
        for _ in range(200):
            port = random.randrange(max(lo, 1024), hi)
            if port not in _ports_taken and port_is_free(port):
                _ports_taken.add(port)
                return port
        with socket.socket() as s:  # fall back to the kernel's choice
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        _ports_taken.add(port)
        return port


def chown_pg(path: Path) -> None:
    if IS_ROOT:
        shutil.chown(path, "postgres", "postgres")


def write_pg_file(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    os.chmod(path, mode)
    chown_pg(path)




def my_identity() -> str:
    st = proc_stat(os.getpid())
    return f"{os.getpid()} {st[2] if st else 0}"


def owner_alive(identity: str) -> bool:
    try:
        pid, start = (int(x) for x in identity.split())
    except ValueError:
        return False
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X") and st[2] == start
