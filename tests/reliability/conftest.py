"""`make reliability`: suites of faults, crashes, hostile input, secrets, check mode and concurrency (docs/reliability.md).

The `ansible` fixture is the integration harness's (real ansible-playbook runs against the `emulator`
fixture). Each test file is a suite; at the end one line per suite gives the cases tried, passed and failed.
A test that covers several cases (a parametrised one counts each) reports them with `record_cases(n)`.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

from integration.conftest import Ansible

CASES_KEY = "reliability_cases"


@pytest.fixture
def ansible(tmp_path: Path, emulator: Any) -> Ansible:
    return Ansible(tmp_path, emulator)


@pytest.fixture
def record_cases(record_property: Callable[[str, Any], None]) -> Callable[[int], None]:
    """record_cases(n): this test checked n cases (default 1 per test)."""

    def record(count: int) -> None:
        record_property(CASES_KEY, count)

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: {"tried": 0, "passed": 0, "failed": 0})
    for status in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(status, []):
            if getattr(report, "when", "call") != "call" and status != "error":
                continue
            suite = Path(report.nodeid.split("::")[0]).stem.replace("test_", "")
            cases = next((value for key, value in getattr(report, "user_properties", []) if key == CASES_KEY), 1)
            counts[suite]["tried"] += cases
            counts[suite]["passed" if status == "passed" else "failed"] += cases
    if counts:
        terminalreporter.write_sep("=", "reliability suites")
        for suite, line in sorted(counts.items()):
            terminalreporter.write_line("%-12s cases tried %4d, passed %4d, failed %4d" % (suite, line["tried"], line["passed"], line["failed"]))
