"""pgrouter's command line: --version and --check-config."""
from __future__ import annotations

import re
import subprocess

import pytest

import pgcluster


def run(binary, *args, timeout=30):
    return subprocess.run([str(binary), *args], capture_output=True, text=True,
                          timeout=timeout, env=pgcluster.clean_env())


def project_version() -> str:
    text = (pgcluster.REPO_ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(pgrouter VERSION (\d+\.\d+\.\d+)", text).group(1)


def test_version(pgrouter_binary):
    cp = run(pgrouter_binary, "--version")
    assert cp.returncode == 0, cp.stderr
    assert "pgrouter" in cp.stdout.lower()
    assert project_version() in cp.stdout


def good_config(tmp_path) -> str:
    users = pgcluster.write_auth_file(tmp_path / "users.txt", {"app": "app"})
    return pgcluster.render_pgrouter_toml(port=6432, backends=[("node0", "127.0.0.1", 5432),
                                                               ("node1", "127.0.0.1", 5433)],
                                          auth_file=str(users))


def test_check_config_accepts_a_good_file(pgrouter_binary, tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(good_config(tmp_path))
    cp = run(pgrouter_binary, "--check-config", str(path))
    assert cp.returncode == 0, cp.stdout + cp.stderr


BROKEN = """\
[proxy]
listen = ["127.0.0.1:6432"]
workers = 0
max_client_connections = 1000
log_level = "loud"
client_login_timeout = "10 parsecs"

[auth]
method = "scram-sha-256"
auth_file = "users.txt"

[[backends]]
name = "node0"
host = "127.0.0.1"
port = 70000
"""


def test_check_config_reports_file_line_key_problem(pgrouter_binary, tmp_path):
    pgcluster.write_auth_file(tmp_path / "users.txt", {"app": "app"})
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    cp = run(pgrouter_binary, "--check-config", str(path))
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, out
    expected = [(3, r"proxy\.workers"), (5, r"proxy\.log_level"),
                (6, r"proxy\.client_login_timeout"), (15, r"backends\[\d\]\.port")]
    for line, key in expected:
        pattern = rf"^{re.escape(str(path))}:{line}: {key}: \S"
        assert re.search(pattern, out, re.M), f"no '{path}:{line}: {key}: ...' in:\n{out}"


def test_check_config_missing_auth_file(pgrouter_binary, tmp_path):
    path = tmp_path / "noauth.toml"
    path.write_text(pgcluster.render_pgrouter_toml(
        port=6432, backends=[("node0", "127.0.0.1", 5432)],
        auth_file=str(tmp_path / "does-not-exist.txt")))
    cp = run(pgrouter_binary, "--check-config", str(path))
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, out
    assert re.search(rf"^{re.escape(str(path))}:\d+: auth\.auth_file: \S", out, re.M), out


def test_check_config_toml_syntax_error(pgrouter_binary, tmp_path):
    path = tmp_path / "syntax.toml"
    path.write_text('[proxy]\nlisten = ["127.0.0.1:6432"\nworkers = 2\n')
    cp = run(pgrouter_binary, "--check-config", str(path))
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, out
    assert re.search(rf"^{re.escape(str(path))}:\d+:", out, re.M), out


def test_config_error_at_startup_exits_nonzero(pgrouter_binary, tmp_path):
    pgcluster.write_auth_file(tmp_path / "users.txt", {"app": "app"})
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN.replace("6432", str(pgcluster.free_port())))
    try:
        cp = run(pgrouter_binary, "--config", str(path), timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("pgrouter started (and kept running) with an invalid config")
    assert cp.returncode != 0
    assert re.search(rf"^{re.escape(str(path))}:3: proxy\.workers: \S", cp.stderr, re.M), \
        cp.stderr
