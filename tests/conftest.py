"""Shared fixtures. `emulator`: a fresh Cloudflare API emulator per test (see tests/emulator/README.md).

    def test_x(emulator):                       # empty zone example.com, status steps of 0.05 s
        emulator.url, emulator.token, emulator.zone_id, emulator.journal(), emulator.state ...

    @pytest.mark.emulator(seed="demo", delay=0)  # any Emulator(...) keyword argument
    def test_y(emulator): ...

    def test_z(emulator_factory):                # several emulators, or arguments computed in the test
        emu = emulator_factory(delay=0.2)

At teardown each emulator's journal is appended, as JSON lines, to tests/output/journal/, which the
contract check (tests/contract) replays against the OpenAPI document.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

if str(Path(__file__).resolve().parent) not in sys.path:  # pytest.ini sets pythonpath; other runners may not
    sys.path.insert(0, str(Path(__file__).resolve().parent))

# Every suite uses the collection from the working tree as ansible_collections.certops.cloudflare:
# unit tests import it, ansible-playbook finds it through ANSIBLE_COLLECTIONS_PATH.
COLLECTIONS = Path(__file__).resolve().parents[1] / ".build" / "collections"
_LINK = COLLECTIONS / "ansible_collections" / "certops" / "cloudflare"
if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        _LINK.symlink_to(Path(__file__).resolve().parents[1], target_is_directory=True)
    except FileExistsError:  # another pytest worker made it first
        pass
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position

JOURNAL_DIR = Path(__file__).resolve().parent / "output" / "journal"
DEFAULT_DELAY = 0.05


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**kwargs): keyword arguments for the emulator fixture's Emulator(...)")
    config.addinivalue_line(
        "markers", "scenario: a role scenario of many playbook runs; `make scenarios` (a CI leg) runs these, `make integration` the rest"
    )
    config.addinivalue_line(
        "markers", "metrics: needs a real Pushgateway and promtool; `make metrics` (a CI leg) installs them and runs these, `make integration` the rest"
    )
    config.addinivalue_line("markers", "awx: the AWX job templates through ansible-runner; `make awx` (a CI leg) runs these")
    config.addinivalue_line("markers", "nginx: origin servers on real nginx instances; `make origins` (a CI leg) installs nginx and runs these")
    config.addinivalue_line("markers", "e2e: ACME orders from a real Pebble through community.crypto; `make e2e` (a CI leg) installs Pebble and runs these")
    config.addinivalue_line("markers", "cut_requests: the test kills the collection mid-request, so its journal is not kept for the contract check")


def write_journal(emu: Emulator, test_id: str) -> None:
    """Save an emulator's journal for the contract check (written whole, then renamed into place)."""
    entries = emu.journal()
    if not entries:
        return
    JOURNAL_DIR.mkdir(parents=True, exist_ok=True)
    name = "%s-%s" % (re.sub(r"[^A-Za-z0-9_.-]+", "_", test_id)[-120:], uuid.uuid4().hex[:8])
    partial = JOURNAL_DIR / (name + ".part")
    partial.write_text("".join(json.dumps(dict(e, test=test_id)) + "\n" for e in entries), encoding="utf-8")
    os.replace(partial, JOURNAL_DIR / (name + ".jsonl"))


@pytest.fixture
def emulator_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., Emulator]]:
    """emulator_factory(**kwargs) starts an Emulator(delay=0.05, **kwargs) on a free port; all stop after the test."""
    started: List[Emulator] = []

    def factory(**kwargs: Any) -> Emulator:
        kwargs.setdefault("delay", DEFAULT_DELAY)
        emu = Emulator(**kwargs)
        emu.start()
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        emu.stop()
        # A request cut off by a kill arrives without its body: not what the collection sends, so not checked.
        if not request.node.get_closest_marker("cut_requests"):
            write_journal(emu, request.node.nodeid)


@pytest.fixture
def emulator(request: pytest.FixtureRequest, emulator_factory: Callable[..., Emulator]) -> Emulator:
    marker = request.node.get_closest_marker("emulator")
    return emulator_factory(**(marker.kwargs if marker else {}))
