"""Certificates for the TLS tests, made with the openssl command line: a CA, a server
certificate for 127.0.0.1/localhost, one for a wrong host name, and client certificates."""
from __future__ import annotations

import socket
import ssl
import struct
import subprocess
from pathlib import Path

import pgwire


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Certs:
    """Files in `directory`: ca.crt/ca.key, server.crt/.key (CN localhost, SAN 127.0.0.1 and
    localhost), wronghost.crt/.key (SAN elsewhere.invalid only), client-<user>.crt/.key."""

    def __init__(self, directory: Path):
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=pgrouter test CA", "-keyout", "ca.key", "-out", "ca.crt",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
        self.issue("server", "localhost", "IP:127.0.0.1,DNS:localhost")
        self.issue("wronghost", "elsewhere.invalid", "DNS:elsewhere.invalid")

    def issue(self, name: str, cn: str, san: str | None = None) -> tuple[Path, Path]:
        ext = self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=self.dir)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", ext.name, "-out", f"{name}.crt",
                 cwd=self.dir)
        (self.dir / f"{name}.key").chmod(0o600)
        return self.dir / f"{name}.crt", self.dir / f"{name}.key"

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def client_tls_toml(self, mode: str = "allow", extra: str = "") -> str:
        return (f'[tls]\nclient_mode = "{mode}"\ncert_file = "{self.path("server.crt")}"\n'
                f'key_file = "{self.path("server.key")}"\n{extra}')


def ssl_request(conn: pgwire.Conn) -> bytes:
    """Sends an SSLRequest on a raw connection and returns the one-byte answer."""
    conn.send(struct.pack("!II", 8, pgwire.SSL_REQUEST_CODE))
    return conn.sock.recv(1)


def client_context(certs: Certs | None = None, *, minimum=None, maximum=None,
                   alpn: list[str] | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if certs is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(certs.path("ca.crt"))
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def start_tls(conn: pgwire.Conn, ctx: ssl.SSLContext, host: str = "127.0.0.1") -> None:
    """SSLRequest, 'S', then the handshake; conn then speaks over TLS."""
    answer = ssl_request(conn)
    assert answer == b"S", answer
    conn.sock = ctx.wrap_socket(conn.sock, server_hostname=host)


def closed_without_answer(sock: socket.socket, timeout: float = 5) -> bool:
    """True when the peer closes (or resets) the connection within `timeout`."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return True
    except (socket.timeout, TimeoutError):
        return False
