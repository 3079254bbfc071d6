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


def key_lines(pki: SimpleNamespace) -> List[str]:
    return [line for leaf in (pki.new, pki.client_new, pki.zone_new, pki.expired) for line in leaf.key_pem.splitlines()[1:-1]]


@pytest.mark.parametrize("check", [False, True])
def test_plan_from_discovery_says_what_to_do_and_writes_nothing(ansible, emulator, pki, check):
    ids = seed(emulator, pki)
    before = emulator.dump_state()
    run = ansible.run_tasks(tasks(pki), check=check, diff=True, verbosity=4)
    result = run.result(-1)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and result["problems"] == []
    assert writes(emulator) == [] and emulator.dump_state() == before

    plan = result["plan"]
    by = {(o["kind"], o["name"]): o for o in plan["objects"]}
    for i in range(N):
        entry = by[("custom_hostname", name(i))]
        expected = "rotate" if i in DUE else "up_to_date" if i == CURRENT else "skipped"
        assert entry["action"] == expected, (name(i), entry)
        if expected == "skipped":
            assert entry["reason"] == "not due: expires in 59 days, window 30 days"
        if expected == "rotate":
            assert entry["old"]["fingerprint_sha256"] == pki.due.fingerprint_sha256
            assert entry["new"]["fingerprint_sha256"] == pki.new.fingerprint_sha256
    assert plan["hostname_certificates"] == [{"hostname": name(i), "certificates": [pki.files["new"]]} for i in DUE]

    (client,) = plan["client_cert_steps"]
    assert client["upload"] and client["retire"] == [ids["client"]] and client["hostnames"] == ["app.example.com"]
    (zone_step,) = plan["zone_cert_steps"]
    assert zone_step["mode"] == "edit" and zone_step["id"] == ids["zone_cert"]
    assert plan["restart_cert_packs"] == [ids["pack"]]
    assert by[("cert_pack", "gone.example.com")]["action"] == "missing"
    assert result["summary"] == {
        "total": 24,
        "problems": 0,
        "rotate": 12,
        "upload": 0,
        "up_to_date": 1,
        "skipped": 9,
        "restart": 1,
        "revalidate": 0,
        "missing": 1,
    }

    # No key material anywhere, even at -vvvv (the module takes paths and returns facts only).
    for line in key_lines(pki):
        assert line not in run.output


def test_one_bad_certificate_among_twenty_fails_naming_it_before_any_write(ansible, emulator, pki):
    seed(emulator, pki)
    run = ansible.run_tasks(tasks(pki, bad=[7]), verbosity=4)
    result = run.result(-1)
    assert result["failed"] and not result["changed"]
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("custom hostname %s: " % name(7)) and "expired" in result["problems"][0]
    assert "1 problem" in result["msg"] and name(7) in result["msg"] and "nothing was written" in result["msg"]
    # The full plan comes with the failure: the other nineteen are planned as usual.
    assert len([o for o in result["plan"]["objects"] if o["kind"] == "custom_hostname"]) == N
    assert writes(emulator) == []
    for line in key_lines(pki):
        assert line not in run.output


def test_bad_arguments_fail_with_a_message_before_any_write(ansible, emulator, pki):
    seed(emulator, pki)
    cases = [
        ({"renew_before_percentage": 100}, "renew_before_percentage must be between 1 and 99"),
        ({"renew_before_days": -1}, "renew_before_days must be 0 or more"),
        ({"zone_certs": [dict(pki.files["zone_new"], replaces={"id": "x"})]}, "zone_certs[].replaces must be a zone certificate id or a list"),
        ({"client_certs": [dict(pki.files["client_new"], hostnames=["bad_host!.example.com"])]}, "client_certs[0].hostnames"),
    ]
    for args, message in cases:
        run = ansible.run_module("rotation_plan", args)
        assert run.failed and message in run.msg, (args, run.msg)
    assert writes(emulator) == []
