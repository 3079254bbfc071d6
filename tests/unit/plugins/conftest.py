"""The planner verifies new certificates against the CA bundle requests uses: in unit tests, the test CA registry's roots (the
"public" roots of this test run, as the emulator trusts them), written when each test starts: make a CA whose leaves a
plan must trust at import or in a module-scoped fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.testcerts import trusted_cas


@pytest.fixture(autouse=True)
def trusted_test_roots(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    bundle = tmp_path_factory.mktemp("trust") / "trusted-roots.pem"  # not in the test's tmp_path, which tests list
    bundle.write_text("".join(ca.cert_pem for ca in trusted_cas() if ca.is_root))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return bundle
