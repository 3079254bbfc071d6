"""`make demo` keeps working: its script's tour, run in-process so the test can read the minted keys afterwards."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

# Role runs of many playbooks each: a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario

TESTS = Path(__file__).resolve().parents[1]


def load_run_demo():
    spec = importlib.util.spec_from_file_location("run_demo", TESTS / "demo" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def key_slices(directory: Path):
    """A distinctive slice of each minted key's base64 body (its middle line)."""
    for key in directory.glob("*.key"):
        lines = [line for line in key.read_text().splitlines() if line and not line.startswith("-----")]
        yield lines[len(lines) // 2]


def test_demo_previews_rotates_and_then_changes_nothing(tmp_path, capfd):
    demo_dir, report_copy = tmp_path / "demo", tmp_path / "demo-report"
    demo_dir.mkdir(mode=0o700)

    assert load_run_demo().run(demo_dir, delay=0.2, report_copy=report_copy) == 0

    output = "".join(capfd.readouterr())
    preview, rotate, rerun = output.split("=====")[2:7:2]
    assert "changed=0" not in preview.split("PLAY RECAP")[1] and "failed=0" in preview
    assert "failed=0" in rotate
    assert re.search(r"changed=0\s", rerun.split("PLAY RECAP")[1]) and "failed=0" in rerun
    assert "Every hostname, client certificate association and zone custom certificate stayed valid throughout the rotation." in output

    reports = [report_copy / name for name in ("rotation-report.html", "rotation-report.md", "rotation-report.json")]
    assert all(path.is_file() for path in reports), sorted(report_copy.iterdir())
    assert str(report_copy / "rotation-report.html") in output

    slices = list(key_slices(demo_dir))
    assert len(slices) >= 25  # 22 custom hostnames (one pair), a client and a zone certificate
    everything = output + "".join(path.read_text() for path in [demo_dir / "rotate-vars.yml"] + reports)
    assert "PRIVATE KEY" not in everything
    assert not [s for s in slices if s in everything]
