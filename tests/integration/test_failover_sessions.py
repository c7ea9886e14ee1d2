"""Client sessions across a failover: an idle session keeps its connection, its settings and
its prepared statements (SQL PREPARE and a protocol-level named statement) and runs its next
write on the new primary with no error; a statement in flight on the dying primary gets an
error of class 08 or 57P01 and its session carries on."""
from __future__ import annotations

import threading
import time

import psycopg2
import pytest

import pgcluster
import pgwire
from failover_support import new_primary, start_router, wait_log


@pytest.fixture
def fresh():
    with pgcluster.Cluster(standbys=2) as c:
        yield c


def _setup(cluster) -> None:
    cluster.primary.sql("CREATE TABLE fs_items(id serial PRIMARY KEY, v text); "
                        "GRANT ALL ON fs_items TO app; GRANT ALL ON SEQUENCE fs_items_id_seq TO app",
                        db="app")


@pytest.mark.deadline(180)
def test_idle_sessions_survive_failover_with_settings_and_statements(fresh):
    cluster = fresh
    _setup(cluster)
    old = cluster.node("node0")
    router = start_router(cluster, cluster.role_secrets(["app"]), name="fo_sessions",
                          failover='wait_timeout = "20s"\n')

    # Session 1: psycopg2 with a custom setting, search_path and a SQL-level prepared write.
    s1 = router.connect()
    s1.autocommit = True
    cur = s1.cursor()
    cur.execute("SET myapp.who = 'survivor'")
    cur.execute("SET application_name = 'fo-idle'")
    cur.execute("PREPARE add_item(text) AS INSERT INTO fs_items(v) VALUES ($1) "
                "RETURNING inet_server_port()")
    cur.execute("EXECUTE add_item('before')")
    assert cur.fetchone()[0] == old.port

    # Session 2: the raw protocol with a named statement (Parse once, Bind/Execute later).
    raw = pgwire.Conn("127.0.0.1", router.port, timeout=30)
    raw.login("app", "app", "app")
    raw.send(pgwire.parse_message("ins", "INSERT INTO fs_items(v) VALUES ($1) RETURNING inet_server_port()")
             + pgwire.sync_message())
    types = [t for t, _ in pgwire.read_until_ready(raw)]
    assert types == [b"1", b"Z"], types

    # The primary dies; both sessions are idle.
    old.stop("immediate")
    wait_log(router, r"failover: done in \d+ ms", 40)
    promoted = new_primary(cluster, exclude=old.name)

    # No error, same connection: the settings and the statement are there, on the new primary.
    cur.execute("SELECT current_setting('myapp.who'), current_setting('application_name')")
    assert cur.fetchone() == ("survivor", "fo-idle")
    cur.execute("EXECUTE add_item('after')")
    assert cur.fetchone()[0] == promoted.port
    raw.send(pgwire.bind_message("", "ins", ["raw-after"]) + pgwire.execute_message("")
             + pgwire.sync_message())
    msgs = pgwire.read_until_ready(raw)
    assert [t for t, _ in msgs] == [b"2", b"D", b"C", b"Z"], msgs
    s1.close()
    raw.close()
    rows = promoted.sql("SELECT v FROM fs_items ORDER BY id", db="app")
    assert [r[0] if isinstance(r, (list, tuple)) else r for r in rows][-2:] == ["after", "raw-after"]


@pytest.mark.deadline(180)
def test_statement_in_flight_on_the_dead_primary_gets_08_or_57p01(fresh):
    cluster = fresh
    _setup(cluster)
    old = cluster.node("node0")
    router = start_router(cluster, cluster.role_secrets(["app"]), name="fo_inflight",
                          failover='wait_timeout = "20s"\n')
    conn = router.connect()
    conn.autocommit = True
    cur = conn.cursor()
    outcome: list = []

    def long_write():
        try:
            cur.execute("INSERT INTO fs_items(v) SELECT 'slow' FROM pg_sleep(30)")
            outcome.append("ok")
        except psycopg2.Error as e:
            outcome.append(e.pgcode)

    t = threading.Thread(target=long_write)
    t.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        n = old.sql_value("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' "
                          "AND pid <> pg_backend_pid()")
        if n == "1":
            break
        time.sleep(0.05)
    old.stop("immediate")
    t.join(30)
    assert outcome and outcome[0] is not None and (outcome[0].startswith("08") or outcome[0] == "57P01"), outcome
    # The same connection carries on once a primary is back.
    wait_log(router, r"failover: done in \d+ ms", 40)
    promoted = new_primary(cluster, exclude=old.name)
    cur.execute("INSERT INTO fs_items(v) VALUES ('next') RETURNING inet_server_port()")
    assert cur.fetchone()[0] == promoted.port
    conn.close()
