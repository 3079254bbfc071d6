"""`make demo` keeps working: the tour's three runs against the emulator, checked end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_demo_previews_rotates_and_then_changes_nothing():
    env = dict(os.environ, PYTHONPATH=str(TESTS), EMULATOR_DELAY="0.2", EMULATOR_PORT="0")
    proc = subprocess.run([sys.executable, str(TESTS / "demo" / "run_demo.py")], env=env, capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    preview, rotate, rerun = output.split("=====")[2::2]
    assert "changed=2" in preview and "skipped=1" in preview  # the retirement waits for a real run
    assert "changed=3" in rotate and "failed=0" in rotate
    assert "changed=0" in rerun and "failed=0" in rerun
    assert "Every hostname, client certificate association and zone custom certificate stayed valid throughout the rotation." in output
    assert "PRIVATE KEY" not in output
