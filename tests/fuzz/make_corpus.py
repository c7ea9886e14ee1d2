#!/usr/bin/python3
"""Writes the seed corpora for the libFuzzer targets into tests/fuzz/corpus/<target>/.

Seeds are realistic protocol traffic (what psql, libpq and PostgreSQL send), so the fuzzers
start from valid messages and mutate from there. The SCRAM seeds carry valid proofs and
signatures for the identity in scram_fuzz_setup.hpp (keep the constants below in sync).
Run with /usr/bin/python3; it only writes files under corpus/.
"""
import base64
import hashlib
import hmac
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# scram_fuzz_setup.hpp
PASSWORD = b"pencil"
SALT = b"pgrouter-fuzz-salt"
ITERATIONS = 4096
CLIENT_NONCE = "fuzzclientnonce"
SERVER_NONCE = "fuzzservernonce"


def i16(v):
    return struct.pack("!h", v)


def i32(v):
    return struct.pack("!i", v)


def cstr(s):
    return (s if isinstance(s, bytes) else s.encode()) + b"\0"


def msg(t, body=b""):
    return t.encode() + i32(len(body) + 4) + body


def startup(params, version=196608):
    body = i32(version) + b"".join(cstr(k) + cstr(v) for k, v in params) + b"\0"
    return i32(len(body) + 4) + body


# ---- messages -------------------------------------------------------------------------------

def error_body(severity, code, message, detail=None):
    body = b"S" + cstr(severity) + b"V" + cstr(severity) + b"C" + cstr(code) + b"M" + cstr(message)
    if detail:
        body += b"D" + cstr(detail)
    return body + b"\0"


def data_row(fields):
    body = i16(len(fields))
    for f in fields:
        body += i32(-1) if f is None else i32(len(f)) + f
    return body


def row_description(columns):
    body = i16(len(columns))
    for name in columns:
        body += cstr(name) + i32(0) + i16(0) + i32(25) + i16(-1) + i32(-1) + i16(0)
    return body


def pipeline(sql, params):
    bind = b"\0\0" + i16(0) + i16(len(params))
    for p in params:
        bind += i32(-1) if p is None else i32(len(p)) + p
    bind += i16(1) + i16(0)
    return (msg("P", b"\0" + cstr(sql) + i16(0)) + msg("B", bind) + msg("D", b"P\0") +
            msg("E", b"\0" + i32(0)) + msg("S"))


# ---- SCRAM ----------------------------------------------------------------------------------

def scram_keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    return client_key, hashlib.sha256(client_key).digest(), server_key


def b64(b):
    return base64.b64encode(b).decode()


def scram_exchange(gs2, iterations, server_nonce=SERVER_NONCE):
    """An honest exchange: (client_first, server_first, client_final, server_final)."""
    client_key, stored_key, server_key = scram_keys(PASSWORD, SALT, iterations)
    bare = "n=,r=" + CLIENT_NONCE
    combined = CLIENT_NONCE + server_nonce
    server_first = "r=%s,s=%s,i=%d" % (combined, b64(SALT), iterations)
    without_proof = "c=%s,r=%s" % (b64(gs2.encode()), combined)
    auth = ",".join([bare, server_first, without_proof]).encode()
    signature = hmac.new(stored_key, auth, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    server_final = "v=" + b64(hmac.new(server_key, auth, "sha256").digest())
    return gs2 + bare, server_first, without_proof + ",p=" + b64(proof), server_final


def seeds():
    psql = startup([("user", "app"), ("database", "app"), ("application_name", "psql"),
                    ("client_encoding", "UTF8")])
    query = msg("Q", cstr("select 1"))
    results = (msg("T", row_description(["?column?"])) + msg("D", data_row([b"1"])) +
               msg("C", cstr("SELECT 1")) + msg("Z", b"I"))
    cf, sf, cfin, sfin = scram_exchange("n,,", ITERATIONS)
    auth = (msg("R", i32(10) + cstr("SCRAM-SHA-256") + b"\0") + msg("R", i32(11) + sf.encode()) +
            msg("R", i32(12) + sfin.encode()) + msg("R", i32(0)) +
            msg("S", cstr("server_version") + cstr("15.5")) + msg("K", i32(4242) + i32(-7)) +
            msg("Z", b"I"))
    fe = bytes([0, 0, 0, 2]) + b"QP" + bytes([7])
    be = bytes([1, 0, 0, 3]) + b"ZET" + bytes([5])
    yield "fuzz_frame_scanner", {
        "simple_query": fe + query + msg("X"),
        "extended_pipeline": fe + pipeline("select $1, $2", [b"ab", None]),
        "copy_in": bytes([0, 0, 0, 0, 3]) + msg("Q", cstr("copy t from stdin")) +
        msg("d", b"1\tone\n" * 20) + msg("d", b"2\ttwo\n") + msg("c"),
        "results": be + results,
        "auth_sequence": be + auth,
        "capped_length": bytes([5, 0, 100, 0, 0]) + msg("D", data_row([b"x" * 200])),
        "reject_unknown": bytes([2, 0, 0, 0, 1]) + query + msg("?", b"junk"),
        "sasl_frontend": fe + msg("p", cstr("SCRAM-SHA-256") + i32(len(cf)) + cf.encode()) +
        msg("p", cfin.encode()),
    }
    yield "fuzz_startup", {
        "psql": psql,
        "ssl_request": i32(8) + i32(80877103),
        "gssenc_request": i32(8) + i32(80877104),
        "cancel_request": i32(16) + i32(80877102) + i32(4242) + i32(-7),
        "protocol_3_2_pq_options": startup([("user", "app"), ("_pq_.compression", "on")],
                                           (3 << 16) | 2),
        "replication": startup([("user", "rep"), ("replication", "true"), ("database", "")]),
    }
    yield "fuzz_messages", {
        "error_response": error_body("FATAL", "28P01", 'password authentication failed for user "app"'),
        "notice_with_detail": error_body("NOTICE", "00000", "note", "some detail"),
        "auth_sasl": i32(10) + cstr("SCRAM-SHA-256-PLUS") + cstr("SCRAM-SHA-256") + b"\0",
        "auth_md5": i32(5) + bytes([1, 2, 3, 4]),
        "auth_sasl_continue": i32(11) + sf.encode(),
        "sasl_initial_response": cstr("SCRAM-SHA-256") + i32(len(cf)) + cf.encode(),
        "password": cstr("md5c1007ebbc6ecc151a46d7e2af0f47b66"),
        "parameter_status": cstr("server_version") + cstr("15.5"),
        "backend_key_data": i32(4242) + i32(-7),
        "ready_for_query": b"T",
        "data_row": data_row([b"1", None, b""]),
        "framed_query": query,
    }
    ycf, _, ycfin, _ = scram_exchange("y,,", ITERATIONS)
    yield "fuzz_scram_server", {
        "honest_final": b"\x01" + cfin.encode(),
        "mock_final": b"\x03" + cfin.encode(),
        "full_exchange_y": b"\x00" + ycf.encode() + b"\0" + ycfin.encode(),
        "wrong_proof": b"\x00" + cf.encode() + b"\0" + cfin[:-6].encode() + b"AAAAA=",
        "channel_binding": b"\x00p=tls-server-end-point,,n=,r=abc\0c=cD10bHMt",
    }
    _, cheap_sf, _, cheap_sfin = scram_exchange("n,,", 16, "srv")
    yield "fuzz_scram_client", {
        "from_keys": b"\x01" + sf.encode() + b"\0" + sfin.encode(),
        "from_password": b"\x00" + cheap_sf.encode() + b"\0" + cheap_sfin.encode(),
        "server_error": b"\x01" + sf.encode() + b"\0e=invalid-proof",
        "other_salt": b"\x01r=%sx,s=c2FsdA==,i=4096\0v=" % CLIENT_NONCE.encode(),
    }


def main():
    for target, files in seeds():
        directory = os.path.join(CORPUS, target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for name, data in files.items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
