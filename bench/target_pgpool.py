"""pgpool-II as a benchmark target: streaming-replication mode with all three nodes as backends,
load_balance_mode off by default (everything to the primary, as pgrouter does today; the
optional pgpool-split target turns it on), health checks and the streaming-replication check
as postgres/postgres, clients authenticated with SCRAM from pool_hba.conf + a pool_passwd
holding app's password as text ("app:TEXTapp": pgpool 4.3 must know the password itself to log
in to PostgreSQL with SCRAM; a SCRAM verifier is not enough for it).

Process per client: num_init_children (140) preforked children bound the concurrent clients,
so the 128-client workloads fit and the idle-client test uses at most that many.

For throughput (bench/run) pgpool-II may not fail over: no health checks, no failover on
backend errors, DISALLOW_TO_FAILOVER. (With a 1 s health check, a primary slow to answer on the
busy 2-core machine got detached mid-run, after which pgpool-II had no primary: selects went to
the standbys and TPC-B failed with "cannot execute UPDATE in a read-only transaction".)

With failover=True (bench/failover): health_check_period 1 s (timeout 2 s, no retries),
failover on backend error and shutdown, and failover_command runs a generated script that
promotes the new main node with pg_promote() and repoints every other standby (ALTER SYSTEM
SET primary_conninfo + pg_reload_conf()).
"""
from __future__ import annotations

import hashlib

import common  # first: puts tests/harness on sys.path
import pgcluster  # noqa: E402
from targets import BenchEnv, DaemonTarget

NUM_INIT_CHILDREN = 140
PCP_USER, PCP_PASSWORD = "pcpadmin", "pcpadmin"

PGPOOL_CONF = """\
# written by bench/target_pgpool.py
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = {port}
socket_dir = '{dir}'
pcp_listen_addresses = '127.0.0.1'
pcp_port = {pcp_port}
pcp_socket_dir = '{dir}'
wd_ipc_socket_dir = '{dir}'
{backends}
enable_pool_hba = on
pool_passwd = '{dir}/pool_passwd'
authentication_timeout = 30
allow_clear_text_frontend_auth = off
ssl = off
num_init_children = {children}
max_pool = 1
reserved_connections = 0
listen_backlog_multiplier = 4
serialize_accept = off
child_life_time = 0
child_max_connections = 0
connection_life_time = 0
client_idle_limit = 0
connection_cache = on
log_destination = 'stderr'
logging_collector = off
log_min_messages = warning
log_connections = off
log_disconnections = off
log_statement = off
log_per_node_statement = off
pid_file_name = '{dir}/pgpool.pid'
logdir = '{dir}'
load_balance_mode = {load_balance}
statement_level_load_balance = off
disable_load_balance_on_write = 'transaction'
sr_check_period = 5
sr_check_user = 'postgres'
sr_check_password = 'postgres'
sr_check_database = 'postgres'
delay_threshold = 0
health_check_period = {health_period}
health_check_timeout = 2
health_check_user = 'postgres'
health_check_password = 'postgres'
health_check_database = 'postgres'
health_check_max_retries = 0
health_check_retry_delay = 1
connect_timeout = 2000
failover_command = '{failover_command}'
follow_primary_command = ''
failover_on_backend_error = {fo}
failover_on_backend_shutdown = {fo}
search_primary_node_timeout = 30
auto_failback = off
use_watchdog = off
memory_cache_enabled = off
"""

BACKEND = """\
backend_hostname{i} = '127.0.0.1'
backend_port{i} = {port}
backend_weight{i} = 1
backend_data_directory{i} = '{datadir}'
backend_flag{i} = '{flag}'
backend_application_name{i} = '{name}'
"""

POOL_HBA = """\
# written by bench/target_pgpool.py
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
"""

# failover_command arguments: %d failed node id, %P old primary id, %m new main id,
# %H new main host, %r new main port.
FAILOVER_SH = """\
#!/bin/sh
# written by bench/target_pgpool.py: pgpool-II failover_command for bench/failover
failed=$1 old_primary=$2 new_main=$3 new_host=$4 new_port=$5
log={dir}/failover.log
echo "$(date +%T.%N) failover: failed=$failed old_primary=$old_primary new_main=$new_main $new_host:$new_port" >>"$log"
[ "$failed" = "$old_primary" ] || exit 0   # a standby failed: nothing to promote
[ "$new_main" -ge 0 ] 2>/dev/null || exit 0
export PGPASSWORD=postgres PGCONNECT_TIMEOUT=5
psql -XAtq -h "$new_host" -p "$new_port" -U postgres -d postgres \\
     -c "SELECT pg_promote(true, 60)" >>"$log" 2>&1 || exit 1
for port in {ports}; do
  [ "$port" = "$new_port" ] && continue
  conninfo="host=$new_host port=$new_port user=postgres password=postgres connect_timeout=5"
  psql -XAtq -h 127.0.0.1 -p "$port" -U postgres -d postgres \\
       -c "ALTER SYSTEM SET primary_conninfo = '$conninfo application_name=node_$port'" \\
       -c "SELECT pg_reload_conf()" >>"$log" 2>&1 \\
    && echo "$(date +%T.%N) repointed $port to $new_port" >>"$log"
done
echo "$(date +%T.%N) failover done" >>"$log"
exit 0
"""


class PgpoolTarget(DaemonTarget):
    mem_kind = "pss"

    def __init__(self, load_balance: bool = False, failover: bool = False):
        super().__init__()
        self.load_balance = load_balance
        self.failover = failover
        self.name = "pgpool-split" if load_balance else "pgpool"
        self.label = "pgpool-II split reads" if load_balance else "pgpool-II"
        self.daemon: common.Daemon | None = None
        self.pcp_port = 0
        self.dir = None

    def start(self, env: BenchEnv) -> None:
        d = self.dir = env.workdir / self.name
        d.mkdir(exist_ok=True)
        common.chown(d)
        self.port = pgcluster.free_port()
        self.pcp_port = pgcluster.free_port()
        nodes = sorted(env.cluster.nodes, key=lambda n: n.name)
        flag = "ALLOW_TO_FAILOVER" if self.failover else "DISALLOW_TO_FAILOVER"
        backends = "".join(BACKEND.format(i=i, port=n.port, datadir=n.datadir, name=n.name,
                                          flag=flag) for i, n in enumerate(nodes))
        failover_command = ""
        if self.failover:
            script = common.write_file(d / "failover.sh", FAILOVER_SH.format(
                dir=d, ports=" ".join(str(n.port) for n in nodes)), 0o755)
            failover_command = f"{script} %d %P %m %H %r"
        conf = common.write_file(d / "pgpool.conf", PGPOOL_CONF.format(
            port=self.port, pcp_port=self.pcp_port, dir=d, backends=backends,
            children=NUM_INIT_CHILDREN, load_balance="on" if self.load_balance else "off",
            failover_command=failover_command, health_period=1 if self.failover else 0,
            fo="on" if self.failover else "off"))
        hba = common.write_file(d / "pool_hba.conf", POOL_HBA)
        common.write_file(d / "pool_passwd", "app:TEXTapp\npostgres:TEXTpostgres\n")
        pcp_hash = hashlib.md5(PCP_PASSWORD.encode()).hexdigest()
        pcp = common.write_file(d / "pcp.conf", f"{PCP_USER}:{pcp_hash}\n")
        common.write_file(d / "pcppass", f"*:*:{PCP_USER}:{PCP_PASSWORD}\n")
        self.daemon = common.Daemon(self.name, ["pgpool", "-n", "-D", "-f", str(conf), "-a",
                                                str(hba), "-F", str(pcp)], d / "pgpool.log", d)
        self.daemon.start()
        common.wait_login(self.port, 60, self.daemon)

    def max_idle_clients(self) -> int | None:
        return NUM_INIT_CHILDREN

    def pcp(self, command: str, *args: str, timeout: float = 30) -> str:
        """Run a pcp_* command against this pgpool (e.g. pcp("pcp_attach_node", "-n", "0"))."""
        env = pgcluster.clean_env(PCPPASSFILE=str(self.dir / "pcppass"))
        cp = common.run_cmd([command, "-h", "127.0.0.1", "-p", str(self.pcp_port), "-U",
                             PCP_USER, "-w", *args], timeout=timeout, env=env)
        return cp.stdout

    def failover_log(self) -> str:
        try:
            return (self.dir / "failover.log").read_text()
        except OSError:
            return ""

    def describe(self) -> str:
        return (f"pgpool-II, streaming_replication, 3 backends, load_balance_mode="
                f"{'on' if self.load_balance else 'off'}, num_init_children="
                f"{NUM_INIT_CHILDREN}, max_pool=1"
                + (", failover on" if self.failover else ", no health check/failover"))


__all__ = ["PgpoolTarget", "NUM_INIT_CHILDREN"]
