"""Turning bench/run's measurements into its outputs: medians over rounds, each target's TPS
ratio to direct in the same round (median over rounds), and the Markdown, CSV and PNG files in
the output directory."""
from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Summary:
    workload: str
    title: str
    target: str
    label: str
    tps: float | None = None
    lat_avg_ms: float | None = None
    lat_p99_ms: float | None = None
    ratio: float | None = None      # median over rounds of tps / direct's tps in that round
    cpu_us_per_tx: float | None = None  # the proxy's CPU time per transaction (bench/cpu.py)
    rounds_ok: int = 0
    rounds: int = 0
    status: str = "ok"              # ok | n/a (...) | error: ... | k/n rounds failed: ...


@dataclass
class MemoryRow:
    target: str
    label: str
    kind: str                       # rss | pss
    idle: int | None = None
    load_peak: int | None = None
    n_requested: int = 0
    n_used: int = 0
    opened: int = 0
    with_idle: int | None = None
    per_client: float | None = None
    backends_before: int | None = None
    backends_after: int | None = None
    note: str = ""
    errors: dict = field(default_factory=dict)


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summarize(runs: list[dict], workloads, targets) -> list[Summary]:
    """runs: dicts with round, workload, target, tps, lat_avg_ms, lat_p99_ms, error."""
    out = []
    for w in workloads:
        direct = {r["round"]: r for r in runs if r["workload"] == w.name
                  and r["target"] == "direct" and not r["error"]}
        for t in targets:
            s = Summary(w.name, w.title, t.name, t.label)
            mine = [r for r in runs if r["workload"] == w.name and r["target"] == t.name]
            s.rounds = len(mine)
            if t.unavailable:
                s.status = t.unavailable
                out.append(s)
                continue
            ok = [r for r in mine if not r["error"]]
            s.rounds_ok = len(ok)
            s.tps = _median([r["tps"] for r in ok])
            s.lat_avg_ms = _median([r["lat_avg_ms"] for r in ok if r["lat_avg_ms"] is not None])
            s.lat_p99_ms = _median([r["lat_p99_ms"] for r in ok if r["lat_p99_ms"] is not None])
            s.cpu_us_per_tx = _median([r["cpu_us_per_tx"] for r in ok
                                       if r.get("cpu_us_per_tx") is not None])
            s.ratio = _median([r["tps"] / direct[r["round"]]["tps"] for r in ok
                               if r["round"] in direct and direct[r["round"]]["tps"]])
            failed = [r for r in mine if r["error"]]
            if failed and not ok:
                s.status = f"error: {failed[0]['error']}"
            elif failed:
                s.status = f"{len(failed)}/{len(mine)} rounds failed: {failed[0]['error']}"
            out.append(s)
    return out


def _num(v: float | None, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def _mib(v: int | float | None) -> str:
    return "—" if v is None else f"{v / 1048576:.1f} MiB"


def _cell(s: Summary) -> str:
    if s.tps is None:
        return "n/a" if s.status.startswith("n/a") else "error"
    mark = "" if s.status == "ok" else " *"
    return _num(s.ratio, ".2f") + mark


def markdown(summaries: list[Summary], memory: list[MemoryRow], meta: dict) -> str:
    targets = list(dict.fromkeys((s.target, s.label) for s in summaries))
    proxies = [(n, lab) for n, lab in targets if n != "direct"]
    workloads = list(dict.fromkeys((s.workload, s.title) for s in summaries))
    by = {(s.workload, s.target): s for s in summaries}
    L = ["# pgrouter benchmark", ""]
    m = meta["machine"]
    L += [f"- Date: {m['date']}; machine: {m['nproc']} CPUs ({m['cpu']}), "
          f"{m['memory_gib']} GiB RAM, kernel {m['kernel']}; load average at start "
          f"{m['loadavg_at_start']} (the machine is shared).",
          f"- Command: `{meta['command']}`",
          f"- Rounds: {meta['rounds']}, {meta['duration']} s per run, pgbench scale "
          f"{meta['scale']}; targets interleaved within each workload, round after round"
          + (f"; first a {meta['warmup']} s unrecorded warm-up run per target."
             if meta.get("warmup") else "."),
          "- Versions: " + "; ".join(f"{k}: {v}" for k, v in meta["versions"].items()), ""]
    L += ["## TPS ratio to direct (median over rounds of target TPS / direct TPS in the same "
          "round)", "",
          "| workload | direct TPS | " + " | ".join(lab for _, lab in proxies) + " |",
          "|---|---:|" + "---:|" * len(proxies)]
    for wn, title in workloads:
        d = by.get((wn, "direct"))
        L.append(f"| {title} | {_num(d.tps if d else None, ',.0f')} | "
                 + " | ".join(_cell(by[(wn, n)]) for n, _ in proxies) + " |")
    L += ["", "`*`: some rounds failed (see Problems). `n/a`: not implemented. `error`: every "
          "round failed.", "",
          "## Proxy CPU per transaction (µs, median over rounds; lower is better)", "",
          "CPU time (user + system) of the proxy's processes during a run divided by the "
          "transactions pgbench completed: steadier than TPS on a shared machine.", "",
          "| workload | " + " | ".join(lab for _, lab in proxies) + " |",
          "|---|" + "---:|" * len(proxies)]
    for wn, title in workloads:
        L.append(f"| {title} | " + " | ".join(_num(by[(wn, n)].cpu_us_per_tx, '.1f')
                                             for n, _ in proxies) + " |")
    L += ["", "## Details (medians over rounds)", "",
          "| workload | target | TPS | avg latency ms | p99 latency ms | ratio to direct | "
          "proxy CPU µs per transaction | rounds ok |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for s in summaries:
        L.append(f"| {s.title} | {s.label} | {_num(s.tps, ',.0f')} | "
                 f"{_num(s.lat_avg_ms, '.3f')} | {_num(s.lat_p99_ms, '.3f')} | "
                 f"{_num(s.ratio, '.3f')} | {_num(s.cpu_us_per_tx, '.1f')} | "
                 + (f"{s.rounds_ok}/{s.rounds}" if not s.status.startswith("n/a") else "n/a")
                 + " |")
    if memory:
        L += ["", "## Memory", "",
              "RSS of the proxy process (VmRSS); for pgpool-II the summed PSS of its parent and "
              "all its children. Idle = after start, before any load; load = peak while the "
              "32-client select-only (-M simple) workload ran; idle clients = N logged-in "
              "connections that send nothing.", "",
              "| target | idle | 32-client load (peak) | idle clients N used / asked | "
              "with N idle clients | bytes per idle client | primary backends before → with N "
              "| note |", "|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in memory:
            backends = ("—" if r.backends_before is None else
                        f"{r.backends_before} → {r.backends_after}")
            L.append(f"| {r.label} ({r.kind.upper()}) | {_mib(r.idle)} | {_mib(r.load_peak)} | "
                     f"{r.opened} / {r.n_requested} | {_mib(r.with_idle)} | "
                     f"{_num(r.per_client, ',.0f')} | {backends} | {r.note} |")
    problems = [s for s in summaries if s.status not in ("ok",) and not s.status.startswith("n/a")]
    problems_mem = [r for r in memory if r.errors]
    if problems or problems_mem:
        L += ["", "## Problems", ""]
        for s in problems:
            L.append(f"- {s.title} / {s.label}: {s.status}")
        for r in problems_mem:
            L.append(f"- idle clients / {r.label}: " + "; ".join(
                f"{k} ×{v}" for k, v in r.errors.items()))
    return "\n".join(L) + "\n"


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def write_chart(path: Path, summaries: list[Summary]) -> str | None:
    """A grouped bar chart of each proxy's TPS ratio to direct per workload. Returns None on
    success, else why no chart was written."""
    try:
        import matplotlib  # noqa: PLC0415
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as e:
        return f"no chart: {e} (apt-get install python3-matplotlib)"
    workloads = list(dict.fromkeys(s.workload for s in summaries))
    by = {(s.workload, s.target): s for s in summaries}
    targets, skipped = [], []
    for name, label in dict.fromkeys((s.target, s.label) for s in summaries):
        if name == "direct":
            continue
        mine = [by[(w, name)] for w in workloads if (w, name) in by]
        if any(s.ratio is not None for s in mine):
            targets.append((name, label))
        else:
            skipped.append(f"{label}: {mine[0].status if mine else 'no data'}")
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(workloads) + 2), 5.5))
    width = 0.8 / max(1, len(targets))
    for i, (name, label) in enumerate(targets):
        xs, ys = [], []
        for j, w in enumerate(workloads):
            x = j + (i - (len(targets) - 1) / 2) * width
            s = by.get((w, name))
            if s and s.ratio is not None:
                xs.append(x)
                ys.append(s.ratio)
            elif s:
                ax.text(x, 0.01, "err", rotation=90, ha="center", va="bottom", fontsize=7)
        ax.bar(xs, ys, width, label=label, color=f"C{i}")
    if skipped:
        fig.text(0.01, 0.01, "not plotted: " + "; ".join(skipped)[:150], fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("TPS ratio to direct (median over rounds)")
    ax.set_title("Throughput through each proxy relative to direct PostgreSQL")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def write_all(out: Path, runs: list[dict], summaries: list[Summary],
              memory: list[MemoryRow], meta: dict) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    md = out / "results.md"
    md.write_text(markdown(summaries, memory, meta))
    paths.append(md)
    write_csv(out / "runs.csv", runs)
    write_csv(out / "summary.csv", [s.__dict__ for s in summaries])
    write_csv(out / "memory.csv", [{k: (v if k != "errors" else "; ".join(
        f"{a} x{b}" for a, b in v.items())) for k, v in r.__dict__.items()} for r in memory])
    paths += [out / "runs.csv", out / "summary.csv", out / "memory.csv"]
    why = write_chart(out / "ratio.png", summaries)
    if why is None:
        paths.append(out / "ratio.png")
    else:
        (out / "ratio.png.txt").write_text(why + "\n")
    return paths
