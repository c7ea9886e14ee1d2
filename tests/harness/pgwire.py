"""A minimal PostgreSQL wire-protocol client for tests that need to see or break the protocol.

Standard library only. Builds startup packets and messages byte by byte, reads backend
messages, parses ErrorResponse, and logs in with trust, cleartext, md5 or SCRAM-SHA-256
(no channel binding), so tests can check which authentication request a server sends and the
exact SQLSTATE of an error, which libpq-based clients hide at connect time.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import struct
import time

PROTOCOL_3_0 = 196608
CANCEL_REQUEST_CODE = 80877102
SSL_REQUEST_CODE = 80877103

AUTH_OK, AUTH_CLEARTEXT, AUTH_MD5 = 0, 3, 5
AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL = 10, 11, 12


class ProtocolError(Exception):
    pass


class ServerError(Exception):
    """An ErrorResponse; .fields maps field codes ('S', 'C', 'M', ...) to values."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(f"{fields.get('S', '?')} {fields.get('C', '?')}: {fields.get('M', '')}")
        self.fields = fields

    @property
    def sqlstate(self) -> str | None:
        return self.fields.get("C")

    @property
    def message(self) -> str:
        return self.fields.get("M", "")


def startup_packet(params: dict[str, str], version: int = PROTOCOL_3_0) -> bytes:
    body = struct.pack("!I", version)
    for k, v in params.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def cancel_packet(pid: int, key: int) -> bytes:
    return struct.pack("!IIII", 16, CANCEL_REQUEST_CODE, pid, key)


def message(type_byte: bytes, payload: bytes = b"") -> bytes:
    return type_byte + struct.pack("!I", len(payload) + 4) + payload


def query_message(sql: str) -> bytes:
    return message(b"Q", sql.encode() + b"\0")


def terminate_message() -> bytes:
    return message(b"X")


def parse_error_fields(payload: bytes) -> dict[str, str]:
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


class Conn:
    """One raw connection. recv_message() returns (type, payload) or None at EOF."""

    def __init__(self, host: str, port: int, timeout: float = 10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.backend_key: tuple[int, int] | None = None
        self.params: dict[str, str] = {}
        self.auth_requests: list[int] = []
        self.negotiated: bytes | None = None  # NegotiateProtocolVersion payload, if any

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, n: int) -> bool:
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return False
            if not chunk:
                return False
            self.buf += chunk
        return True

    def recv_message(self) -> tuple[bytes, bytes] | None:
        if not self._fill(5):
            return None
        length = struct.unpack("!I", self.buf[1:5])[0]
        if length < 4:
            raise ProtocolError(f"server sent a message with length {length}")
        if not self._fill(1 + length):
            return None
        t, payload = self.buf[:1], self.buf[5:1 + length]
        self.buf = self.buf[1 + length:]
        return t, payload

    def recv_raw(self, max_bytes: int = 65536) -> bytes:
        if self.buf:
            out, self.buf = self.buf[:max_bytes], self.buf[max_bytes:]
            return out
        return self.sock.recv(max_bytes)

    def expect_error_or_close(self, timeout: float = 10) -> dict[str, str] | None:
        """Read until an ErrorResponse (returns its fields) or EOF (returns None). Raises
        ProtocolError on anything else and socket.timeout if neither comes in time."""
        self.sock.settimeout(timeout)
        while True:
            m = self.recv_message()
            if m is None:
                return None
            t, payload = m
            if t == b"E":
                return parse_error_fields(payload)
            if t == b"N":
                continue
            raise ProtocolError(f"expected ErrorResponse or close, got {t!r} {payload[:80]!r}")

    def closed_by_peer(self, timeout: float = 5) -> bool:
        """True if the server closes the connection within `timeout` (after any messages)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                if self.recv_message() is None:
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True
        return False

    # -- login

    def login(self, user: str, password: str | None, database: str,
              extra: dict[str, str] | None = None, version: int = PROTOCOL_3_0) -> None:
        """Startup and authentication up to ReadyForQuery. Raises ServerError on an
        ErrorResponse. Records the authentication requests seen in .auth_requests."""
        self.send(startup_packet({"user": user, "database": database, **(extra or {})},
                                 version))
        scram = None
        while True:
            m = self.recv_message()
            if m is None:
                raise ProtocolError("connection closed during login")
            t, payload = m
            if t == b"E":
                raise ServerError(parse_error_fields(payload))
            if t == b"R":
                code = struct.unpack("!I", payload[:4])[0]
                self.auth_requests.append(code)
                if code == AUTH_OK:
                    continue
                if password is None:
                    raise ProtocolError(f"server asks for a password (request {code})")
                if code == AUTH_CLEARTEXT:
                    self.send(message(b"p", password.encode() + b"\0"))
                elif code == AUTH_MD5:
                    self.send(message(b"p", md5_response(user, password, payload[4:8])))
                elif code == AUTH_SASL:
                    mechs = [x.decode() for x in payload[4:].split(b"\0") if x]
                    if "SCRAM-SHA-256" not in mechs:
                        raise ProtocolError(f"no SCRAM-SHA-256 in {mechs}")
                    scram = ScramClient(password)
                    first = scram.client_first().encode()
                    self.send(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first))
                                      + first))
                elif code == AUTH_SASL_CONTINUE:
                    self.send(message(b"p", scram.client_final(payload[4:].decode()).encode()))
                elif code == AUTH_SASL_FINAL:
                    scram.verify_server_final(payload[4:].decode())
                else:
                    raise ProtocolError(f"unsupported authentication request {code}")
            elif t == b"K":
                self.backend_key = struct.unpack("!II", payload[:8])
            elif t == b"S":
                k, v, _ = payload.split(b"\0", 2)
                self.params[k.decode()] = v.decode()
            elif t == b"Z":
                return
            elif t == b"v":
                self.negotiated = payload
            elif t == b"N":
                continue
            else:
                raise ProtocolError(f"unexpected message {t!r} during login")

    def simple_query(self, sql: str) -> list[tuple]:
        """Run a simple query; rows of the last result as tuples of str/None."""
        self.send(query_message(sql))
        rows: list[tuple] = []
        error = None
        while True:
            m = self.recv_message()
            if m is None:
                raise ProtocolError("connection closed during query")
            t, payload = m
            if t == b"T":
                rows = []
            elif t == b"D":
                n = struct.unpack("!H", payload[:2])[0]
                pos, row = 2, []
                for _ in range(n):
                    ln = struct.unpack("!i", payload[pos:pos + 4])[0]
                    pos += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(payload[pos:pos + ln].decode())
                        pos += ln
                rows.append(tuple(row))
            elif t == b"E":
                error = ServerError(parse_error_fields(payload))
            elif t == b"Z":
                if error:
                    raise error
                return rows


def md5_response(user: str, password: str, salt: bytes) -> bytes:
    inner = hashlib.md5(password.encode() + user.encode()).hexdigest()
    return b"md5" + hashlib.md5(inner.encode() + salt).hexdigest().encode() + b"\0"



def scram_client_final(salted_password: bytes, first_bare: str,
                       server_first: str) -> tuple[str, bytes]:
    """SCRAM-SHA-256 client-final-message (channel binding "n") and the ServerSignature to
    expect, from the salted password (PBKDF2 of the password with the server's salt)."""
    nonce = dict(kv.split("=", 1) for kv in server_first.split(","))["r"]
    client_key = hmac.new(salted_password, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={nonce}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    client_sig = hmac.new(stored_key, auth_message, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
    server_key = hmac.new(salted_password, b"Server Key", "sha256").digest()
    server_signature = hmac.new(server_key, auth_message, "sha256").digest()
    return f"{without_proof},p={base64.b64encode(proof).decode()}", server_signature


class ScramClient:
    """SCRAM-SHA-256 client side (RFC 5802/7677), without channel binding ('n,,')."""

    def __init__(self, password: str):
        self.password = password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n=,r={self.nonce}"
        self.server_signature = b""

    def client_first(self) -> str:
        return "n,," + self.first_bare

    def client_final(self, server_first: str) -> str:
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        if not attrs["r"].startswith(self.nonce):
            raise ProtocolError("server nonce does not extend the client nonce")
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        final, self.server_signature = scram_client_final(salted, self.first_bare, server_first)
        return final

    def verify_server_final(self, server_final: str) -> None:
        attrs = dict(kv.split("=", 1) for kv in server_final.split(","))
        if "e" in attrs:
            raise ProtocolError(f"SCRAM server error: {attrs['e']}")
        if base64.b64decode(attrs["v"]) != self.server_signature:
            raise ProtocolError("SCRAM server signature mismatch")


# -- extended query protocol (message builders and a reply reader) ----------------------------


def _cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def parse_message(name: str, sql: str, param_oids: tuple[int, ...] = ()) -> bytes:
    payload = _cstr(name) + _cstr(sql) + struct.pack("!H", len(param_oids))
    payload += b"".join(struct.pack("!I", o) for o in param_oids)
    return message(b"P", payload)


def bind_message(portal: str, statement: str, params: list[str | bytes | None] = (),
                 result_formats: tuple[int, ...] = ()) -> bytes:
    """Bind with text parameters (None = NULL)."""
    payload = _cstr(portal) + _cstr(statement) + struct.pack("!H", 0)
    payload += struct.pack("!H", len(params))
    for p in params:
        if p is None:
            payload += struct.pack("!i", -1)
        else:
            b = p if isinstance(p, bytes) else str(p).encode()
            payload += struct.pack("!i", len(b)) + b
    payload += struct.pack("!H", len(result_formats))
    payload += b"".join(struct.pack("!H", f) for f in result_formats)
    return message(b"B", payload)


def describe_message(kind: str, name: str) -> bytes:
    """kind 'S' (statement) or 'P' (portal)."""
    return message(b"D", kind.encode() + _cstr(name))


def execute_message(portal: str = "", max_rows: int = 0) -> bytes:
    return message(b"E", _cstr(portal) + struct.pack("!I", max_rows))


def close_message(kind: str, name: str) -> bytes:
    return message(b"C", kind.encode() + _cstr(name))


def sync_message() -> bytes:
    return message(b"S")


def flush_message() -> bytes:
    return message(b"H")


def decode_data_row(payload: bytes) -> tuple:
    """A DataRow's columns as str (text format) or None."""
    n = struct.unpack("!H", payload[:2])[0]
    pos, row = 2, []
    for _ in range(n):
        ln = struct.unpack("!i", payload[pos:pos + 4])[0]
        pos += 4
        if ln < 0:
            row.append(None)
        else:
            row.append(payload[pos:pos + ln].decode())
            pos += ln
    return tuple(row)


def decode_row_description(payload: bytes) -> list[str]:
    """Column names of a RowDescription."""
    n = struct.unpack("!H", payload[:2])[0]
    pos, names = 2, []
    for _ in range(n):
        end = payload.index(b"\0", pos)
        names.append(payload[pos:end].decode())
        pos = end + 1 + 18
    return names


def read_until_ready(conn: "Conn") -> list[tuple[bytes, bytes]]:
    """Every message up to and including the next ReadyForQuery (NoticeResponse and
    ParameterStatus included). Raises ProtocolError at EOF."""
    out = []
    while True:
        m = conn.recv_message()
        if m is None:
            raise ProtocolError(f"connection closed after {[t for t, _ in out]}")
        out.append(m)
        if m[0] == b"Z":
            return out


def query_rows(conn: "Conn", sql: str) -> list[dict[str, str | None]]:
    """One simple query on a logged-in connection: the last result's rows as dicts (column
    name -> text value, in column order). Raises ServerError on an error."""
    conn.send(query_message(sql))
    columns: list[str] = []
    rows: list[dict] = []
    error = None
    for t, payload in read_until_ready(conn):
        if t == b"T":
            columns, rows = decode_row_description(payload), []
        elif t == b"D":
            rows.append(dict(zip(columns, decode_data_row(payload))))
        elif t == b"E":
            error = ServerError(parse_error_fields(payload))
    if error:
        raise error
    return rows
