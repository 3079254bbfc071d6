"""The ad-hoc commands of the guide docs/adhoc.md ("Ad-hoc use", a page of the docs site the README links to), run
exactly as written against the emulator.

The lines come from the guide's shell blocks; each is run through bash with the credentials only in the CLOUDFLARE_*
environment, as the guide says. There must be one line per info module that
reads the Cloudflare API (those of the action group in meta/runtime.yml; edge_cert_info makes TLS handshakes instead)
and one change in check mode, and no line may send a write (the emulator's journal).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
import requests
import yaml

from emulator.testcerts import make_ca, make_csr, make_leaf

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "adhoc.md"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CHECK_MODE = "--check --diff"
# What each line of the guide must list from the seeded zone (its filter leaves the other object of each kind out).
LISTED = {
    "custom_hostname_cert_info": ("custom_hostnames", "hostname", {"shop.customer-a.com"}),
    "hostname_client_cert_info": ("hostname_client_certs", "hostnames", {("app.example.com",)}),
    "custom_cert_info": ("custom_certs", "hosts", {("example.com", "www.example.com")}),
    "cert_pack_info": ("cert_packs", "hosts", {("example.com", "shop.example.com")}),
    "origin_ca_cert_info": ("certificates", "hostnames", {("origin.example.com",)}),
    "origin_pull_cert_info": ("origin_pull_certs", "hosts", {("origin-client.example.com",)}),
}


def guide_lines() -> List[str]:
    """The `ansible` command lines of the shell blocks in the guide on ad-hoc use."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("ansible ")]


def api_info_modules() -> List[str]:
    """The info modules that call the API: those in the action group, which module_defaults hands credentials to."""
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["all"]
    return sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*_info.py") if p.stem in group)


def module_of(line: str) -> str:
    return re.search(r"-m certops\.cloudflare\.(\w+)", line).group(1)


@pytest.fixture(scope="module")
def pki() -> SimpleNamespace:
    ca = make_ca("Certops Ad-hoc CA")
    return SimpleNamespace(
        due=make_leaf(ca, ["shop.customer-a.com"], days=10, not_before_days=-80),
        fresh=make_leaf(ca, ["www.customer-b.com"], days=80, not_before_days=-10),
        client_due=make_leaf(ca, ["origin-client.example.com"], days=10, not_before_days=-80),
        client_fresh=make_leaf(ca, ["origin-client.example.com"], days=300),
        zone=make_leaf(ca, ["example.com", "www.example.com"], days=60),
    )


def seed(emulator: Any, pki: SimpleNamespace) -> None:
    """Each kind once inside the guide's lines' filters and once outside them."""
    zone, ssl = emulator.zone_id, {"method": "txt", "type": "dv"}
    emulator.state.add_custom_hostname(zone, "shop.customer-a.com", ssl=ssl, certificates=[{"certificate": pki.due.chain_pem}])
    emulator.state.add_custom_hostname(zone, "www.customer-b.com", ssl=ssl, certificates=[{"certificate": pki.fresh.chain_pem}])
    due_client = emulator.state.add_client_cert(zone, certificate=pki.client_due.chain_pem, status="active").id
    emulator.state.add_association(zone, "app.example.com", due_client)
    emulator.state.add_client_cert(zone, certificate=pki.client_fresh.chain_pem, status="active")
    emulator.state.add_custom_certificate(zone, certificate=pki.zone.chain_pem)
    emulator.state.add_cert_pack(zone, ["example.com", "shop.example.com"], status="validation_timed_out")
    emulator.state.add_cert_pack(zone, ["example.com", "api.example.com"])
    for name, validity in (("origin.example.com", 7), ("static.example.com", 5475)):
        body = {"hostnames": [name], "request_type": "origin-ecc", "requested_validity": validity, "csr": make_csr([name])[0]}
        answer = requests.post(emulator.url + "/certificates", json=body, headers={"Authorization": "Bearer " + emulator.token}, timeout=10)
        assert answer.status_code == 200, answer.text
    pull = pki.client_fresh
    answer = requests.post(
        emulator.url + "/zones/%s/origin_tls_client_auth" % zone,
        json={"certificate": pull.cert_pem, "private_key": pull.key_pem},
        headers={"Authorization": "Bearer " + emulator.token},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    emulator.reset_journal()  # the seed's own requests are not the lines' writes


def run_line(ansible: Any, line: str) -> subprocess.CompletedProcess:
    env = ansible.base_env()  # the emulator's token and URL as CLOUDFLARE_*, the collection from the working tree
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    return subprocess.run(["bash", "-c", line], env=env, cwd=str(ansible.tmp_path), capture_output=True, text=True, timeout=300, check=False)


def result_of(output: str, status: str) -> Dict[str, Any]:
    """The JSON result Ansible's ad-hoc output prints after `localhost | <STATUS> =>`."""
    marker = "localhost | %s => " % status
    assert marker in output, output[-2000:]
    return json.JSONDecoder().raw_decode(output.split(marker, 1)[1])[0]


def identity(value: Any) -> Any:
    """A listed object's name: a string, or its sorted hosts (hostname entries are dicts with a `hostname`)."""
    if isinstance(value, list):
        return tuple(sorted(v["hostname"] if isinstance(v, dict) else v for v in value))
    return value


def listed(result: Dict[str, Any], key: str, field: str) -> set:
    return {identity(item[field]) for item in result[key]}


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def test_the_guide_has_a_line_per_info_module_and_one_check_mode_change() -> None:
    lines = guide_lines()
    reads = [line for line in lines if CHECK_MODE not in line]
    changes = [line for line in lines if CHECK_MODE in line]
    assert sorted(module_of(line) for line in reads) == api_info_modules()
    assert len(changes) == 1, changes
    assert not module_of(changes[0]).endswith("_info")


INFO_LINES = [line for line in guide_lines() if CHECK_MODE not in line]


@pytest.fixture(scope="module")
def info_lines(scenario_emulator, pki) -> SimpleNamespace:
    emulator, ansible = scenario_emulator()
    seed(emulator, pki)
    procs = {line: run_line(ansible, line) for line in INFO_LINES}
    return SimpleNamespace(token=emulator.token, procs=procs, writes=writes(emulator))


class TestTheGuideInfoLines:
    """The zone seeded with each kind inside and outside the lines' filters; each info line of the guide run in turn."""

    @pytest.mark.parametrize("line", INFO_LINES, ids=module_of)
    def test_the_line_succeeds(self, info_lines, line) -> None:
        proc = info_lines.procs[line]
        assert proc.returncode == 0, line + "\n" + proc.stdout[-2000:] + proc.stderr[-2000:]

    @pytest.mark.parametrize("line", INFO_LINES, ids=module_of)
    def test_the_line_lists_what_the_zone_holds_within_its_filter(self, info_lines, line) -> None:
        key, field, expected = LISTED[module_of(line)]
        assert listed(result_of(info_lines.procs[line].stdout, "SUCCESS"), key, field) == expected, line

    @pytest.mark.parametrize("line", INFO_LINES, ids=module_of)
    def test_the_line_does_not_print_the_token(self, info_lines, line) -> None:
        proc = info_lines.procs[line]
        assert info_lines.token not in proc.stdout + proc.stderr

    def test_no_line_sends_a_write(self, info_lines) -> None:
        assert info_lines.writes == []


def test_the_guide_check_mode_line_shows_the_change_and_writes_nothing(ansible, emulator, pki) -> None:
    seed(emulator, pki)
    before = emulator.dump_state()
    (line,) = [line for line in guide_lines() if CHECK_MODE in line]
    proc = run_line(ansible, line)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert re.search(r'^\+\s+"min_tls_version": "1\.2"', proc.stdout, re.M), proc.stdout[-2000:]  # the diff
    result = result_of(proc.stdout, "CHANGED")
    assert result["changed"], result
    assert result["custom_hostname"]["ssl"]["settings"] == {"min_tls_version": "1.2"}
    assert writes(emulator) == []
    assert emulator.dump_state() == before
    assert emulator.token not in proc.stdout + proc.stderr
