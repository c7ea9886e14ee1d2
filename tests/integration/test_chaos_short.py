"""The short form of scripts/chaos (one trial of each fault against a synchronous cluster
behind pgrouter): it must find nothing. The full form is `scripts/chaos` (10 trials each)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

@pytest.mark.deadline(420)
def test_chaos_quick_finds_nothing(pgrouter_binary):
    if os.environ.get("PGR_CHAOS") == "0":
        pytest.skip("PGR_CHAOS=0")
    if b"__asan_init" in pgrouter_binary.read_bytes():
        pytest.skip("CI time: the short chaos run goes with the main build only")
    env = dict(os.environ, PGROUTER_BIN=str(pgrouter_binary))
    cp = subprocess.run([sys.executable, str(REPO / "scripts" / "chaos"), "--quick"],
                        capture_output=True, text=True, env=env, timeout=400)
    sys.stdout.write(cp.stdout[-6000:])
    sys.stderr.write(cp.stderr[-3000:])
    assert cp.returncode == 0, "scripts/chaos --quick reported findings (table above)"
