"""CPU time a target spends per transaction: utime + stime of its process (for pgpool-II, of
its whole process tree) over one pgbench run, divided by the transactions pgbench completed.
On a shared machine this moves far less than TPS does: another tenant's load slows every
target's TPS but hardly changes how much CPU a proxy burns per transaction it relays."""
from __future__ import annotations

import os
from pathlib import Path

import memory

_TICK = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    try:
        # Fields after the parenthesised command name: utime and stime are the 12th and 13th.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def target_cpu_seconds(target) -> float | None:
    """CPU seconds used so far by the target's processes; None without a process (direct)."""
    pids = memory.measured_pids(target)
    if not pids:
        return None
    return sum(_ticks(p) for p in pids) / _TICK


def per_transaction_us(before: float | None, after: float | None, transactions: int | None) -> float | None:
    if before is None or after is None or not transactions:
        return None
    return (after - before) * 1e6 / transactions
