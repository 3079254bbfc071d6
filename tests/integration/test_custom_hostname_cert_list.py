"""The list form of custom_hostname_cert (`hostname_certificates`) against the emulator, at 200 hostnames.

It must end in the same state with the same per-hostname certificates as the single form, read the zone by list
pages only, make one PATCH per changed hostname, carry on past a failed hostname, check every certificate file
before any write, and never show a private key.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_ca, make_leaf, write_files

MOD = "certops.cloudflare.custom_hostname_cert"
N = 200
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Seeded with the new ECDSA certificate already: nothing to do for them.
UNCHANGED = range(180, 190)
# Seeded with an old RSA and ECDSA pair, given a new pair: one PATCH with custom_cert_bundle.
PAIRS = range(190, 200)


def name(i: int) -> str:
    return "h%03d.customer.example" % i


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A few wildcard certificates shared by all the hostnames, written to files (the list form takes paths)."""
    ca = make_ca("Certops List CA")
    hosts = ["*.customer.example"]
    leaves = dict(
        old_ec=make_leaf(ca, hosts),
        new_ec=make_leaf(ca, hosts),
        old_rsa=make_leaf(ca, hosts, key_type="rsa"),
        new_rsa=make_leaf(ca, hosts, key_type="rsa"),
        expired=make_leaf(ca, hosts, days=-1, not_before_days=-90),
        other=make_leaf(ca, ["other.example.net"]),
    )
    root = tmp_path_factory.mktemp("pki")
    files = write_files(root, leaves)
    return SimpleNamespace(root=root, files=files, **leaves)


def seed(emulator: Any, pki: SimpleNamespace, count: int = N) -> Dict[str, str]:
    """`count` hostnames on the old certificates (see UNCHANGED and PAIRS); returns hostname -> id."""
    ids = {}
    for i in range(count):
        leaves = [pki.new_ec] if i in UNCHANGED else [pki.old_rsa, pki.old_ec] if i in PAIRS else [pki.old_ec]
        spec = {"ssl": {"method": "txt", "type": "dv", "bundle_method": "force", "settings": {"min_tls_version": "1.2"}}}
        spec["certificates"] = [{"certificate": leaf.chain_pem} for leaf in leaves]
        ids[name(i)] = emulator.state.add_custom_hostname(emulator.zone_id, name(i), **spec).id
    return ids


def wanted(pki: SimpleNamespace, i: int) -> List[Dict[str, str]]:
    return [pki.files["new_rsa"], pki.files["new_ec"]] if i in PAIRS else [pki.files["new_ec"]]


def entries(pki: SimpleNamespace, indexes: Any) -> List[Dict[str, Any]]:
    return [{"hostname": name(i), "certificates": wanted(pki, i)} for i in indexes]


def expected_facts(pki: SimpleNamespace, i: int) -> List[Any]:
    leaves = [pki.new_rsa, pki.new_ec] if i in PAIRS else [pki.new_ec]
    return [(("rsa" if "RSA" in type(leaf.key).__name__ else "ecdsa"), leaf.fingerprint_sha256, leaf.serial_number) for leaf in leaves]


def compact(certificates: List[Dict[str, Any]]) -> List[Any]:
    return [(c["key_type"], c["fingerprint_sha256"], c["serial_number"]) for c in certificates]


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def served(emulator: Any, hostnames: Any = None) -> Dict[str, Any]:
    """What each hostname holds in the emulator, without ids and times: its SSL configuration and certificate chains."""
    out = {}
    for host in emulator.dump_state()["zones"][0]["custom_hostnames"]:
        if hostnames is None or host["hostname"] in hostnames:
            ssl = {k: v for k, v in host["ssl"].items() if k not in ("id", "status")}
            out[host["hostname"]] = {"status": host["status"], "ssl": ssl, "certificates": sorted(c["certificate"] for c in host.get("certificates", []))}
    return out


def run_list(ansible: Any, emulator: Any, items: List[Dict[str, Any]], **kwargs: Any) -> Any:
    return ansible.run_module(MOD, {"zone": "example.com", "hostname_certificates": items}, **kwargs)


def test_list_form_rotates_200_hostnames_like_the_single_form(ansible, emulator, pki):
    ids = seed(emulator, pki)
    seeded = emulator.dump_state()
    items = entries(pki, range(N))
    changed_hosts = {name(i) for i in range(N) if i not in UNCHANGED}

    # Check mode: zero writes, and the predictions the real run then makes true.
    preview = run_list(ansible, emulator, items, check=True, diff=True)
    assert not preview.failed and preview.changed, preview.msg
    assert writes(emulator) == []
    emulator.reset_journal()

    result = run_list(ansible, emulator, items, diff=True)
    assert not result.failed and result.changed, result.msg
    hosts = result.result["custom_hostnames"]
    assert [h["hostname"] for h in hosts] == [name(i) for i in range(N)]  # input order
    assert result.result["summary"] == {"total": N, "changed": len(changed_hosts), "unchanged": len(UNCHANGED), "failed": 0}
    for i, host in enumerate(hosts):
        assert host["id"] == ids[name(i)] and not host["failed"] and "msg" not in host
        assert host["changed"] == (name(i) in changed_hosts)
        assert compact(host["certificates"]) == expected_facts(pki, i), name(i)
        assert set(host["certificates"][0]) == {"key_type", "fingerprint_sha256", "serial_number", "expires_on"}
    assert preview.result["custom_hostnames"] == hosts, "check mode predicted something else than the run did"
    assert preview.result["summary"] == result.result["summary"]

    # The journal: list pages (plus the zone lookup, `zone` being a name) and exactly one PATCH per changed hostname.
    journal = emulator.journal()
    gets = [e for e in journal if e["method"] == "GET"]
    pages = [e for e in gets if e["path"].endswith("/zones/%s/custom_hostnames" % emulator.zone_id)]
    assert len(pages) == math.ceil(N / 50) and all(e["query"].get("per_page") == "50" for e in pages)
    assert len(gets) == len(pages) + 1 and gets[0]["path"].endswith("/zones")
    patches = sorted(path.rsplit("/", 1)[-1] for method, path in writes(emulator))
    assert [m for m, _p in writes(emulator)] == ["PATCH"] * len(changed_hosts)
    assert patches == sorted(ids[h] for h in changed_hosts)

    # The diff: per changed hostname, fingerprints before and after.
    diff = result.result["diff"]
    assert set(diff["before"]) == set(diff["after"]) == changed_hosts
    assert diff["before"][name(0)] == {"ecdsa": pki.old_ec.fingerprint_sha256}
    assert diff["after"][name(0)] == {"ecdsa": pki.new_ec.fingerprint_sha256}
    assert diff["after"][name(195)] == {"rsa": pki.new_rsa.fingerprint_sha256, "ecdsa": pki.new_ec.fingerprint_sha256}
    after_list = served(emulator)
    assert after_list[name(195)]["ssl"]["bundle_method"] == "force"  # the SSL configuration was sent back unchanged

    # The re-run: no write, changed false, the list pages only.
    emulator.reset_journal()
    again = run_list(ansible, emulator, items)
    assert not again.failed and not again.changed, again.msg
    assert again.result["summary"] == {"total": N, "changed": 0, "unchanged": N, "failed": 0}
    assert writes(emulator) == [] and len(emulator.journal()) == math.ceil(N / 50) + 1

    # The single form on a copy of the same seed, over 20 hostnames (single, unchanged and pairs): same state, same certificates.
    sample = list(range(175, 195))
    emulator.load_state(seeded)
    tasks = [
        {
            "name": "single form",
            MOD: {"zone": "example.com", "hostname": "{{ item.hostname }}", "certificates": "{{ item.certificates }}"},
            "loop": entries(pki, sample),
            "loop_control": {"label": "{{ item.hostname }}"},
            "register": "single",
        }
    ]
    single = ansible.run_tasks(tasks)
    assert single.rc == 0, single.output
    single_results = single.result()["results"]
    names = {name(i) for i in sample}
    assert served(emulator, names) == {h: after_list[h] for h in names}
    for i, one in zip(sample, single_results):
        certs = [{k: c[k] for k in ("key_type", "fingerprint_sha256", "serial_number", "expires_on")} for c in one["custom_hostname"]["ssl"]["certificates"]]
        assert certs == hosts[i]["certificates"], name(i)
        assert one["changed"] == hosts[i]["changed"]


def test_failed_hostnames_are_reported_while_the_others_rotate(ansible, emulator, pki):
    ids = seed(emulator, pki, 20)
    before = served(emulator)
    # A plain refusal (400) on one hostname, and a 500 on another: a PATCH of unknown outcome, settled by reading it again.
    emulator.add_fault("echo", method="PATCH", path=ids[name(5)])
    emulator.add_fault("500", method="PATCH", path=ids[name(7)])
    items = entries(pki, range(20))
    items.insert(3, {"hostname": "h999.customer.example", "certificates": [pki.files["new_ec"]]})

    result = run_list(ansible, emulator, items)
    assert result.failed and result.changed
    assert "3 of 21 custom hostnames failed" in result.msg
    assert "h999.customer.example: custom hostname h999.customer.example does not exist in zone example.com" in result.msg
    assert name(5) + ": " in result.msg and "HTTP 400 on PATCH" in result.msg
    assert name(7) + ": " in result.msg and "running the task again is safe" in result.msg
    hosts = {h["hostname"]: h for h in result.result["custom_hostnames"]}
    assert [h["hostname"] for h in result.result["custom_hostnames"]][3] == "h999.customer.example"
    assert hosts["h999.customer.example"]["failed"] and hosts["h999.customer.example"]["id"] is None
    for bad in (name(5), name(7)):
        assert hosts[bad]["failed"] and not hosts[bad]["changed"] and hosts[bad]["msg"]
        assert compact(hosts[bad]["certificates"]) == [("ecdsa", pki.old_ec.fingerprint_sha256, pki.old_ec.serial_number)]
    assert result.result["summary"] == {"total": 21, "changed": 18, "unchanged": 0, "failed": 3}
    after = served(emulator)
    new_chain = pki.new_ec.chain_pem
    for i in range(20):
        if i in (5, 7):
            assert after[name(i)] == before[name(i)]
        else:
            assert new_chain.strip() in "".join(after[name(i)]["certificates"]), name(i)
    # One PATCH per hostname (the refused and the faulted ones included), none re-sent; the 500 cost one GET of that hostname.
    assert sorted(path.rsplit("/", 1)[-1] for _m, path in writes(emulator)) == sorted(ids.values())
    assert [e["path"].rsplit("/", 1)[-1] for e in emulator.journal() if e["method"] == "GET" and e["path"].endswith(tuple(ids.values()))] == [ids[name(7)]]
    key_lines = [line for line in pki.new_ec.key_pem.splitlines() if not line.startswith("-----")]
    assert not any(line in result.output for line in key_lines), "the echoed key showed in the output"

    # The re-run finishes the rotation and reports only what it did.
    emulator.reset_journal()
    again = run_list(ansible, emulator, entries(pki, range(20)))
    assert not again.failed and again.changed, again.msg
    assert sorted(h["hostname"] for h in again.result["custom_hostnames"] if h["changed"]) == [name(5), name(7)]
    assert len(writes(emulator)) == 2


def test_a_bad_certificate_among_20_fails_before_any_call(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 20)
    items = entries(pki, range(20))
    items[4]["certificates"] = [pki.files["expired"]]
    items[9]["certificates"] = [pki.files["other"]]
    mismatched = dict(pki.files["new_ec"], private_key_path=pki.files["old_ec"]["private_key_path"])
    items[13]["certificates"] = [mismatched]
    items[15]["certificates"] = [dict(pki.files["new_ec"], certificate_path=str(tmp_path / "missing.pem"))]
    items[17]["certificates"] = [pki.files["new_ec"], pki.files["old_ec"]]
    emulator.reset_journal()
    result = run_list(ansible, emulator, items)
    assert result.failed and not result.changed
    assert emulator.journal() == []  # not even a read
    assert "5 of 20 entries of hostname_certificates are bad, so nothing was sent" in result.msg
    for i, problem in [
        (4, "certificate %s: it expired on" % pki.files["expired"]["certificate_path"]),
        (9, "does not cover %s" % name(9)),
        (13, "the private key does not belong to this certificate"),
        (15, "certificate_path: cannot read %s" % (tmp_path / "missing.pem")),
        (17, "are both ECDSA certificates"),
    ]:
        assert "hostname_certificates[%d] (%s): " % (i, name(i)) in result.msg, result.msg
        assert problem in result.msg, (problem, result.msg)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"state": "absent", "key_type": "rsa"}, "hostname_certificates takes state=present only"),
        ({"wait": True, "wait_timeout": 0}, "wait_timeout must be a positive number of seconds, not 0"),
        ({"hostname": name(1)}, "parameters are mutually exclusive: hostname|custom_hostname_id|hostname_certificates|plan"),
        ({"certificates": [{"certificate_path": "x", "private_key_path": "y"}]}, "mutually exclusive: certificates|hostname_certificates|plan"),
        ({"hostname_certificates": [{"hostname": "bad_host!.customer.example", "certificates": []}]}, "hostname_certificates[0].hostname"),
        ({"hostname_certificates": [{"hostname": name(1), "certificates": [{"certificate_path": "x"}]}]}, "private_key_path"),
        ({"hostname_certificates": [{"hostname": name(1), "certificates": []}]}, "certificates must hold one or two certificates"),
        ({"duplicate": True}, "hostname_certificates[1] (h000.customer.example): listed already as hostname_certificates[0]"),
    ],
    ids=["absent", "no wait time", "with hostname", "with certificates", "bad hostname", "no key path", "no certificates", "duplicate"],
)
def test_bad_arguments_fail_before_any_call(ansible, emulator, pki, args, message):
    seed(emulator, pki, 2)
    base = {"zone_id": emulator.zone_id, "hostname_certificates": entries(pki, range(2))}
    if args.pop("duplicate", False):
        base["hostname_certificates"][1]["hostname"] = name(0).upper()
    emulator.reset_journal()
    result = ansible.run_module(MOD, dict(base, **args))
    assert result.failed and not result.changed
    assert message in result.msg, result.msg
    assert emulator.journal() == []


def test_private_key_appears_nowhere_at_vvvv(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 5)
    encrypted = pki.new_rsa.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pass phrase")
    ).decode()
    (tmp_path / "rsa-encrypted.key").write_text(encrypted)
    items = entries(pki, range(5))
    items[2]["certificates"] = [
        dict(pki.files["new_rsa"], private_key_path=str(tmp_path / "rsa-encrypted.key"), private_key_passphrase="pass phrase"),
        pki.files["new_ec"],
    ]
    # An entry without a passphrase of its own takes the task's (the role seals inline keys so); clear keys ignore it.
    items[3]["certificates"] = [dict(pki.files["new_rsa"], private_key_path=str(tmp_path / "rsa-encrypted.key")), pki.files["new_ec"]]
    result = ansible.run_module(MOD, {"zone": "example.com", "hostname_certificates": items, "private_key_passphrase": "pass phrase"}, diff=True, verbosity=4)
    assert not result.failed and result.changed, result.msg
    assert compact(result.result["custom_hostnames"][2]["certificates"]) == expected_facts(pki, 195)
    assert compact(result.result["custom_hostnames"][3]["certificates"]) == expected_facts(pki, 195)
    output = result.output + json.dumps(result.result) + json.dumps(emulator.dump_state()) + json.dumps(emulator.journal())
    for pem in (pki.new_rsa.key_pem, pki.new_ec.key_pem, encrypted):
        for line in _key_body(pem):
            assert line not in output
    assert "pass phrase" not in result.output


@pytest.mark.parametrize("value", ["not json at all", '{"hostname": "x"}', "[1, 2]"], ids=["text", "a dict", "not dicts"])
def test_discovered_hostnames_that_are_no_list_of_hostnames_fail_before_any_write(ansible, emulator, pki, value):
    seed(emulator, pki, 2)
    emulator.reset_journal()
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname_certificates": entries(pki, range(2)), "discovered_hostnames": value})
    assert result.failed and "discovered_hostnames" in result.msg and "custom_hostname_cert_info" in result.msg, result.msg
    assert [e for e in emulator.journal() if e["method"] in WRITE_METHODS] == []


def test_a_task_passphrase_needs_the_list_form(ansible, emulator, pki):
    seed(emulator, pki, 1)
    emulator.reset_journal()
    args = {"zone": "example.com", "hostname": name(0), "certificates": wanted(pki, 0), "private_key_passphrase": "pass phrase"}
    result = ansible.run_module(MOD, args)
    assert result.failed and "private_key_passphrase is an option of the list form: set hostname_certificates or plan with it" in result.msg, result.msg
    assert "pass phrase" not in result.output
    assert emulator.journal() == []


def _key_body(pem: str) -> List[str]:
    """The base64 lines of a PEM key (the part that is secret)."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and not re.match(r"^[A-Za-z-]+:", line)]


def test_certificate_files_are_read_once_per_path(pki, monkeypatch):
    """200 hostnames sharing one wildcard file: each file is read and checked once (the loader with a cache, as the list form calls it)."""
    from ansible_collections.certops.cloudflare.plugins.module_utils import _custom_hostname

    calls: List[str] = []
    real = _custom_hostname.read_file_option

    def counting(values: Dict[str, Any], content: str, path: str, where: str = "") -> Any:
        calls.append(values.get(path))
        return real(values, content, path, where)

    monkeypatch.setattr(_custom_hostname, "read_file_option", counting)
    cache: Dict[Any, Any] = {}
    for i in range(N):
        loaded = _custom_hostname.load_local_certificates([pki.files["new_ec"]], name(i), set(), cache)
        assert loaded[0].fingerprint == pki.new_ec.fingerprint_sha256
    assert len(calls) == 2  # the certificate and the key, once
    with pytest.raises(_custom_hostname.CertificateError, match="does not cover other.example.net"):
        _custom_hostname.load_local_certificates([pki.files["new_ec"]], "other.example.net", set(), cache)
    assert Path(pki.files["new_ec"]["certificate_path"]).exists()


@pytest.mark.parametrize("as_json", [False, True], ids=["list", "json_text"])
def test_discovered_hostnames_mean_no_reads_of_its_own_and_one_write_per_hostname(ansible, emulator, pki, as_json):
    ids = seed(emulator, pki, 20)
    items = entries(pki, range(20))
    changed_hosts = {name(i) for i in range(20)}  # none of the first twenty is UNCHANGED
    tasks = [
        {"name": "discover", "certops.cloudflare.custom_hostname_cert_info": {"zone": "example.com"}, "register": "found"},
        # A forged entry (an id that is not one) counts as not found: it is never written to.
        {"name": "forge", "ansible.builtin.set_fact": {"forged": [{"hostname": name(3), "id": "../zones", "ssl": {"id": "x", "certificates": []}}]}},
        {
            "name": "list form",
            MOD: {
                "zone_id": "{{ found.zone_id }}",
                "hostname_certificates": items,
                "discovered_hostnames": "{{ (found.custom_hostnames | rejectattr('hostname', 'eq', '%s') | list + forged)%s }}"
                % (name(3), " | to_json" if as_json else ""),
            },
            "register": "applied",
            "ignore_errors": True,
        },
    ]
    run = ansible.run_tasks(tasks)
    result = run.result(-1)
    assert result["failed"] and "custom hostname %s does not exist" % name(3) in result["msg"]
    assert result["summary"] == {"total": 20, "changed": 19, "unchanged": 0, "failed": 1}
    # The journal: the discovery's zone lookup and list page, then only the PATCHes.
    journal = emulator.journal()
    assert [e["method"] for e in journal] == ["GET", "GET"] + ["PATCH"] * 19
    assert sorted(p.rsplit("/", 1)[-1] for m, p in writes(emulator)) == sorted(ids[h] for h in changed_hosts - {name(3)})
    # The discovered list is not echoed back in the result.
    assert result["invocation"]["module_args"]["discovered_hostnames"] == "20 hostnames, not repeated here"
    for host in result["custom_hostnames"]:
        if host["hostname"] != name(3):
            assert compact(host["certificates"]) == expected_facts(pki, int(host["hostname"][1:4]))
