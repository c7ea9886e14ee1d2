"""TLS towards backends: with server_mode = verify-full, every connection pgrouter makes to
PostgreSQL (client sessions and health probes) is encrypted (pg_stat_ssl), and a backend
whose certificate names another host is refused. The nodes get ssl = on for this module
only (ALTER SYSTEM + reload; reset afterwards)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import psycopg2
import pytest

from proc_tools import IS_ROOT, chown_pg
from tls_support import Certs

SSL_SETTINGS = ("ssl", "ssl_cert_file", "ssl_key_file")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("backend-tls"))


def use_certificate(cluster, certs, name: str) -> None:
    """Every node serves certs/<name>.crt (copied into its data directory, owned by the
    server's user, key mode 0600) with ssl = on."""
    for node in cluster.nodes:
        crt = node.datadir / f"pgr_test_{name}.crt"
        key = node.datadir / f"pgr_test_{name}.key"
        shutil.copyfile(certs.path(f"{name}.crt"), crt)
        shutil.copyfile(certs.path(f"{name}.key"), key)
        key.chmod(0o600)
        if IS_ROOT:
            chown_pg(crt)
            chown_pg(key)
        node.sql(f"ALTER SYSTEM SET ssl_cert_file = '{crt}'")
        node.sql(f"ALTER SYSTEM SET ssl_key_file = '{key}'")
        node.sql("ALTER SYSTEM SET ssl = on")
        node.sql("SELECT pg_reload_conf()")
    for node in cluster.nodes:
        deadline = time.monotonic() + 20
        while node.sql_value("SHOW ssl") != "on" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert node.sql_value("SHOW ssl") == "on", node.name


@pytest.fixture(scope="module")
def ssl_cluster(cluster, certs):
    use_certificate(cluster, certs, "server")
    yield cluster
    for node in cluster.nodes:
        for setting in SSL_SETTINGS:
            node.sql(f"ALTER SYSTEM RESET {setting}")
        node.sql("SELECT pg_reload_conf()")


def tls_extra(certs, mode: str = "verify-full") -> str:
    return f'[tls]\nserver_mode = "{mode}"\nserver_ca_file = "{certs.path("ca.crt")}"\n'


def unencrypted_pgrouter_connections(node) -> int:
    return int(node.sql_value(
        "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
        "WHERE a.application_name IN ('pgrouter-health', 'pgrouter-failover') "
        "   OR a.usename = 'app' AND NOT s.ssl"))


def test_verify_full_encrypts_sessions_and_probes(ssl_cluster, auth_users, certs):
    with ssl_cluster.pgrouter(name="pgrouter_backend_tls", users=auth_users,
                              extra=tls_extra(certs)) as r:
        c = psycopg2.connect(r.dsn(sslmode="disable"))
        try:
            c.autocommit = True
            with c.cursor() as cur:
                # A read (a standby may serve it) and a write (the primary): both encrypted.
                cur.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                ssl_on, version = cur.fetchone()
                assert ssl_on is True and version.startswith("TLSv1."), version
                cur.execute("CREATE TEMP TABLE t AS SELECT ssl FROM pg_stat_ssl "
                            "WHERE pid = pg_backend_pid()")
                cur.execute("SELECT ssl FROM t")
                assert cur.fetchone() == (True,)
        finally:
            c.close()
        # Every connection pgrouter holds on every node is encrypted, probes included.
        for node in ssl_cluster.nodes:
            rows = node.sql("SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
                            "WHERE a.application_name = 'pgrouter-health'")
            assert rows and all(row[0] in (True, "t") for row in rows), (node.name, rows)


def test_backend_certificate_for_another_host_is_refused(ssl_cluster, auth_users, certs):
    # No pooling: the first client's connection must not stay open.
    with ssl_cluster.pgrouter(name="pgrouter_backend_wronghost", users=auth_users,
                              extra=tls_extra(certs) + '\n[pool]\nmode = "none"\n') as r:
        ok = psycopg2.connect(r.dsn())
        ok.close()
        use_certificate(ssl_cluster, certs, "wronghost")
        try:
            with pytest.raises(psycopg2.OperationalError) as ei:
                psycopg2.connect(r.dsn(connect_timeout=30))
            assert "TLS with backend" in str(ei.value), ei.value
            deadline = time.monotonic() + 15
            while "address mismatch" not in r.log_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            log = r.log_text()
            assert "certificate verification failed: IP address mismatch" in log, log[-3000:]
            assert int(ssl_cluster.primary.sql_value(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                "AND application_name <> 'pgrouter-health'")) == 0
        finally:
            use_certificate(ssl_cluster, certs, "server")


def test_require_without_ca_accepts_any_certificate(ssl_cluster, auth_users, certs):
    with ssl_cluster.pgrouter(name="pgrouter_backend_require", users=auth_users,
                              extra='[tls]\nserver_mode = "require"\n') as r:
        c = psycopg2.connect(r.dsn())
        try:
            with c.cursor() as cur:
                cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                assert cur.fetchone() == (True,)
        finally:
            c.close()


def test_channel_binding_on_both_legs(ssl_cluster, auth_users, certs):
    """The client binds to pgrouter's certificate; pgrouter binds its own SCRAM exchange to
    the backend's certificate (PostgreSQL over TLS offers SCRAM-SHA-256-PLUS and refuses a
    client that could bind but does not), passing the recovered ClientKey through."""
    extra = (certs.client_tls_toml("allow")
             + f'server_mode = "verify-full"\nserver_ca_file = "{certs.path("ca.crt")}"\n')
    with ssl_cluster.pgrouter(name="pgrouter_both_legs", users=auth_users, extra=extra) as r:
        env = dict(os.environ, PGPASSWORD="app", PGCONNECT_TIMEOUT="10")
        cp = subprocess.run(
            ["psql", "-XAtq", "-c", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
             f"host=127.0.0.1 port={r.port} user=app dbname=app sslmode=verify-full "
             f"sslrootcert={certs.path('ca.crt')} channel_binding=require"],
            capture_output=True, text=True, timeout=30, env=env)
        assert cp.returncode == 0, cp.stderr
        assert cp.stdout.strip() == "t"
        assert auth_users["app"].startswith("SCRAM-SHA-256$")  # pass-through, not a password
