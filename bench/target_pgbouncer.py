"""PgBouncer as a benchmark target: one pgbouncer process per pool mode (session or
transaction), in front of the primary, authenticating app with the SCRAM verifier from
pg_authid (the same auth_file pgrouter gets) and logging in to PostgreSQL with the ClientKey
from the client's proof, as pgrouter does.

Pool sizes: session mode binds a server connection to each client for its life, so its pool
(140) must cover the 128-client workloads; transaction mode keeps PgBouncer's usual 32.
"""
from __future__ import annotations

import common  # first: puts tests/harness on sys.path
import pgcluster  # noqa: E402
from targets import BenchEnv, DaemonTarget

PGBOUNCER_INI = """\
; written by bench/target_pgbouncer.py
[databases]
app = host=127.0.0.1 port={primary_port} dbname=app

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {dir}/userlist.txt
pool_mode = {mode}
max_client_conn = {max_client_conn}
default_pool_size = {pool_size}
reserve_pool_size = 0
pidfile = {dir}/pgbouncer.pid
log_connections = 0
log_disconnections = 0
log_pooler_errors = 1
stats_period = 600
ignore_startup_parameters = extra_float_digits
server_login_retry = 1
"""


class PgBouncerTarget(DaemonTarget):
    pools_connections = True  # a logged-in client holds no server until it sends a query

    def __init__(self, mode: str):
        super().__init__()
        if mode not in ("session", "transaction"):
            raise ValueError(mode)
        self.mode = mode
        self.name = "pgbouncer-session" if mode == "session" else "pgbouncer-tx"
        self.label = f"PgBouncer {mode}"
        self.pool_size = 140 if mode == "session" else 32
        self.daemon: common.Daemon | None = None

    def start(self, env: BenchEnv) -> None:
        d = env.workdir / self.name
        d.mkdir(exist_ok=True)
        common.chown(d)
        self.port = pgcluster.free_port()
        common.write_file(d / "userlist.txt", "".join(
            f'"{u}" "{s}"\n' for u, s in env.secrets.items()))
        ini = common.write_file(d / "pgbouncer.ini", PGBOUNCER_INI.format(
            primary_port=env.cluster.primary.port, port=self.port, dir=d, mode=self.mode,
            max_client_conn=env.max_clients, pool_size=self.pool_size))
        self.daemon = common.Daemon(self.name, ["pgbouncer", str(ini)], d / "pgbouncer.log", d)
        self.daemon.start()
        common.wait_login(self.port, 30, self.daemon)

    def describe(self) -> str:
        return f"PgBouncer, pool_mode={self.mode}, default_pool_size={self.pool_size}"
