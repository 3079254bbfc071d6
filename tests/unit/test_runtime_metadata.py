"""meta/runtime.yml's action group names every module, so module_defaults reaches all of them; the shipped
linter settings mock the optional modules the shipped playbooks call."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_action_group_all_lists_every_module_alphabetically():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    group = runtime["action_groups"]["all"]
    # Modules without the auth options (rotation_plan only computes) take nothing from module_defaults: not in the group.
    modules = sorted(
        p.stem
        for p in (ROOT / "plugins" / "modules").glob("*.py")
        if not p.name.startswith("_") and "certops.cloudflare.attributes.action_group" in p.read_text()
    )
    assert group == modules, "meta/runtime.yml action_groups.all must list exactly the modules of plugins/modules that take the auth options, sorted"


def test_modules_without_credentials_stay_out_of_the_action_group():
    # module_defaults for group/certops.cloudflare.all hands out api_token, zone...: a module without them would fail on them.
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["all"]
    for module in ("edge_cert_info", "rotation_plan", "rotation_report"):
        text = (ROOT / "plugins" / "modules" / (module + ".py")).read_text()
        assert module not in group and "certops.cloudflare.auth" not in text and "action_group" not in text, module


def test_user_agent_version_matches_galaxy():
    from ansible_collections.certops.cloudflare.plugins.module_utils._client import COLLECTION_VERSION

    assert yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"] == COLLECTION_VERSION


def test_the_shipped_linter_settings_mock_every_optional_module_the_shipped_playbooks_call():
    # Galaxy's import lints every shipped playbook without community.crypto (optional): an unmocked module fails it.
    called = set()
    for playbook in (ROOT / "playbooks").rglob("*.yml"):
        called |= set(re.findall(r"^\s*(community\.crypto\.\w+):", playbook.read_text(), re.MULTILINE))
    shipped = yaml.safe_load((ROOT / ".config" / "ansible-lint.yml").read_text())
    assert called and sorted(called) == shipped["mock_modules"], ".config/ansible-lint.yml mock_modules must list exactly " + ", ".join(sorted(called))
