"""The role's decisions: what it retires, what it trusts, which key types it touches, what force and passphrases do.

Each scenario runs the role cert_rotation against the emulator, once or a few times, and one test asserts one fact of
the plan, of the emulator's state or of its history (no hostname, association or zone certificate ever without a valid
certificate):
- retirement needs proof: a client certificate is deleted only when this run switched its hostnames away from it, when
  the last report names it as replaced, or when cert_rotation_retire lists its id. A standby uploaded by hand is kept,
  run after run, until it is named; with cert_rotation_retire_old false what was replaced stays (the plan lists it as
  kept, the report as replaced), and a later run with the default deletes it by the report's proof;
- trust: a new server certificate must verify against the trusted roots (the CA bundle requests uses). A pair goes
  with bundle_method force and must verify as uploaded, so a missing intermediate is refused before any write; a single
  certificate for a hostname with bundle_method ubiquitous that lacks its intermediate proceeds with a warning naming
  the missing issuer, as Cloudflare completes the chain. A leaf without subjectAltName, a self-signed leaf and one from
  an untrusted CA are refused before any write;
- key types are explicit: new ECDSA material for a hostname serving RSA and ECDSA rotates ECDSA and keeps RSA, new RSA
  material for an ECDSA-only hostname is added beside the ECDSA one, and drop_key_types removes a served key type;
- force installs a shorter-lived certificate; without force a served certificate that outlives the new one is kept;
- an encrypted private key given by path with its private_key_passphrase rotates, for custom hostnames, client
  certificates and zone certificates alike, and the passphrase never shows in the output, the report or the requests.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from emulator.testcerts import Issued, make_ca, make_leaf, new_key

# Many playbook runs each: a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
PLAN_TASK = "Plan | check the new material against the zone and decide per object"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SSL = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
PASSPHRASE = "Decisions-Passphrase-7f3a9c"

# The trusted bundle of each playbook run is written from the test CA registry, so these CAs are made before any run.
ROOT = make_ca("Certops Decisions Root CA")
INTERMEDIATE = make_ca("Certops Decisions Intermediate CA", parent=ROOT)
STANDBY_CA = make_ca("Certops Decisions Standby CA")
UNTRUSTED = make_ca("Certops Decisions Untrusted CA", trusted=False)


# -- helpers ------------------------------------------------------------------------------------------------------------


def self_signed_leaf(host: str) -> Issued:
    """A server certificate for `host` signed by its own key: subject and issuer are the host, no CA above it."""
    key = new_key("ecdsa")
    itself = SimpleNamespace(cert=SimpleNamespace(subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])), key=key, chain_pem="")
    return make_leaf(itself, [host], key=key)  # type: ignore[arg-type]


def write_pair(root: Path, label: str, leaf: Issued, leaf_only: bool = False, passphrase: Optional[str] = None) -> Dict[str, str]:
    """The certificate (its chain, or the leaf alone) and its key (clear, or PKCS#8 encrypted with `passphrase`) as files."""
    key = leaf.key_pem
    if passphrase is not None:
        encryption = serialization.BestAvailableEncryption(passphrase.encode("ascii"))
        key = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode("ascii")
    (root / (label + ".pem")).write_text(leaf.cert_pem if leaf_only else leaf.chain_pem)
    (root / (label + ".key")).write_text(key)
    return {"certificate_path": str(root / (label + ".pem")), "private_key_path": str(root / (label + ".key"))}


def base_vars(report_dir: Path, **extra: Any) -> Dict[str, Any]:
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        **extra,
    )


def plan_of(run: Any) -> Dict[str, Any]:
    (entry,) = [r for r in run.results if r["task"].endswith(PLAN_TASK)]
    return entry["result"]


def objects_with_id(run: Any, cert_id: str) -> List[Dict[str, Any]]:
    return [o for o in plan_of(run).get("plan", {}).get("objects", []) if o.get("id") == cert_id]


def hostname_object(run: Any, hostname: str) -> Dict[str, Any]:
    (found,) = [o for o in plan_of(run)["plan"]["objects"] if o["kind"] == "custom_hostname" and o["name"] == hostname]
    return found


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def client_cert_status(emulator: Any, cert_id: str) -> Optional[str]:
    """The status of a client certificate in the emulator's state; None once it is gone."""
    with emulator.state.lock:
        cert = emulator.state.zones[emulator.zone_id].client_certs.get(cert_id)
        return None if cert is None else cert.status(emulator.state.now(), emulator.state.delay)


def stored_key_types(emulator: Any, hostname: str) -> List[str]:
    with emulator.state.lock:
        host = next(h for h in emulator.state.zones[emulator.zone_id].custom_hostnames.values() if h.hostname == hostname)
        return sorted(c.info.key_type for c in host.certs)


def report_of(report_dir: Path) -> Dict[str, Any]:
    path = report_dir / "latest-rotate" / "rotation-report.json"
    return json.loads(path.read_text()) if path.exists() else {}


def replaced_ids(report: Dict[str, Any]) -> List[str]:
    return [e.get("id") for e in report.get("replaced") or []]


def one_line(text: str) -> str:
    """The output with its line wrapping undone."""
    return " ".join(text.split())


def deleted(status: Optional[str]) -> bool:
    return status in (None, "pending_deletion", "deleted")


# -- A: a standby client certificate is kept until it is named --------------------------------------------------------

APP = "app.example.com"


@pytest.fixture(scope="module")
def standby(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    zone = emulator.zone_id
    root = tmp_path_factory.mktemp("decisions-standby")
    old = make_leaf(ROOT, ["origin-client.example.com"], days=10, not_before_days=-80)
    new = make_leaf(ROOT, ["origin-client.example.com"], days=365)
    spare = make_leaf(STANDBY_CA, ["origin-client.example.com"], days=365)
    old_id = emulator.state.add_client_cert(zone, certificate=old.chain_pem, status="active").id
    emulator.state.add_association(zone, APP, old_id)
    play_vars = base_vars(root / "report", cert_rotation_client_certs=[dict(write_pair(root, "new", new), hostnames=[APP])])

    first = ansible.run_tasks(ROLE, play_vars=play_vars)
    first_writes = writes(emulator)
    standby_id = emulator.state.add_client_cert(zone, certificate=spare.chain_pem, status="active").id
    second = ansible.run_tasks(ROLE, play_vars=play_vars)
    third = ansible.run_tasks(ROLE, play_vars=play_vars)
    rerun_writes = writes(emulator)[len(first_writes) :]
    status_after_reruns = client_cert_status(emulator, standby_id)
    named = ansible.run_tasks(ROLE, play_vars=dict(play_vars, cert_rotation_retire=[standby_id]))
    return SimpleNamespace(
        zone_id=zone,
        old_id=old_id,
        standby_id=standby_id,
        new=new,
        first=first,
        first_writes=first_writes,
        reruns={"second": second, "third": third},
        rerun_writes=rerun_writes,
        status_after_reruns=status_after_reruns,
        named=named,
        named_writes=writes(emulator)[len(first_writes) + len(rerun_writes) :],
        status_after_named=client_cert_status(emulator, standby_id),
        served=emulator.history.served_client_cert(APP).fingerprint_sha256,
        violations=emulator.history.violations(),
    )


class TestAStandbyClientCertificateIsKeptUntilItsIdIsNamed:
    """A due client certificate of app.example.com is rotated; then a standby for the same hosts from another CA is
    uploaded by hand, unused. Two re-runs of the same variables, then one naming the standby in cert_rotation_retire."""

    def test_the_rotation_succeeds(self, standby):
        assert standby.first.rc == 0, standby.first.output[-3000:]

    def test_the_rotation_deletes_the_certificate_it_switched_the_hostname_away_from(self, standby):
        assert ("DELETE", "/client/v4/zones/%s/origin_tls_client_auth/hostnames/certificates/%s" % (standby.zone_id, standby.old_id)) in standby.first_writes

    @pytest.mark.parametrize("which", ["second", "third"])
    def test_a_rerun_succeeds(self, standby, which):
        assert standby.reruns[which].rc == 0, standby.reruns[which].output[-3000:]

    @pytest.mark.parametrize("which", ["second", "third"])
    def test_a_rerun_plans_the_standby_as_kept(self, standby, which):
        assert [o["action"] for o in objects_with_id(standby.reruns[which], standby.standby_id)] == ["kept"]

    @pytest.mark.parametrize("which", ["second", "third"])
    def test_the_plan_says_the_role_did_not_replace_the_standby_and_names_its_id(self, standby, which):
        (kept,) = objects_with_id(standby.reruns[which], standby.standby_id)
        assert kept["reason"].startswith("unused, kept: this role did not replace it (id %s, " % standby.standby_id), kept["reason"]

    def test_the_reruns_send_no_delete_for_the_standby(self, standby):
        assert [w for w in standby.rerun_writes if w[0] == "DELETE" and standby.standby_id in w[1]] == []

    def test_the_standby_is_still_active_after_the_reruns(self, standby):
        assert standby.status_after_reruns == "active"

    def test_the_run_naming_the_standby_succeeds(self, standby):
        assert standby.named.rc == 0, standby.named.output[-3000:]

    def test_the_run_naming_the_standby_plans_to_retire_it(self, standby):
        assert [o["action"] for o in objects_with_id(standby.named, standby.standby_id)] == ["retire"]

    def test_the_run_naming_the_standby_deletes_it(self, standby):
        path = "/client/v4/zones/%s/origin_tls_client_auth/hostnames/certificates/%s" % (standby.zone_id, standby.standby_id)
        assert ("DELETE", path) in standby.named_writes

    def test_the_standby_is_gone_from_the_zone(self, standby):
        assert deleted(standby.status_after_named), standby.status_after_named

    def test_the_hostname_still_presents_the_new_client_certificate(self, standby):
        assert standby.served == standby.new.fingerprint_sha256

    def test_no_association_ever_lacked_a_valid_certificate(self, standby):
        assert standby.violations == []


# -- B: what a run replaced and kept, a later run deletes by the report's proof --------------------------------------

ORIGIN = "origin.example.com"


@pytest.fixture(scope="module")
def retire_later(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    zone = emulator.zone_id
    root = tmp_path_factory.mktemp("decisions-retire-later")
    report_dir = root / "report"
    old = make_leaf(ROOT, ["origin-pull.example.com"], days=10, not_before_days=-80)
    new = make_leaf(ROOT, ["origin-pull.example.com"], days=365)
    old_id = emulator.state.add_client_cert(zone, certificate=old.chain_pem, status="active").id
    emulator.state.add_association(zone, ORIGIN, old_id)
    play_vars = base_vars(report_dir, cert_rotation_client_certs=[dict(write_pair(root, "new", new), hostnames=[ORIGIN])])

    keeping = ansible.run_tasks(ROLE, play_vars=dict(play_vars, cert_rotation_retire_old=False))
    keeping_writes = writes(emulator)
    report_after_keeping = report_of(report_dir)
    status_after_keeping = client_cert_status(emulator, old_id)
    served_after_keeping = emulator.history.served_client_cert(ORIGIN).fingerprint_sha256
    keeping_again = ansible.run_tasks(ROLE, play_vars=dict(play_vars, cert_rotation_retire_old=False))
    status_after_keeping_again = client_cert_status(emulator, old_id)
    count = len(writes(emulator))
    retiring = ansible.run_tasks(ROLE, play_vars=play_vars)
    retiring_writes = writes(emulator)[count:]
    status_after_retiring = client_cert_status(emulator, old_id)
    count = len(writes(emulator))
    settled = ansible.run_tasks(ROLE, play_vars=play_vars)
    return SimpleNamespace(
        zone_id=zone,
        old_id=old_id,
        new=new,
        keeping=keeping,
        keeping_writes=keeping_writes,
        report_after_keeping=report_after_keeping,
        status_after_keeping=status_after_keeping,
        served_after_keeping=served_after_keeping,
        keeping_again=keeping_again,
        status_after_keeping_again=status_after_keeping_again,
        retiring=retiring,
        retiring_writes=retiring_writes,
        status_after_retiring=status_after_retiring,
        settled=settled,
        settled_writes=writes(emulator)[count:],
        report_after_settled=report_of(report_dir),
        served=emulator.history.served_client_cert(ORIGIN).fingerprint_sha256,
        violations=emulator.history.violations(),
    )


class TestWhatARunReplacedAndKeptALaterRunDeletesByItsReport:
    """A due client certificate of origin.example.com; a rotation with cert_rotation_retire_old false, a re-run with it
    false again, a run with the default (true), then one more run."""

    def test_the_rotation_that_keeps_what_it_replaced_succeeds(self, retire_later):
        assert retire_later.keeping.rc == 0, retire_later.keeping.output[-3000:]

    def test_the_hostname_presents_the_new_client_certificate(self, retire_later):
        assert retire_later.served_after_keeping == retire_later.new.fingerprint_sha256

    def test_the_replaced_certificate_is_not_deleted(self, retire_later):
        assert [w for w in retire_later.keeping_writes if w[0] == "DELETE"] == []

    def test_the_replaced_certificate_is_still_active_in_the_zone(self, retire_later):
        assert retire_later.status_after_keeping == "active"

    def test_the_plan_lists_the_certificate_it_replaces_as_kept(self, retire_later):
        """With retire_old off, what the plan replaces is kept (action kept) and still listed as replaced."""
        assert [o["action"] for o in objects_with_id(retire_later.keeping, retire_later.old_id)] == ["kept"], plan_of(retire_later.keeping)["plan"]["objects"]

    def test_the_plan_lists_the_certificate_it_replaces_as_replaced(self, retire_later):
        assert [e["id"] for e in plan_of(retire_later.keeping)["plan"]["replaced"]] == [retire_later.old_id]

    def test_the_report_lists_it_as_replaced(self, retire_later):
        assert retire_later.old_id in replaced_ids(retire_later.report_after_keeping), retire_later.report_after_keeping.get("replaced")

    def test_the_report_gives_it_as_a_client_certificate(self, retire_later):
        kinds = [e.get("kind") for e in retire_later.report_after_keeping.get("replaced") or [] if e.get("id") == retire_later.old_id]
        assert kinds == ["client_cert"]

    def test_a_rerun_with_retire_old_off_plans_it_as_kept_replaced_by_an_earlier_run(self, retire_later):
        assert [(o["action"], o["reason"]) for o in objects_with_id(retire_later.keeping_again, retire_later.old_id)] == [
            ("kept", "replaced by an earlier run of the role: kept (retire_old is off)")
        ]

    def test_that_rerun_keeps_it_in_the_zone(self, retire_later):
        assert retire_later.status_after_keeping_again == "active"

    def test_the_run_with_the_default_succeeds(self, retire_later):
        assert retire_later.retiring.rc == 0, retire_later.retiring.output[-3000:]

    def test_the_run_with_the_default_plans_to_retire_it_by_the_earlier_runs_proof(self, retire_later):
        assert [(o["action"], o["reason"]) for o in objects_with_id(retire_later.retiring, retire_later.old_id)] == [
            ("retire", "replaced by an earlier run of the role: delete it")
        ]

    def test_the_run_with_the_default_deletes_it(self, retire_later):
        path = "/client/v4/zones/%s/origin_tls_client_auth/hostnames/certificates/%s" % (retire_later.zone_id, retire_later.old_id)
        assert retire_later.retiring_writes == [("DELETE", path)]

    def test_it_is_gone_from_the_zone(self, retire_later):
        assert deleted(retire_later.status_after_retiring), retire_later.status_after_retiring

    def test_the_next_run_succeeds(self, retire_later):
        assert retire_later.settled.rc == 0, retire_later.settled.output[-3000:]

    def test_the_next_run_sends_no_write(self, retire_later):
        assert retire_later.settled_writes == []

    def test_the_next_run_plans_nothing_for_the_deleted_certificate(self, retire_later):
        assert objects_with_id(retire_later.settled, retire_later.old_id) == []

    def test_the_next_report_no_longer_lists_it_as_replaced(self, retire_later):
        assert retire_later.old_id not in replaced_ids(retire_later.report_after_settled)

    def test_the_hostname_still_presents_the_new_client_certificate(self, retire_later):
        assert retire_later.served == retire_later.new.fingerprint_sha256

    def test_no_association_ever_lacked_a_valid_certificate(self, retire_later):
        assert retire_later.violations == []


# -- C, H: material that may not be sent is refused before any write -------------------------------------------------

PAIR = "pair.customer.example"
NO_SAN = "nosan.customer.example"
SELF_SIGNED = "selfsigned.customer.example"
UNTRUSTED_HOST = "untrusted.customer.example"
SHORTER = "shorter.customer.example"
REFUSED = (PAIR, NO_SAN, SELF_SIGNED, UNTRUSTED_HOST, SHORTER)


@pytest.fixture(scope="module")
def refusals(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    zone = emulator.zone_id
    root = tmp_path_factory.mktemp("decisions-refusals")
    served = {}  # (hostname, key type) -> the certificate it serves before the run
    for host in REFUSED:
        for key_type in ["rsa", "ecdsa"] if host == PAIR else ["ecdsa"]:
            served[(host, key_type)] = make_leaf(ROOT, [host], key_type=key_type, days=20 if host == SHORTER else 10, not_before_days=-80)
        certificates = [{"certificate": leaf.chain_pem} for (name, _key_type), leaf in served.items() if name == host]
        emulator.state.add_custom_hostname(zone, host, ssl=SSL, certificates=certificates)
    given = {
        PAIR: [
            write_pair(root, "pair-rsa", make_leaf(INTERMEDIATE, [PAIR], key_type="rsa"), leaf_only=True),
            write_pair(root, "pair-ecdsa", make_leaf(INTERMEDIATE, [PAIR]), leaf_only=True),
        ],
        NO_SAN: [write_pair(root, "nosan", make_leaf(ROOT, [NO_SAN], sans=[]))],
        SELF_SIGNED: [write_pair(root, "selfsigned", self_signed_leaf(SELF_SIGNED))],
        UNTRUSTED_HOST: [write_pair(root, "untrusted", make_leaf(UNTRUSTED, [UNTRUSTED_HOST]))],
        SHORTER: [write_pair(root, "shorter", make_leaf(ROOT, [SHORTER], days=15))],
    }
    play_vars = base_vars(root / "report", cert_rotation_custom_hostnames=[{"hostname": h, "certificates": c} for h, c in given.items()])
    run = ansible.run_tasks(ROLE, play_vars=play_vars)
    return SimpleNamespace(
        run=run,
        plan=plan_of(run),
        writes=writes(emulator),
        served={(host, key_type): emulator.history.served(host, key_type).fingerprint_sha256 for host, key_type in served},
        expected={key: leaf.fingerprint_sha256 for key, leaf in served.items()},
        violations=emulator.history.violations(),
    )


def problems_of(refusals: Any, hostname: str) -> List[str]:
    return [p for p in refusals.plan.get("problems") or [] if p.startswith("custom hostname %s:" % hostname)]


class TestMaterialThatMayNotBeSentIsRefusedBeforeAnyWrite:
    """Five due hostnames, each given material the plan must refuse: an RSA and ECDSA pair from an intermediate without it,
    a leaf without subjectAltName, a self-signed leaf, a leaf from a CA not trusted, and a leaf that expires before the
    served one. One run, not in check mode."""

    def test_the_run_fails(self, refusals):
        assert refusals.run.rc != 0

    def test_the_planning_task_fails(self, refusals):
        assert refusals.plan.get("failed") is True

    def test_the_run_sends_no_write(self, refusals):
        assert refusals.writes == []

    def test_a_pair_lacking_its_intermediate_is_refused_as_it_goes_with_bundle_method_force(self, refusals):
        problems = problems_of(refusals, PAIR)
        assert problems and all("bundle_method force" in p for p in problems), refusals.plan.get("problems")

    def test_both_certificates_of_that_pair_are_named(self, refusals):
        assert len(problems_of(refusals, PAIR)) == 2, refusals.plan.get("problems")

    def test_the_refusal_of_the_pair_names_the_missing_issuer(self, refusals):
        issuer = INTERMEDIATE.cert.subject.rfc4514_string()
        assert all(issuer in p for p in problems_of(refusals, PAIR)), refusals.plan.get("problems")

    def test_a_leaf_without_subject_alternative_name_is_refused(self, refusals):
        assert any("subject alternative name" in p for p in problems_of(refusals, NO_SAN)), refusals.plan.get("problems")

    def test_a_self_signed_leaf_is_refused(self, refusals):
        assert any("self-signed" in p for p in problems_of(refusals, SELF_SIGNED)), refusals.plan.get("problems")

    def test_a_leaf_from_an_untrusted_ca_is_refused(self, refusals):
        assert any("does not lead to a trusted root" in p for p in problems_of(refusals, UNTRUSTED_HOST)), refusals.plan.get("problems")

    def test_without_force_a_certificate_that_would_not_outlive_the_served_one_is_refused(self, refusals):
        assert any("would not outlive what is served" in p for p in problems_of(refusals, SHORTER)), refusals.plan.get("problems")

    def test_every_refused_hostname_is_planned_as_skipped(self, refusals):
        assert {h: o["action"] for h in REFUSED for o in [hostname_object(refusals.run, h)]} == {h: "skipped" for h in REFUSED}

    def test_the_output_says_nothing_was_written(self, refusals):
        assert "nothing was written" in refusals.run.output

    def test_every_hostname_still_serves_its_old_certificates(self, refusals):
        assert refusals.served == refusals.expected

    def test_no_hostname_ever_lacked_a_valid_certificate(self, refusals):
        assert refusals.violations == []


# -- D, E, F, G: an incomplete chain Cloudflare completes, key types, force, passphrases ------------------------------

UBIQUITOUS = "ubiquitous.customer.example"  # D: a single certificate whose chain lacks the intermediate
BOTH = "both.customer.example"  # E1: serves RSA and ECDSA, given ECDSA
ECDSA_ONLY = "ecdsa-only.customer.example"  # E2: serves ECDSA, given RSA
DROP = "drop.customer.example"  # E3: serves RSA and ECDSA, given ECDSA, drops RSA
LONG = "long.customer.example"  # F: serves a 200-day certificate, given a 60-day one
LOCKED = "locked.customer.example"  # G: given a certificate whose key is encrypted
LOCKED_ORIGIN = "locked-origin.example.com"  # G: its client certificate's key is encrypted
ZONE_HOSTS = ["example.com", "www.example.com"]  # G: the zone certificate's key is encrypted


@pytest.fixture(scope="module")
def rotation(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    zone = emulator.zone_id
    root = tmp_path_factory.mktemp("decisions-rotation")
    report_dir = root / "report"
    due = dict(days=10, not_before_days=-80)
    old = {
        UBIQUITOUS: [make_leaf(INTERMEDIATE, [UBIQUITOUS], **due)],
        BOTH: [make_leaf(ROOT, [BOTH], key_type="rsa", **due), make_leaf(ROOT, [BOTH], **due)],
        ECDSA_ONLY: [make_leaf(ROOT, [ECDSA_ONLY], days=60, not_before_days=-30)],
        DROP: [make_leaf(ROOT, [DROP], key_type="rsa", **due), make_leaf(ROOT, [DROP], **due)],
        LONG: [make_leaf(ROOT, [LONG], days=200, not_before_days=-10)],
        LOCKED: [make_leaf(ROOT, [LOCKED], **due)],
    }
    new = {
        UBIQUITOUS: make_leaf(INTERMEDIATE, [UBIQUITOUS]),
        BOTH: make_leaf(ROOT, [BOTH]),
        ECDSA_ONLY: make_leaf(ROOT, [ECDSA_ONLY], key_type="rsa"),
        DROP: make_leaf(ROOT, [DROP]),
        LONG: make_leaf(ROOT, [LONG], days=60),
        LOCKED: make_leaf(ROOT, [LOCKED]),
    }
    hostname_ids = {}
    for host, leaves in old.items():
        hostname_ids[host] = emulator.state.add_custom_hostname(zone, host, ssl=SSL, certificates=[{"certificate": leaf.chain_pem} for leaf in leaves]).id
    client_old = make_leaf(ROOT, ["locked-client.example.com"], **due)
    client_new = make_leaf(ROOT, ["locked-client.example.com"], days=365)
    client_old_id = emulator.state.add_client_cert(zone, certificate=client_old.chain_pem, status="active").id
    emulator.state.add_association(zone, LOCKED_ORIGIN, client_old_id)
    zone_old = make_leaf(ROOT, ZONE_HOSTS, **due)
    zone_new = make_leaf(ROOT, ZONE_HOSTS)
    zone_cert_id = emulator.state.add_custom_certificate(zone, certificate=zone_old.chain_pem, type="sni_custom").id

    locked = dict(private_key_passphrase=PASSPHRASE)
    items = [
        {"hostname": UBIQUITOUS, "certificates": [write_pair(root, "ubiquitous", new[UBIQUITOUS], leaf_only=True)]},
        {"hostname": BOTH, "certificates": [write_pair(root, "both", new[BOTH])]},
        {"hostname": ECDSA_ONLY, "certificates": [write_pair(root, "ecdsa-only", new[ECDSA_ONLY])]},
        {"hostname": DROP, "certificates": [write_pair(root, "drop", new[DROP])], "drop_key_types": ["rsa"]},
        {"hostname": LONG, "certificates": [write_pair(root, "long", new[LONG])]},
        {"hostname": LOCKED, "certificates": [dict(write_pair(root, "locked", new[LOCKED], passphrase=PASSPHRASE), **locked)]},
    ]
    play_vars = base_vars(
        report_dir,
        cert_rotation_custom_hostnames=items,
        cert_rotation_client_certs=[dict(write_pair(root, "client", client_new, passphrase=PASSPHRASE), hostnames=[LOCKED_ORIGIN], **locked)],
        cert_rotation_zone_certs=[dict(write_pair(root, "zone", zone_new, passphrase=PASSPHRASE), **locked)],
    )

    run = ansible.run_tasks(ROLE, verbosity=2, play_vars=play_vars)
    run_writes = writes(emulator)
    served_after_run = {(h, k): emulator.history.served(h, k).fingerprint_sha256 for h in old for k in ("rsa", "ecdsa")}
    key_types_after_run = {h: stored_key_types(emulator, h) for h in old}
    report_files = [p.read_text() for p in report_dir.rglob("*") if p.is_file()] if report_dir.is_dir() else []
    forced = ansible.run_tasks(ROLE, verbosity=2, play_vars=dict(play_vars, cert_rotation_force=True))
    return SimpleNamespace(
        hostname_ids=hostname_ids,
        old=old,
        new=new,
        client_new=client_new,
        zone_new=zone_new,
        zone_cert_id=zone_cert_id,
        run=run,
        plan=plan_of(run),
        run_writes=run_writes,
        served_after_run=served_after_run,
        key_types_after_run=key_types_after_run,
        served_client=emulator.history.served_client_cert(LOCKED_ORIGIN).fingerprint_sha256,
        served_zone=emulator.history.served("www.example.com", "ecdsa").fingerprint_sha256,
        report_files=report_files,
        forced=forced,
        forced_plan=plan_of(forced),
        forced_writes=writes(emulator)[len(run_writes) :],
        served_long=emulator.history.served(LONG, "ecdsa").fingerprint_sha256,
        journal=json.dumps(emulator.journal()),
        violations=emulator.history.violations(),
    )


class TestAnIncompleteChainCloudflareCompletesProceedsWithAWarning:
    """A due hostname with bundle_method ubiquitous given one certificate from an intermediate, as the leaf alone."""

    def test_the_rotation_succeeds(self, rotation):
        assert rotation.run.rc == 0, rotation.run.output[-3000:]

    def test_the_plan_rotates_the_hostname(self, rotation):
        assert hostname_object(rotation.run, UBIQUITOUS)["action"] == "rotate"

    def test_the_plan_warns_that_the_certificate_does_not_verify_as_uploaded(self, rotation):
        assert [w for w in rotation.plan.get("warnings") or [] if UBIQUITOUS in w and "does not verify as uploaded" in w], rotation.plan.get("warnings")

    def test_the_warning_names_the_missing_issuer(self, rotation):
        (warning,) = [w for w in rotation.plan.get("warnings") or [] if UBIQUITOUS in w]
        assert INTERMEDIATE.cert.subject.rfc4514_string() in warning

    def test_the_run_output_shows_the_warning_with_the_missing_issuer(self, rotation):
        output = one_line(rotation.run.output)
        assert "does not verify as uploaded" in output and INTERMEDIATE.cert.subject.rfc4514_string() in output

    def test_the_hostname_serves_the_new_certificate(self, rotation):
        assert rotation.served_after_run[(UBIQUITOUS, "ecdsa")] == rotation.new[UBIQUITOUS].fingerprint_sha256


class TestKeyTypesAreExplicit:
    """A hostname serving RSA and ECDSA given ECDSA, one serving ECDSA (not due) given RSA, and one serving RSA and ECDSA
    given ECDSA with drop_key_types [rsa]."""

    def test_the_rotation_succeeds(self, rotation):
        assert rotation.run.rc == 0, rotation.run.output[-3000:]

    def test_new_ecdsa_for_an_rsa_and_ecdsa_hostname_is_planned_as_a_rotation_that_keeps_rsa(self, rotation):
        found = hostname_object(rotation.run, BOTH)
        assert (found["action"], "keeps RSA" in found["reason"]) == ("rotate", True), found

    def test_that_hostname_serves_the_new_ecdsa_certificate(self, rotation):
        assert rotation.served_after_run[(BOTH, "ecdsa")] == rotation.new[BOTH].fingerprint_sha256

    def test_that_hostname_still_serves_its_old_rsa_certificate(self, rotation):
        assert rotation.served_after_run[(BOTH, "rsa")] == rotation.old[BOTH][0].fingerprint_sha256

    def test_new_rsa_for_an_ecdsa_only_hostname_is_planned_as_an_upload_beside_ecdsa(self, rotation):
        found = hostname_object(rotation.run, ECDSA_ONLY)
        assert (found["action"], found["reason"]) == ("upload", "add RSA beside ECDSA"), found

    def test_that_hostname_serves_the_new_rsa_certificate(self, rotation):
        assert rotation.served_after_run[(ECDSA_ONLY, "rsa")] == rotation.new[ECDSA_ONLY].fingerprint_sha256

    def test_that_hostname_still_serves_its_ecdsa_certificate(self, rotation):
        assert rotation.served_after_run[(ECDSA_ONLY, "ecdsa")] == rotation.old[ECDSA_ONLY][0].fingerprint_sha256

    def test_drop_key_types_is_planned_as_a_rotation_that_drops_rsa(self, rotation):
        found = hostname_object(rotation.run, DROP)
        assert (found["action"], "drops RSA" in found["reason"]) == ("rotate", True), found

    def test_that_hostname_holds_only_the_new_ecdsa_certificate(self, rotation):
        assert (rotation.key_types_after_run[DROP], rotation.served_after_run[(DROP, "ecdsa")]) == (["ecdsa"], rotation.new[DROP].fingerprint_sha256)

    def test_every_key_type_change_keeps_a_valid_certificate_served(self, rotation):
        assert rotation.violations == []


class TestForceInstallsAShorterLivedCertificate:
    """A hostname serving a 200-day certificate given a 60-day one: a run without force, then the same with force."""

    def test_without_force_the_plan_skips_it_as_not_due(self, rotation):
        found = hostname_object(rotation.run, LONG)
        assert (found["action"], found["reason"].startswith("not due")) == ("skipped", True), found

    def test_without_force_the_hostname_keeps_its_longer_lived_certificate(self, rotation):
        assert rotation.served_after_run[(LONG, "ecdsa")] == rotation.old[LONG][0].fingerprint_sha256

    def test_the_forced_run_succeeds(self, rotation):
        assert rotation.forced.rc == 0, rotation.forced.output[-3000:]

    def test_the_forced_run_plans_the_rotation_as_shorter_lived_than_served(self, rotation):
        found = hostname_object(rotation.forced, LONG)
        assert (found["action"], found["reason"]) == ("rotate", "shorter-lived than served (forced)"), found

    def test_the_forced_run_shows_that_reason(self, rotation):
        assert "rotate custom hostname %s: shorter-lived than served (forced)" % LONG in rotation.forced.output

    def test_the_hostname_serves_the_shorter_lived_certificate(self, rotation):
        assert rotation.served_long == rotation.new[LONG].fingerprint_sha256

    def test_the_forced_run_leaves_what_already_serves_the_new_material_alone(self, rotation):
        others = {o["name"]: o["action"] for o in rotation.forced_plan["plan"]["objects"] if o["kind"] == "custom_hostname" and o["name"] != LONG}
        assert others == {h: "up_to_date" for h in rotation.new if h != LONG}

    def test_the_forced_run_writes_only_to_that_hostname(self, rotation):
        assert [w for w in rotation.forced_writes if rotation.hostname_ids[LONG] not in w[1]] == [] and rotation.forced_writes

    def test_no_hostname_ever_lacked_a_valid_certificate(self, rotation):
        assert rotation.violations == []


class TestEncryptedKeysRotateWithTheirPassphrase:
    """A custom hostname, a client certificate and a zone certificate, each given a certificate whose key file is PKCS#8
    encrypted, with its private_key_passphrase."""

    def test_the_rotation_succeeds(self, rotation):
        assert rotation.run.rc == 0, rotation.run.output[-3000:]

    def test_the_custom_hostname_serves_its_new_certificate(self, rotation):
        assert rotation.served_after_run[(LOCKED, "ecdsa")] == rotation.new[LOCKED].fingerprint_sha256

    def test_the_association_presents_the_new_client_certificate(self, rotation):
        assert rotation.served_client == rotation.client_new.fingerprint_sha256

    def test_the_zone_serves_the_new_zone_certificate(self, rotation):
        assert rotation.served_zone == rotation.zone_new.fingerprint_sha256

    @pytest.mark.parametrize("where", ["rotation output", "forced run output", "report files", "journal"])
    def test_the_passphrase_is_never_shown(self, rotation, where):
        texts = {
            "rotation output": [rotation.run.output],
            "forced run output": [rotation.forced.output],
            "report files": rotation.report_files,
            "journal": [rotation.journal],
        }[where]
        assert texts and all(text for text in texts), where
        assert [t for t in texts if PASSPHRASE in t] == []
