"""TLS towards clients: SSLRequest answered 'S', psql with sslmode=require and verify-full,
client_mode = require refusing plaintext, the TLS 1.2 floor, PostgreSQL 17's direct TLS with
ALPN, plaintext injected around the handshake (CVE-2021-23214), and certificates renewed by a
reload while a TLS session stays open."""
from __future__ import annotations

import os
import signal
import socket
import ssl
import struct
import subprocess
import time

import psycopg2
import pytest
from conftest import TIMEOUT_SCALE

import pgwire
from tls_support import Certs, client_context, closed_without_answer, ssl_request, start_tls


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_router(cluster, auth_users, certs, pgrouter_binary):
    r = cluster.pgrouter(name="pgrouter_tls", users=auth_users, extra=certs.client_tls_toml("allow"))
    yield r
    r.stop()


@pytest.fixture(scope="module")
def require_router(cluster, auth_users, certs, pgrouter_binary):
    r = cluster.pgrouter(name="pgrouter_tls_require", users=auth_users,
                         extra=certs.client_tls_toml("require"))
    yield r
    r.stop()


@pytest.fixture(scope="module")
def trust_tls_router(cluster, auth_users, certs, pgrouter_binary):
    """Method trust: an injected plaintext startup would log in without a password."""
    r = cluster.pgrouter(name="pgrouter_tls_trust", users=auth_users, method="trust",
                         ready_login=("plainuser", None, "app"),
                         extra=certs.client_tls_toml("allow"))
    yield r
    r.stop()


def psql(router, conninfo: str, *sql: str, password: str = "app") -> subprocess.CompletedProcess:
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10")
    env.pop("PGSSLMODE", None)
    commands = [arg for s in sql for arg in ("-c", s)]
    return subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", *commands,
                           f"port={router.port} user=app dbname=app {conninfo}"],
                          capture_output=True, text=True, timeout=30, env=env)


def table_exists(cluster, name: str) -> bool:
    c = psycopg2.connect(cluster.primary.dsn())
    try:
        with c.cursor() as cur:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
            return cur.fetchone()[0]
    finally:
        c.close()


def test_ssl_request_answered_s(tls_router):
    with pgwire.Conn("127.0.0.1", tls_router.port) as c:
        assert ssl_request(c) == b"S"


def test_gssenc_request_answered_n(tls_router):
    with pgwire.Conn("127.0.0.1", tls_router.port) as c:
        c.send(struct.pack("!II", 8, 80877104))
        assert c.sock.recv(1) == b"N"
        c.login("app", "app", "app")
        assert c.simple_query("SELECT 7") == [("7",)]


def test_psql_sslmode_require(tls_router):
    cp = psql(tls_router, "host=127.0.0.1 sslmode=require",
              "SELECT 40 + 2", "\\conninfo")
    assert cp.returncode == 0, cp.stderr
    assert "42" in cp.stdout
    assert "SSL connection (protocol: TLSv1." in cp.stdout, cp.stdout


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_psql_sslmode_verify_full(tls_router, certs, host):
    cp = psql(tls_router, f"host={host} sslmode=verify-full sslrootcert={certs.path('ca.crt')}",
              "SELECT current_user")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "app"


def test_verify_full_refuses_a_certificate_for_another_host(cluster, auth_users, certs):
    """A client that checks host names refuses pgrouter presenting the wrong one."""
    extra = (f'[tls]\nclient_mode = "allow"\ncert_file = "{certs.path("wronghost.crt")}"\n'
             f'key_file = "{certs.path("wronghost.key")}"\n')
    with cluster.pgrouter(name="pgrouter_tls_wronghost", users=auth_users, extra=extra) as r:
        cp = psql(r, f"host=127.0.0.1 sslmode=verify-full sslrootcert={certs.path('ca.crt')}",
                  "SELECT 1")
        assert cp.returncode != 0
        assert "does not match host name" in cp.stderr or "certificate" in cp.stderr, cp.stderr


def test_plaintext_refused_when_tls_required(require_router):
    cp = psql(require_router, "host=127.0.0.1 sslmode=disable", "SELECT 1")
    assert cp.returncode != 0
    assert "TLS is required" in cp.stderr, cp.stderr
    with pgwire.Conn("127.0.0.1", require_router.port) as c:
        with pytest.raises(pgwire.ServerError) as ei:
            c.login("app", "app", "app")
    assert ei.value.sqlstate == "28000"
    assert 'user "app", database "app", no encryption' in ei.value.message
    ok = psql(require_router, "host=127.0.0.1 sslmode=require", "SELECT 1")
    assert ok.returncode == 0, ok.stderr


def test_tls_1_1_refused_tls_1_2_accepted(tls_router):
    old = client_context(minimum=ssl.TLSVersion.TLSv1, maximum=ssl.TLSVersion.TLSv1_1)
    try:
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with pgwire.Conn("127.0.0.1", tls_router.port) as c:
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            start_tls(c, old)
            c.login("app", "app", "app")
    cp = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{tls_router.port}",
                         "-starttls", "postgres", "-tls1_1"],
                        input="", capture_output=True, text=True, timeout=30)
    assert "Cipher is (NONE)" in cp.stdout or cp.returncode != 0, cp.stdout
    with pgwire.Conn("127.0.0.1", tls_router.port) as c:
        start_tls(c, client_context(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_2))
        assert c.sock.version() == "TLSv1.2"
        c.login("app", "app", "app")
        assert c.simple_query("SELECT 1") == [("1",)]


def test_plaintext_in_the_same_write_as_ssl_request_closes(trust_tls_router, cluster):
    table = "injected_same_write"
    packet = (struct.pack("!II", 8, pgwire.SSL_REQUEST_CODE)
              + pgwire.startup_packet({"user": "plainuser", "database": "app"})
              + pgwire.query_message(f"CREATE TABLE {table} (i int)"))
    with pgwire.Conn("127.0.0.1", trust_tls_router.port) as c:
        c.send(packet)
        err = c.expect_error_or_close()
        assert err is None or err.get("C") == "08P01", err
        assert c.closed_by_peer()
    assert not table_exists(cluster, table)
    # The same bytes after a plain startup would have run: the check is what stopped them.
    with pgwire.Conn("127.0.0.1", trust_tls_router.port) as c:
        c.login("plainuser", None, "app")
        assert c.simple_query("SELECT 1") == [("1",)]


def test_plaintext_after_the_s_answer_closes(trust_tls_router, cluster):
    table = "injected_after_s"
    with pgwire.Conn("127.0.0.1", trust_tls_router.port) as c:
        assert ssl_request(c) == b"S"
        c.send(pgwire.startup_packet({"user": "plainuser", "database": "app"})
               + pgwire.query_message(f"CREATE TABLE {table} (i int)"))
        assert closed_without_answer(c.sock)
    assert not table_exists(cluster, table)


def conn_over(sock) -> pgwire.Conn:
    """A pgwire.Conn speaking over an already connected (TLS) socket."""
    c = pgwire.Conn.__new__(pgwire.Conn)
    c.sock, c.buf, c.backend_key, c.params, c.auth_requests, c.negotiated = sock, b"", None, {}, [], None
    return c


def test_direct_tls_with_alpn_postgresql(tls_router):
    raw = socket.create_connection(("127.0.0.1", tls_router.port), timeout=10)
    tls = client_context(alpn=["postgresql"]).wrap_socket(raw, server_hostname="127.0.0.1")
    assert tls.selected_alpn_protocol() == "postgresql"
    with conn_over(tls) as c:
        c.login("app", "app", "app")
        assert c.simple_query("SELECT 3") == [("3",)]


def test_direct_tls_without_alpn_gets_protocol_error(tls_router):
    raw = socket.create_connection(("127.0.0.1", tls_router.port), timeout=10)
    tls = client_context().wrap_socket(raw, server_hostname="127.0.0.1")
    with conn_over(tls) as c:
        err = c.expect_error_or_close()
    assert err is not None and err.get("C") == "08P01", err
    assert "ALPN" in err.get("M", "")


def test_direct_tls_with_another_alpn_protocol_is_refused(tls_router):
    raw = socket.create_connection(("127.0.0.1", tls_router.port), timeout=10)
    try:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            client_context(alpn=["http/1.1"]).wrap_socket(raw, server_hostname="127.0.0.1")
    finally:
        raw.close()


def _peer_certificate(router) -> bytes:
    with pgwire.Conn("127.0.0.1", router.port) as c:
        start_tls(c, client_context())
        return c.sock.getpeercert(binary_form=True)


def test_reload_renews_the_certificate_without_dropping_sessions(cluster, auth_users, certs):
    live_crt = certs.dir / "live.crt"
    live_key = certs.dir / "live.key"
    live_crt.write_bytes((certs.dir / "server.crt").read_bytes())
    live_key.write_bytes((certs.dir / "server.key").read_bytes())
    extra = (f'[tls]\nclient_mode = "allow"\ncert_file = "{live_crt}"\nkey_file = "{live_key}"\n')
    with cluster.pgrouter(name="pgrouter_tls_reload", users=auth_users, extra=extra) as r:
        before = _peer_certificate(r)
        session = pgwire.Conn("127.0.0.1", r.port)
        start_tls(session, client_context())
        session.login("app", "app", "app")
        assert session.simple_query("SELECT 1") == [("1",)]

        crt, key = certs.issue("renewed", "localhost", "IP:127.0.0.1,DNS:localhost")
        live_crt.write_bytes(crt.read_bytes())
        live_key.write_bytes(key.read_bytes())
        r.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.2)
            after = _peer_certificate(r)
        assert after != before, "the renewed certificate was not served after SIGHUP"
        assert after == ssl.PEM_cert_to_DER_cert(crt.read_text())
        # The session opened before the reload carries on with its old context.
        assert session.simple_query("SELECT 2") == [("2",)]
        session.close()

        # A broken key on reload: rejected, the applied certificate stays.
        live_key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        r.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "tls.key_file" not in r.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "tls.key_file" in r.log_text()
        assert "broken" not in r.log_text()
        assert _peer_certificate(r) == after


def test_missing_certificate_file_is_a_config_error(certs, tmp_path, pgrouter_binary):
    config = tmp_path / "bad.toml"
    config.write_text('[proxy]\nlisten = ["127.0.0.1:1"]\n\n'
                      f'[tls]\nclient_mode = "require"\ncert_file = "{tmp_path / "nope.crt"}"\n'
                      f'key_file = "{certs.path("server.key")}"\n'
                      '\n[[backends]]\nhost = "127.0.0.1"\n')
    cp = subprocess.run([str(pgrouter_binary), "--config", str(config)], capture_output=True,
                        text=True, timeout=30)
    out = cp.stderr + cp.stdout
    assert cp.returncode != 0
    assert "tls.cert_file" in out and "nope.crt" in out, out
    assert "PRIVATE KEY" not in out


def test_scram_channel_binding_required_by_the_client(tls_router):
    cp = psql(tls_router, "host=127.0.0.1 sslmode=require channel_binding=require",
              "SELECT current_user")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "app"
    # Over plaintext there is nothing to bind to: libpq refuses.
    cp = psql(tls_router, "host=127.0.0.1 sslmode=disable channel_binding=require", "SELECT 1")
    assert cp.returncode != 0


def test_channel_binding_wrong_password_and_unknown_user_look_alike(tls_router):
    wrong = psql(tls_router, "host=127.0.0.1 sslmode=require channel_binding=require", "SELECT 1",
                 password="wrong")
    assert wrong.returncode != 0
    assert 'password authentication failed for user "app"' in wrong.stderr, wrong.stderr
    env_user = "nosuchuser"
    cp = subprocess.run(["psql", "-XAtq", "-c", "SELECT 1",
                         f"host=127.0.0.1 port={tls_router.port} user={env_user} dbname=app "
                         "sslmode=require channel_binding=require"],
                        capture_output=True, text=True, timeout=30,
                        env=dict(os.environ, PGPASSWORD="wrong", PGCONNECT_TIMEOUT="10"))
    assert cp.returncode != 0
    assert f'password authentication failed for user "{env_user}"' in cp.stderr, cp.stderr
    with pgwire.Conn("127.0.0.1", tls_router.port) as c:
        start_tls(c, client_context())
        with pytest.raises(pgwire.ServerError) as ei:
            c.login("app", "wrong", "app")
    assert ei.value.sqlstate == "28P01"
    with pgwire.Conn("127.0.0.1", tls_router.port) as c:
        start_tls(c, client_context())
        with pytest.raises(pgwire.ServerError) as unknown:
            c.login(env_user, "wrong", "app")
    assert unknown.value.sqlstate == "28P01"
    assert unknown.value.message.replace(env_user, "app") == ei.value.message


def _client_hello(ctx: ssl.SSLContext) -> bytes:
    """The first flight a TLS client sends (its ClientHello), made with memory BIOs."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def _vanish(sock: socket.socket) -> None:
    """Close with a RST, as a killed client does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def test_clients_vanishing_mid_handshake_leave_nothing(cluster, auth_users, certs):
    """Clients that disappear at every point of the TLS handshake free their slot at once (a
    20-slot router with a 60 s login timeout serves a normal client after 400 of them) and
    memory stops growing once the same disconnects repeat."""
    from proc_tools import proc_status_kb  # noqa: PLC0415

    r = cluster.pgrouter(name="pgrouter_tls_vanish", users=auth_users,
                         extra=certs.client_tls_toml("allow"), max_client_connections=20,
                         client_login_timeout="60s")
    ctx = client_context()
    hello = _client_hello(ctx)
    assert hello[:1] == b"\x16", hello[:5]  # a TLS handshake record

    def after_s_answer():
        c = pgwire.Conn("127.0.0.1", r.port, timeout=10)
        assert ssl_request(c) == b"S"
        return c

    def at_s(c):  # nothing after the 'S'
        pass

    def mid_hello(c):  # half a ClientHello
        c.sock.sendall(hello[: len(hello) // 2])

    def after_hello(c):  # the whole ClientHello, the ServerHello read in part
        c.sock.sendall(hello)
        c.sock.recv(100)

    def after_handshake(c):  # a finished handshake, no startup packet
        c.sock = ctx.wrap_socket(c.sock, server_hostname="127.0.0.1")

    rss = []
    try:
        for round_no in range(100):
            for step in (at_s, mid_hello, after_hello, after_handshake):
                c = after_s_answer()
                step(c)
                _vanish(c.sock)
            if round_no in (20, 99):
                time.sleep(0.5)
                rss.append(proc_status_kb(r.pid, "VmRSS"))
        # 400 vanished clients, 20 slots, 60 s to log in: every slot came back at once.
        t0 = time.monotonic()
        with r.connect(sslmode="require") as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT 6 * 7")
                assert cur.fetchone() == (42,)
        conn.close()
        assert time.monotonic() - t0 < 10 * TIMEOUT_SCALE  # far below the 60 s a held slot would take
        # Generous: ASan's quarantine (256 MB by default) holds freed memory for a while.
        bound = (256 if TIMEOUT_SCALE > 1 else 16) * 1024
        assert rss[1] - rss[0] < bound, rss
    finally:
        r.stop()
