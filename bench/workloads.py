"""The pgbench workloads of bench/run: which pgbench options each runs and how much of its
per-transaction log it keeps for the p99 (a sampling rate that bounds the log to some 10^4-10^5
lines per run at the TPS this machine reaches).

With -C, pgbench's latency (average and logged) includes the connection and login of each
transaction; its TPS includes reconnection times."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    name: str               # short id used in the CSV and the chart
    title: str              # what the Markdown table says
    args: tuple[str, ...]   # pgbench options besides connection, -T, -c, -j and logging
    clients: int
    sampling_rate: float    # fraction of transactions written to the -l log
    quick: bool = False     # part of --quick
    memory_probe: bool = False  # the proxies' memory is sampled while it runs

    @property
    def connect_slack(self) -> int:
        """Seconds added to -T: pgbench's clock includes the initial logins, which for 128
        clients (SCRAM each) take seconds on a busy 2-core machine; TPS excludes them."""
        return 2 if self.clients >= 128 else 0

    @property
    def threads(self) -> int:
        return min(self.clients, 2)  # pgbench shares the 2 cores with everything else


def _select(mode: str, clients: int, quick: bool = False, probe: bool = False) -> Workload:
    rate = 0.2 if clients <= 8 else 0.1
    return Workload(f"select-{mode}-c{clients}", f"select-only -M {mode}, {clients} clients",
                    ("-S", "-M", mode), clients, rate, quick, probe)


WORKLOADS: list[Workload] = [
    _select("simple", 8),
    _select("simple", 32, quick=True, probe=True),
    _select("simple", 128),
    _select("extended", 8),
    _select("extended", 32),
    _select("extended", 128),
    _select("prepared", 8),
    _select("prepared", 32, quick=True),
    _select("prepared", 128),
    Workload("tpcb-c8", "TPC-B (built-in), 8 clients", ("-M", "simple"), 8, 1.0, True),
    Workload("connect-c8", "select-only, new connection per transaction (-C), 8 clients",
             ("-S", "-C", "-M", "simple"), 8, 1.0, True),
    Workload("latency-c1", "select-only -M simple, 1 client (latency)",
             ("-S", "-M", "simple"), 1, 1.0, True),
]


def select_workloads(quick: bool, names: list[str] | None = None) -> list[Workload]:
    if names:
        by_name = {w.name: w for w in WORKLOADS}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"unknown workloads {unknown}; known: {sorted(by_name)}")
        return [by_name[n] for n in names]
    if quick:
        return [w for w in WORKLOADS if w.quick]
    return list(WORKLOADS)
