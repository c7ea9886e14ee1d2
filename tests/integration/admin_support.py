"""Helpers for the admin tests: a pgrouter with an [admin] section (PCP port and users file,
HTTP port, admin socket), the real pcp_* programs of Debian's pgpool2 package, HTTP over
urllib, and pgrouterctl."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pgcluster
from failover_support import FailoverRouter

PCP_USER = "pcpadmin"
PCP_PASSWORD = "pcp-secret"
PCP_BIN = Path("/usr/sbin")


def pgrouterctl_bin() -> Path:
    return Path(os.environ.get("PGROUTERCTL_BIN") or pgcluster.pgrouter_bin().parents[1] / "admin" / "pgrouterctl")


def admin_section(base: Path, name: str) -> tuple[str, dict]:
    """The [admin] TOML for a router called `name`, and its endpoints."""
    users = base / f"{name}.pcp.conf"
    users.write_text(f"# pcp.conf\n{PCP_USER}:{hashlib.md5(PCP_PASSWORD.encode()).hexdigest()}\n")
    ends = {"pcp_port": pgcluster.free_port(), "http_port": pgcluster.free_port(),
            "socket": str(base / f"{name}.admin.sock"), "pcp_users": users}
    ends["socket_dir"] = str(base)
    toml = (f'[admin]\npcp_listen = "127.0.0.1:{ends["pcp_port"]}"\npcp_users_file = "{users}"\n'
            f'pcp_socket_dir = "{base}"\n'
            f'http_listen = "127.0.0.1:{ends["http_port"]}"\nadmin_socket = "{ends["socket"]}"\n')
    return toml, ends


class AdminRouter(FailoverRouter):
    """A FailoverRouter (fast health checks, data directories, [failover]) with [admin]."""

    def __init__(self, cluster, *, failover: str = "", **kw):
        name = kw.get("name", "admin")
        self.admin_toml, self.ends = admin_section(cluster.base_dir, name)
        super().__init__(cluster, failover=failover, **kw)
        self.opts["extra"] = "[failover]\n" + failover + "\n" + self.admin_toml

    # -- PCP --------------------------------------------------------------------------------
    def pcp(self, program: str, *args: str, password: str = PCP_PASSWORD, timeout: float = 60,
            host: str = "127.0.0.1") -> subprocess.CompletedProcess:
        passfile = self.cluster.base_dir / f"{self.name}.pcppass"
        passfile.write_text(f"*:*:{PCP_USER}:{password}\n")
        passfile.chmod(0o600)
        env = dict(os.environ, PCPPASSFILE=str(passfile))
        return subprocess.run([str(PCP_BIN / program), "-h", host, "-p", str(self.ends["pcp_port"]),
                               "-U", PCP_USER, "-w", *args], capture_output=True, text=True, env=env,
                              timeout=timeout)

    # -- HTTP -------------------------------------------------------------------------------
    def http(self, path: str, method: str = "GET") -> tuple[int, str]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.ends['http_port']}{path}", method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def cluster_json(self) -> dict:
        status, body = self.http("/cluster")
        assert status == 200, body
        return json.loads(body)

    # -- pgrouterctl ------------------------------------------------------------------------
    def ctl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(pgrouterctl_bin()), "-s", self.ends["socket"], *args],
                              capture_output=True, text=True, timeout=timeout)


def start_admin_router(cluster, users, *, name: str, failover: str = "", **kw) -> AdminRouter:
    r = AdminRouter(cluster, name=name, users=users, failover=failover, **kw)
    return cluster.start_router(r)


def read_ports(router, n: int = 60) -> dict[int, int]:
    """Ports that served `n` reads in one fresh autocommit session."""
    seen: dict[int, int] = {}
    conn = router.connect()
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for _ in range(n):
                cur.execute("SELECT inet_server_port()")
                p = int(cur.fetchone()[0])
                seen[p] = seen.get(p, 0) + 1
    finally:
        conn.close()
    return seen
