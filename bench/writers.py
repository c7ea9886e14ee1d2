"""A steady write load for bench/failover: a few threads, each inserting (writer, seq) rows
through the proxy one autocommit INSERT at a time, recording when each write was acknowledged
and every error a client saw. A watchdog shuts down the socket of any statement or login that
hangs longer than `stall_timeout`, so no thread blocks for ever on a silent proxy."""
from __future__ import annotations

import os
import re
import socket
import threading
import time

import psycopg2


def error_kind(e: Exception) -> str:
    """A short, stable description of a client-side error (numbers and pids removed)."""
    code = getattr(e, "pgcode", None)
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    first = re.sub(r'connection to server at "[^"]*", port \d+ failed: ', "connect: ", first)
    first = re.sub(r"\s+", " ", re.sub(r"\d+", "N", first))[:90]
    return f"{code + ' ' if code else ''}{first}"


class Writer(threading.Thread):
    def __init__(self, idx: int, port: int, stop: threading.Event, stall_timeout: float):
        super().__init__(daemon=True, name=f"writer{idx}")
        self.idx, self.port, self.stop_event = idx, port, stop
        self.stall_timeout = stall_timeout
        self.seq = 0
        self.acks: list[tuple[float, int]] = []     # (monotonic time, seq)
        self.errors: list[tuple[float, str]] = []   # (monotonic time, kind)
        self.conn = None
        self.busy_since: float | None = None
        self.lock = threading.Lock()

    def _connect(self) -> None:
        self.conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="app",
                                     password="app", dbname="app", connect_timeout=3,
                                     application_name=f"fo-writer{self.idx}")
        self.conn.autocommit = True

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.busy_since = time.monotonic()
            try:
                if self.conn is None:
                    self._connect()
                self.seq += 1
                with self.conn.cursor() as cur:
                    cur.execute("INSERT INTO fo_writes (writer, seq) VALUES (%s, %s)",
                                (self.idx, self.seq))
                self.acks.append((time.monotonic(), self.seq))
                self.busy_since = None
                time.sleep(0.01)
            except Exception as e:  # noqa: BLE001 - every client error is data here
                self.busy_since = None
                self.errors.append((time.monotonic(), error_kind(e)))
                self._drop()
                self.stop_event.wait(0.1)
        self._drop()

    def _drop(self) -> None:
        c, self.conn = self.conn, None
        if c is not None:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass

    def unstick(self) -> None:
        """Shut down the socket under a hung statement: the blocked call then fails."""
        c = self.conn
        if c is None:
            return
        try:
            s = socket.socket(fileno=os.dup(c.fileno()))
            s.shutdown(socket.SHUT_RDWR)
            s.close()
        except (OSError, psycopg2.Error):
            pass


class WriteLoad:
    def __init__(self, port: int, writers: int = 4, stall_timeout: float = 10):
        self.stop_event = threading.Event()
        self.writers = [Writer(i, port, self.stop_event, stall_timeout) for i in range(writers)]
        self.stall_timeout = stall_timeout
        self._watchdog = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "WriteLoad":
        for w in self.writers:
            w.start()
        self._watchdog.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        for w in self.writers:
            w.unstick()
        for w in self.writers:
            w.join(15)
        self._watchdog.join(5)

    def _watch(self) -> None:
        while not self.stop_event.wait(0.5):
            now = time.monotonic()
            for w in self.writers:
                if w.busy_since is not None and now - w.busy_since > self.stall_timeout:
                    w.unstick()

    # -- queries over what was recorded

    def ack_times(self) -> list[float]:
        return sorted(t for w in self.writers for t, _ in list(w.acks))

    def last_ack_before(self, t: float) -> float | None:
        xs = [a for a in self.ack_times() if a < t]
        return xs[-1] if xs else None

    def first_ack_after(self, t: float) -> float | None:
        xs = [a for a in self.ack_times() if a > t]
        return xs[0] if xs else None

    def errors_between(self, t0: float, t1: float) -> dict[str, int]:
        out: dict[str, int] = {}
        for w in self.writers:
            for t, kind in list(w.errors):
                if t0 <= t <= t1:
                    out[kind] = out.get(kind, 0) + 1
        return out

    def acked_seqs_before(self, t: float) -> dict[int, list[int]]:
        return {w.idx: [s for a, s in list(w.acks) if a < t] for w in self.writers}

    def wait_acks(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        start = len(self.ack_times())
        while time.monotonic() < deadline:
            if len(self.ack_times()) - start >= n:
                return True
            time.sleep(0.05)
        return False
