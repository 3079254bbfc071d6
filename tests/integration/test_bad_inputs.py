"""Every module, every checked option, the same bad values: each fails before any write, saying which option.

The options come from each module's real argument spec (suboptions included), found by name as the shared
code checks them: `*_id`, `hostname(s)`/`hosts`/`zone`, certificate options and their `_path` files,
private key options and their `_path` files, `*timeout`. A module added later is walked too; it only
needs its minimal valid arguments in BASE_ARGS (the first test fails until it has them).
"""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils import _base
from emulator.testcerts import make_ca, make_leaf

MODULES_DIR = Path(__file__).resolve().parents[2] / "plugins" / "modules"
MODULES = sorted(p.stem for p in MODULES_DIR.glob("*.py") if not p.stem.startswith("_"))
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Minimal valid arguments of each module ("{cert}" / "{key}" become files of a valid certificate and key).
BASE_ARGS: Dict[str, Dict[str, Any]] = {
    "cert_pack": {"hosts": ["example.com", "www.example.com"], "validation_method": "txt", "validity_days": 90, "certificate_authority": "lets_encrypt"},
    "cert_pack_info": {},
    "cert_priority": {"certificates": [{"hosts": ["app.example.com"], "priority": 1}]},
    "custom_cert": {"certificate_path": "{cert}", "private_key_path": "{key}"},
    "custom_cert_info": {},
    "custom_hostname": {"hostname": "app.example.com"},
    "custom_hostname_cert": {"hostname": "app.example.com", "certificates": [{"certificate_path": "{cert}", "private_key_path": "{key}"}]},
    "custom_hostname_cert_info": {},
    "edge_cert_info": {"hostnames": ["app.example.com"], "address": "127.0.0.1", "port": 9, "timeout": 1},
    "hostname_client_cert": {"certificate_path": "{cert}", "private_key_path": "{key}", "hostnames": ["app.example.com"]},
    "hostname_client_cert_info": {},
    "origin_ca_cert": {"hostnames": ["app.example.com"], "certificate_path": "{cert}", "private_key_path": "{key}"},
    "origin_ca_cert_info": {},
    "origin_pull_cert": {"certificate_path": "{cert}", "private_key_path": "{key}"},
    "origin_pull_cert_info": {},
    "rotation_lock": {"state": "absent"},
    "rotation_plan": {"client_certs": [{"certificate_path": "{cert}", "private_key_path": "{key}", "hostnames": ["app.example.com"]}]},
    "rotation_metrics": {"zone": "example.com", "success": True, "dest": "."},
    "rotation_report": {"rows": [], "report_dir": "reports"},
}
BAD_IDS = ["../zones", "abc/def", "abc?per_page=1", "abc#x"]
BAD_HOSTNAMES = ["bad_host!.example.com", "x" * 64 + ".example.com", "exa mple.com", "a..example.com"]
BAD_TIMEOUTS = [0, -5]


class Captured(Exception):
    def __init__(self, spec: Dict[str, Any], kwargs: Dict[str, Any]) -> None:
        super().__init__("captured")
        self.spec, self.kwargs = spec, kwargs


def module_spec(name: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The argument spec and constraints the module really builds (its main() stopped at AnsibleModule)."""

    def capture(argument_spec: Dict[str, Any], **kwargs: Any) -> None:
        raise Captured(argument_spec, kwargs)

    module = importlib.import_module("ansible_collections.certops.cloudflare.plugins.modules." + name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_base, "NamingModule", capture)
        patch.setattr(module, "NamingModule", capture, raising=False)  # modules without the auth options build their own
        patch.setattr(module, "AnsibleModule", capture, raising=False)
        with pytest.raises(Captured) as info:
            module.main()
    return info.value.spec, info.value.kwargs


def kind_of(name: str, option: Dict[str, Any]) -> str:
    if name.endswith("_id"):
        return "id"
    if name in _base.HOSTNAME_OPTIONS:
        return "hostname"
    if name.endswith("timeout"):
        return "timeout"
    if _base.is_certificate_option(name, option):
        return "certificate"
    if name == "certificate_path" or (name.endswith("_certificate_path")):
        return "certificate_path"
    if name == "private_key" or name.endswith("_private_key"):
        return "private_key"
    if name == "private_key_path":
        return "private_key_path"
    return ""


def without_exclusive(args: Dict[str, Any], name: str, constraints: List[List[str]]) -> Dict[str, Any]:
    """`args` less the options that may not stand beside `name`."""
    drop = {other for group in constraints or [] if name in group for other in group if other != name}
    return {k: v for k, v in args.items() if k not in drop}


def cases(name: str, spec: Dict[str, Any], kwargs: Dict[str, Any], base: Dict[str, Any], files: Dict[str, str]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(option label, arguments) for each bad value of each checked option, suboptions included."""
    for option, option_spec in spec.items():
        kind = kind_of(option, option_spec)
        for value in bad_values(kind, option_spec, files):
            yield option, dict(without_exclusive(base, option, kwargs.get("mutually_exclusive")), **{option: value})
        sub = option_spec.get("options")
        if sub and isinstance(base.get(option), list) and base[option]:
            for sub_option, sub_spec in sub.items():
                for value in bad_values(kind_of(sub_option, sub_spec), sub_spec, files):
                    item = without_exclusive(base[option][0], sub_option, option_spec.get("mutually_exclusive"))
                    yield "%s[0].%s" % (option, sub_option), dict(base, **{option: [dict(item, **{sub_option: value})]})


def bad_values(kind: str, option_spec: Dict[str, Any], files: Dict[str, str]) -> List[Any]:
    listed = option_spec.get("type") == "list"
    values: List[Any] = {
        "id": BAD_IDS,
        "hostname": BAD_HOSTNAMES,
        "timeout": BAD_TIMEOUTS,
        "certificate": [files["cert_text"] + files["key_text"]],
        "certificate_path": [files["combined"]],
        "private_key": [files["cert_text"]],
        "private_key_path": [files["cert"]],
    }.get(kind, [])
    return [[v] for v in values] if listed else list(values)


def names_option(label: str, msg: str) -> bool:
    """The message names the option (key options may read "private key")."""
    option = label.split(".")[-1].replace("_path", "")
    return option in msg or option.replace("_", " ") in msg


def test_every_module_has_minimal_arguments_here():
    assert set(BASE_ARGS) == set(MODULES), "give each module's minimal valid arguments in BASE_ARGS: %s" % sorted(set(MODULES) ^ set(BASE_ARGS))


@pytest.fixture(scope="module", params=MODULES)
def refused(request, scenario_emulator, tmp_path_factory):
    """One module's bad values, one task each, in one play at -vv."""
    name = request.param
    emulator, ansible = scenario_emulator()
    root = tmp_path_factory.mktemp("bad-inputs-" + name)
    leaf = make_leaf(make_ca("Bad Inputs CA"), ["app.example.com"])
    files = {"cert": str(root / "cert.pem"), "key": str(root / "key.pem"), "combined": str(root / "combined.pem")}
    Path(files["cert"]).write_text(leaf.chain_pem)
    Path(files["key"]).write_text(leaf.key_pem)
    Path(files["combined"]).write_text(leaf.chain_pem + leaf.key_pem)
    files.update(cert_text=leaf.chain_pem, key_text=leaf.key_pem)

    spec, kwargs = module_spec(name)
    base = copy.deepcopy(BASE_ARGS.get(name, {}))
    base = _fill(base, files)
    if "zone_id" in spec:
        base["zone_id"] = emulator.zone_id
    found = list(cases(name, spec, kwargs, base, files))
    fqcn = "certops.cloudflare." + name
    tasks = [{"name": "%s %d %s" % (name, i, label), fqcn: args, "register": "r", "ignore_errors": True} for i, (label, args) in enumerate(found)]
    play = ansible.run_tasks(tasks, verbosity=2)
    assert len(play.results) == len(found), play.output
    return SimpleNamespace(
        spec=spec,
        labels={label for label, _args in found},
        results=[(label, task_result["result"]) for (label, _args), task_result in zip(found, play.results)],
        output=play.output,
        writes=[e for e in emulator.journal() if e["method"] in WRITE_METHODS],
        key_pem=leaf.key_pem,
    )


class TestEachCheckedOptionRefusesBadValuesBeforeAnyWrite:
    """Per module (the fixture's parameter): every bad value of every checked option, one task each, in one play at -vv."""

    def test_the_bad_values_include_api_timeout_and_zone_id(self, refused):
        if "zone_id" not in refused.spec:
            pytest.skip("the module has no zone_id option")
        assert {"api_timeout", "zone_id"} <= refused.labels, refused.labels

    def test_every_bad_value_fails(self, refused):
        for label, result in refused.results:
            assert result.get("failed"), "%s: a bad value was accepted: %s" % (label, result)

    def test_no_bad_value_changes_anything(self, refused):
        for label, result in refused.results:
            assert not result.get("changed"), label

    def test_no_message_is_an_unexpected_error(self, refused):
        for label, result in refused.results:
            assert not str(result.get("msg", "")).startswith("Unexpected error"), "%s: %s" % (label, result.get("msg"))

    def test_every_message_names_the_option(self, refused):
        for label, result in refused.results:
            assert names_option(label, str(result.get("msg", ""))), "%s: the message does not name the option: %s" % (label, result.get("msg"))

    def test_no_write_is_sent(self, refused):
        assert refused.writes == []

    def test_no_line_of_the_private_key_is_printed(self, refused):
        for line in refused.key_pem.splitlines()[1:-1]:
            assert line not in refused.output, "a private key line showed in the output"


def _fill(value: Any, files: Dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, files) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, files) for v in value]
    if value == "{cert}":
        return files["cert"]
    if value == "{key}":
        return files["key"]
    return value
