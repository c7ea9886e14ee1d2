"""Secrets: auth_password_env reads a password from the environment (auth_query then works),
a missing variable is a config error naming it, and no secret, hash or key reaches the log,
even at debug level and after failed logins."""
from __future__ import annotations

import subprocess

import psycopg2
import pytest

import pgwire
from tls_support import Certs, client_context, start_tls


def test_auth_password_from_the_environment(cluster, pgrouter_binary):
    with cluster.pgrouter(name="pgrouter_env", users=None, auth_user="postgres",
                          auth_extra='auth_password_env = "PGR_TEST_AUTH_PASSWORD"',
                          env={"PGR_TEST_AUTH_PASSWORD": "postgres"}) as r:
        c = psycopg2.connect(r.dsn())
        with c.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone() == ("app",)
        c.close()


def test_unset_variable_is_a_config_error(tmp_path, pgrouter_binary):
    config = tmp_path / "env.toml"
    config.write_text('[proxy]\nlisten = ["127.0.0.1:1"]\n\n[auth]\nauth_user = "postgres"\n'
                      'auth_password_env = "PGR_TEST_SURELY_UNSET"\n\n[[backends]]\nhost = "127.0.0.1"\n')
    cp = subprocess.run([str(pgrouter_binary), "--config", str(config)], capture_output=True,
                        text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert cp.returncode != 0
    assert ("auth.auth_password_env: environment variable PGR_TEST_SURELY_UNSET is not set or empty"
            in cp.stderr + cp.stdout)


def test_no_secret_in_the_log(cluster, auth_users, tmp_path_factory):
    certs = Certs(tmp_path_factory.mktemp("secrets-tls"))
    key_body = (certs.dir / "server.key").read_text().splitlines()[1]
    with cluster.pgrouter(name="pgrouter_secrets", users=auth_users, log_level="debug",
                          extra=certs.client_tls_toml("allow")) as r:
        for user, password in [("app", "app"), ("app", "wrong-pw-zz9"), ("plainuser", "plainpass"),
                               ("md5user", "md5pass"), ("nosuch", "wrong-pw-zz9")]:
            for tls in (False, True):
                with pgwire.Conn("127.0.0.1", r.port) as c:
                    if tls:
                        start_tls(c, client_context())
                    try:
                        c.login(user, password, "app")
                        c.simple_query("SELECT 1")
                    except pgwire.ServerError:
                        pass
        log = r.log_text()
    secrets = ["wrong-pw-zz9", "plainpass", "md5pass", key_body,
               auth_users["md5user"], auth_users["app"], auth_users["app"].split("$")[2]]
    for secret in secrets:
        assert secret not in log, f"a secret reached the log: {secret[:12]}..."
    assert "password authentication failed" in log  # the failures were logged, without secrets
