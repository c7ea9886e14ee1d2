#!/usr/bin/env python3
"""Test cluster harness: a PostgreSQL primary with hot standbys on loopback, and pgrouter.

Used by the integration tests, scripts/demo and bench/. Standard library only (psycopg2 is
used for pgrouter's readiness probe when it is importable, psql otherwise).

Two modes:
  * temporary (default): a fresh directory under $TMPDIR, free ports picked at run time; the
    directory and every process in it are removed by close(), by the context manager, by a
    finalizer at interpreter exit and on SIGTERM (turned into KeyboardInterrupt). A run killed
    with SIGKILL leaves its directory behind; the next temporary cluster reaps directories whose
    owning process is gone. PGR_HARNESS_KEEP=1 keeps the directory (for debugging).
  * persistent (the demo): a named directory and fixed ports; a second open() reuses it,
    starting nodes that are stopped. Nothing is stopped or removed implicitly.

Layout of a cluster directory:
  cluster.json         names, ports, options (lets a later run reuse the cluster)
  run/                 unix sockets of every node (unix_socket_directories)
  node0/ node1/ ...    data directories (node0 starts as the primary)
  node0.log ...        server logs (pg_ctl -l)
  pgrouter*.toml/.log  configs and logs of pgrouter instances started here

When run as root, PostgreSQL programs run as the `postgres` user (runuser) and the directory
is owned by postgres. Roles: postgres/postgres (superuser), app/app (SCRAM, owns database app),
md5user/md5pass (md5-stored password). pg_hba: local trust, host md5 (SCRAM for SCRAM secrets).

Modules: proc_tools.py (processes, ports, commands), pg_node.py (one server: control and
SQL), pgrouter_process.py (a pgrouter process), pgwire.py (a raw protocol client); this module
holds the Cluster and the CLI and re-exports what tests need.

CLI (for scripts/demo):
  pgcluster.py up --dir DIR --ports 15432,15433,15434   create or reuse, start; prints JSON
  pgcluster.py down --dir DIR                           stop cleanly
  pgcluster.py status --dir DIR                         JSON: nodes, roles, running
  pgcluster.py authfile --dir DIR --out FILE ROLE...    "rolname" "rolpassword" lines
  pgcluster.py router-config --dir DIR --out FILE --port P --auth-file F   a pgrouter.toml
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

from pg_node import SUPERPASS, SUPERUSER, Node, PortInUse, conf_quote, primary_conninfo
from pgrouter_process import (DEFAULT_PGROUTER_BIN, REPO_ROOT, PgRouter, PgRouterCrashed,
                              live_routers, pgrouter_bin, render_pgrouter_toml,
                              sanitizer_excerpt, write_auth_file)
from proc_tools import (IS_ROOT, HarnessError, chown_pg, children_of, clean_env, free_port,
                        my_identity, owner_alive, pg_bin, pg_bindir, pid_alive, port_is_free,
                        proc_stat, run, send_signal, tail, wait_gone, write_pg_file)

HARNESS_PREFIX = "pgr-harness-"

__all__ = ["Cluster", "Node", "PgRouter", "HarnessError", "PgRouterCrashed", "PortInUse",
           "free_port", "port_is_free", "pid_alive", "wait_gone", "tail", "clean_env",
           "pg_bin", "pg_bindir", "pgrouter_bin", "render_pgrouter_toml", "write_auth_file",
           "live_routers", "sanitizer_excerpt", "primary_conninfo", "REPO_ROOT",
           "DEFAULT_PGROUTER_BIN", "SUPERUSER", "SUPERPASS", "IS_ROOT", "proc_stat"]


# ---------------------------------------------------------------------------------------------
# cleanup state (kept apart from Cluster so a finalizer can use it)


class _State:
    def __init__(self, base_dir: Path, remove: bool):
        self.base_dir = base_dir
        self.remove = remove
        self.nodes: list[Node] = []
        self.routers: list[PgRouter] = []
        self.done = False

    def teardown(self) -> list[str]:
        """Stop pgrouters and nodes; remove the directory in temporary mode. Never raises;
        returns the problems seen."""
        if self.done:
            return []
        self.done = True
        problems = []
        for r in list(self.routers):
            try:
                r.stop(check=False)
            except Exception as e:  # noqa: BLE001 - teardown must go on
                problems.append(f"pgrouter: {e}")
        for n in self.nodes:
            try:
                n.resume()
                n.stop("immediate" if self.remove else "fast", timeout=30)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{n.name}: {e}")
                pid = n.postmaster_pid()
                if pid:
                    kids = children_of(pid)
                    send_signal(pid, signal.SIGKILL)
                    for k in kids:
                        send_signal(k, signal.SIGKILL)
                    wait_gone([pid] + kids, 10)
        if self.remove and os.environ.get("PGR_HARNESS_KEEP") != "1":
            shutil.rmtree(self.base_dir, ignore_errors=True)
        elif self.remove:
            print(f"pgcluster: kept {self.base_dir} (PGR_HARNESS_KEEP=1)", file=sys.stderr)
        return problems


def _teardown_state(state: _State) -> None:
    problems = state.teardown()
    for p in problems:
        print(f"pgcluster: cleanup: {p}", file=sys.stderr)


def _reap_stale_dirs(parent: Path) -> None:
    """Remove temporary clusters whose owning process died without cleaning up (SIGKILL)."""
    for d in parent.glob(HARNESS_PREFIX + "*"):
        try:
            owner = (d / "owner").read_text().strip()
        except OSError:
            continue
        if owner_alive(owner):
            continue
        state = _State(d, remove=True)
        for datadir in sorted(d.glob("node*")):
            if datadir.is_dir():
                state.nodes.append(Node(datadir.name, 0, d))
        for n in state.nodes:  # stop without pg_ctl (port unknown is fine for signals)
            pid = n.postmaster_pid()
            if pid:
                kids = children_of(pid)
                for p in [pid] + kids:
                    send_signal(p, signal.SIGCONT)
                send_signal(pid, signal.SIGQUIT)
                if wait_gone([pid], 10):
                    send_signal(pid, signal.SIGKILL)
                for k in wait_gone(kids, 5):
                    send_signal(k, signal.SIGKILL)
        for pidfile in d.glob("pgrouter*.pid"):
            try:
                pid, ident = pidfile.read_text().split(None, 1)
                if owner_alive(f"{pid} {ident.strip()}"):
                    send_signal(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(d, ignore_errors=True)


_sigterm_installed = False


def _install_sigterm_handler() -> None:
    """Turn SIGTERM into KeyboardInterrupt so context managers and pytest's fixture teardown
    run (a default SIGTERM would leave the cluster behind)."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    _sigterm_installed = True


# ---------------------------------------------------------------------------------------------
# the cluster

BASE_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": 1200,
    "superuser_reserved_connections": 3,
    "shared_buffers": "32MB",
    "fsync": False,
    "full_page_writes": True,
    "wal_level": "replica",
    "wal_log_hints": True,
    "max_wal_senders": 10,
    "max_replication_slots": 10,
    "wal_keep_size": "256MB",
    "hot_standby": True,
    "hot_standby_feedback": True,
    "wal_receiver_status_interval": "1s",
    "password_encryption": "scram-sha-256",
    "logging_collector": False,
    "log_line_prefix": "%m [%p] %q%a %u@%d ",
    "max_locks_per_transaction": 64,
}

PG_HBA = """\
# written by tests/harness/pgcluster.py
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   md5
host    replication  all   127.0.0.1/32   md5
"""

ROLES_SQL = [
    "CREATE ROLE app LOGIN PASSWORD 'app'",
    "CREATE DATABASE app OWNER app",
    "SET password_encryption = 'md5'; CREATE ROLE md5user LOGIN PASSWORD 'md5pass'",
    "GRANT CONNECT ON DATABASE app TO md5user",
]


class Cluster:
    """A primary with N hot standbys. Use as a context manager:

        with Cluster(standbys=2) as c:
            c.primary.sql("SELECT 1")
            with c.pgrouter() as r: ...
    """

    def __init__(self, standbys: int = 2, *, base_dir: str | Path | None = None,
                 ports: list[int] | None = None, sync: bool = False,
                 apply_delay: dict[str, str] | None = None, settings: dict | None = None,
                 max_connections: int = 1200, start: bool = True):
        """standbys: number of hot standbys (node1..nodeN; node0 is the primary).
        base_dir: a persistent directory (reused if it holds a cluster); None = temporary.
        ports: fixed ports, one per node (persistent mode); None = free ports.
        sync: synchronous_standby_names = 'ANY 1 (all node names)' once standbys stream.
        apply_delay: {"node2": "3s"} -> recovery_min_apply_delay of that standby.
        settings: extra postgresql.conf settings for every node."""
        self.n_standbys = standbys
        self.sync = sync
        self.apply_delay = dict(apply_delay or {})
        self.settings = dict(settings or {})
        self.max_connections = max_connections
        if ports is not None and len(ports) != standbys + 1:
            raise ValueError(f"need {standbys + 1} ports, got {len(ports)}")
        self.fixed_ports = ports
        self.temporary = base_dir is None
        if self.temporary:
            _install_sigterm_handler()
            parent = Path(tempfile.gettempdir())
            if len(str(parent)) > 60:  # unix socket paths are limited to 107 bytes
                parent = Path("/tmp")
            _reap_stale_dirs(parent)
            self.base_dir = Path(tempfile.mkdtemp(prefix=HARNESS_PREFIX, dir=parent))
            (self.base_dir / "owner").write_text(my_identity() + "\n")
        else:
            self.base_dir = Path(base_dir).resolve()
            self.base_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base_dir, 0o755 if not self.temporary else 0o711)
        chown_pg(self.base_dir)
        self.sockdir = self.base_dir / "run"
        self._state = _State(self.base_dir, remove=self.temporary)
        self._finalizer = (weakref.finalize(self, _teardown_state, self._state)
                           if self.temporary else None)
        self._router_seq = 0
        if start:
            try:
                self.open()
            except BaseException:
                self.close()
                raise

    # -- lifecycle

    @property
    def nodes(self) -> list[Node]:
        return self._state.nodes

    @property
    def primary(self) -> Node:
        """The node configured as a primary (no standby.signal), preferring a running one:
        after a failover the stopped old primary still looks like one."""
        primaries = [n for n in self.nodes if n.role == "primary"]
        if not primaries:
            raise HarnessError("no primary")
        running = [n for n in primaries if n.is_running()]
        return (running or primaries)[0]

    @property
    def standbys(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "standby"]

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Temporary: stop everything and remove the directory. Persistent: stop the
        pgrouters started here and leave the nodes running."""
        if self._finalizer is not None:
            self._finalizer()
        else:
            for r in list(self._state.routers):
                r.stop(check=False)

    def stop_all(self, mode: str = "fast") -> None:
        """Stop every node, the primary first (standbys then have all its WAL)."""
        for r in list(self._state.routers):
            r.stop(check=False)
        for n in sorted(self.nodes, key=lambda n: n.is_standby):
            n.stop(mode)

    def start_all(self) -> None:
        for n in sorted(self.nodes, key=lambda n: n.is_standby):
            n.start()

    def open(self) -> None:
        meta = self.base_dir / "cluster.json"
        if meta.exists():
            self._reuse(json.loads(meta.read_text()))
            return
        try:
            self._create()
        except BaseException:
            # Leave no half-made cluster behind: a later run would find a data directory
            # but no cluster.json and could neither reuse nor re-create it.
            for n in self.nodes:
                n.resume()
                if n.is_running():
                    n.stop("immediate", timeout=30)
            if not self.temporary:
                for n in self.nodes:
                    shutil.rmtree(n.datadir, ignore_errors=True)
                self._state.nodes.clear()
            raise

    def _save(self) -> None:
        meta = {"version": 1, "nodes": [{"name": n.name, "port": n.port} for n in self.nodes],
                "sync": self.sync, "apply_delay": self.apply_delay,
                "max_connections": self.max_connections}
        (self.base_dir / "cluster.json").write_text(json.dumps(meta, indent=2) + "\n")

    def info(self) -> dict:
        return {"dir": str(self.base_dir), "sockdir": str(self.sockdir),
                "nodes": [{"name": n.name, "port": n.port, "role": n.role,
                           "running": n.is_running(), "datadir": str(n.datadir),
                           "log": str(n.logfile)} for n in self.nodes]}

    # -- creation

    def _port_for(self, index: int) -> int:
        return self.fixed_ports[index] if self.fixed_ports else free_port()

    def _start_node(self, node: Node, settings: dict) -> None:
        """Start a new node; with free ports, pick another port on a collision."""
        for attempt in range(5):
            node.write_node_conf({"port": node.port, **settings})
            if self.fixed_ports and not port_is_free(node.port):
                raise PortInUse(node.port, "")
            try:
                node.start()
                return
            except PortInUse:
                if self.fixed_ports or attempt == 4:
                    raise
                node.port = free_port()

    def _node_settings(self, node: Node) -> dict:
        s = {"cluster_name": node.name}
        if node.name in self.apply_delay:
            s["recovery_min_apply_delay"] = self.apply_delay[node.name]
        if self.sync:
            s["synchronous_standby_names"] = self._sync_names()
        return s

    def _sync_names(self) -> str:
        names = [f"node{i}" for i in range(self.n_standbys + 1)]
        return f"ANY 1 ({', '.join(names)})"

    def _create(self) -> None:
        self.sockdir.mkdir(exist_ok=True)
        os.chmod(self.sockdir, 0o755)
        chown_pg(self.sockdir)
        pwfile = self.base_dir / "pwfile"
        write_pg_file(pwfile, SUPERPASS + "\n")
        primary = Node("node0", self._port_for(0), self.base_dir)
        self._state.nodes.append(primary)
        run([pg_bin("initdb"), "-D", str(primary.datadir), "-U", SUPERUSER,
              f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
              "-E", "UTF8", "--locale=C", "--no-sync"], as_pg=True, cwd=str(self.base_dir))
        pwfile.unlink()
        settings = {**BASE_SETTINGS, "max_connections": self.max_connections,
                    "unix_socket_directories": str(self.sockdir), **self.settings}
        with open(primary.datadir / "postgresql.conf", "a") as f:
            f.write("\n# --- tests/harness/pgcluster.py ---\n")
            f.write("".join(f"{k} = {conf_quote(v)}\n" for k, v in settings.items()))
            f.write("include_if_exists = 'node.conf'\n")
        write_pg_file(primary.datadir / "pg_hba.conf", PG_HBA)
        # Sync replication is switched on only once standbys stream (or commits would hang).
        node_settings = self._node_settings(primary)
        node_settings.pop("synchronous_standby_names", None)
        self._start_node(primary, node_settings)
        for q in ROLES_SQL:
            primary.sql(q)
        for i in range(1, self.n_standbys + 1):
            self._add_standby(f"node{i}", self._port_for(i))
        self.wait_streaming()
        if self.sync:
            for n in self.nodes:
                n.write_node_conf({"port": n.port, **self._node_settings(n)})
                n.reload()
            self._wait_sync()
        self._save()

    def _add_standby(self, name: str, port: int) -> Node:
        primary = self.primary
        node = Node(name, port, self.base_dir)
        self._state.nodes.append(node)
        run([pg_bin("pg_basebackup"), "-D", str(node.datadir), "-h", "127.0.0.1", "-p",
              str(primary.port), "-U", SUPERUSER, "-R", "-X", "stream", "-c", "fast",
              "--no-sync"], as_pg=True, env=clean_env(PGPASSWORD=SUPERPASS),
             cwd=str(self.base_dir), timeout=300)
        node.set_primary_conninfo_offline(primary)
        settings = self._node_settings(node)
        settings.pop("synchronous_standby_names", None)
        self._start_node(node, settings)
        return node

    def _reuse(self, meta: dict) -> None:
        self.sync = meta.get("sync", False)
        self.apply_delay = meta.get("apply_delay", {})
        self.max_connections = meta.get("max_connections", self.max_connections)
        self._state.nodes[:] = [Node(m["name"], m["port"], self.base_dir)
                                for m in meta["nodes"]]
        self.n_standbys = len(self.nodes) - 1
        if self.fixed_ports and self.fixed_ports != [n.port for n in self.nodes]:
            self._change_ports(self.fixed_ports)
        for n in sorted(self.nodes, key=lambda n: n.is_standby):
            if not n.is_running():
                if not port_is_free(n.port):
                    raise PortInUse(n.port, f"(needed by {n.name} of {self.base_dir})")
                n.start()
            else:
                n.wait_ready()
        self.wait_streaming()

    def _change_ports(self, ports: list[int]) -> None:
        was_running = any(n.is_running() for n in self.nodes)
        if was_running:
            self.stop_all()
        for n, p in zip(self.nodes, ports):
            n.port = p
        primary = self.primary
        for n in self.nodes:
            n.write_node_conf({"port": n.port, **self._node_settings(n)})
            if n.is_standby:
                n.set_primary_conninfo_offline(primary)
        self._save()

    # -- waiting

    def wait_streaming(self, timeout: float = 60) -> None:
        """Wait until every running standby streams from the primary."""
        want = {n.name for n in self.standbys if n.is_running()}
        deadline = time.monotonic() + timeout
        while True:
            got = {r[0] for r in self.primary.sql(
                "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")}
            if want <= got:
                return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n.name} ---\n{tail(n.logfile, 15)}" for n in self.nodes)
                raise HarnessError(f"standbys not streaming: want {want}, got {got}\n{logs}")
            time.sleep(0.1)

    def _wait_sync(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.primary.sql_value(
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN "
                "('sync', 'quorum')") in (None, "0"):
            if time.monotonic() > deadline:
                raise HarnessError("no synchronous standby")
            time.sleep(0.1)

    def pgbench_init(self, db: str, create: bool = True, scale: int = 1) -> str:
        """pgbench -i (as app, on the primary directly) in `db`, created first (owner app)
        when `create`; waits until the standbys replayed it. Returns `db`."""
        if create:
            self.primary.sql(f"DROP DATABASE IF EXISTS {db}")
            self.primary.sql(f"CREATE DATABASE {db} OWNER app")
        cp = subprocess.run(
            ["pgbench", "-i", "-s", str(scale), "-q", "-h", "127.0.0.1", "-p",
             str(self.primary.port), "-U", "app", db], capture_output=True, text=True,
            timeout=120, env=clean_env(PGPASSWORD="app"))
        if cp.returncode != 0:
            raise HarnessError(f"pgbench -i failed: {cp.stderr[-2000:]}")
        self.wait_replicated()
        return db

    def wait_replicated(self, nodes: list[Node] | None = None, what: str = "replay",
                        timeout: float = 60) -> str:
        """Wait until `nodes` (default: running standbys) have received (what='receive') or
        replayed (what='replay') the primary's current WAL position; returns that LSN."""
        lsn = self.primary.sql_value("SELECT pg_current_wal_lsn()")
        fn = "pg_last_wal_replay_lsn()" if what == "replay" else "pg_last_wal_receive_lsn()"
        nodes = nodes if nodes is not None else [n for n in self.standbys if n.is_running()]
        deadline = time.monotonic() + timeout
        for n in nodes:
            while n.sql_value(f"SELECT coalesce({fn} >= '{lsn}'::pg_lsn, false)") != "t":
                if time.monotonic() > deadline:
                    raise HarnessError(f"{n.name} did not {what} {lsn} within {timeout}s")
                time.sleep(0.05)
        return lsn

    def set_apply_delay(self, name: str, delay: str | None) -> None:
        """Set (or with None reset) recovery_min_apply_delay on one running standby at run
        time (ALTER SYSTEM + reload); the other nodes are untouched."""
        node = self.node(name)
        if not node.is_standby:
            raise HarnessError(f"{name} is not a standby")
        if delay is None:
            node.sql("ALTER SYSTEM RESET recovery_min_apply_delay")
        else:
            node.sql(f"ALTER SYSTEM SET recovery_min_apply_delay = {conf_quote(delay)}")
        node.sql("SELECT pg_reload_conf()")
        want = (self.apply_delay.get(name) or "0") if delay is None else None
        deadline = time.monotonic() + 10
        while True:
            got = node.sql_value("SHOW recovery_min_apply_delay")
            if (want is not None and got == want) or (want is None and got not in ("0", None)):
                return
            if time.monotonic() > deadline:
                raise HarnessError(f"{name}: recovery_min_apply_delay is {got} after reload")
            time.sleep(0.05)

    # -- roles and pgrouter

    def create_role(self, name: str, password: str, encryption: str = "scram-sha-256",
                    grant_db: str | None = "app") -> None:
        """A LOGIN role with the password stored as `encryption` (scram-sha-256 or md5)."""
        q = (f"SET password_encryption = {conf_quote(encryption)}; "
             f"CREATE ROLE \"{name}\" LOGIN PASSWORD {conf_quote(password)}")
        self.primary.sql(q)
        if grant_db:
            self.primary.sql(f"GRANT CONNECT ON DATABASE \"{grant_db}\" TO \"{name}\"")

    def role_secrets(self, roles: list[str]) -> dict[str, str]:
        """rolname -> rolpassword from pg_authid on the primary."""
        names = ", ".join(conf_quote(r) for r in roles)
        rows = self.primary.sql(
            f"SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ({names}) "
            f"AND rolpassword IS NOT NULL")
        return {r[0]: r[1] for r in rows}

    def write_auth_file(self, path: str | Path, roles: list[str],
                        extra: dict[str, str] | None = None) -> Path:
        """An auth_file as PgBouncer users make userlist.txt: `"rolname" "rolpassword"`
        per role (from pg_authid), plus `extra` user -> secret (e.g. plain passwords)."""
        secrets = self.role_secrets(roles)
        missing = set(roles) - set(secrets)
        if missing:
            raise HarnessError(f"roles without a password: {sorted(missing)}")
        secrets.update(extra or {})
        return write_auth_file(path, secrets)

    def pgrouter(self, **kw) -> "PgRouter":
        """Start a pgrouter in front of this cluster (see PgRouter for the options)."""
        self._router_seq += 1
        kw.setdefault("name", f"pgrouter{self._router_seq}")
        return self.start_router(PgRouter(self, **kw))

    def start_router(self, r: "PgRouter") -> "PgRouter":
        """Start `r` (a PgRouter or a subclass) and stop it with the cluster."""
        self._state.routers.append(r)
        try:
            r.start()
        except BaseException:
            r.stop(check=False)
            self._forget_router(r)
            raise
        return r

    def _forget_router(self, r: "PgRouter") -> None:
        if r in self._state.routers:
            self._state.routers.remove(r)


# ---------------------------------------------------------------------------------------------
# CLI


def _cli_cluster(args, start: bool) -> Cluster:
    ports = [int(p) for p in args.ports.split(",")] if getattr(args, "ports", None) else None
    meta = Path(args.dir) / "cluster.json"
    if not start and not meta.exists():
        raise HarnessError(f"no cluster in {args.dir}")
    standbys = (len(ports) - 1) if ports else 2
    c = Cluster(standbys, base_dir=args.dir, ports=ports, start=False)
    if start:
        c.open()
    else:
        m = json.loads(meta.read_text())
        c._state.nodes[:] = [Node(n["name"], n["port"], c.base_dir) for n in m["nodes"]]
    return c


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="PostgreSQL test cluster for pgrouter")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="create or reuse a cluster and start it; prints JSON")
    up.add_argument("--dir", required=True)
    up.add_argument("--ports", default="15432,15433,15434",
                    help="comma-separated ports: primary first, then one per standby")
    down = sub.add_parser("down", help="stop every node of the cluster cleanly")
    down.add_argument("--dir", required=True)
    st = sub.add_parser("status", help="print the cluster's nodes as JSON")
    st.add_argument("--dir", required=True)
    af = sub.add_parser("authfile", help="write an auth_file for pgrouter from pg_authid")
    af.add_argument("--dir", required=True)
    af.add_argument("--out", required=True)
    af.add_argument("roles", nargs="+")
    rc = sub.add_parser("router-config", help="write a pgrouter.toml for this cluster")
    rc.add_argument("--dir", required=True)
    rc.add_argument("--out", required=True)
    rc.add_argument("--port", type=int, default=5432, help="pgrouter's listen port")
    rc.add_argument("--auth-file", required=True)
    rc.add_argument("--workers", type=int, default=2)
    rc.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    try:
        if args.cmd == "up":
            c = _cli_cluster(args, start=True)
            print(json.dumps(c.info(), indent=2))
        elif args.cmd == "down":
            c = _cli_cluster(args, start=False)
            c.stop_all()
            print(json.dumps(c.info(), indent=2))
        elif args.cmd == "status":
            c = _cli_cluster(args, start=False)
            print(json.dumps(c.info(), indent=2))
        elif args.cmd == "authfile":
            c = _cli_cluster(args, start=False)
            c.write_auth_file(args.out, args.roles)
        elif args.cmd == "router-config":
            c = _cli_cluster(args, start=False)
            nodes = sorted(c.nodes, key=lambda n: n.is_standby)
            Path(args.out).write_text(render_pgrouter_toml(
                port=args.port, backends=[(n.name, "127.0.0.1", n.port) for n in nodes],
                auth_file=str(Path(args.auth_file).resolve()), workers=args.workers,
                log_level=args.log_level))
    except HarnessError as e:
        print(f"pgcluster: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
