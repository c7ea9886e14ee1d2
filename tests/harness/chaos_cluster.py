"""The cluster side of scripts/chaos: pgrouter with failover for a synchronous cluster, the
faults, the checker run after each trial, and bringing the cluster back to three healthy nodes.

Direct queries to the nodes go over their unix sockets as the superuser, so a network cut
(iptables, matching only root's TCP traffic to one node's port: pgrouter runs as root, the
servers and their replication as postgres) never hides a node from the checker.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field

import psycopg2

import pgcluster
from pg_node import Node
from proc_tools import HarnessError, clean_env, pg_bin, run, write_pg_file

TIMELINE_SQL = "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"


class ChaosRouter(pgcluster.PgRouter):
    """pgrouter with builtin failover, a state file, 1 s probes with one retry, and
    auto_failback (a rewound old primary that streams from the primary rejoins)."""

    def __init__(self, cluster, *, state_file: str, **kw):
        super().__init__(cluster, **kw)
        self.state_file = state_file

    def write_config(self) -> None:
        opts = dict(self.opts)
        opts["health_timeout"] = "1s"
        opts["extra"] = ("[failover]\nmode = \"builtin\"\n"
                         f"state_file = \"{self.state_file}\"\nwait_timeout = \"20s\"\n"
                         "auto_failback = true\n")
        text = pgcluster.render_pgrouter_toml(
            port=self.port, backends=[(n.name, "127.0.0.1", n.port) for n in self.backends()],
            auth_file=str(self.auth_file) if self.auth_file else None, **opts)
        text = text.replace("[health_check]\n",
                            "[health_check]\nmax_retries = 1\nretry_delay = \"500ms\"\n", 1)
        self.config_path.write_text(text)


def start_router(cluster, users, state_file: str, name: str = "chaos") -> ChaosRouter:
    r = ChaosRouter(cluster, name=name, users=users, state_file=state_file, workers=2)
    return cluster.start_router(r)


# -- direct access to the nodes ------------------------------------------------------------------


def node_conn(node: Node, db: str = "app"):
    return psycopg2.connect(host=str(node.sockdir), port=node.port, user="postgres",
                            dbname=db, connect_timeout=5)


def query(node: Node, sql: str, args=None, db: str = "app") -> list[tuple]:
    conn = node_conn(node, db)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def create_table(cluster) -> None:
    cluster.primary.sql(
        "CREATE TABLE chaos(id bigserial PRIMARY KEY, trial int NOT NULL, writer int NOT NULL, "
        "seq int NOT NULL, origin text NOT NULL DEFAULT current_setting('cluster_name'), "
        f"tli int NOT NULL DEFAULT {TIMELINE_SQL}, at timestamptz DEFAULT clock_timestamp()); "
        "CREATE INDEX ON chaos(trial, writer, seq); GRANT ALL ON chaos TO app; "
        "GRANT ALL ON SEQUENCE chaos_id_seq TO app", db="app")


def in_recovery(node: Node) -> bool | None:
    if not node.is_running() or node.paused:
        return None
    try:
        return query(node, "SELECT pg_is_in_recovery()", db="postgres")[0][0]
    except psycopg2.Error:
        return None


def timeline_of(node: Node) -> int | None:
    try:
        return int(query(node, "SELECT timeline_id FROM pg_control_checkpoint()",
                         db="postgres")[0][0])
    except psycopg2.Error:
        return None


def router_primary(router, cluster) -> Node | None:
    """The node pgrouter publishes as its primary (up), if any."""
    try:
        rows = router.show()
    except Exception:  # noqa: BLE001 - pgrouter may be restarting
        return None
    for row in rows:
        if row["role"] == "primary" and row["status"] == "up":
            return next(n for n in cluster.nodes if n.port == int(row["port"]))
    return None


def all_up(router) -> bool:
    try:
        rows = router.show()
    except Exception:  # noqa: BLE001
        return False
    return (all(r["status"] == "up" for r in rows)
            and sum(r["role"] == "primary" for r in rows) == 1)


def streams_from(standby: Node, primary: Node) -> bool:
    try:
        rows = query(standby, "SELECT status, sender_port FROM pg_stat_wal_receiver",
                     db="postgres")
    except psycopg2.Error:
        return False
    return bool(rows) and rows[0][0] == "streaming" and rows[0][1] == primary.port


def wait_until(what: str, predicate, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001
            last = e
        time.sleep(interval)
    raise HarnessError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last})")


# -- the network cut -----------------------------------------------------------------------------


class NetCut:
    """Drops the TCP traffic root's processes (pgrouter) exchange with one node's port, in both
    directions, while the node's replication (user postgres) flows on. Rules carry a comment
    with this process's pid and are removed by heal() (and by the caller's finally)."""

    MARK = "0x5c4a05"

    def __init__(self):
        import os  # noqa: PLC0415
        self.tag = f"pgrouter-chaos-{os.getpid()}"
        self.rules: list[list[str]] = []

    @staticmethod
    def available() -> tuple[bool, str]:
        if not shutil.which("iptables"):
            return False, "iptables is not installed"
        probe = subprocess.run(["iptables", "-w", "-L", "OUTPUT", "-n"], capture_output=True,
                               text=True)
        if probe.returncode != 0:
            return False, f"iptables does not work here: {probe.stderr.strip()[:120]}"
        check = subprocess.run(["iptables", "-w", "-m", "connmark", "-h"], capture_output=True,
                               text=True)
        if check.returncode != 0:
            return False, "the iptables connmark match is missing"
        return True, ""

    def cut(self, port: int) -> None:
        c = ["-m", "comment", "--comment", self.tag]
        self.rules = [
            ["OUTPUT", "-o", "lo", "-p", "tcp", "--dport", str(port), "-m", "owner",
             "--uid-owner", "0", *c, "-j", "CONNMARK", "--set-mark", self.MARK],
            ["OUTPUT", "-o", "lo", "-p", "tcp", "-m", "connmark", "--mark", self.MARK, *c,
             "-j", "DROP"],
        ]
        for rule in self.rules:
            subprocess.run(["iptables", "-w", "-A", *rule], check=True, capture_output=True)

    def heal(self) -> None:
        for rule in reversed(self.rules):
            subprocess.run(["iptables", "-w", "-D", *rule], capture_output=True)
        self.rules = []


# -- restoring three healthy nodes ---------------------------------------------------------------


def node_settings(cluster, node: Node) -> dict:
    return {"port": node.port, **cluster._node_settings(node)}


def make_standby_of(cluster, node: Node, primary: Node, log) -> str:
    """Turn a stopped old primary into a standby of `primary`: pg_rewind, else a fresh base
    backup. Returns how ("rewind" or "basebackup")."""
    source = (f"host=127.0.0.1 port={primary.port} user=postgres password=postgres "
              "dbname=postgres")
    # A freshly promoted primary's control file names its new timeline only after a
    # checkpoint; before it pg_rewind sees one timeline and finds nothing to rewind.
    query(primary, "CHECKPOINT", db="postgres")
    cp = run([pg_bin("pg_rewind"), "-D", str(node.datadir), "--source-server", source],
             as_pg=True, check=False, timeout=300, cwd=str(cluster.base_dir))
    how = "rewind"
    if cp.returncode != 0:
        log(f"  pg_rewind of {node.name} failed ({cp.stderr.strip()[-300:]}); base backup")
        how = "basebackup"
        shutil.rmtree(node.datadir)
        run([pg_bin("pg_basebackup"), "-D", str(node.datadir), "-h", "127.0.0.1", "-p",
             str(primary.port), "-U", "postgres", "-X", "stream", "-c", "fast", "--no-sync"],
            as_pg=True, env=clean_env(PGPASSWORD="postgres"), cwd=str(cluster.base_dir),
            timeout=300)
    # Both copy the source's node.conf (its port and cluster_name) and auto.conf.
    node.write_node_conf(node_settings(cluster, node))
    write_pg_file(node.datadir / "standby.signal", "")
    node.set_primary_conninfo_offline(primary)
    node.start()
    return how


def restore(cluster, router, log, timeout: float = 90) -> None:
    """Three running nodes: the primary pgrouter uses, two standbys streaming from it
    synchronously (quorum), and pgrouter showing all three up."""
    for n in cluster.nodes:
        n.resume()
    primary = wait_until("a primary in pgrouter", lambda: router_primary(router, cluster), 60)
    for n in cluster.nodes:
        if n is primary:
            continue
        if n.is_running() and in_recovery(n) is False:  # an old primary, fenced
            n.stop("fast")
            how = make_standby_of(cluster, n, primary, log)
            log(f"  {n.name}: was a primary, now a standby of {primary.name} ({how})")
        elif not n.is_running():
            if n.role == "primary":  # crashed old primary never started again
                n.start()
                n.stop("fast")
                how = make_standby_of(cluster, n, primary, log)
                log(f"  {n.name}: was a primary, now a standby of {primary.name} ({how})")
            else:
                n.start()
    for n in cluster.nodes:
        if n is not primary:
            wait_until(f"{n.name} streaming from {primary.name}",
                       lambda n=n: streams_from(n, primary), timeout)
    try:
        wait_until("two quorum standbys", lambda: query(
            primary, "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN "
                     "('sync', 'quorum')", db="postgres")[0][0] == 2, timeout)
    except HarnessError as e:
        rows = query(primary, "SELECT application_name, state, sync_state FROM "
                              "pg_stat_replication", db="postgres")
        setting = query(primary, "SHOW synchronous_standby_names", db="postgres")
        raise HarnessError(f"{e}: on {primary.name} {setting}: {rows}") from None
    wait_until("pgrouter showing every node up", lambda: all_up(router), timeout)


# -- the checker ---------------------------------------------------------------------------------


@dataclass
class TrialFacts:
    """What the trial saw, for the checker."""
    trial: int
    fault: str
    old_primary: Node
    acked: set
    failed: set
    unknown: set
    back_at: float | None = None  # wall clock when a fenced old primary could take traffic
    app_sessions_seen: list = field(default_factory=list)  # new app sessions on the old one


def trial_rows(node: Node, trial: int) -> list[tuple]:
    return query(node, "SELECT writer, seq, origin, tli FROM chaos WHERE trial = %s",
                 (trial,))


def sample_new_sessions(node: Node, since_wall: float) -> int:
    """Client sessions (user app) on `node` that began after `since_wall` (unix time)."""
    try:
        return int(query(node, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                               "AND backend_start >= to_timestamp(%s)", (since_wall,),
                         db="postgres")[0][0])
    except psycopg2.Error:
        return 0


def check(cluster, router, facts: TrialFacts) -> list[str]:
    findings: list[str] = []
    primary = router_primary(router, cluster)
    if primary is None:
        return ["no primary in pgrouter after the trial"]
    if in_recovery(primary) is not False:
        findings.append(f"pgrouter's primary {primary.name} is not writable")
    rows = {}
    for n in cluster.nodes:
        if n.is_running() and not n.paused:
            try:
                rows[n.name] = trial_rows(n, facts.trial)
            except psycopg2.Error as e:
                findings.append(f"cannot read {n.name}: {str(e).strip()[:80]}")
    on_primary = [(w, s) for w, s, _, _ in rows.get(primary.name, [])]
    present = set(on_primary)
    lost = facts.acked - present
    if lost:
        where = {(w, s): [name for name, rs in rows.items() if any(
            (r[0], r[1]) == (w, s) for r in rs)] for w, s in sorted(lost)[:3]}
        findings.append(f"{len(lost)} acknowledged commits missing on {primary.name}, "
                        f"e.g. {where} (id: nodes that hold it)")
    for name, node_rows in rows.items():
        ids = [(w, s) for w, s, _, _ in node_rows]
        if len(ids) != len(set(ids)):
            dups = len(ids) - len(set(ids))
            findings.append(f"{dups} duplicate ids on {name}")
    committed_failed = facts.failed & present
    if committed_failed:
        findings.append(f"{len(committed_failed)} writes reported failed are committed, e.g. "
                        f"{sorted(committed_failed)[:3]}")
    findings += _check_split_brain(primary, facts, rows)
    if (facts.old_primary is not primary and facts.app_sessions_seen
            and max(facts.app_sessions_seen) > 0):
        findings.append(f"the fenced {facts.old_primary.name} got "
                        f"{max(facts.app_sessions_seen)} new client sessions")
    for n in cluster.nodes:
        if n is primary or not n.is_running() or in_recovery(n) is not True:
            continue
        try:
            wait_until(f"{n.name} streaming from {primary.name}",
                       lambda n=n: streams_from(n, primary), 30)
        except HarnessError:
            findings.append(f"standby {n.name} does not stream from {primary.name}")
    return findings


def _check_split_brain(primary: Node, facts: TrialFacts, rows: dict) -> list[str]:
    """Rows accepted by the old primary after the new one took writes: for each writer, a row
    that exists only on the old primary (its origin) with a seq above one the writer got
    committed on the new primary. Also: more than one such orphan per writer (each writer has
    at most one commit in flight when its primary fails)."""
    old = facts.old_primary
    if old is primary or old.name not in rows:
        return []
    findings = []
    on_new = {(w, s) for w, s, _, _ in rows[primary.name]}
    first_new: dict[int, int] = {}
    for w, s, origin, _ in rows[primary.name]:
        if origin == primary.name:
            first_new[w] = min(first_new.get(w, s), s)
    orphans: dict[int, list[int]] = {}
    for w, s, origin, _ in rows[old.name]:
        if origin == old.name and (w, s) not in on_new:
            orphans.setdefault(w, []).append(s)
    late = [(w, s) for w, seqs in orphans.items() for s in seqs
            if w in first_new and s > first_new[w]]
    if late:
        findings.append(f"split brain: {old.name} accepted {len(late)} writes after "
                        f"{primary.name} took over, e.g. {sorted(late)[:3]}")
    many = {w: seqs for w, seqs in orphans.items() if len(seqs) > 1}
    if many:
        findings.append(f"{old.name} holds several rows of one writer that never reached "
                        f"{primary.name}: {dict(list(many.items())[:3])}")
    acked_orphans = [(w, s) for w, seqs in orphans.items() for s in seqs
                     if (w, s) in facts.acked]
    if acked_orphans:
        findings.append(f"{len(acked_orphans)} acknowledged commits exist only on the old "
                        f"primary {old.name}")
    return findings
