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


def run_list(ansible: Any, emulator: Any, items: List[Dict[str, Any]], progress: Any = None, **kwargs: Any) -> Any:
    args = {"zone": "example.com", "hostname_certificates": items}
    if progress is not None:
        args["progress"] = str(progress)
    return ansible.run_module(MOD, args, **kwargs)


CERT_FIELDS = {"key_type", "fingerprint_sha256", "serial_number", "expires_on"}
SAMPLE = list(range(175, 195))  # single, unchanged and pairs


@pytest.fixture(scope="module")
def rotation(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki)
    seeded = emulator.dump_state()
    items = entries(pki, range(N))
    # Check mode: zero writes, and the predictions the real run then makes true.
    preview = run_list(ansible, emulator, items, check=True, diff=True)
    preview_writes = writes(emulator)
    emulator.reset_journal()
    result = run_list(ansible, emulator, items, diff=True)
    first = SimpleNamespace(journal=emulator.journal(), writes=writes(emulator), served=served(emulator))
    # The re-run.
    emulator.reset_journal()
    again = run_list(ansible, emulator, items)
    again_calls = SimpleNamespace(writes=writes(emulator), count=len(emulator.journal()))
    # The single form on a copy of the same seed, over 20 hostnames.
    emulator.load_state(seeded)
    tasks = [
        {
            "name": "single form",
            MOD: {"zone": "example.com", "hostname": "{{ item.hostname }}", "certificates": "{{ item.certificates }}"},
            "loop": entries(pki, SAMPLE),
            "loop_control": {"label": "{{ item.hostname }}"},
            "register": "single",
        }
    ]
    single = ansible.run_tasks(tasks)
    return SimpleNamespace(
        zone_id=emulator.zone_id,
        ids=ids,
        changed_hosts={name(i) for i in range(N) if i not in UNCHANGED},
        preview=preview,
        preview_writes=preview_writes,
        result=result,
        hosts=result.result["custom_hostnames"],
        first=first,
        again=again,
        again_calls=again_calls,
        single=single,
        single_served=served(emulator, {name(i) for i in SAMPLE}),
    )


class TestTheListFormRotates200HostnamesLikeTheSingleForm:
    """200 hostnames: most on an old certificate, ten on the new one already, ten on an old pair given a new pair. The list
    form in check mode with diff, for real with diff, again; then the single form, in a loop, on a copy of the same seed
    over 20 of them."""

    def test_check_mode_predicts_a_change(self, rotation):
        assert not rotation.preview.failed, rotation.preview.msg
        assert rotation.preview.changed, rotation.preview.msg

    def test_check_mode_sends_no_write(self, rotation):
        assert rotation.preview_writes == []

    def test_the_rotation_reports_a_change(self, rotation):
        assert not rotation.result.failed, rotation.result.msg
        assert rotation.result.changed, rotation.result.msg

    def test_it_lists_the_hostnames_in_input_order(self, rotation):
        assert [h["hostname"] for h in rotation.hosts] == [name(i) for i in range(N)]

    def test_it_counts_the_hostnames_changed_and_unchanged(self, rotation):
        assert rotation.result.result["summary"] == {"total": N, "changed": len(rotation.changed_hosts), "unchanged": len(UNCHANGED), "failed": 0}

    def test_each_hostname_has_its_id_and_did_not_fail(self, rotation):
        assert {h["hostname"]: (h["id"], bool(h["failed"]), "msg" in h) for h in rotation.hosts} == {
            hostname: (host_id, False, False) for hostname, host_id in rotation.ids.items()
        }

    def test_each_hostname_is_changed_unless_it_had_the_new_certificate(self, rotation):
        assert {h["hostname"]: h["changed"] for h in rotation.hosts} == {name(i): name(i) in rotation.changed_hosts for i in range(N)}

    def test_each_hostname_has_its_new_certificates(self, rotation, pki):
        assert {h["hostname"]: compact(h["certificates"]) for h in rotation.hosts} == {name(i): expected_facts(pki, i) for i in range(N)}

    def test_each_certificate_is_given_by_its_facts(self, rotation):
        assert {h["hostname"]: set(h["certificates"][0]) for h in rotation.hosts} == {name(i): CERT_FIELDS for i in range(N)}

    def test_check_mode_predicted_the_hostnames_as_the_run_made_them(self, rotation):
        assert rotation.preview.result["custom_hostnames"] == rotation.hosts, "check mode predicted something else than the run did"

    def test_check_mode_predicted_the_summary(self, rotation):
        assert rotation.preview.result["summary"] == rotation.result.result["summary"]

    # The journal: list pages (plus the zone lookup, `zone` being a name) and exactly one PATCH per changed hostname.
    def test_the_zone_is_read_by_list_pages_of_50(self, rotation):
        pages = [e for e in rotation.first.journal if e["method"] == "GET" and e["path"].endswith("/zones/%s/custom_hostnames" % rotation.zone_id)]
        assert len(pages) == math.ceil(N / 50)
        assert [e["query"].get("per_page") for e in pages] == ["50"] * len(pages)

    def test_the_only_other_read_is_the_zone_lookup_first(self, rotation):
        gets = [e for e in rotation.first.journal if e["method"] == "GET"]
        assert len(gets) == math.ceil(N / 50) + 1
        assert gets[0]["path"].endswith("/zones")

    def test_every_write_is_a_patch_one_per_changed_hostname(self, rotation):
        assert [m for m, _p in rotation.first.writes] == ["PATCH"] * len(rotation.changed_hosts)

    def test_the_patches_are_for_the_changed_hostnames(self, rotation):
        patches = sorted(path.rsplit("/", 1)[-1] for _method, path in rotation.first.writes)
        assert patches == sorted(rotation.ids[h] for h in rotation.changed_hosts)

    # The diff: per changed hostname, fingerprints before and after.
    def test_the_diff_has_the_changed_hostnames_before_and_after(self, rotation):
        diff = rotation.result.result["diff"]
        assert (set(diff["before"]), set(diff["after"])) == (rotation.changed_hosts, rotation.changed_hosts)

    def test_the_diff_before_shows_the_old_certificate(self, rotation, pki):
        assert rotation.result.result["diff"]["before"][name(0)] == {"ecdsa": pki.old_ec.fingerprint_sha256}

    def test_the_diff_after_shows_the_new_certificate(self, rotation, pki):
        assert rotation.result.result["diff"]["after"][name(0)] == {"ecdsa": pki.new_ec.fingerprint_sha256}

    def test_the_diff_after_shows_a_new_pair(self, rotation, pki):
        assert rotation.result.result["diff"]["after"][name(195)] == {"rsa": pki.new_rsa.fingerprint_sha256, "ecdsa": pki.new_ec.fingerprint_sha256}

    def test_the_ssl_configuration_is_sent_back_unchanged(self, rotation):
        assert rotation.first.served[name(195)]["ssl"]["bundle_method"] == "force"

    def test_a_re_run_changes_nothing(self, rotation):
        assert not rotation.again.failed, rotation.again.msg
        assert not rotation.again.changed, rotation.again.msg

    def test_a_re_run_counts_every_hostname_unchanged(self, rotation):
        assert rotation.again.result["summary"] == {"total": N, "changed": 0, "unchanged": N, "failed": 0}

    def test_a_re_run_sends_no_write(self, rotation):
        assert rotation.again_calls.writes == []

    def test_a_re_run_reads_the_list_pages_and_the_zone_only(self, rotation):
        assert rotation.again_calls.count == math.ceil(N / 50) + 1

    def test_the_single_form_succeeds(self, rotation):
        assert rotation.single.rc == 0, rotation.single.output

    def test_the_single_form_ends_in_the_same_state(self, rotation):
        assert rotation.single_served == {name(i): rotation.first.served[name(i)] for i in SAMPLE}

    def test_the_single_form_reports_the_same_certificates(self, rotation):
        single = rotation.single.result()["results"]
        assert {name(i): [{k: c[k] for k in CERT_FIELDS} for c in one["custom_hostname"]["ssl"]["certificates"]] for i, one in zip(SAMPLE, single)} == {
            name(i): rotation.hosts[i]["certificates"] for i in SAMPLE
        }

    def test_the_single_form_reports_the_same_changes(self, rotation):
        single = rotation.single.result()["results"]
        assert [one["changed"] for one in single] == [rotation.hosts[i]["changed"] for i in SAMPLE]


MISSING = "h999.customer.example"


@pytest.fixture(scope="module")
def partial_failure(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki, 20)
    before = served(emulator)
    # A plain refusal (400) on one hostname, and a 500 on another: a PATCH of unknown outcome, settled by reading it again
    # and sent once more, answered 500 again.
    emulator.add_fault("echo", method="PATCH", path=ids[name(5)])
    emulator.add_fault("500", method="PATCH", path=ids[name(7)], count=2)
    items = entries(pki, range(20))
    items.insert(3, {"hostname": MISSING, "certificates": [pki.files["new_ec"]]})
    progress = ansible.tmp_path / "progress.json"
    result = run_list(ansible, emulator, items, progress=progress)
    first = SimpleNamespace(
        progress=json.loads(progress.read_text()),
        served=served(emulator),
        writes=writes(emulator),
        hostname_reads=[e["path"].rsplit("/", 1)[-1] for e in emulator.journal() if e["method"] == "GET" and e["path"].endswith(tuple(ids.values()))],
    )
    # The re-run finishes the rotation and reports only what it did.
    emulator.reset_journal()
    again = run_list(ansible, emulator, entries(pki, range(20)))
    return SimpleNamespace(ids=ids, before=before, result=result, first=first, again=again, again_writes=writes(emulator))


class TestFailedHostnamesAreReportedWhileTheOthersRotate:
    """Twenty hostnames and one missing from the zone; a PATCH refused on one, a 500 on another; then the list again
    without the missing one."""

    def test_its_progress_file_ends_with_every_hostname_done_and_the_failures_counted(self, partial_failure):
        state = partial_failure.first.progress
        assert {k: state[k] for k in ("total", "done", "failed", "waiting", "phase")} == {
            "total": 21,
            "done": 21,
            "failed": 3,
            "waiting": 0,
            "phase": "finished",
        }
        assert state["started"] <= state["updated"]

    def test_it_fails_and_reports_a_change(self, partial_failure):
        assert partial_failure.result.failed
        assert partial_failure.result.changed

    def test_the_message_counts_the_failed_hostnames(self, partial_failure):
        assert "3 of 21 custom hostnames failed" in partial_failure.result.msg

    def test_the_message_names_the_missing_hostname(self, partial_failure):
        assert "%s: custom hostname %s does not exist in zone example.com" % (MISSING, MISSING) in partial_failure.result.msg

    def test_the_message_names_the_refused_hostname_and_the_refusal(self, partial_failure):
        assert name(5) + ": " in partial_failure.result.msg
        assert "HTTP 400 on PATCH" in partial_failure.result.msg

    def test_the_message_names_the_hostname_with_the_500_and_says_a_re_run_is_safe(self, partial_failure):
        assert name(7) + ": " in partial_failure.result.msg
        assert "running the task again is safe" in partial_failure.result.msg

    def test_the_missing_hostname_keeps_its_place_in_the_input_order(self, partial_failure):
        assert [h["hostname"] for h in partial_failure.result.result["custom_hostnames"]][3] == MISSING

    def test_the_missing_hostname_failed_without_an_id(self, partial_failure):
        host = {h["hostname"]: h for h in partial_failure.result.result["custom_hostnames"]}[MISSING]
        assert host["failed"], host
        assert host["id"] is None

    @pytest.mark.parametrize("index", [5, 7], ids=["refused", "500"])
    def test_a_failed_hostname_is_not_changed_and_says_why(self, partial_failure, index):
        host = {h["hostname"]: h for h in partial_failure.result.result["custom_hostnames"]}[name(index)]
        assert host["failed"], host
        assert not host["changed"], host
        assert host["msg"], host

    @pytest.mark.parametrize("index", [5, 7], ids=["refused", "500"])
    def test_a_failed_hostname_reports_its_old_certificate(self, partial_failure, pki, index):
        host = {h["hostname"]: h for h in partial_failure.result.result["custom_hostnames"]}[name(index)]
        assert compact(host["certificates"]) == [("ecdsa", pki.old_ec.fingerprint_sha256, pki.old_ec.serial_number)]

    def test_it_counts_the_hostnames_changed_and_failed(self, partial_failure):
        assert partial_failure.result.result["summary"] == {"total": 21, "changed": 18, "unchanged": 0, "failed": 3}

    def test_the_failed_hostnames_hold_what_they_held(self, partial_failure):
        assert {h: partial_failure.first.served[h] for h in (name(5), name(7))} == {h: partial_failure.before[h] for h in (name(5), name(7))}

    def test_the_other_hostnames_hold_the_new_certificate(self, partial_failure, pki):
        new_chain = pki.new_ec.chain_pem.strip()
        others = [name(i) for i in range(20) if i not in (5, 7)]
        assert [h for h in others if new_chain not in "".join(partial_failure.first.served[h]["certificates"])] == []

    def test_one_patch_is_sent_per_hostname_and_one_more_only_after_the_500(self, partial_failure):
        # the refused one included; the one answered 500 is sent once more after a read proved it was not applied
        sent = sorted(path.rsplit("/", 1)[-1] for _m, path in partial_failure.first.writes)
        assert sent == sorted(list(partial_failure.ids.values()) + [partial_failure.ids[name(7)]])

    def test_the_500_costs_one_read_of_that_hostname(self, partial_failure):
        assert partial_failure.first.hostname_reads == [partial_failure.ids[name(7)]]

    def test_the_echoed_key_does_not_show_in_the_output(self, partial_failure, pki):
        key_lines = [line for line in pki.new_ec.key_pem.splitlines() if not line.startswith("-----")]
        assert [line for line in key_lines if line in partial_failure.result.output] == [], "the echoed key showed in the output"

    def test_a_re_run_finishes_the_rotation(self, partial_failure):
        assert not partial_failure.again.failed, partial_failure.again.msg
        assert partial_failure.again.changed, partial_failure.again.msg

    def test_a_re_run_reports_only_what_it_did(self, partial_failure):
        assert sorted(h["hostname"] for h in partial_failure.again.result["custom_hostnames"] if h["changed"]) == [name(5), name(7)]

    def test_a_re_run_sends_two_writes(self, partial_failure):
        assert len(partial_failure.again_writes) == 2


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
    assert result.failed
    assert not result.changed
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
    assert result.failed
    assert not result.changed
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
    assert not result.failed, result.msg
    assert result.changed, result.msg
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
    assert result.failed, result.msg
    assert "discovered_hostnames" in result.msg, result.msg
    assert "custom_hostname_cert_info" in result.msg, result.msg
    assert [e for e in emulator.journal() if e["method"] in WRITE_METHODS] == []


def test_a_task_passphrase_needs_the_list_form(ansible, emulator, pki):
    seed(emulator, pki, 1)
    emulator.reset_journal()
    args = {"zone": "example.com", "hostname": name(0), "certificates": wanted(pki, 0), "private_key_passphrase": "pass phrase"}
    result = ansible.run_module(MOD, args)
    assert result.failed, result.msg
    assert "private_key_passphrase is an option of the list form: set hostname_certificates or plan with it" in result.msg, result.msg
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
    assert result["failed"], result
    assert "custom hostname %s does not exist" % name(3) in result["msg"]
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
