"""Suite 1, faults: the rotation role over 200 objects under each injected fault of the emulator, then all mixed.

The zone (tests/reliability/rotation_zone.py): 190 custom hostnames (10 with an RSA+ECDSA pair), 5 client
certificates with two associations each and 5 zone custom certificates (edited in place or replaced), all due,
the new material as files. Each fault kind is aimed at the writes of every stage (the list form's PATCHes by a
seeded probability, one client upload, association switch, zone edit, zone upload, prioritisation and retirement)
and at the reads (seeded). After the faulted run and at most one re-run: every object serves its new certificate,
no certificate was uploaded twice, nothing is left over that the report does not name, and at no moment did a
hostname, association or zone certificate lack a valid certificate (the emulator's state history).

"not_json" is a 200 whose body is an HTML page (a proxy in the way: the `unapplied` fault's `not_json` answer, the
request not processed); 502 and 503 answer HTML pages too, as Cloudflare's edge does.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Optional

import pytest

from reliability.rotation_zone import ROLE, Sizes, converged, mint, role_vars, seed

SIZES = Sizes(hostnames=190, pairs=10, clients=5, zone_certs=5)
HOSTNAME = r"/custom_hostnames/[0-9a-f]{32}$"
API_TIMEOUT = 2  # seconds; a "slow" answer comes after 2.5
KINDS = ("429", "429_no_retry_after", "500", "502", "503", "reset_before", "reset_after", "slow", "not_json")
# Writes of every stage, and reads: (method, path, count, probability).
TARGETS = (
    ("PATCH", HOSTNAME, 4, 0.05),
    ("POST", r"origin_tls_client_auth/hostnames/certificates$", 1, None),
    ("PUT", r"origin_tls_client_auth/hostnames$", 1, None),
    ("PATCH", r"custom_certificates/[0-9a-f]{32}$", 1, None),
    ("POST", r"custom_certificates$", 1, None),
    ("PUT", r"custom_certificates/prioritize$", 1, None),
    ("DELETE", None, 1, None),
    ("GET", r"/custom_hostnames$", 2, None),
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return mint(tmp_path_factory.mktemp("faults-pki"), SIZES)


def inject(emulator: Any, kind: str, seed_base: int) -> None:
    """One fault kind at every target (a 429 waits at least 1 s whatever its Retry-After says)."""
    for n, (method, path, count, probability) in enumerate(TARGETS):
        args = dict(method=method, path=path, count=count, probability=probability, seed=seed_base + n)
        if kind == "429_no_retry_after":
            emulator.add_fault("429", retry_after=None, **args)
        elif kind == "slow":
            emulator.add_fault("slow", delay=API_TIMEOUT + 0.5, **args)
        elif kind == "not_json":
            # Writes only: a read answered so stops the run in discovery, before any write (suite 3 covers that).
            if method != "GET":
                emulator.add_fault("unapplied", answer="not_json", **args)
        else:
            emulator.add_fault(kind, retry_after=0.2, **args)


def inject_mixed(emulator: Any, seed_base: int) -> None:
    """Every kind at once on any request, 10 % in all (seeded), each kind a bounded number of times."""
    kinds = KINDS
    for n, kind in enumerate(kinds):
        extra: Dict[str, Any] = {"retry_after": 0.2}
        if kind == "429_no_retry_after":
            kind, extra = "429", {"retry_after": None}
        elif kind == "slow":
            extra = {"delay": API_TIMEOUT + 0.5}
        elif kind == "not_json":
            kind, extra = "unapplied", {"answer": "not_json"}
        elif kind != "429":
            extra = {}
        count = 3 if kind in ("429", "slow") else 8
        emulator.add_fault(kind, probability=0.1 / len(kinds), seed=seed_base + n, count=count, **extra)


def rotate(ansible: Any, pki: SimpleNamespace, report: Path) -> Any:
    return ansible.run_tasks(ROLE, play_vars=role_vars(pki, report, cert_rotation_api_timeout=API_TIMEOUT))


@pytest.mark.emulator(delay=0.02)
@pytest.mark.parametrize("kind", KINDS + ("mixed",))
def test_rotation_converges_under_faults(ansible, emulator, pki, tmp_path, record_cases, kind):
    seed(emulator, pki)
    report = tmp_path / "report"
    seed_base = 1000 + 37 * (KINDS + ("mixed",)).index(kind)
    if kind == "mixed":
        inject_mixed(emulator, seed_base)
    else:
        inject(emulator, kind, seed_base)

    first = rotate(ansible, pki, report)
    hit = {e["method"] for e in emulator.journal() if e["fault"]}
    assert ("GET" in hit or kind == "not_json") and hit & {"POST", "PUT", "PATCH", "DELETE"}, "the faults must hit reads and writes, hit: %s" % hit
    assert "Traceback" not in first.output, first.output[-3000:]
    assert emulator.history.violations() == []
    emulator.clear_faults()
    last: Optional[Any] = None
    if first.rc != 0:
        # A write whose outcome is unknown is re-read, and sent once more only when the read proves it was not applied;
        # a run that still fails says a re-run is safe, and one re-run converges.
        assert "did not complete" in first.output or "running the task again is safe" in first.output, first.output[-3000:]
        last = rotate(ansible, pki, report)
        assert last.rc == 0, last.output[-4000:]
    converged(emulator, pki, report)
    if kind == "mixed":
        # And once converged, a further run changes nothing (zone certificates replaced by `replaces` included).
        count = len([e for e in emulator.journal() if e["method"] in ("POST", "PUT", "PATCH", "DELETE")])
        again = rotate(ansible, pki, report)
        assert again.rc == 0, again.output[-4000:]
        assert [r["task"] for r in again.results if r["result"].get("changed")] == []
        assert len([e for e in emulator.journal() if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]) == count
    record_cases(1)
