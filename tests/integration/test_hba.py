"""[auth] hba_file: pg_hba.conf rules checked before authentication — users and addresses
not allowed get 28000 with PostgreSQL's wording, hostssl refuses plaintext clients, reject
lines, the cert method with client certificates, and a bad file refused at start with its
file and line."""
from __future__ import annotations

import os
import subprocess

import pytest

import pgwire
from tls_support import Certs, client_context, start_tls


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    c = Certs(tmp_path_factory.mktemp("hba-tls"))
    c.issue("client-plainuser", "plainuser")
    c.issue("client-app", "app")
    return c


@pytest.fixture(scope="module")
def hba_router(cluster, auth_users, certs, pgrouter_binary, tmp_path_factory):
    hba = tmp_path_factory.mktemp("hba") / "pg_hba.conf"
    hba.write_text(
        "# TYPE  DATABASE USER       ADDRESS       METHOD\n"
        "hostssl all      app        127.0.0.1/32  scram-sha-256\n"
        "hostssl all      plainuser  127.0.0.1/32  cert\n"
        "host    all      plainuser  127.0.0.1/32  scram-sha-256\n"
        "host    all      md5user    10.0.0.0/8    md5\n"
        "host    all      postgres   all           reject\n")
    r = cluster.pgrouter(name="pgrouter_hba", users=auth_users, auth_extra=f'hba_file = "{hba}"',
                         extra=certs.client_tls_toml("allow", f'ca_file = "{certs.path("ca.crt")}"\n'))
    yield r
    r.stop()


def refused(router, user, password, db="app", tls=False) -> pgwire.ServerError:
    with pgwire.Conn("127.0.0.1", router.port) as c:
        if tls:
            start_tls(c, client_context())
        with pytest.raises(pgwire.ServerError) as ei:
            c.login(user, password, db)
        # Refused before authentication: no password was asked for.
        assert c.auth_requests == []
    return ei.value


def psql(router, conninfo: str, user: str, password: str | None = None):
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    env.pop("PGPASSWORD", None)
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(["psql", "-XAtqw", "-c", "SELECT current_user",
                           f"host=127.0.0.1 port={router.port} user={user} dbname=app {conninfo}"],
                          capture_output=True, text=True, timeout=30, env=env)


def test_hostssl_refuses_plaintext(hba_router):
    err = refused(hba_router, "app", "app")
    assert err.sqlstate == "28000"
    assert err.message == ('no pg_hba.conf entry for host "127.0.0.1", user "app", database "app", '
                           'no encryption')
    cp = psql(hba_router, "sslmode=disable", "app", "app")
    assert cp.returncode != 0 and "no pg_hba.conf entry" in cp.stderr, cp.stderr


def test_hostssl_allows_tls(hba_router):
    cp = psql(hba_router, "sslmode=require", "app", "app")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "app"


def test_address_not_allowed(hba_router):
    err = refused(hba_router, "md5user", "md5pass")
    assert err.sqlstate == "28000"
    assert err.message == ('no pg_hba.conf entry for host "127.0.0.1", user "md5user", '
                           'database "app", no encryption')


def test_user_not_listed(hba_router):
    err = refused(hba_router, "nobody", "x", tls=True)
    assert err.sqlstate == "28000"
    assert err.message == ('no pg_hba.conf entry for host "127.0.0.1", user "nobody", '
                           'database "app", SSL encryption')


def test_reject_line(hba_router):
    err = refused(hba_router, "postgres", "postgres")
    assert err.sqlstate == "28000"
    assert err.message.startswith('pg_hba.conf rejects connection for host "127.0.0.1", user "postgres"')


def test_plaintext_line_still_authenticates(hba_router):
    with pgwire.Conn("127.0.0.1", hba_router.port) as c:
        c.login("plainuser", "plainpass", "app")
        assert c.auth_requests[0] == pgwire.AUTH_SASL
        assert c.simple_query("SELECT current_user") == [("plainuser",)]
    err = None
    with pgwire.Conn("127.0.0.1", hba_router.port) as c:
        with pytest.raises(pgwire.ServerError) as ei:
            c.login("plainuser", "wrong", "app")
        err = ei.value
    assert err.sqlstate == "28P01"


def test_cert_method_logs_in_with_the_client_certificate(hba_router, certs):
    cert = f"sslcert={certs.path('client-plainuser.crt')} sslkey={certs.path('client-plainuser.key')}"
    cp = psql(hba_router, f"sslmode=verify-full sslrootcert={certs.path('ca.crt')} {cert}", "plainuser")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "plainuser"


def test_cert_method_refuses_a_certificate_for_another_user(hba_router, certs):
    cert = f"sslcert={certs.path('client-app.crt')} sslkey={certs.path('client-app.key')}"
    cp = psql(hba_router, f"sslmode=require {cert}", "plainuser")
    assert cp.returncode != 0
    assert 'certificate authentication failed for user "plainuser"' in cp.stderr, cp.stderr
    # No certificate at all: the same.
    err = refused(hba_router, "plainuser", None, tls=True)
    assert err.sqlstate == "28000"
    assert err.message == 'certificate authentication failed for user "plainuser"'


def test_bad_hba_file_names_file_and_line(tmp_path, pgrouter_binary):
    hba = tmp_path / "bad_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 md5\nhost all +admins all md5\n")
    config = tmp_path / "bad.toml"
    config.write_text(f'[proxy]\nlisten = ["127.0.0.1:1"]\n\n[auth]\nhba_file = "{hba}"\n\n'
                      '[[backends]]\nhost = "127.0.0.1"\n')
    cp = subprocess.run([str(pgrouter_binary), "--config", str(config)], capture_output=True,
                        text=True, timeout=30)
    assert cp.returncode != 0
    assert f"{hba}:2: hba_file: group membership (+role) is not supported" in cp.stderr + cp.stdout
