"""Writers for scripts/chaos: threads inserting rows with unique ids (trial, writer, seq)
through pgrouter, each recording every commit as acknowledged, failed or unknown.

An attempt is one transaction: INSERT, then COMMIT. An error before COMMIT was sent means the
row was not committed (failed); an error after COMMIT was sent but before its reply means
nobody knows (unknown); a reply means acknowledged. A session that hangs longer than
`stall_timeout` has its socket shut down by a watchdog (never a CancelRequest: cancelling a
commit that waits for a synchronous standby commits it locally) and counts as a stall.
"""
from __future__ import annotations

import os
import socket
import threading
import time

import psycopg2

INSERT = "INSERT INTO chaos(trial, writer, seq) VALUES (%s, %s, %s)"


class Writer:
    def __init__(self, trial: int, wid: int, dsn_of):
        self.trial, self.wid, self.dsn_of = trial, wid, dsn_of
        self.seq = 0
        self.acked: dict[int, float] = {}   # seq -> monotonic time of the acknowledgement
        self.failed: set[int] = set()
        self.unknown: set[int] = set()
        self.errors: list[tuple[float, str, str]] = []  # (time, phase, message)
        self.stalls: list[tuple[float, str, float]] = []  # (start, phase, seconds)
        self.phase = "idle"
        self.phase_started = time.monotonic()
        self.conn = None
        self.lock = threading.Lock()
        self.shot = False  # the watchdog shut this attempt's socket down


class Writers:
    """`n` writer threads for one trial; use as a context manager."""

    def __init__(self, trial: int, dsn_of, n: int = 16, stall_timeout: float = 30.0,
                 hang_report: float = 15.0):
        self.hang_report = hang_report
        self.trial = trial
        self.writers = [Writer(trial, i, dsn_of) for i in range(n)]
        self.stall_timeout = stall_timeout
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True)
                        for w in self.writers]
        self.threads.append(threading.Thread(target=self._watchdog, daemon=True))

    def __enter__(self) -> "Writers":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + self.stall_timeout + 15
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))

    # -- one writer

    def _set_phase(self, w: Writer, phase: str) -> None:
        with w.lock:
            now = time.monotonic()
            took = now - w.phase_started
            if w.phase in ("insert", "commit") and took > self.hang_report:
                w.stalls.append((w.phase_started, w.phase, took, w.shot))
            w.phase, w.phase_started, w.shot = phase, now, False

    def _run(self, w: Writer) -> None:
        while not self.stop_event.is_set():
            if w.conn is None:
                self._set_phase(w, "connect")
                try:
                    w.conn = psycopg2.connect(w.dsn_of(), connect_timeout=5)
                except psycopg2.Error as e:
                    w.errors.append((time.monotonic(), "connect", _first_line(e)))
                    self._set_phase(w, "idle")
                    time.sleep(0.1)
                    continue
            w.seq += 1
            seq = w.seq
            phase = "insert"
            try:
                self._set_phase(w, "insert")
                with w.conn.cursor() as cur:
                    cur.execute(INSERT, (w.trial, w.wid, seq))
                phase = "commit"
                self._set_phase(w, "commit")
                w.conn.commit()
                w.acked[seq] = time.monotonic()
                self._set_phase(w, "idle")
            except psycopg2.Error as e:
                (w.unknown if phase == "commit" else w.failed).add(seq)
                w.errors.append((time.monotonic(), phase, _first_line(e)))
                self._set_phase(w, "idle")
                _close(w.conn)
                w.conn = None
                time.sleep(0.05)
        self._set_phase(w, "done")
        _close(w.conn)
        w.conn = None

    def _watchdog(self) -> None:
        while not all(w.phase == "done" for w in self.writers):
            now = time.monotonic()
            for w in self.writers:
                with w.lock:
                    if (w.phase in ("insert", "commit") and not w.shot and w.conn is not None
                            and now - w.phase_started > self.stall_timeout):
                        w.shot = True  # reported when the call returns (_set_phase)
                        _shutdown(w.conn)
            time.sleep(0.5)

    # -- results

    def acked_ids(self) -> set[tuple[int, int]]:
        return {(w.wid, s) for w in self.writers for s in list(w.acked)}

    def failed_ids(self) -> set[tuple[int, int]]:
        return {(w.wid, s) for w in self.writers for s in list(w.failed)}

    def unknown_ids(self) -> set[tuple[int, int]]:
        return {(w.wid, s) for w in self.writers for s in list(w.unknown)}

    def ack_times(self) -> list[float]:
        return sorted(t for w in self.writers for t in list(w.acked.values()))

    def acks_after(self, t: float) -> int:
        return sum(1 for w in self.writers for x in list(w.acked.values()) if x > t)

    def outage(self, t: float) -> tuple[float, float] | None:
        """The write outage the fault at `t` caused: the longest gap between consecutive
        acknowledged commits (of any writer) from the last one at or before `t` on, as
        (last commit before, first commit after)."""
        times = self.ack_times()
        before = [x for x in times if x <= t]
        after = [x for x in times if x > t]
        if not before or not after:
            return None
        seq = [before[-1]] + after
        return max(zip(seq, seq[1:]), key=lambda gap: gap[1] - gap[0])

    def downtime(self, t: float) -> float | None:
        gap = self.outage(t)
        return gap[1] - gap[0] if gap else None

    def hangs(self, t: float, slack: float = 2.0) -> list[tuple[int, float, str, float]]:
        """Statements that hung: cut off by the watchdog, or still waiting `slack` seconds
        after writes had resumed. One that waited out the outage itself waited for the
        failover, as it should; how long that takes is the downtime, reported on its own
        (a loaded machine stretches it)."""
        gap = self.outage(t)
        resumed = gap[1] if gap else t
        return [(w.wid, start, phase, took) for w in self.writers
                for start, phase, took, shot in w.stalls
                if shot or start + took > resumed + slack]

    def error_summary(self, limit: int = 4) -> list[str]:
        counts: dict[str, int] = {}
        for w in self.writers:
            for _, phase, msg in w.errors:
                key = f"{phase}: {msg}"
                counts[key] = counts.get(key, 0) + 1
        return [f"{n}x {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]]


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:160] if text else type(e).__name__


def _close(conn) -> None:
    if conn is None:
        return
    try:
        conn.close()
    except psycopg2.Error:
        pass


def _shutdown(conn) -> None:
    """Make a blocked libpq call return: shut the connection's socket down (both ways)."""
    try:
        s = socket.socket(fileno=os.dup(conn.fileno()))
    except (OSError, psycopg2.Error):
        return
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        s.close()
