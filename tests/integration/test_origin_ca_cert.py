"""origin_ca_cert and origin_ca_cert_info against the emulator's Origin CA (issue 32).

Each scenario asserts on the module result, the files written, the emulator's Origin CA certificates read back and
its request journal (the exact writes sent; check mode and unchanged runs send none).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, List, Tuple

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from emulator.testcerts import make_csr

MOD = "certops.cloudflare.origin_ca_cert"
INFO = "certops.cloudflare.origin_ca_cert_info"
HOSTS = ["example.com", "*.example.com"]
SERVICE_KEY = "v1.0-4f1a6c3e9b2d7a8e-" + "5c" * 40


def writes(emulator: Any) -> List[Tuple[str, str]]:
    """(method, path) of every write in the journal."""
    return [(e["method"], e["path"].split("/client/v4/")[-1]) for e in emulator.journal() if e["method"] != "GET"]


def listed(emulator: Any) -> Dict[str, Any]:
    return dict(emulator.state.origin_ca_certs)


def files(tmp_path: Path, name: str = "origin") -> Dict[str, str]:
    folder = tmp_path / "ssl"
    folder.mkdir(exist_ok=True)
    return {"certificate_path": str(folder / (name + ".pem")), "private_key_path": str(folder / (name + ".key"))}


def args(paths: Dict[str, str], **extra: Any) -> Dict[str, Any]:
    return dict({"zone": "example.com", "hostnames": HOSTS}, **paths, **extra)


def read_cert(path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def signed_by_emulator_root(emulator: Any, cert: x509.Certificate, kind: str) -> bool:
    root = x509.load_pem_x509_certificate(emulator.origin_ca_roots()[kind].encode())
    public = root.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    else:
        public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    return cert.issuer == root.subject


def key_body(path: str) -> str:
    """The base64 body of a PEM key file, the part that must never show anywhere."""
    return "".join(line for line in Path(path).read_text().splitlines() if not line.startswith("-----"))


def test_issue_rerun_check_diff_renew_and_revoke(ansible, emulator, tmp_path):
    paths = files(tmp_path)
    # Check mode with diff: the plan, nothing sent, nothing written.
    run = ansible.run_module(MOD, args(paths, request_type="origin-ecc", requested_validity=90), check=True, diff=True)
    assert run.changed and not run.failed, run.output
    assert run.result["certificate"]["id"] is None and run.result["certificate"]["hostnames"] == sorted(HOSTS)
    assert run.result["diff"]["before"] == {} and run.result["diff"]["after"]["key_type"] == "ecdsa"
    assert writes(emulator) == [] and not os.path.exists(paths["certificate_path"]) and not os.path.exists(paths["private_key_path"])

    # The change: one POST, the pair on disk, the key 0600, the certificate from the emulator's ECC root.
    run = ansible.run_module(MOD, args(paths, request_type="origin-ecc", requested_validity=90), diff=True)
    assert run.changed and not run.failed, run.output
    assert writes(emulator) == [("POST", "certificates")]
    first = run.result["certificate"]
    stored = listed(emulator)
    assert list(stored) == [first["id"]] and stored[first["id"]].requested_validity == 90
    cert = read_cert(paths["certificate_path"])
    assert signed_by_emulator_root(emulator, cert, "ecc")
    assert stat.S_IMODE(os.stat(paths["private_key_path"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths["certificate_path"]).st_mode) == 0o644
    key = serialization.load_pem_private_key(Path(paths["private_key_path"]).read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    assert int(first["serial_number"]) == cert.serial_number and first["days_remaining"] in (89, 90)
    assert run.result["diff"]["before"] == {} and run.result["diff"]["after"]["id"] == first["id"]
    assert stored[first["id"]].certificate.strip() == Path(paths["certificate_path"]).read_text().strip()

    # The unchanged re-run, in check mode too: reads only, files untouched.
    emulator.reset_journal()
    before = {name: Path(path).read_bytes() for name, path in paths.items()}
    for check in (False, True):
        run = ansible.run_module(MOD, args(paths, request_type="origin-ecc", requested_validity=90), check=check, diff=True)
        assert not run.changed and not run.failed, run.output
        assert run.result["certificate"]["id"] == first["id"]
        assert run.result["diff"]["before"] == run.result["diff"]["after"]
    assert writes(emulator) == []
    assert before == {name: Path(path).read_bytes() for name, path in paths.items()}

    # Due (89 days left, renewed 100 days before): a new certificate and a new key; the old one stays valid.
    run = ansible.run_module(MOD, args(paths, request_type="origin-ecc", requested_validity=90, renew_before_days=100), diff=True)
    assert run.changed and not run.failed, run.output
    second = run.result["certificate"]
    assert second["id"] != first["id"] and run.result["diff"]["before"]["id"] == first["id"]
    assert writes(emulator) == [("POST", "certificates")]
    assert Path(paths["private_key_path"]).read_bytes() != before["private_key_path"]
    assert listed(emulator)[first["id"]].revoked_at is None

    # Revoke every other certificate for the hostnames: check mode first (zero writes), then for real.
    emulator.reset_journal()
    absent = dict(zone="example.com", hostnames=list(reversed(HOSTS)), state="absent", certificate_path=paths["certificate_path"])
    run = ansible.run_module(MOD, absent, check=True, diff=True)
    assert run.changed and run.result["revoked"] == [first["id"]], run.output
    assert [c["id"] for c in run.result["diff"]["before"]] == sorted([first["id"], second["id"]]) or len(run.result["diff"]["before"]) == 2
    assert [c["id"] for c in run.result["diff"]["after"]] == [second["id"]]
    assert writes(emulator) == []
    run = ansible.run_module(MOD, absent, diff=True)
    assert run.changed and run.result["revoked"] == [first["id"]], run.output
    assert writes(emulator) == [("DELETE", "certificates/%s" % first["id"])]
    assert listed(emulator)[first["id"]].revoked_at is not None and listed(emulator)[second["id"]].revoked_at is None
    assert [c["id"] for c in run.result["certificates"]] == [second["id"]]
    emulator.reset_journal()
    run = ansible.run_module(MOD, absent)
    assert not run.changed and run.result["revoked"] == [] and writes(emulator) == [], run.output

    # The info module sees both, the revoked one only when asked.
    run = ansible.run_module(INFO, {"zone": "example.com"})
    assert [c["id"] for c in run.result["certificates"]] == [second["id"]], run.output
    run = ansible.run_module(INFO, {"zone": "example.com", "include_revoked": True, "hostname": "www.example.com"})
    assert {c["id"]: bool(c["revoked_at"]) for c in run.result["certificates"]} == {first["id"]: True, second["id"]: False}


def test_keep_ids_and_request_type_limit_revocation(ansible, emulator, tmp_path):
    rsa_paths, ecc_paths, old_paths = files(tmp_path, "rsa"), files(tmp_path, "ecc"), files(tmp_path, "old")
    ids = {}
    for name, paths, kind in (("old", old_paths, "origin-rsa"), ("rsa", rsa_paths, "origin-rsa"), ("ecc", ecc_paths, "origin-ecc")):
        run = ansible.run_module(MOD, args(paths, request_type=kind, force=name == "rsa"))
        assert run.changed, run.output
        ids[name] = run.result["certificate"]["id"]
    emulator.reset_journal()
    # Only RSA ones, keeping the one at certificate_path: the ECC one is left alone.
    run = ansible.run_module(
        MOD, {"zone": "example.com", "hostnames": HOSTS, "state": "absent", "request_type": "origin-rsa", **{"certificate_path": rsa_paths["certificate_path"]}}
    )
    assert run.result["revoked"] == [ids["old"]], run.output
    # keep by id: nothing but the kept ones remain, and none of them is revoked.
    run = ansible.run_module(MOD, {"zone": "example.com", "hostnames": HOSTS, "state": "absent", "keep": [ids["ecc"]]})
    assert run.result["revoked"] == [ids["rsa"]], run.output
    assert writes(emulator) == [("DELETE", "certificates/%s" % ids["old"]), ("DELETE", "certificates/%s" % ids["rsa"])]
    assert listed(emulator)[ids["ecc"]].revoked_at is None


def test_reuse_key_csr_and_lost_certificate(ansible, emulator, tmp_path):
    paths = files(tmp_path)
    run = ansible.run_module(MOD, args(paths, reuse_key=True))
    assert run.changed and run.result["certificate"]["key_type"] == "rsa", run.output
    key_before = Path(paths["private_key_path"]).read_bytes()
    # A renewal with reuse_key keeps the key.
    run = ansible.run_module(MOD, args(paths, reuse_key=True, force=True))
    assert run.changed and Path(paths["private_key_path"]).read_bytes() == key_before, run.output
    newest = run.result["certificate"]["id"]

    # The certificate file lost: the listed certificate of the key on disk is written back, nothing issued.
    os.unlink(paths["certificate_path"])
    emulator.reset_journal()
    run = ansible.run_module(MOD, args(paths, reuse_key=True), diff=True)
    assert run.changed and run.result["certificate"]["id"] == newest, run.output
    assert writes(emulator) == [] and run.result["diff"]["before"] == {}
    assert read_cert(paths["certificate_path"]).serial_number == int(run.result["certificate"]["serial_number"])

    # A CSR for a key the module never sees: only the certificate is written.
    csr_key = ec.generate_private_key(ec.SECP256R1())
    csr_path = tmp_path / "hsm.csr"
    csr_path.write_text(make_csr(["api.example.com"], key=csr_key)[0])
    cert_path = str(tmp_path / "ssl" / "hsm.pem")
    task = {"zone": "example.com", "hostnames": ["api.example.com"], "request_type": "origin-ecc", "csr_path": str(csr_path), "certificate_path": cert_path}
    run = ansible.run_module(MOD, task)
    assert run.changed and not run.failed, run.output
    assert read_cert(cert_path).public_key().public_numbers() == csr_key.public_key().public_numbers()
    assert sorted(os.listdir(tmp_path / "ssl")) == ["hsm.pem", "origin.key", "origin.pem"]
    run = ansible.run_module(MOD, task)
    assert not run.changed, run.output


def test_service_key_and_info_pages(ansible, emulator, tmp_path):
    emulator.add_service_key(SERVICE_KEY, name="origin-ca-key")
    env = {"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_API_USER_SERVICE_KEY": SERVICE_KEY}
    paths = files(tmp_path)
    run = ansible.run_module(MOD, dict(zone_id=emulator.zone_id, hostnames=["shop.example.com"], **paths), env=env, verbosity=3)
    assert run.changed and not run.failed, run.output
    assert SERVICE_KEY not in run.output and SERVICE_KEY not in json.dumps(emulator.journal())
    assert [e["credential"] for e in emulator.journal() if e["method"] == "POST"] == ["origin-ca-key"]
    # The Origin CA key cannot read zones: a zone given by name fails before any request.
    emulator.reset_journal()
    run = ansible.run_module(INFO, {"zone": "example.com"}, env=env)
    assert run.failed and "give zone_id instead of zone" in run.msg and emulator.journal() == [], run.output
    # Token and Origin CA key together: refused, naming both.
    run = ansible.run_module(INFO, {"zone_id": emulator.zone_id}, env={"CLOUDFLARE_API_USER_SERVICE_KEY": SERVICE_KEY})
    assert run.failed and "api_user_service_key" in run.msg and "api_token" in run.msg, run.output
    assert SERVICE_KEY not in run.output

    # 55 certificates: the info module reads every page, filters by hostname and expiry.
    for index in range(54):
        validity = 7 if index % 2 else 5475
        body = {
            "hostnames": ["h%d.example.com" % index],
            "request_type": "origin-ecc",
            "requested_validity": validity,
            "csr": make_csr(["h%d.example.com" % index])[0],
        }
        answer = requests.post(emulator.url + "/certificates", json=body, headers={"Authorization": "Bearer " + emulator.token}, timeout=10)
        assert answer.status_code == 200, answer.text
    run = ansible.run_module(INFO, {"zone_id": emulator.zone_id}, env=env)
    assert len(run.result["certificates"]) == 55, run.output
    assert run.result["certificates"][0]["days_remaining"] <= 7
    run = ansible.run_module(INFO, {"zone_id": emulator.zone_id, "expiring_within_days": 30}, env=env)
    assert len(run.result["certificates"]) == 27
    run = ansible.run_module(INFO, {"zone_id": emulator.zone_id, "hostname": "H3.Example.com"}, env=env)
    assert [c["hostnames"] for c in run.result["certificates"]] == [["h3.example.com"]]


def test_no_private_key_anywhere(ansible, emulator, tmp_path):
    paths = files(tmp_path)
    run = ansible.run_module(MOD, args(paths), verbosity=3, diff=True)
    assert run.changed, run.output
    again = ansible.run_module(MOD, args(paths, force=True), verbosity=3, diff=True)
    secrets = [key_body(paths["private_key_path"])]
    assert again.changed
    journal = json.dumps(emulator.journal())
    for text in (run.output, json.dumps(run.result), again.output, json.dumps(again.result), journal):
        for secret in secrets:
            assert secret[:64] not in text
        assert "PRIVATE KEY" not in text


def _rsa_key_file(tmp_path: Path) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "ssl" / "rsa.key"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(path)


def _bad_inputs(tmp_path: Path) -> List[Tuple[str, Dict[str, Any], str]]:
    paths = files(tmp_path)
    rsa_key = _rsa_key_file(tmp_path)
    dangling = tmp_path / "ssl" / "gone.key"
    dangling.symlink_to(tmp_path / "nowhere.key")
    csr = tmp_path / "other.csr"
    csr.write_text(make_csr(HOSTS)[0])  # an ECDSA key of its own
    return [
        ("outside", args(paths, hostnames=["example.com", "www.example.org"]), "www.example.org is not in zone example.com"),
        ("validity", args(paths, requested_validity=15), "requested_validity must be one of"),
        ("keyless", args(paths, request_type="keyless-certificate"), "keyless-certificate is not supported"),
        (
            "key type",
            args(dict(paths, private_key_path=rsa_key), request_type="origin-ecc", reuse_key=True),
            "is an RSA key, but request_type origin-ecc needs an ECDSA key",
        ),
        ("unreadable key", args(dict(paths, private_key_path=str(dangling)), reuse_key=True), "private_key_path: cannot read"),
        (
            "csr and key",
            args(dict(paths, private_key_path=rsa_key), request_type="origin-ecc", csr_path=str(csr)),
            "was not made with the key at private_key_path",
        ),
        ("no key path", args({"certificate_path": paths["certificate_path"]}), "private_key_path is required"),
        (
            "absent keeps a file",
            {"zone": "example.com", "hostnames": HOSTS, "state": "absent", "certificate_path": str(tmp_path / "missing.pem")},
            "cannot read",
        ),
    ]


def test_bad_inputs_fail_before_any_write(ansible, emulator, tmp_path):
    cases = _bad_inputs(tmp_path)
    before = sorted(os.listdir(tmp_path / "ssl"))
    play = ansible.run_tasks([{"name": name, MOD: task_args, "register": "result", "ignore_errors": True} for name, task_args, _message in cases])
    assert len(play.results) == len(cases), play.output
    for (name, _task, message), result in zip(cases, play.results):
        assert result["result"].get("failed"), (name, result)
        assert message in result["result"]["msg"], (name, result["result"]["msg"])
    assert writes(emulator) == [] and listed(emulator) == {}
    assert sorted(os.listdir(tmp_path / "ssl")) == before
