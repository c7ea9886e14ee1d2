"""One PostgreSQL server of a test cluster: control (start, stop, kill9, pause, promote) and
SQL through psql over its unix socket. Standard library only."""
from __future__ import annotations

import signal
import time
from pathlib import Path

from proc_tools import (HarnessError, chown_pg, children_of, pg_bin, pid_alive, proc_stat,
                        run, send_signal, tail, wait_gone, write_pg_file)

SUPERUSER = "postgres"
SUPERPASS = "postgres"


def conf_quote(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class Node:
    """One PostgreSQL server of a cluster. Holds only paths and its port (no reference to the
    Cluster), so the cluster's finalizer can stop nodes after the Cluster object is gone."""

    def __init__(self, name: str, port: int, base_dir: Path):
        self.name = name
        self.port = port
        self.base_dir = base_dir
        self.datadir = base_dir / name
        self.logfile = base_dir / f"{name}.log"
        self.sockdir = base_dir / "run"
        self._paused: list[int] = []
        self._orphans: list[int] = []

    def __repr__(self) -> str:
        return f"Node({self.name}, port={self.port}, {self.role})"

    # -- state

    @property
    def role(self) -> str:
        """'standby' if the data directory is configured as a standby, else 'primary'."""
        return "standby" if (self.datadir / "standby.signal").exists() else "primary"

    @property
    def is_standby(self) -> bool:
        return self.role == "standby"

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.postmaster_pid() is not None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def dsn(self, user: str = "app", password: str = "app", db: str = "app", **kw) -> str:
        parts = {"host": "127.0.0.1", "port": self.port, "user": user, "password": password,
                 "dbname": db, "connect_timeout": 10, **kw}
        return " ".join(f"{k}={v}" for k, v in parts.items())

    # -- control

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it accepts connections. After kill9(), waits for the
        old server's children to exit first (they hold the shared memory segment)."""
        if self.is_running():
            self.wait_ready(timeout)
            return
        left = wait_gone(self._orphans, 15)
        for pid in left:
            send_signal(pid, signal.SIGKILL)
        wait_gone(left, 5)
        self._orphans = []
        self._clear_dead_lockfile()
        self.logfile.touch()
        chown_pg(self.logfile)
        cp = run([pg_bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile), "-w",
                   "-t", str(int(timeout)), "start"], as_pg=True, check=False,
                  timeout=timeout + 15, cwd=str(self.base_dir))
        if cp.returncode != 0:
            log = tail(self.logfile, 30)
            if "Address already in use" in log and not self.is_running():
                raise PortInUse(self.port, log)
            raise HarnessError(f"{self.name}: pg_ctl start failed:\n{cp.stdout}{cp.stderr}\n"
                               f"--- {self.logfile} ---\n{log}")
        self.wait_ready(timeout)

    def _clear_dead_lockfile(self) -> None:
        """A SIGKILLed postmaster stays a zombie until its new parent (PID 1 here, which may be
        slow to reap) collects it, and PostgreSQL takes a zombie's lock file for a live
        server. Wait for the zombie to go; remove the lock file if it lingers (a zombie holds
        no shared memory)."""
        try:
            pid = int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return
        if pid_alive(pid):
            return
        deadline = time.monotonic() + 5
        while proc_stat(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc_stat(pid) is not None:
            (self.datadir / "postmaster.pid").unlink(missing_ok=True)

    def stop(self, mode: str = "fast", timeout: float = 60) -> None:
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(mode)
        if self._paused:
            self.resume()
        if not self.is_running():
            return
        run([pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "-t",
              str(int(timeout)), "stop"], as_pg=True, timeout=timeout + 15,
             cwd=str(self.base_dir))

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def reload(self) -> None:
        if self.is_running():
            run([pg_bin("pg_ctl"), "-D", str(self.datadir), "reload"], as_pg=True,
                 cwd=str(self.base_dir))

    def kill9(self) -> None:
        """SIGKILL the postmaster (as a crash would). Its children notice and exit on their
        own; start() waits for them."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        kids = children_of(pid)
        send_signal(pid, signal.SIGKILL)
        for p in self._paused:  # stopped children could never notice the death
            send_signal(p, signal.SIGCONT)
        self._paused = []
        wait_gone([pid], 10)
        self._orphans = kids

    def pause(self) -> None:
        """SIGSTOP the postmaster and all its children: the node hangs (accepts TCP
        connections into the backlog, answers nothing) without any socket closing."""
        pid = self.postmaster_pid()
        if pid is None:
            raise HarnessError(f"{self.name}: not running")
        send_signal(pid, signal.SIGSTOP)  # first, so it forks nothing new meanwhile
        stopped = [pid]
        for p in children_of(pid):
            send_signal(p, signal.SIGSTOP)
            stopped.append(p)
        self._paused = stopped

    def resume(self) -> None:
        for p in reversed(self._paused):
            send_signal(p, signal.SIGCONT)
        self._paused = []

    @property
    def paused(self) -> bool:
        return bool(self._paused)

    def promote(self, timeout: float = 60) -> None:
        run([pg_bin("pg_ctl"), "-D", str(self.datadir), "-w", "-t", str(int(timeout)),
              "promote"], as_pg=True, timeout=timeout + 15, cwd=str(self.base_dir))
        self.wait_ready(timeout)
        deadline = time.monotonic() + timeout
        while self.sql_value("SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise HarnessError(f"{self.name}: still in recovery after promote")
            time.sleep(0.1)

    def follow(self, primary: "Node") -> None:
        """Point this standby's WAL receiver at `primary` (reloadable since PG13)."""
        conninfo = primary_conninfo(primary, self.name)
        self.sql(f"ALTER SYSTEM SET primary_conninfo = {conf_quote(conninfo)}")
        self.sql("SELECT pg_reload_conf()")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            cp = run(self._psql_cmd("postgres", "SELECT 1"), check=False, timeout=10)
            if cp.returncode == 0 and cp.stdout.strip() == "1":
                return
            last = cp.stderr
            if time.monotonic() > deadline:
                raise HarnessError(f"{self.name}: not ready after {timeout}s: {last}\n"
                                   f"--- {self.logfile} ---\n{tail(self.logfile)}")
            time.sleep(0.1)

    # -- SQL over the unix socket as the superuser

    def _psql_cmd(self, db: str, query: str | None) -> list[str]:
        cmd = ["psql", "-XAtq", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", str(self.sockdir),
               "-p", str(self.port), "-U", SUPERUSER, "-d", db]
        return cmd + (["-c", query] if query is not None else [])

    def sql(self, query: str, db: str = "postgres", timeout: float = 60) -> list[tuple]:
        """Run `query` with psql; rows as tuples of strings (NULL -> ''). Values containing
        '|' or newlines are not representable: select something simpler."""
        cp = run(self._psql_cmd(db, query), timeout=timeout, check=False)
        if cp.returncode != 0:
            raise HarnessError(f"{self.name}: SQL failed: {query}\n{cp.stderr.strip()}")
        return [tuple(line.split("|")) for line in cp.stdout.splitlines()]

    def sql_value(self, query: str, db: str = "postgres", timeout: float = 60) -> str | None:
        rows = self.sql(query, db, timeout)
        return rows[0][0] if rows else None

    def script(self, text: str, db: str = "postgres", timeout: float = 60) -> str:
        """Run a multi-statement script (each statement on its own, as psql -f does)."""
        cp = run(self._psql_cmd(db, None) + ["-f", "-"], input=text, timeout=timeout,
                  check=False)
        if cp.returncode != 0:
            raise HarnessError(f"{self.name}: script failed:\n{cp.stderr.strip()}")
        return cp.stdout

    # -- configuration files

    def write_node_conf(self, settings: dict) -> None:
        text = "# written by tests/harness/pgcluster.py: settings of this node only\n"
        text += "".join(f"{k} = {conf_quote(v)}\n" for k, v in settings.items())
        write_pg_file(self.datadir / "node.conf", text)

    def set_primary_conninfo_offline(self, primary: "Node") -> None:
        """Rewrite primary_conninfo in postgresql.auto.conf (node stopped)."""
        auto = self.datadir / "postgresql.auto.conf"
        lines = [l for l in auto.read_text().splitlines()
                 if not l.startswith("primary_conninfo")] if auto.exists() else []
        lines.append(f"primary_conninfo = {conf_quote(primary_conninfo(primary, self.name))}")
        write_pg_file(auto, "\n".join(lines) + "\n")


class PortInUse(HarnessError):
    def __init__(self, port: int, log: str):
        super().__init__(f"port {port} is already in use by another process\n{log}")
        self.port = port


def primary_conninfo(primary: Node, application_name: str) -> str:
    return (f"host=127.0.0.1 port={primary.port} user={SUPERUSER} password={SUPERPASS} "
            f"application_name={application_name} connect_timeout=5")
