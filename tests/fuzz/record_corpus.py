#!/usr/bin/python3
"""Records seed corpora from real sessions: psql, pgbench (simple, extended, prepared) and
psycopg2 talk to a real PostgreSQL 15 through a recording TCP relay, and what crossed the wire
becomes seeds under tests/fuzz/corpus/<target>/rec-*:

  fuzz_startup        each distinct startup packet a client sent
  fuzz_frame_scanner  each session's frontend and backend streams after the startup packet
                      (with the scanner-options prefix make_corpus.py uses), capped at 8 kB
  fuzz_messages       one framed message per message type and client program
  fuzz_classifier     every distinct SQL text from Query and Parse messages

make_corpus.py writes the hand-made seeds (and clears the directories first); run this after
it. Needs the PostgreSQL server binaries and the test harness (tests/harness); as root it runs
the server as postgres. Run with /usr/bin/python3 from anywhere.
"""
from __future__ import annotations

import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

import pgcluster  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
FRONTEND_PREFIX = bytes([0, 0, 0, 2]) + b"QP" + bytes([7])  # as make_corpus.py
BACKEND_PREFIX = bytes([1, 0, 0, 3]) + b"ZET" + bytes([5])
STREAM_CAP = 8 * 1024
MESSAGE_CAP = 4096


class Relay:
    """Accepts clients on a free port and relays each to `port`, keeping both directions."""

    def __init__(self, port: int):
        self.target = port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sessions: list[tuple[bytearray, bytearray]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            frontend, backend = bytearray(), bytearray()
            with self.lock:
                self.sessions.append((frontend, backend))
            threading.Thread(target=self._pump, args=(client, upstream, frontend), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, backend), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, record: bytearray):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                record += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.server.close()


def split_typed(stream: bytes) -> list[bytes]:
    """Typed messages (framed) from the start of `stream` until it stops parsing."""
    out, at = [], 0
    while at + 5 <= len(stream):
        length = struct.unpack("!I", stream[at + 1:at + 5])[0]
        if length < 4 or at + 1 + length > len(stream):
            break
        out.append(stream[at:at + 1 + length])
        at += 1 + length
    return out


def after_startup(frontend: bytes) -> tuple[bytes, bytes]:
    """The startup packet and what the frontend sent after it."""
    if len(frontend) < 8:
        return frontend, b""
    length = struct.unpack("!I", frontend[:4])[0]
    return frontend[:length], frontend[length:]


def run_clients(relay_port: int, db: str) -> None:
    env = pgcluster.clean_env(PGPASSWORD="app", PGSSLMODE="disable", PGCONNECT_TIMEOUT="10")
    base = ["-h", "127.0.0.1", "-p", str(relay_port), "-U", "app"]

    def run(cmd, **kw):
        subprocess.run(cmd, env=env, capture_output=True, timeout=120, check=False, **kw)

    run(["psql", "-X", *base, "-d", db, "-c",
         "SELECT 1; SELECT g, md5(g::text) FROM generate_series(1, 20) g; "
         "SELECT 1/0;"])
    run(["psql", "-X", *base, "-d", db], input=(
        "CREATE TEMP TABLE t(a int, b text);\n"
        "\\copy t from stdin\n1\tone\n2\ttwo\n\\.\n"
        "\\copy t to stdout\n"
        "BEGIN; SET LOCAL work_mem = '8MB'; SAVEPOINT s; SELECT * FROM t FOR UPDATE; "
        "ROLLBACK TO s; COMMIT;\n"
        "LISTEN ch; NOTIFY ch, 'payload'; UNLISTEN *;\n"
        "DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$;\n"
        "SET application_name = 'recorded'; RESET ALL;\n"
        "PREPARE p(int) AS SELECT $1 + 1; EXECUTE p(41); DEALLOCATE p;\n"
        "WITH x AS (INSERT INTO t VALUES (3, 'three') RETURNING *) SELECT * FROM x;\n"
        "SELECT pg_advisory_lock(7), pg_advisory_unlock(7);\n"), text=True)
    for mode in ("simple", "extended", "prepared"):
        run(["pgbench", *base, "-n", "-M", mode, "-c", "1", "-t", "5", db])
        run(["pgbench", *base, "-n", "-M", mode, "-S", "-c", "1", "-t", "5", db])
    import psycopg2  # noqa: PLC0415

    conn = psycopg2.connect(host="127.0.0.1", port=relay_port, user="app", password="app",
                            dbname=db, sslmode="disable", application_name="psycopg2")
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE r(id int PRIMARY KEY, note text, at timestamptz)")
            cur.executemany("INSERT INTO r VALUES (%s, %s, now())", [(i, f"n{i}") for i in range(5)])
            cur.execute("SELECT * FROM r WHERE id = ANY(%s) ORDER BY id", ([1, 3],))
            cur.fetchall()
            import io  # noqa: PLC0415

            cur.copy_expert("COPY r(id, note) FROM STDIN WITH (FORMAT csv)", io.StringIO("10,ten\n11,\"e,leven\"\n"))
            cur.copy_expert("COPY (SELECT * FROM r) TO STDOUT WITH (FORMAT csv, HEADER)", io.StringIO())
        conn.commit()
        with conn.cursor("named") as cur:  # a server-side cursor: DECLARE / FETCH
            cur.execute("SELECT g FROM generate_series(1, 100) g")
            cur.fetchmany(10)
        conn.rollback()
        conn.autocommit = True
        with conn.cursor() as cur:
            try:
                cur.execute("SELECT * FROM no_such_table")
            except psycopg2.Error:
                pass
            cur.execute("SELECT %s::jsonb, %s::bytea, %s::numeric", ('{"a": [1, 2]}', b"\x00\xff", "1.5"))
    finally:
        conn.close()


def write(target: str, name: str, data: bytes, written: dict[str, set]) -> None:
    digest = hashlib.sha1(data).hexdigest()[:12]
    if digest in written.setdefault(target, set()):
        return
    written[target].add(digest)
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"rec-{name}-{digest}"), "wb") as f:
        f.write(data)


def main() -> int:
    written: dict[str, set] = {}
    with pgcluster.Cluster(standbys=0) as cluster:
        db = cluster.pgbench_init("rec")
        relay = Relay(cluster.primary.port)
        try:
            run_clients(relay.port, db)
        finally:
            relay.close()
        for frontend, backend in relay.sessions:
            startup, rest = after_startup(bytes(frontend))
            program = "session"
            if b"application_name\0" in startup:
                program = startup.split(b"application_name\0", 1)[1].split(b"\0", 1)[0].decode(
                    errors="replace").replace("/", "_") or program
            write("fuzz_startup", program, startup, written)
            write("fuzz_frame_scanner", f"{program}-frontend", FRONTEND_PREFIX + rest[:STREAM_CAP], written)
            write("fuzz_frame_scanner", f"{program}-backend", BACKEND_PREFIX + bytes(backend[:STREAM_CAP]), written)
            seen_types: set[bytes] = set()
            for m in split_typed(rest) + split_typed(bytes(backend)):
                if m[:1] in seen_types or len(m) > MESSAGE_CAP:
                    continue
                seen_types.add(m[:1])
                write("fuzz_messages", f"{program}-{m[:1].hex()}", m, written)
            for m in split_typed(rest):
                if m[:1] == b"Q":
                    sql = m[5:].rstrip(b"\0")
                elif m[:1] == b"P":
                    sql = m[5:].split(b"\0", 2)[1] if m[5:].count(b"\0") >= 2 else b""
                else:
                    continue
                if sql:
                    write("fuzz_classifier", program, sql, written)
    for target in sorted(written):
        print(f"{target}: {len(written[target])} recorded seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
