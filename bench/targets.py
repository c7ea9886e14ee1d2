"""The benchmark targets: how each way of reaching the primary is configured, started and
stopped — direct, pgrouter (and its future read/write split), HAProxy. PgBouncer and pgpool-II
live in target_pgbouncer.py and target_pgpool.py.

A target is started once per run, in front of the same cluster, on a free loopback port, and
stays up while the rounds interleave; stop() is idempotent and also runs from atexit (through
common.Daemon or the harness's cluster teardown).
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import common
import pgcluster


@dataclass
class BenchEnv:
    """What every target needs: the cluster, a work directory and app's secret."""
    cluster: pgcluster.Cluster
    workdir: Path
    secrets: dict[str, str]              # rolname -> rolpassword (SCRAM verifier) from pg_authid
    max_clients: int = 12000             # proxies' client connection limits
    extra: dict = field(default_factory=dict)


class Target:
    """Base class. Subclasses set name/label and implement start()/stop()/pids()."""
    name = "?"
    label = "?"
    # memory: "rss" (VmRSS of one process) or "pss" (summed PSS of a process tree)
    mem_kind = "rss"
    # True when idle clients hold no backend connection (pooling): the idle-client memory
    # test may then open the full N; otherwise N is capped by the cluster's free connections.
    pools_connections = False

    def __init__(self) -> None:
        self.port = 0
        self.unavailable: str | None = None  # set when the target cannot be measured

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self, env: BenchEnv) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        pass

    def pids(self) -> list[int]:
        """Root process ids whose memory is this target's (empty: not measured)."""
        return []

    def max_idle_clients(self) -> int | None:
        """A hard limit of concurrently logged-in clients (pgpool's num_init_children)."""
        return None

    def alive(self) -> bool:
        return True

    def log_path(self) -> Path | None:
        daemon = getattr(self, "daemon", None)
        return daemon.log_path if daemon is not None else None

    def describe(self) -> str:
        return self.label


class DaemonTarget(Target):
    """A target that is one daemon process started by common.Daemon (self.daemon)."""

    def __init__(self) -> None:
        super().__init__()
        self.daemon: common.Daemon | None = None

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()

    def pids(self) -> list[int]:
        return [self.daemon.pid] if self.daemon and self.daemon.alive() else []

    def alive(self) -> bool:
        return self.daemon is not None and self.daemon.alive()


class Direct(Target):
    """pgbench straight to the primary: the reference every ratio divides by."""
    name = "direct"
    label = "direct"

    def start(self, env: BenchEnv) -> None:
        self.port = env.cluster.primary.port

    def describe(self) -> str:
        return "PostgreSQL primary, no proxy"


# pgrouter is measured twice: with every read on the primary (load balancing off) and with
# reads split over the standbys only. (An old binary without [load_balance] rejects the table
# and its split row reads n/a.)
PRIMARY_ONLY_TOML = "[load_balance]\nenabled = false\n"
LOAD_BALANCE_TOML = "[load_balance]\nprimary_reads = false\n"


# pgrouter-tx: transaction pooling with PgBouncer transaction's pool size (pgbouncer-tx).
TRANSACTION_POOL_TOML = '[pool]\nmode = "transaction"\nmax_backend_connections = 32\n'


def pgrouter_accepts(env: BenchEnv, extra: str, tag: str) -> bool:
    """Whether the pgrouter binary accepts `extra` (an older one rejects tables it lacks)."""
    cfg = env.workdir / f"pgrouter-{tag}-check.toml"
    users = common.write_file(env.workdir / f"pgrouter-{tag}-check.users", '"app" "app"\n')
    cfg.write_text(pgcluster.render_pgrouter_toml(
        port=pgcluster.free_port(), backends=[("node0", "127.0.0.1", 1)],
        auth_file=str(users), extra=extra))
    cp = common.run_cmd([str(pgcluster.pgrouter_bin()), "--check-config", str(cfg)],
                        timeout=30, check=False)
    return cp.returncode == 0


def pgrouter_supports_split(env: BenchEnv) -> bool:
    return pgrouter_accepts(env, LOAD_BALANCE_TOML, "split")


class PgRouterTarget(Target):
    """pgrouter from build-release/, started by the test harness (auth_file with app's SCRAM
    verifier, 2 workers = the machine's cores, log_level warn so a per-session info line does
    not tax -C runs)."""
    mem_kind = "rss"

    def __init__(self, split: bool = False, workers: int = 2, transaction_pool: bool = False):
        super().__init__()
        self.split = split
        self.workers = workers
        self.transaction_pool = transaction_pool
        # In transaction mode an idle client holds no backend: the 10,000-client test applies.
        self.pools_connections = transaction_pool
        self.name = "pgrouter-split" if split else "pgrouter-tx" if transaction_pool else "pgrouter"
        self.label = ("pgrouter split reads" if split
                      else "pgrouter transaction" if transaction_pool else "pgrouter")
        self.router: pgcluster.PgRouter | None = None
        self._log_path: Path | None = None

    def start(self, env: BenchEnv) -> None:
        if self.split and not pgrouter_supports_split(env):
            self.unavailable = "n/a (not implemented)"
            return
        if self.transaction_pool and not pgrouter_accepts(env, TRANSACTION_POOL_TOML, "pool"):
            self.unavailable = "n/a (not implemented)"
            return
        extra = LOAD_BALANCE_TOML if self.split else PRIMARY_ONLY_TOML
        if self.transaction_pool:
            extra += TRANSACTION_POOL_TOML
        self.router = env.cluster.pgrouter(
            name=self.name, users=dict(env.secrets), workers=self.workers, log_level="warn",
            max_client_connections=env.max_clients, extra=extra)
        self.port = self.router.port
        self._log_path = self.router.log_path

    def stop(self) -> None:
        if self.router is not None:
            self.router.stop(check=False)
            self.router = None

    def pids(self) -> list[int]:
        return [self.router.pid] if self.router and self.router.alive() else []

    def alive(self) -> bool:
        return self.router is not None and self.router.alive()

    def log_path(self) -> Path | None:
        return self._log_path  # kept after stop(): the logs are saved after the targets stop

    def describe(self) -> str:
        if self.unavailable:
            return f"{self.label}: {self.unavailable}"
        return (f"pgrouter, {self.workers} workers, all backends configured"
                + (", [load_balance]" if self.split else " (sends everything to the primary)")
                + (", transaction pooling, max_backend_connections = 32" if self.transaction_pool
                   else ", session pooling (the default)"))


HAPROXY_CFG = """\
# written by bench/targets.py: HAProxy as a blind TCP relay to the primary
global
    maxconn {maxconn}
    nbthread {threads}
    pidfile {dir}/haproxy.pid

defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    maxconn {maxconn}

frontend pg
    bind 127.0.0.1:{port}
    default_backend primary

backend primary
    server node0 127.0.0.1:{primary_port} maxconn {maxconn}
"""


class HAProxyTarget(DaemonTarget):
    """HAProxy in TCP mode to the primary: the cost of a blind relay, the floor any proxy
    that parses the protocol should be measured against."""
    name = "haproxy"
    label = "HAProxy (tcp)"

    def __init__(self, threads: int = 2):
        super().__init__()
        self.threads = threads
        self.daemon: common.Daemon | None = None

    def start(self, env: BenchEnv) -> None:
        d = env.workdir / "haproxy"
        d.mkdir(exist_ok=True)
        common.chown(d)
        self.port = pgcluster.free_port()
        # Two fds per client plus slack must stay under the hard RLIMIT_NOFILE (a non-root
        # haproxy cannot raise it).
        maxconn = min(env.max_clients, 8000)
        cfg = common.write_file(d / "haproxy.cfg", HAPROXY_CFG.format(
            maxconn=maxconn, threads=self.threads, dir=d, port=self.port,
            primary_port=env.cluster.primary.port), 0o644)
        self.daemon = common.Daemon("haproxy", ["haproxy", "-db", "-f", str(cfg)],
                                    d / "haproxy.log", d)
        self.daemon.start()
        common.wait_login(self.port, 30, self.daemon)

    def describe(self) -> str:
        return f"HAProxy, mode tcp, {self.threads} threads, to the primary"


def make_targets(names: list[str]) -> list[Target]:
    from target_pgbouncer import PgBouncerTarget  # noqa: PLC0415 - avoid an import cycle
    from target_pgpool import PgpoolTarget  # noqa: PLC0415
    factories = {
        "direct": Direct,
        "pgrouter": PgRouterTarget,
        "pgrouter-split": lambda: PgRouterTarget(split=True),
        "pgrouter-tx": lambda: PgRouterTarget(transaction_pool=True),
        "pgbouncer-session": lambda: PgBouncerTarget("session"),
        "pgbouncer-tx": lambda: PgBouncerTarget("transaction"),
        "pgpool": PgpoolTarget,
        "pgpool-split": lambda: PgpoolTarget(load_balance=True),
        "haproxy": HAProxyTarget,
    }
    unknown = [n for n in names if n not in factories]
    if unknown:
        raise common.BenchError(f"unknown targets {unknown}; known: {sorted(factories)}")
    return [factories[n]() for n in names]


ALL_TARGETS = ["direct", "pgrouter", "pgrouter-split", "pgrouter-tx", "pgbouncer-session",
               "pgbouncer-tx",
               "pgpool", "pgpool-split", "haproxy"]
DEFAULT_TARGETS = ["direct", "pgrouter", "pgrouter-split", "pgrouter-tx", "pgbouncer-session",
                   "pgbouncer-tx",
                   "pgpool", "haproxy"]


def pgrouter_version() -> str:
    try:
        cp = subprocess.run([str(pgcluster.pgrouter_bin()), "--version"], capture_output=True,
                            text=True, timeout=10, env=pgcluster.clean_env())
        return cp.stdout.strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


__all__ = ["BenchEnv", "Target", "Direct", "PgRouterTarget", "HAProxyTarget", "make_targets",
           "ALL_TARGETS", "DEFAULT_TARGETS", "pgrouter_supports_split", "pgrouter_version"]
