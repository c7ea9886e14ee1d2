"""A pgrouter process started by the test harness: config, auth_file, readiness, clean stop.
Standard library only (psycopg2 is used for the readiness probe when importable)."""
from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from pg_node import SUPERPASS, SUPERUSER, Node
from proc_tools import HarnessError, clean_env, free_port, proc_stat, run, tail

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PGROUTER_BIN = REPO_ROOT / "build" / "proxy" / "pgrouter"
if TYPE_CHECKING:
    from pgcluster import Cluster

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error:")


class PgRouterCrashed(AssertionError):
    """pgrouter exited abnormally or its log shows a sanitizer report."""


def write_auth_file(path: str | Path, secrets: dict[str, str]) -> Path:
    path = Path(path)
    lines = ['"{}" "{}"\n'.format(u.replace('"', '""'), s.replace('"', '""'))
             for u, s in secrets.items()]
    path.write_text("".join(lines))
    os.chmod(path, 0o600)
    return path


def pgrouter_bin() -> Path:
    return Path(os.environ.get("PGROUTER_BIN") or DEFAULT_PGROUTER_BIN)


def _toml_str(s: str) -> str:
    return json.dumps(str(s))


def render_pgrouter_toml(*, port: int, backends: list[tuple[str, str, int]],
                         method: str = "scram-sha-256", auth_file: str | None = None,
                         auth_user: str | None = None, auth_password: str | None = None,
                         workers: int = 2, max_client_connections: int = 1000,
                         log_level: str = "info", client_login_timeout: str = "10s",
                         health_period: str = "1s", health_timeout: str = "2s",
                         extra: str = "", proxy_extra: str = "", auth_extra: str = "",
                         backend_extra: dict[str, str] | None = None) -> str:
    """The pgrouter config for one listener on 127.0.0.1:port in front of `backends`
    ((name, host, port) tuples, the first being the primary). proxy_extra: TOML lines added
    to [proxy] (e.g. read_only_listen); backend_extra: backend name -> TOML lines added to
    that [[backends]] table (e.g. "weight = 3")."""
    out = ["# written by tests/harness/pgcluster.py", "[proxy]",
           f"listen = [{_toml_str(f'127.0.0.1:{port}')}]", f"workers = {workers}",
           f"max_client_connections = {max_client_connections}",
           f"log_level = {_toml_str(log_level)}",
           f"client_login_timeout = {_toml_str(client_login_timeout)}"]
    if proxy_extra:
        out.append(proxy_extra.strip())
    out += ["", "[auth]",
           f"method = {_toml_str(method)}"]
    if auth_file is not None:
        out.append(f"auth_file = {_toml_str(auth_file)}")
    if auth_user is not None:
        out.append(f"auth_user = {_toml_str(auth_user)}")
    if auth_password is not None:
        out.append(f"auth_password = {_toml_str(auth_password)}")
    if auth_extra:
        out.append(auth_extra.strip())
    out += ["", "[health_check]", f"period = {_toml_str(health_period)}",
            f"timeout = {_toml_str(health_timeout)}", f"user = {_toml_str(SUPERUSER)}",
            f"password = {_toml_str(SUPERPASS)}", 'database = "postgres"']
    for name, host, bport in backends:
        out += ["", "[[backends]]", f"name = {_toml_str(name)}", f"host = {_toml_str(host)}",
                f"port = {bport}"]
        if backend_extra and backend_extra.get(name):
            out.append(backend_extra[name].strip())
    if extra:
        out += ["", extra.strip()]
    return "\n".join(out) + "\n"


_live_routers: "weakref.WeakSet[PgRouter]" = weakref.WeakSet()


def live_routers() -> list["PgRouter"]:
    """Every pgrouter process started by this process that is still running."""
    return [r for r in list(_live_routers) if r.alive()]


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class PgRouter:
    """A pgrouter process in front of a Cluster, on a free loopback port.

    Options: users (dict user -> secret written as the auth_file; None = no auth_file),
    auth_user/auth_password (auth_query mode), method, workers, log_level,
    max_client_connections, backends (Nodes; default: all, primary first), extra (TOML
    appended verbatim after the last [[backends]]: start it with a [table] header),
    ready_login ((user, password, db) used to wait for readiness; None = wait only for the
    TCP port), env (extra environment), health_period/health_timeout ([health_check]),
    proxy_extra (TOML lines added to [proxy]; auth_extra: to [auth]), backend_extra (backend name -> TOML lines added
    to its [[backends]] table, e.g. {"node2": "weight = 3"}), read_only_listen (also listen on
    a second free port, .ro_port, as proxy.read_only_listen).
    stop() asserts a clean exit (code 0 after SIGTERM, no sanitizer report in the log)."""

    def __init__(self, cluster: Cluster, *, name: str = "pgrouter",
                 users: dict[str, str] | None = None, auth_user: str | None = None,
                 auth_password: str | None = None, method: str = "scram-sha-256",
                 workers: int = 2, log_level: str = "info",
                 max_client_connections: int = 1000, backends: list[Node] | None = None,
                 extra: str = "", ready_login: tuple[str, str, str] | None = ("app", "app", "app"),
                 client_login_timeout: str = "10s", env: dict | None = None,
                 ready_timeout: float | None = None, health_period: str = "1s",
                 health_timeout: str = "2s", proxy_extra: str = "",
                 backend_extra: dict[str, str] | None = None, read_only_listen: bool = False,
                 auth_extra: str = ""):
        self.cluster = cluster
        self.name = name
        self.dir = cluster.base_dir
        self.config_path = self.dir / f"{name}.toml"
        self.log_path = self.dir / f"{name}.log"
        self.auth_file = None
        if users is not None:
            self.auth_file = write_auth_file(self.dir / f"{name}.users.txt", users)
        self.opts = dict(method=method, auth_user=auth_user, auth_password=auth_password,
                         workers=workers, log_level=log_level,
                         max_client_connections=max_client_connections,
                         client_login_timeout=client_login_timeout, extra=extra,
                         health_period=health_period, health_timeout=health_timeout,
                         backend_extra=backend_extra, auth_extra=auth_extra)
        self.proxy_extra = proxy_extra
        self.read_only_listen = read_only_listen
        self.ro_port = 0  # the read_only_listen port (read_only_listen=True)
        self._backends = backends
        self.ready_login = ready_login
        self.env = env or {}
        self.ready_timeout = ready_timeout or float(os.environ.get("PGR_READY_TIMEOUT", "15"))
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self.killed_by: str | None = None  # set by a test watchdog that killed it
        self._log = None

    def __enter__(self) -> "PgRouter":
        return self

    def __exit__(self, *exc) -> None:
        self.stop(check=exc[0] is None)

    def backends(self) -> list[Node]:
        if self._backends is not None:
            return self._backends
        return sorted(self.cluster.nodes, key=lambda n: n.is_standby)

    def write_config(self) -> None:
        proxy_extra = self.proxy_extra
        if self.read_only_listen:
            self.ro_port = free_port()
            proxy_extra = (f"read_only_listen = [{_toml_str(f'127.0.0.1:{self.ro_port}')}]\n"
                           + proxy_extra)
        self.config_path.write_text(render_pgrouter_toml(
            port=self.port, backends=[(n.name, "127.0.0.1", n.port) for n in self.backends()],
            auth_file=str(self.auth_file) if self.auth_file else None,
            proxy_extra=proxy_extra, **self.opts))

    def start(self) -> None:
        binary = pgrouter_bin()
        if not os.access(binary, os.X_OK):
            raise HarnessError(f"pgrouter binary not found at {binary} (build it, or set "
                               f"PGROUTER_BIN)")
        for attempt in range(4):
            self.port = free_port()
            self.write_config()
            self._log = open(self.log_path, "ab")
            self._log.write(f"=== harness: starting {binary} on port {self.port}\n".encode())
            self._log.flush()
            self.proc = subprocess.Popen(
                [str(binary), "--config", str(self.config_path)], stdin=subprocess.DEVNULL,
                stdout=self._log, stderr=self._log, env=clean_env(**self.env),
                cwd=str(self.dir), preexec_fn=_raise_nofile, start_new_session=True)
            self.returncode = None
            _live_routers.add(self)
            st = proc_stat(self.proc.pid)
            (self.dir / f"{self.name}.pid").write_text(f"{self.proc.pid} {st[2] if st else 0}\n")
            try:
                self.wait_ready()
                return
            except HarnessError:
                exited = self.proc.poll() is not None
                in_use = re.search(r"address already in use|in use", self.log_text(), re.I)
                if exited and in_use and attempt < 3:
                    self._reap()
                    continue
                self.stop(check=False)
                raise

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._reap()
                raise HarnessError(f"{self.name} exited with code {self.returncode} during "
                                   f"startup\n--- {self.log_path} ---\n{tail(self.log_path)}")
            try:
                if self.ready_login is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                else:
                    self._try_login(*self.ready_login)
                return
            except Exception as e:  # noqa: BLE001 - retried until the deadline
                last = e
            time.sleep(0.1)
        raise HarnessError(f"{self.name}: no successful login within {self.ready_timeout}s "
                           f"(last error: {last})\n--- {self.log_path} ---\n"
                           f"{tail(self.log_path)}")

    def _try_login(self, user: str, password: str, db: str) -> None:
        try:
            import psycopg2  # noqa: PLC0415 - optional: the harness is stdlib only
        except ImportError:
            cp = run(["psql", "-XAtq", "-c", "SELECT 1", self.dsn(user, password, db)],
                      check=False, timeout=10)
            if cp.returncode != 0 or cp.stdout.strip() != "1":
                raise HarnessError(cp.stderr.strip())
            return
        conn = psycopg2.connect(self.dsn(user, password, db, connect_timeout=3))
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                if cur.fetchone() != (1,):
                    raise HarnessError("SELECT 1 did not return 1")
        finally:
            conn.close()

    def dsn(self, user: str = "app", password: str | None = "app", db: str = "app",
            **kw) -> str:
        parts = {"host": "127.0.0.1", "port": self.port, "user": user, "dbname": db,
                 "connect_timeout": 10, **kw}
        if password is not None:
            parts["password"] = password
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def connect(self, user: str = "app", password: str | None = "app", db: str = "app", **kw):
        import psycopg2  # noqa: PLC0415
        return psycopg2.connect(self.dsn(user, password, db, **kw))

    def wait_reads_reach(self, ports: set[int], timeout: float = 15, port: int | None = None,
                         required: bool = True, user: str = "app", password: str = "app",
                         db: str = "app") -> dict[int, int]:
        """Run `SELECT inet_server_port()` in one fresh autocommit session (that never writes)
        until every node port in `ports` has served a read: pgrouter has probed the nodes and
        balances reads over them. Returns the ports seen -> reads. Not `required`: give up
        quietly after `timeout` (a fixture can then let each test's assertions fail)."""
        seen: dict[int, int] = {}
        deadline = time.monotonic() + timeout
        conn = self.connect(user, password, db, **({"port": port} if port else {}))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                while time.monotonic() < deadline:
                    cur.execute("SELECT inet_server_port()")
                    p = int(cur.fetchone()[0])
                    seen[p] = seen.get(p, 0) + 1
                    if set(ports) <= set(seen):
                        return seen
                    time.sleep(0.02)
        finally:
            conn.close()
        if required:
            raise HarnessError(f"{self.name}: reads did not reach {sorted(ports)} within "
                               f"{timeout}s (served by {seen})")
        return seen

    def show(self, command: str = "SHOW POOL_NODES", user: str = "app",
             password: str | None = "app", db: str = "app", port: int | None = None
             ) -> list[dict[str, str | None]]:
        """Run one simple query (e.g. SHOW POOL_NODES) over a fresh raw-protocol session;
        rows as dicts column name -> text value, in column order. Raises pgwire.ServerError
        on an error."""
        import pgwire  # noqa: PLC0415 - the harness modules import each other lazily here

        with pgwire.Conn("127.0.0.1", port or self.port) as c:
            c.login(user, password, db)
            rows = pgwire.query_rows(c, command)
            c.send(pgwire.terminate_message())
            return rows

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _reap(self) -> None:
        if self.proc is not None and self.returncode is None:
            self.returncode = self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None

    def kill9(self) -> None:
        if self.alive():
            self.proc.kill()
        if self.proc is not None:
            self._reap()

    def stop(self, check: bool = True, timeout: float = 10) -> None:
        """SIGTERM, wait `timeout` s, then SIGKILL. With check: raise PgRouterCrashed unless it
        exited 0 in time with no sanitizer report in its log."""
        killed = False
        if self.proc is not None and self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    killed = True
            self._reap()
        self.cluster._forget_router(self)
        if not check or self.proc is None:
            return
        problems = []
        if self.killed_by:
            problems.append(f"killed by {self.killed_by}")
        elif killed:
            problems.append(f"did not exit within {timeout}s of SIGTERM (killed)")
        elif self.returncode != 0:
            problems.append(f"exit code {self.returncode} after SIGTERM")
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                problems.append(f"log contains {marker!r}")
        if problems:
            raise PgRouterCrashed(f"{self.name}: {'; '.join(problems)}\n--- {self.log_path} "
                                  f"---\n{sanitizer_excerpt(text) or tail(self.log_path, 60)}")


def sanitizer_excerpt(text: str, lines: int = 60) -> str:
    """The first sanitizer report in a log, if any."""
    all_lines = text.splitlines()
    for i, line in enumerate(all_lines):
        if any(m in line for m in SANITIZER_MARKERS):
            return "\n".join(all_lines[max(0, i - 3):i + lines])
    return ""
