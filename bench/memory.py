"""Memory of the proxies: VmRSS of a single process, or the summed PSS (smaps_rollup) of a
process tree (pgpool-II forks a process per client); a sampler thread that keeps the peak during
a load; and idle clients — N connections that complete the login (SCRAM) and then sit idle —
opened from asyncio with raw sockets (message builders from tests/harness/pgwire.py)."""
from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import os
import struct
import threading
import time
from pathlib import Path

import common  # first: puts tests/harness on sys.path
import pgwire  # noqa: E402


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def process_tree(root: int) -> list[int]:
    """root and all its descendants (by /proc ppid links)."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = common.pgcluster.proc_stat(int(entry))
            if st and st[0] not in ("Z", "X"):
                kids.setdefault(st[1], []).append(int(entry))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def measured_pids(target) -> list[int]:
    """The processes a target is measured by: its own, or its whole process trees when it
    forks a process per client (mem_kind pss); [] without a process of its own (direct)."""
    roots = target.pids()
    if target.mem_kind == "pss":
        return [p for r in roots for p in process_tree(r)]
    return roots


def target_memory_bytes(target) -> int | None:
    """VmRSS of the target's process, or the summed PSS of its process tree (mem_kind pss);
    None when the target has no process of its own (direct)."""
    pids = measured_pids(target)
    if not pids:
        return None
    if target.mem_kind == "pss":
        return sum(_pss_kib(p) for p in pids) * 1024
    return sum(_status_kib(p, "VmRSS") for p in pids) * 1024


class PeakSampler:
    """Samples a target's memory every `period` s in a thread; .peak is the largest value."""

    def __init__(self, target, period: float = 0.25):
        self.target = target
        self.period = period
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            v = target_memory_bytes(self.target)
            if v is not None and (self.peak is None or v > self.peak):
                self.peak = v
            self._stop.wait(self.period)


# -- idle clients ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _salted(password: str, salt: bytes, iterations: int) -> bytes:
    # Every client of one role sees the same salt: derive once, not 10,000 times.
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)


def _scram_final(password: str, nonce: str, first_bare: str, server_first: str) -> bytes:
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salted = _salted(password, base64.b64decode(attrs["s"]), int(attrs["i"]))
    final, _ = pgwire.scram_client_final(salted, first_bare, server_first)
    return final.encode()


async def _read_msg(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readexactly(5)
    length = struct.unpack("!I", head[1:5])[0]
    return head[:1], await reader.readexactly(length - 4)


async def _login(host: str, port: int, user: str, password: str, db: str):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(pgwire.startup_packet({"user": user, "database": db}))
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n=,r={nonce}"
        while True:
            t, payload = await _read_msg(reader)
            if t == b"E":
                raise pgwire.ServerError(pgwire.parse_error_fields(payload))
            if t == b"Z":
                return writer
            if t != b"R":
                continue
            code = struct.unpack("!I", payload[:4])[0]
            if code == pgwire.AUTH_SASL:
                first = ("n,," + first_bare).encode()
                writer.write(pgwire.message(b"p", b"SCRAM-SHA-256\0" +
                                            struct.pack("!i", len(first)) + first))
            elif code == pgwire.AUTH_SASL_CONTINUE:
                writer.write(pgwire.message(b"p", _scram_final(
                    password, nonce, first_bare, payload[4:].decode())))
            elif code == pgwire.AUTH_MD5:
                writer.write(pgwire.message(b"p", pgwire.md5_response(user, password,
                                                                      payload[4:8])))
            elif code == pgwire.AUTH_CLEARTEXT:
                writer.write(pgwire.message(b"p", password.encode() + b"\0"))
            await writer.drain()
    except BaseException:
        writer.close()
        raise


class IdleClients:
    """Open n logged-in idle connections (at most `concurrency` logins in flight), hold them,
    close them. Runs its own event loop in the calling thread."""

    def __init__(self, host: str, port: int, n: int, user: str = "app", password: str = "app",
                 db: str = "app", concurrency: int = 100, timeout: float = 300):
        self.host, self.port, self.n = host, port, n
        self.user, self.password, self.db = user, password, db
        self.concurrency = concurrency
        self.timeout = timeout
        self.writers: list[asyncio.StreamWriter] = []
        self.errors: dict[str, int] = {}
        self.seconds = 0.0
        self.loop = asyncio.new_event_loop()

    async def _open_all(self) -> None:
        sem = asyncio.Semaphore(self.concurrency)

        async def one() -> None:
            async with sem:
                try:
                    w = await asyncio.wait_for(
                        _login(self.host, self.port, self.user, self.password, self.db), 30)
                    self.writers.append(w)
                except Exception as e:  # noqa: BLE001 - counted and reported
                    key = type(e).__name__ + (f": {e}"[:100] if str(e) else "")
                    self.errors[key] = self.errors.get(key, 0) + 1

        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(self.n))), self.timeout)

    def open(self) -> int:
        common.raise_nofile()
        t0 = time.monotonic()
        try:
            self.loop.run_until_complete(self._open_all())
        except asyncio.TimeoutError:
            self.errors["timeout opening all"] = self.n - len(self.writers)
        self.seconds = time.monotonic() - t0
        return len(self.writers)

    def close(self) -> None:
        for w in self.writers:
            try:
                w.write(pgwire.terminate_message())
                w.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self.loop.run_until_complete(asyncio.sleep(0.2))
        self.writers.clear()
        self.loop.close()
