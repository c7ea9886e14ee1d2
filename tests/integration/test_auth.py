"""Client authentication by pgrouter: SCRAM-SHA-256 and md5 from an auth_file (verifiers, md5
hashes, plain text), auth_query on the primary, the md5 and trust methods, and errors that
look exactly like PostgreSQL's."""
from __future__ import annotations

import psycopg2
import pytest

import pgwire

SCRAM_FLOW = [pgwire.AUTH_SASL, pgwire.AUTH_SASL_CONTINUE, pgwire.AUTH_SASL_FINAL,
              pgwire.AUTH_OK]
MD5_FLOW = [pgwire.AUTH_MD5, pgwire.AUTH_OK]


@pytest.fixture(scope="module")
def query_router(cluster, pgrouter_binary):
    """No auth_file: secrets come from the primary through auth_user/auth_query."""
    r = cluster.pgrouter(users=None, auth_user="postgres", auth_password="postgres")
    yield r
    r.stop()


@pytest.fixture(scope="module")
def query_md5_router(cluster, pgrouter_binary):
    r = cluster.pgrouter(users=None, auth_user="postgres", auth_password="postgres",
                         method="md5")
    yield r
    r.stop()


@pytest.fixture(scope="module")
def md5_router(cluster, auth_users, pgrouter_binary):
    r = cluster.pgrouter(users=auth_users, method="md5")
    yield r
    r.stop()


@pytest.fixture(scope="module")
def trust_router(cluster, auth_users, pgrouter_binary):
    r = cluster.pgrouter(users=auth_users, method="trust",
                         ready_login=("plainuser", None, "app"))
    yield r
    r.stop()


def raw_login(router, user, password, db="app") -> pgwire.Conn:
    c = pgwire.Conn("127.0.0.1", router.port)
    try:
        c.login(user, password, db)
    except BaseException:
        c.close()
        raise
    return c


def login_error(router, user, password, db="app") -> pgwire.ServerError:
    with pgwire.Conn("127.0.0.1", router.port) as c:
        with pytest.raises(pgwire.ServerError) as ei:
            c.login(user, password, db)
        return ei.value


def psycopg2_login_error(router, user, password) -> str:
    with pytest.raises(psycopg2.OperationalError) as ei:
        router.connect(user=user, password=password).close()
    return str(ei.value)


def assert_session_user(router, user, password):
    c = router.connect(user=user, password=password)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT current_user, session_user, current_database()")
            assert cur.fetchone() == (user, user, "app")
    finally:
        c.close()


# -- default instance: method scram-sha-256, auth_file -------------------------------------------


def test_scram_user_from_auth_file(router):
    with raw_login(router, "app", "app") as c:
        assert c.auth_requests == SCRAM_FLOW
        assert c.backend_key is not None
        assert c.simple_query("SELECT current_user") == [("app",)]
    assert_session_user(router, "app", "app")


def test_md5_secret_is_refused_where_scram_is_required(router):
    """method = "scram-sha-256" behaves as scram-sha-256 in pg_hba.conf: a role whose secret
    is an md5 hash has no SCRAM verifier, so it can't log in, and the failure looks exactly
    like a wrong password (mock SCRAM exchange). md5 secrets need method = "md5" (below)."""
    with pgwire.Conn("127.0.0.1", router.port) as c:
        with pytest.raises(pgwire.ServerError) as ei:
            c.login("md5user", "md5pass", "app")
        assert c.auth_requests[:2] == [pgwire.AUTH_SASL, pgwire.AUTH_SASL_CONTINUE]
    assert ei.value.sqlstate == "28P01"
    assert ei.value.message == 'password authentication failed for user "md5user"'


def test_plaintext_secret_user(router):
    with raw_login(router, "plainuser", "plainpass") as c:
        assert c.auth_requests == SCRAM_FLOW
        assert c.simple_query("SELECT current_user") == [("plainuser",)]
    assert_session_user(router, "plainuser", "plainpass")
    assert login_error(router, "plainuser", "nope").sqlstate == "28P01"


@pytest.mark.parametrize("user", ["app", "md5user", "plainuser"])
def test_wrong_password_is_28P01(router, user):
    err = login_error(router, user, "wrong-password")
    assert err.sqlstate == "28P01"
    assert err.fields.get("S") == "FATAL"
    assert err.message == f'password authentication failed for user "{user}"'
    assert f'password authentication failed for user "{user}"' in \
        psycopg2_login_error(router, user, "wrong-password")


def test_unknown_user_gets_the_wrong_password_message(router):
    known = login_error(router, "app", "wrong-password")
    unknown = login_error(router, "nosuchuser", "wrong-password")
    assert unknown.sqlstate == known.sqlstate == "28P01"
    strip = {k: v for k, v in known.fields.items() if k in "SVCM"}
    ustrip = {k: v for k, v in unknown.fields.items() if k in "SVCM"}
    assert ustrip == {k: v.replace('"app"', '"nosuchuser"') for k, v in strip.items()}
    a = psycopg2_login_error(router, "app", "wrong-password")
    b = psycopg2_login_error(router, "nosuchuser", "wrong-password")
    assert b.replace('"nosuchuser"', '"X"') == a.replace('"app"', '"X"')


def test_unknown_user_is_challenged_like_a_known_one(router):
    """PostgreSQL runs a mock SCRAM exchange for unknown roles so that a client can't tell
    which roles exist; the auth request sequence must not differ either."""
    with pgwire.Conn("127.0.0.1", router.port) as c:
        with pytest.raises(pgwire.ServerError):
            c.login("nosuchuser", "whatever", "app")
        assert c.auth_requests[:2] == [pgwire.AUTH_SASL, pgwire.AUTH_SASL_CONTINUE]


def test_missing_database_error_is_relayed(router):
    err = login_error(router, "app", "app", db="no_such_db")
    assert err.sqlstate == "3D000"
    assert err.message == 'database "no_such_db" does not exist'
    # pgrouter stays usable
    assert_session_user(router, "app", "app")


# -- auth_query -----------------------------------------------------------------------------------


@pytest.mark.parametrize("user,password", [("app", "app"), ("plainuser", "plainpass")])
def test_auth_query_users(query_router, user, password):
    assert_session_user(query_router, user, password)
    err = login_error(query_router, user, "wrong-password")
    assert err.sqlstate == "28P01"
    assert err.message == f'password authentication failed for user "{user}"'


def test_auth_query_md5_user_with_md5_method(query_md5_router):
    with raw_login(query_md5_router, "md5user", "md5pass") as c:
        assert c.auth_requests == MD5_FLOW
    assert_session_user(query_md5_router, "md5user", "md5pass")
    with raw_login(query_md5_router, "app", "app") as c:  # SCRAM secret: SCRAM
        assert c.auth_requests == SCRAM_FLOW
    err = login_error(query_md5_router, "md5user", "wrong-password")
    assert err.sqlstate == "28P01"
    assert err.message == 'password authentication failed for user "md5user"'


def test_auth_query_scram_flow_and_unknown_user(query_router):
    with raw_login(query_router, "app", "app") as c:
        assert c.auth_requests == SCRAM_FLOW
    err = login_error(query_router, "nosuchuser", "whatever")
    assert err.sqlstate == "28P01"
    assert err.message == 'password authentication failed for user "nosuchuser"'


# -- method = "md5" ----------------------------------------------------------------------


def test_md5_method_uses_scram_for_scram_secrets(md5_router):
    """As PostgreSQL's md5 method: a SCRAM-stored secret is checked with SCRAM."""
    with raw_login(md5_router, "app", "app") as c:
        assert c.auth_requests == SCRAM_FLOW
    assert_session_user(md5_router, "app", "app")


@pytest.mark.parametrize("user,password", [("md5user", "md5pass"), ("plainuser", "plainpass")])
def test_md5_method_md5_hash_and_plain_secrets(md5_router, user, password):
    """The md5 user from the auth_file (md5 hash), and a plain-text secret, via md5."""
    with raw_login(md5_router, user, password) as c:
        assert c.auth_requests == MD5_FLOW
        assert c.simple_query("SELECT current_user") == [(user,)]
    assert login_error(md5_router, user, "wrong").sqlstate == "28P01"


# -- method = "trust" --------------------------------------------------------------------


def test_trust_method_lets_a_plain_secret_user_in_without_password(trust_router):
    with raw_login(trust_router, "plainuser", None) as c:
        assert c.auth_requests == [pgwire.AUTH_OK]
        assert c.simple_query("SELECT current_user") == [("plainuser",)]
    c = psycopg2.connect(trust_router.dsn(user="plainuser", password=None))
    try:
        with c.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone() == ("plainuser",)
    finally:
        c.close()
