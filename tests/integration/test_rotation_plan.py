"""rotation_plan on what the real _info modules discover in a seeded emulator zone, in one play.

The plan must say per object what to do, hand the apply stage its lists, never write (it makes no API call: the
journal holds the info modules' reads only), list every bad certificate before any write, and never show a key.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from emulator.testcerts import generations, make_ca, make_leaf, write_files

N = 20
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DUE = range(0, 10)  # served certificates expiring in 10 days
CURRENT = 19  # already serves the new certificate
ZONE_HOSTS = ["example.com", "www.example.com"]


def name(i: int) -> str:
    return "h%03d.customer.example" % i


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Plan CA")
    leaves = dict(
        generations(ca, ["*.customer.example"]),
        expired=make_leaf(ca, ["*.customer.example"], days=-1, not_before_days=-90),
        client_old=make_leaf(ca, ["origin-client.example.com"], days=10, not_before_days=-80),
        client_new=make_leaf(ca, ["origin-client.example.com"], days=365),
        zone_old=make_leaf(ca, ZONE_HOSTS, key_type="rsa", days=10, not_before_days=-80),
        zone_new=make_leaf(ca, ZONE_HOSTS, key_type="rsa", days=90),
    )
    root = tmp_path_factory.mktemp("plan-pki")
    files = write_files(root, leaves)
    return SimpleNamespace(files=files, **leaves)


def seed(emulator: Any, pki: SimpleNamespace) -> Dict[str, str]:
    zone = emulator.zone_id
    for i in range(N):
        leaf = pki.due if i in DUE else pki.new if i == CURRENT else pki.fresh
        ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
        emulator.state.add_custom_hostname(zone, name(i), ssl=ssl, certificates=[{"certificate": leaf.chain_pem}])
    client = emulator.state.add_client_cert(zone, certificate=pki.client_old.chain_pem, status="active").id
    emulator.state.add_association(zone, "app.example.com", client)
    zone_cert = emulator.state.add_custom_certificate(zone, certificate=pki.zone_old.chain_pem, type="sni_custom", priority=1).id
    pack = emulator.state.add_cert_pack(zone, ["shop.example.com"], status="validation_timed_out").id
    return {"client": client, "zone_cert": zone_cert, "pack": pack}


def tasks(pki: SimpleNamespace, bad: Any = ()) -> List[Dict[str, Any]]:
    """Discovery with the four _info modules, then the plan on their registered results."""
    items = [{"hostname": name(i), "certificates": [pki.files["expired" if i in bad else "new"]]} for i in range(N)]
    plan_args = {
        "custom_hostnames": items,
        "client_certs": [dict(pki.files["client_new"], hostnames=["app.example.com"])],
        "zone_certs": [dict(pki.files["zone_new"], bundle_method="ubiquitous")],
        "cert_packs": [["shop.example.com"], ["gone.example.com"]],
        "discovered": {
            "custom_hostnames": "{{ found_hostnames.custom_hostnames }}",
            "hostname_client_certs": "{{ found_clients.hostname_client_certs }}",
            "custom_certs": "{{ found_zone_certs.custom_certs }}",
            "cert_packs": "{{ found_packs.cert_packs }}",
        },
        "renew_before_days": 30,
    }
    return [
        {"name": "hostnames", "certops.cloudflare.custom_hostname_cert_info": {"zone": "example.com"}, "register": "found_hostnames"},
        {"name": "client certs", "certops.cloudflare.hostname_client_cert_info": {"zone": "example.com"}, "register": "found_clients"},
        {"name": "zone certs", "certops.cloudflare.custom_cert_info": {"zone": "example.com"}, "register": "found_zone_certs"},
        {"name": "packs", "certops.cloudflare.cert_pack_info": {"zone": "example.com"}, "register": "found_packs"},
        {"name": "plan", "certops.cloudflare.rotation_plan": plan_args, "register": "rotation", "ignore_errors": True},
    ]


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def parts(result: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    """Some fields of a result or view, to compare with the expected ones in one assert."""
    return {k: result.get(k) for k in keys}


def key_lines(pki: SimpleNamespace) -> List[str]:
    return [line for leaf in (pki.new, pki.client_new, pki.zone_new, pki.expired) for line in leaf.key_pem.splitlines()[1:-1]]


@pytest.fixture(scope="module", params=[False, True], ids=["run", "check_mode"])
def planned(request, scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki)
    before = emulator.dump_state()
    run = ansible.run_tasks(tasks(pki), check=request.param, diff=True, verbosity=4)
    result = run.result(-1)
    return SimpleNamespace(
        ids=ids,
        output=run.output,
        result=result,
        writes=writes(emulator),
        state_unchanged=emulator.dump_state() == before,
        by={(o["kind"], o["name"]): o for o in result.get("plan", {}).get("objects", [])},
    )


def expected_action(i: int) -> str:
    return "rotate" if i in DUE else "up_to_date" if i == CURRENT else "skipped"


class TestAPlanFromDiscoverySaysWhatToDoAndWritesNothing:
    """Twenty hostnames (ten due, one current), a client certificate and a zone certificate due, a timed-out pack; one play
    at -vvvv with diff, for real and in check mode: the four _info modules, then the plan on their results."""

    def test_it_succeeds(self, planned):
        assert not planned.result.get("failed"), planned.result.get("msg")

    def test_it_changes_nothing(self, planned):
        assert planned.result["changed"] is False

    def test_it_finds_no_problem(self, planned):
        assert planned.result["problems"] == []

    def test_no_write_is_sent(self, planned):
        assert planned.writes == []

    def test_the_emulator_s_state_is_as_it_was(self, planned):
        assert planned.state_unchanged

    def test_each_hostname_is_rotated_if_due_up_to_date_if_current_else_skipped(self, planned):
        assert {name(i): planned.by[("custom_hostname", name(i))]["action"] for i in range(N)} == {name(i): expected_action(i) for i in range(N)}

    def test_a_skipped_hostname_says_why(self, planned):
        skipped = [name(i) for i in range(N) if expected_action(i) == "skipped"]
        assert {h: planned.by[("custom_hostname", h)]["reason"] for h in skipped} == {h: "not due: expires in 59 days, window 30 days" for h in skipped}

    def test_a_hostname_to_rotate_gives_the_old_and_the_new_certificate(self, planned, pki):
        entries = {name(i): planned.by[("custom_hostname", name(i))] for i in DUE}
        assert {h: (e["old"]["fingerprint_sha256"], e["new"]["fingerprint_sha256"]) for h, e in entries.items()} == {
            h: (pki.due.fingerprint_sha256, pki.new.fingerprint_sha256) for h in entries
        }

    def test_the_apply_stage_gets_the_hostnames_to_rotate(self, planned, pki):
        assert planned.result["plan"]["hostname_certificates"] == [{"hostname": name(i), "certificates": [pki.files["new"]], "exclusive": False} for i in DUE]

    def test_the_client_certificate_is_uploaded_the_old_one_retired_and_its_hostname_moved(self, planned):
        (client,) = planned.result["plan"]["client_cert_steps"]
        assert client["upload"]
        assert parts(client, "retire", "hostnames") == {"retire": [planned.ids["client"]], "hostnames": ["app.example.com"]}

    def test_the_zone_certificate_is_edited_in_place(self, planned):
        (zone_step,) = planned.result["plan"]["zone_cert_steps"]
        assert parts(zone_step, "mode", "id") == {"mode": "edit", "id": planned.ids["zone_cert"]}

    def test_the_timed_out_pack_is_restarted(self, planned):
        assert planned.result["plan"]["restart_cert_packs"] == [planned.ids["pack"]]

    def test_a_pack_not_in_the_zone_is_missing(self, planned):
        assert planned.by[("cert_pack", "gone.example.com")]["action"] == "missing"

    def test_the_summary_counts_each_action(self, planned):
        assert planned.result["summary"] == {
            "total": 24,
            "problems": 0,
            "rotate": 12,
            "upload": 0,
            "up_to_date": 1,
            "pending": 0,
            "skipped": 9,
            "restart": 1,
            "revalidate": 0,
            "missing": 1,
            "retire": 0,
            "kept": 0,
            "due": 0,
        }

    def test_no_key_material_is_printed_even_at_vvvv(self, planned, pki):
        # The module takes paths and returns facts only.
        for line in key_lines(pki):
            assert line not in planned.output


@pytest.fixture(scope="module")
def one_bad(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki)
    run = ansible.run_tasks(tasks(pki, bad=[7]), verbosity=4)
    return SimpleNamespace(result=run.result(-1), output=run.output, writes=writes(emulator))


class TestOneBadCertificateAmongTwentyFailsNamingItBeforeAnyWrite:
    """The same zone; one play at -vvvv: the discovery, then the plan with an expired certificate for one hostname."""

    def test_it_fails_and_changes_nothing(self, one_bad):
        assert one_bad.result["failed"], one_bad.result
        assert not one_bad.result["changed"]

    def test_it_lists_one_problem(self, one_bad):
        assert len(one_bad.result["problems"]) == 1

    def test_the_problem_names_the_hostname_and_the_fault(self, one_bad):
        assert one_bad.result["problems"][0].startswith("custom hostname %s: " % name(7))
        assert "expired" in one_bad.result["problems"][0]

    def test_the_message_counts_the_problem_names_the_hostname_and_says_nothing_was_written(self, one_bad):
        for words in ("1 problem", name(7), "nothing was written"):
            assert words in one_bad.result["msg"]

    def test_the_full_plan_comes_with_the_failure(self, one_bad):
        # The other nineteen are planned as usual.
        assert len([o for o in one_bad.result["plan"]["objects"] if o["kind"] == "custom_hostname"]) == N

    def test_no_write_is_sent(self, one_bad):
        assert one_bad.writes == []

    def test_no_key_material_is_printed_even_at_vvvv(self, one_bad, pki):
        for line in key_lines(pki):
            assert line not in one_bad.output


BAD_ARGUMENTS = {
    "percentage": ({"renew_before_percentage": 100}, "renew_before_percentage must be between 1 and 99"),
    "days": ({"renew_before_days": -1}, "renew_before_days must be 0 or more"),
    "replaces": (None, "zone_certs[].replaces must be a zone certificate id or a list"),
    "client_hostname": (None, "client_certs[0].hostnames"),
}


@pytest.fixture(scope="module")
def bad_arguments(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki)
    args = {
        "percentage": BAD_ARGUMENTS["percentage"][0],
        "days": BAD_ARGUMENTS["days"][0],
        "replaces": {"zone_certs": [dict(pki.files["zone_new"], replaces={"id": "x"})]},
        "client_hostname": {"client_certs": [dict(pki.files["client_new"], hostnames=["bad_host!.example.com"])]},
    }
    runs = {case: ansible.run_module("rotation_plan", args[case]) for case in BAD_ARGUMENTS}
    return SimpleNamespace(args=args, runs=runs, writes=writes(emulator))


class TestBadArgumentsFailWithAMessageBeforeAnyWrite:
    """The same zone; one run of rotation_plan per bad argument."""

    @pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
    def test_it_fails_with_a_message_naming_the_fault(self, bad_arguments, case):
        run = bad_arguments.runs[case]
        assert run.failed, (bad_arguments.args[case], run.msg)
        assert BAD_ARGUMENTS[case][1] in run.msg, (bad_arguments.args[case], run.msg)

    def test_no_write_is_sent(self, bad_arguments):
        assert bad_arguments.writes == []
