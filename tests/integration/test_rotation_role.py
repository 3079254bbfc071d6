"""The role cert_rotation end to end against the emulator, through ansible-playbook.

A zone like the demo's: twenty custom hostnames (six due, one due RSA+ECDSA pair, the rest not due), a due
client certificate, a due zone custom certificate, a timed-out pack and a hostname whose validation timed out.
The role must preview in check mode without a write, rotate exactly what is due (compared with the emulator's
state, not with the plan), report it, change nothing on a re-run, survive a failed write and converge on a
re-run, refuse bad material before any write, honour the percentage window, and never show a key. At no moment
may a hostname, association or zone certificate lack a valid certificate (the emulator's state history).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

from emulator.testcerts import generations, make_ca, make_leaf, write_files

N = 20
DUE = range(0, 6)  # served certificates expire in 10 days
PAIR = 19  # an RSA+ECDSA pair, due
INLINE = 5  # new material given as content, not paths
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ZONE_HOSTS = ["example.com", "www.example.com"]
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
RESTART_TASK = "Apply | restart the timed-out certificate packs and wait (still validating after the wait is pending, not failed)"


def name(i: int) -> str:
    return "h%02d.customer.example" % i


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Role CA")
    hosts = ["*.customer.example"]
    leaves = dict(
        generations(ca, hosts),
        due_rsa=make_leaf(ca, hosts, key_type="rsa", days=10, not_before_days=-80),
        new_rsa=make_leaf(ca, hosts, key_type="rsa", days=90),
        expired=make_leaf(ca, hosts, days=-1, not_before_days=-90),
        client_old=make_leaf(ca, ["origin-client.example.com"], days=10, not_before_days=-80),
        client_new=make_leaf(ca, ["origin-client.example.com"], days=365),
        zone_old=make_leaf(ca, ZONE_HOSTS, key_type="rsa", days=10, not_before_days=-80),
        zone_new=make_leaf(ca, ZONE_HOSTS, key_type="rsa", days=90),
        # For the percentage window: a 9-day certificate 3 days from expiry, and one early in its life.
        short_due=make_leaf(ca, hosts, days=3, not_before_days=-6),
        short_young=make_leaf(ca, hosts, days=8, not_before_days=-1),
    )
    root = tmp_path_factory.mktemp("role-pki")
    files = write_files(root, leaves)
    return SimpleNamespace(files=files, leaves=leaves, **leaves)


def seed(emulator: Any, pki: SimpleNamespace) -> Dict[str, str]:
    zone = emulator.zone_id
    ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
    for i in range(N):
        leaves = [pki.due_rsa, pki.due] if i == PAIR else [pki.due] if i in DUE else [pki.fresh]
        emulator.state.add_custom_hostname(zone, name(i), ssl=ssl, certificates=[{"certificate": leaf.chain_pem} for leaf in leaves])
    emulator.state.add_custom_hostname(zone, "managed.customer.example", ssl=dict(ssl, status="validation_timed_out"))
    client = emulator.state.add_client_cert(zone, certificate=pki.client_old.chain_pem, status="active").id
    emulator.state.add_association(zone, "app.example.com", client)
    zone_cert = emulator.state.add_custom_certificate(zone, certificate=pki.zone_old.chain_pem, type="legacy_custom", priority=1).id
    pack = emulator.state.add_cert_pack(zone, ["example.com", "shop.example.com"], status="validation_timed_out").id
    return {"client": client, "zone_cert": zone_cert, "pack": pack}


def role_vars(pki: SimpleNamespace, report_dir: Path, bad: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
    items = []
    for i in range(N):
        certs = [pki.files["new_rsa"], pki.files["new"]] if i == PAIR else [pki.files["expired" if i == bad else "new"]]
        if i == INLINE:
            certs = [{"certificate": pki.new.chain_pem, "private_key": pki.new.key_pem}]
        items.append({"hostname": name(i), "certificates": certs})
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=items,
        cert_rotation_client_certs=[dict(pki.files["client_new"], hostnames=["app.example.com"])],
        cert_rotation_zone_certs=[pki.files["zone_new"]],
        cert_rotation_cert_packs=[["example.com", "shop.example.com"]],
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        **extra,
    )


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def served(emulator: Any) -> Dict[Any, Optional[str]]:
    """What the emulator serves per object and key type, from its one model of what is served."""
    now = {}
    for i in range(N):
        for key_type in ("rsa", "ecdsa"):
            now[(name(i), key_type)] = emulator.history.served(name(i), key_type).fingerprint_sha256
    now[("client", "app.example.com")] = emulator.history.served_client_cert("app.example.com").fingerprint_sha256
    now[("zone", "www.example.com")] = emulator.history.served("www.example.com", "rsa").fingerprint_sha256
    return now


def changed_objects(before: Dict[Any, Any], after: Dict[Any, Any]) -> set:
    names = set()
    for key, fingerprint in after.items():
        if before[key] != fingerprint:
            names.add(
                ("custom_hostname", key[0])
                if key[0].endswith(".customer.example")
                else ("client_cert", key[1]) if key[0] == "client" else ("zone_cert", "example.com, www.example.com")
            )
    return names


def plan_of(run: Any) -> Dict[str, Any]:
    (entry,) = [r for r in run.results if r["task"].endswith("Plan | check the new material against the zone and decide per object")]
    return entry["result"]


def key_slices(pki: SimpleNamespace) -> List[str]:
    """A distinctive slice of each key's base64 body."""
    return [leaf.key_pem.splitlines()[2][:40] for leaf in pki.leaves.values()]


def assert_no_key(pki: SimpleNamespace, *texts: str) -> None:
    for text in texts:
        assert "PRIVATE KEY" not in text
        for piece in key_slices(pki):
            assert piece not in text


def test_preview_rotate_report_and_rerun(ansible, emulator, pki, tmp_path):
    ids = seed(emulator, pki)
    report = tmp_path / "report"
    before = served(emulator)

    # 1. --check --diff: the plan, no write, no report.
    preview = ansible.run_tasks(ROLE, check=True, diff=True, play_vars=role_vars(pki, report))
    assert preview.rc == 0, preview.output[-3000:]
    assert writes(emulator) == [] and not report.exists()
    predicted = {(o["kind"], o["name"]) for o in plan_of(preview)["plan"]["objects"] if o["action"] in ("rotate", "upload")}
    assert {n for k, n in predicted if k == "custom_hostname"} == {name(i) for i in list(DUE) + [PAIR]}
    assert "rotate custom hostname %s: due" % name(0) in preview.output

    # 2. The rotation.
    run = ansible.run_tasks(ROLE, diff=True, verbosity=2, play_vars=role_vars(pki, report))
    assert run.rc == 0, run.output[-3000:]
    after = served(emulator)
    assert changed_objects(before, after) == predicted  # the check-mode prediction, against the state
    assert after[(name(PAIR), "rsa")] == pki.new_rsa.fingerprint_sha256 and after[(name(PAIR), "ecdsa")] == pki.new.fingerprint_sha256
    assert after[("client", "app.example.com")] == pki.client_new.fingerprint_sha256
    # One PATCH per rotated hostname; the replaced client certificate is retired; the pack restarted.
    patches = [p for m, p in writes(emulator) if m == "PATCH" and "/custom_hostnames/" in p]
    assert len(patches) == len(DUE) + 2  # the due hostnames, the pair, and the managed hostname's revalidation
    assert ("DELETE", "/client/v4/zones/%s/origin_tls_client_auth/hostnames/certificates/%s" % (emulator.zone_id, ids["client"])) in writes(emulator)
    assert ("PATCH", "/client/v4/zones/%s/ssl/certificate_packs/%s" % (emulator.zone_id, ids["pack"])) in writes(emulator)
    assert emulator.history.violations() == []

    data = json.loads((report / "rotation-report.json").read_text())
    rows = {(r["kind"], r["name"]): r for r in data["rows"]}
    assert {k for k, r in rows.items() if r["outcome"] in ("rotated", "uploaded")} == predicted
    assert rows[("custom_hostname", name(7))]["outcome"] == "skipped" and "not due" in rows[("custom_hostname", name(7))]["reason"]
    assert rows[("cert_pack", "example.com, shop.example.com")]["outcome"] in ("restarted", "pending")
    assert rows[("managed_hostname", "managed.customer.example")]["action"] == "revalidate"
    assert (report / "rotation-report.md").exists() and "<svg" in (report / "rotation-report.html").read_text()
    stats = [r for r in run.results if r["task"].endswith("Report | summary for AWX workflows and later plays")]
    assert stats and stats[0]["result"]["ansible_stats"]["data"]["cert_rotation"]["example.com"]["rotated"] == len(predicted)
    # Content given inline went to a private directory that is gone now.
    (material,) = [r["result"]["path"] for r in run.results if r["task"].endswith("Discover | a private directory for this run's files")]
    assert not Path(material).exists()
    assert_no_key(pki, run.output, preview.output, *(p.read_text() for p in report.iterdir()), json.dumps(emulator.journal()))

    # 3. Nothing left to do: no task changes anything.
    count = len(writes(emulator))
    rerun = ansible.run_tasks(ROLE, play_vars=role_vars(pki, report))
    assert rerun.rc == 0, rerun.output[-3000:]
    assert [r["task"] for r in rerun.results if r["result"].get("changed")] == []
    assert len(writes(emulator)) == count
    assert emulator.history.violations() == []


def test_a_failed_write_keeps_every_hostname_valid_and_a_rerun_finishes(ansible, emulator, pki, tmp_path):
    ids = seed(emulator, pki)
    hostname_id = next(h["id"] for h in emulator.dump_state()["zones"][0]["custom_hostnames"] if h["hostname"] == name(3))
    emulator.add_fault("500", method="PATCH", path="custom_hostnames/%s$" % hostname_id, count=1)
    report = tmp_path / "report"

    run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, report))
    assert run.rc != 0
    assert "did not complete" in run.output and name(3) in run.output
    rows = {(r["kind"], r["name"]): r for r in json.loads((report / "rotation-report.json").read_text())["rows"]}
    assert rows[("custom_hostname", name(3))]["outcome"] == "not_attempted"
    assert rows[("custom_hostname", name(4))]["outcome"] == "rotated"  # the list form carried on past the failure
    # Nothing retired after the failure: the old client certificate is still there.
    assert not [w for w in writes(emulator) if w[0] == "DELETE"]
    assert ids["client"] in json.dumps(emulator.dump_state())
    assert emulator.history.violations() == []

    rerun = ansible.run_tasks(ROLE, play_vars=role_vars(pki, report))
    assert rerun.rc == 0, rerun.output[-3000:]
    assert emulator.history.served(name(3), "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256
    assert ("DELETE", "/client/v4/zones/%s/origin_tls_client_auth/hostnames/certificates/%s" % (emulator.zone_id, ids["client"])) in writes(emulator)
    assert emulator.history.violations() == []


def test_one_bad_certificate_stops_the_run_before_any_write(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    run = ansible.run_tasks(ROLE, verbosity=2, play_vars=role_vars(pki, tmp_path / "report", bad=8))
    assert run.rc != 0
    assert writes(emulator) == []
    assert "1 problem" in run.output and "custom hostname %s" % name(8) in run.output and "expired" in run.output
    assert_no_key(pki, run.output)


def test_short_lived_certificates_renew_by_the_percentage_window(ansible, emulator, pki, tmp_path):
    ssl = {"method": "txt", "type": "dv"}
    emulator.state.add_custom_hostname(emulator.zone_id, "short.customer.example", ssl=ssl, certificates=[{"certificate": pki.short_due.chain_pem}])
    emulator.state.add_custom_hostname(emulator.zone_id, "young.customer.example", ssl=ssl, certificates=[{"certificate": pki.short_young.chain_pem}])
    items = [{"hostname": h, "certificates": [pki.files["new"]]} for h in ("short.customer.example", "young.customer.example")]
    base = dict(cert_rotation_zone="example.com", cert_rotation_custom_hostnames=items, cert_rotation_poll_interval=1, cert_rotation_report_dir=str(tmp_path))

    # Two days before expiry is not yet: nothing rotates by the days window alone.
    run = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_renew_before_days=2))
    assert run.rc == 0 and writes(emulator) == [], run.output[-2000:]

    # Half of the lifetime: the 9-day certificate 3 days from expiry is due, the young one is not.
    run = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_renew_before_days=2, cert_rotation_renew_before_percentage=50))
    assert run.rc == 0, run.output[-2000:]
    assert emulator.history.served("short.customer.example", "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256
    assert emulator.history.served("young.customer.example", "ecdsa").fingerprint_sha256 == pki.short_young.fingerprint_sha256
    objects = {o["name"]: o for o in plan_of(run)["plan"]["objects"]}
    assert objects["young.customer.example"]["action"] == "skipped"
    assert emulator.history.violations() == []


def test_the_hostnames_list_given_as_a_file(ansible, emulator, pki, tmp_path):
    """cert_rotation_custom_hostnames_file: the same rotation as the variable, for zones too large to template."""
    ssl = {"method": "txt", "type": "dv"}
    ids = [
        emulator.state.add_custom_hostname(emulator.zone_id, name(i), ssl=ssl, certificates=[{"certificate": (pki.due if i < 4 else pki.fresh).chain_pem}]).id
        for i in range(6)
    ]
    listed = tmp_path / "hostnames.json"
    listed.write_text(json.dumps([{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(6)]))
    base = dict(cert_rotation_zone="example.com", cert_rotation_custom_hostnames_file=str(listed), cert_rotation_report_dir=str(tmp_path / "report"))

    preview = ansible.run_tasks(ROLE, check=True, play_vars=base)
    assert preview.rc == 0 and writes(emulator) == [], preview.output[-2000:]
    assert {o["name"] for o in plan_of(preview)["plan"]["objects"] if o["action"] == "rotate"} == {name(i) for i in range(4)}

    run = ansible.run_tasks(ROLE, play_vars=base)
    assert run.rc == 0, run.output[-3000:]
    # One PATCH per due hostname, nothing else.
    assert sorted(writes(emulator)) == sorted(("PATCH", "/client/v4/zones/%s/custom_hostnames/%s" % (emulator.zone_id, i)) for i in ids[:4])
    for i in range(6):
        assert emulator.history.served(name(i), "ecdsa").fingerprint_sha256 == (pki.new if i < 4 else pki.fresh).fingerprint_sha256
    rows = {r["name"]: r["outcome"] for r in json.loads((tmp_path / "report" / "rotation-report.json").read_text())["rows"]}
    assert rows == {**{name(i): "rotated" for i in range(4)}, **{name(i): "skipped" for i in range(4, 6)}}

    count = len(writes(emulator))
    again = ansible.run_tasks(ROLE, play_vars=base)
    assert again.rc == 0 and len(writes(emulator)) == count, again.output[-2000:]
    # Both ways at once is refused before any write.
    both = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_custom_hostnames=[{"hostname": name(0), "certificates": [pki.files["new"]]}]))
    assert both.rc != 0 and "mutually exclusive" in both.output and len(writes(emulator)) == count
    assert emulator.history.violations() == []


def test_a_second_run_in_one_play_does_not_inherit_the_first_ones_failure(ansible, emulator, pki, tmp_path):
    """Facts outlive a role's run: a failed run for a host, rescued, must not fail or colour the next run for it."""
    emulator.state.add_custom_hostname(emulator.zone_id, name(0), ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": pki.due.chain_pem}])
    good = dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": name(0), "certificates": [pki.files["new"]]}],
        cert_rotation_report_dir=str(tmp_path / "report"),
    )
    include = "ansible.builtin.include_role"
    tasks = [
        {
            "name": "a run that fails",
            "block": [
                {"name": "unknown zone", include: {"name": "certops.cloudflare.cert_rotation"}, "vars": dict(good, cert_rotation_zone="nowhere.example")}
            ],
            "rescue": [{"name": "rescued", "ansible.builtin.debug": {"msg": "the first run failed"}}],
        },
        {"name": "a run that succeeds", include: {"name": "certops.cloudflare.cert_rotation"}, "vars": good},
    ]
    run = ansible.run_tasks(tasks)
    assert run.rc == 0, run.output[-3000:]
    assert "the first run failed" in run.output and "nowhere.example" in run.output
    assert emulator.history.served(name(0), "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256
    report = json.loads((tmp_path / "report" / "rotation-report.json").read_text())
    assert report["failure"] is None and [r["outcome"] for r in report["rows"]] == ["rotated"], report


def test_a_pack_still_validating_after_the_wait_is_pending_not_a_failure(ansible, emulator_factory, tmp_path):
    """The pack's restart task tells a wait that ran out (the module's `timed_out` flag) from a failure."""
    emu = emulator_factory(delay=30)  # each validation step lasts longer than the role waits
    ansible.emulator = emu
    emu.state.add_cert_pack(emu.zone_id, ["example.com", "shop.example.com"], status="validation_timed_out")
    role_vars = dict(
        cert_rotation_zone="example.com",
        cert_rotation_cert_packs=[["example.com", "shop.example.com"]],
        cert_rotation_wait_timeout=2,
        cert_rotation_report_dir=str(tmp_path / "report"),
    )
    run = ansible.run_tasks(ROLE, play_vars=role_vars)
    assert run.rc == 0, run.output[-3000:]
    (restart,) = [r for r in run.results if r["task"].endswith(RESTART_TASK)]
    assert restart["result"]["results"][0]["timed_out"] is True and restart["status"] == "ok"
    rows = json.loads((tmp_path / "report" / "rotation-report.json").read_text())["rows"]
    assert [(r["kind"], r["outcome"]) for r in rows] == [("cert_pack", "pending")]
