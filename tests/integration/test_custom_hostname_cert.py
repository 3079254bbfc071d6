"""custom_hostname_cert against the emulator: every transition, check mode, diff, bad input, faults, secrecy.

Each transition runs in one play: check mode, the change, the re-run, the re-run in check mode (all with
--diff). The journal must then hold exactly the one write the transition calls for: so check mode and
the re-runs wrote nothing.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_ca, make_leaf, new_key

MOD = "certops.cloudflare.custom_hostname_cert"
HOST = "app.customer.com"
# A non-default SSL configuration: every PATCH must send it back unchanged (a PATCH replaces the stored SSL configuration).
SSL_CONFIG = {
    "method": "txt",
    "type": "dv",
    "bundle_method": "force",
    "wildcard": False,
    "certificate_authority": "google",
    "settings": {"min_tls_version": "1.2", "http2": "on"},
}
CERT_VIEW_KEYS = {"id", "key_type", "serial_number", "fingerprint_sha256", "issuer", "expires_on", "days_remaining", "not_before", "uploaded_on", "hosts"}


@pytest.fixture(scope="module")
def pki() -> SimpleNamespace:
    ca = make_ca("Certops Test CA")
    rsa_a, rsa_b = new_key("rsa"), new_key("rsa")
    return SimpleNamespace(
        ca=ca,
        rsa1=make_leaf(ca, [HOST], key_type="rsa", key=rsa_a),
        rsa2=make_leaf(ca, [HOST, "www." + HOST], key_type="rsa", key=rsa_b),
        rsa3=make_leaf(ca, [HOST], key_type="rsa", key=rsa_a),
        ec1=make_leaf(ca, [HOST]),
        ec2=make_leaf(ca, ["*.customer.com"]),
        expired=make_leaf(ca, [HOST], days=-1, not_before_days=-90),
        other_host=make_leaf(ca, ["other.example.com"]),
    )


def item(leaf: Any) -> Dict[str, str]:
    return {"certificate": leaf.chain_pem, "private_key": leaf.key_pem}


def seed(emulator: Any, leaves: Sequence[Any] = (), hostname: str = HOST, ssl: Optional[Dict[str, Any]] = None) -> Any:
    spec: Dict[str, Any] = {"ssl": dict(ssl or SSL_CONFIG)}
    if leaves:
        spec["certificates"] = [{"certificate": leaf.chain_pem} for leaf in leaves]
    return emulator.state.add_custom_hostname(emulator.zone_id, hostname, **spec)


def writes(emulator: Any) -> List[Tuple[str, str, Any]]:
    """(method, path below the zone, request body) of every write in the journal."""
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, ""), e["request_body"]) for e in emulator.journal() if e["method"] != "GET"]


def facts(view: Dict[str, Any]) -> List[Tuple[str, str]]:
    return sorted((c["key_type"], c["fingerprint_sha256"]) for c in view["ssl"]["certificates"])


def leaf_facts(leaves: Sequence[Any]) -> List[Tuple[str, str]]:
    return sorted(("rsa" if "RSA" in type(leaf.key).__name__ else "ecdsa", leaf.fingerprint_sha256) for leaf in leaves)


def stored(emulator: Any, hostname: str = HOST) -> Any:
    return next(h for h in emulator.state.zones[emulator.zone_id].custom_hostnames.values() if h.hostname == hostname)


def no_traceback(result: Dict[str, Any]) -> bool:
    """No traceback in a failed result (ansible-core 2.19 puts a placeholder where a hidden one would be)."""
    return result.get("exception") in (None, "(traceback unavailable)")


def converge(ansible: Any, args: Dict[str, Any]) -> List[Dict[str, Any]]:
    """check mode, real, again; all with diff. Returns the three results."""
    tasks = [
        {"name": "check", MOD: args, "check_mode": True, "diff": True},
        {"name": "real", MOD: args, "diff": True},
        {"name": "again", MOD: args, "diff": True},
    ]
    run = ansible.run_tasks(tasks)
    results = [r["result"] for r in run.results]
    assert len(results) == 3 and not any(r.get("failed") for r in results), run.output
    return results


# (seeded, wanted, extra args, expected write, final) -- leaves by name; the write as (method, what).
TRANSITIONS = {
    "none to rsa": ([], ["rsa1"], {}, ("PATCH", "custom_certificate"), ["rsa1"]),
    "none to ecdsa": ([], ["ec1"], {}, ("PATCH", "custom_certificate"), ["ec1"]),
    "none to bundle": ([], ["rsa1", "ec1"], {}, ("PATCH", "bundle of 2"), ["rsa1", "ec1"]),
    "rsa to new rsa": (["rsa1"], ["rsa2"], {}, ("PATCH", "custom_certificate"), ["rsa2"]),
    "ecdsa to new ecdsa": (["ec1"], ["ec2"], {}, ("PATCH", "custom_certificate"), ["ec2"]),
    "rsa to ecdsa": (["rsa1"], ["ec1"], {}, ("PATCH", "custom_certificate"), ["ec1"]),
    "rsa to bundle": (["rsa1"], ["rsa1", "ec1"], {}, ("PATCH", "bundle of 1"), ["rsa1", "ec1"]),
    "ecdsa to bundle": (["ec1"], ["rsa1", "ec1"], {}, ("PATCH", "bundle of 1"), ["rsa1", "ec1"]),
    "ecdsa plus rsa, not exclusive": (["ec1"], ["rsa1"], {"exclusive": False}, ("PATCH", "bundle of 1"), ["rsa1", "ec1"]),
    "rsa to new bundle": (["rsa1"], ["rsa2", "ec1"], {}, ("PATCH", "bundle of 2"), ["rsa2", "ec1"]),
    "bundle, replace the ecdsa one": (["rsa1", "ec1"], ["rsa1", "ec2"], {}, ("PUT", "ec1"), ["rsa1", "ec2"]),
    "bundle, replace the rsa one": (["rsa1", "ec1"], ["rsa2", "ec1"], {}, ("PUT", "rsa1"), ["rsa2", "ec1"]),
    "bundle, replace both": (["rsa1", "ec1"], ["rsa2", "ec2"], {}, ("PATCH", "bundle of 2"), ["rsa2", "ec2"]),
    "bundle to its rsa one": (["rsa1", "ec1"], ["rsa1"], {}, ("DELETE", "ec1"), ["rsa1"]),
    "bundle to its ecdsa one": (["rsa1", "ec1"], ["ec1"], {}, ("DELETE", "rsa1"), ["ec1"]),
    "bundle to a new ecdsa": (["rsa1", "ec1"], ["ec2"], {}, ("PATCH", "custom_certificate"), ["ec2"]),
    "bundle, new ecdsa, not exclusive": (["rsa1", "ec1"], ["ec2"], {"exclusive": False}, ("PUT", "ec1"), ["rsa1", "ec2"]),
    "bundle, remove the ecdsa one": (["rsa1", "ec1"], None, {"state": "absent", "key_type": "ecdsa"}, ("DELETE", "ec1"), ["rsa1"]),
    "bundle, remove the rsa one": (["rsa1", "ec1"], None, {"state": "absent", "key_type": "rsa"}, ("DELETE", "rsa1"), ["ec1"]),
}


@pytest.mark.parametrize("name", TRANSITIONS)
def test_transition(ansible, emulator, pki, name):
    seeded_names, wanted, extra, (method, what), final_names = TRANSITIONS[name]
    seeded = [getattr(pki, n) for n in seeded_names]
    final = [getattr(pki, n) for n in final_names]
    hostname = seed(emulator, seeded)
    cert_ids = {n: c.id for n, c in zip(seeded_names, hostname.certs)}
    pack_path = "custom_hostnames/%s/certificate_pack/%s/certificates/" % (hostname.id, hostname.pack_id)
    args = dict({"zone_id": emulator.zone_id, "hostname": HOST}, **extra)
    if wanted is not None:
        args["certificates"] = [item(getattr(pki, n)) for n in wanted]

    check, real, again = converge(ansible, args)

    # The change, predicted in check mode, made for real, and nothing more on the re-runs.
    assert check["changed"] and real["changed"]
    assert not again["changed"]
    assert facts(check["custom_hostname"]) == facts(real["custom_hostname"]) == leaf_facts(final)
    assert facts(again["custom_hostname"]) == leaf_facts(final)
    assert sorted(c.info.fingerprint_sha256 for c in stored(emulator).certs) == sorted(leaf.fingerprint_sha256 for leaf in final)

    # Exactly one write in the whole play: check mode and the re-runs wrote nothing.
    (sent,) = writes(emulator)
    assert sent[0] == method
    if method == "PATCH":
        assert sent[1] == "custom_hostnames/%s" % hostname.id
        ssl = sent[2]["ssl"]
        assert {k: ssl[k] for k in SSL_CONFIG} == SSL_CONFIG, "the PATCH must send back the whole SSL configuration"
        if what == "custom_certificate":
            assert ssl["custom_key"] == "<redacted>" and "custom_cert_bundle" not in ssl
        else:
            assert len(ssl["custom_cert_bundle"]) == int(what.split()[-1]) and "custom_certificate" not in ssl
    else:
        assert sent[1] == pack_path + cert_ids[what]
    assert stored(emulator).config == dict(SSL_CONFIG, settings=SSL_CONFIG["settings"]), "the SSL configuration must not change"

    # The diff: before and after as facts, never PEM or keys.
    for result in (check, real):
        diff = result["diff"]
        assert set(diff) == {"before", "after"}
        assert facts(diff["before"]) == leaf_facts(seeded)
        assert facts(diff["after"]) == leaf_facts(final)
        for cert in diff["before"]["ssl"]["certificates"] + diff["after"]["ssl"]["certificates"]:
            assert set(cert) == CERT_VIEW_KEYS
        assert "BEGIN" not in json.dumps(diff) and "BEGIN" not in json.dumps(result["custom_hostname"])
    assert again["diff"]["before"] == again["diff"]["after"]
    # Certificates not uploaded yet have no id in check mode; after the change every one has.
    assert all(c["id"] for c in real["custom_hostname"]["ssl"]["certificates"])
    assert real["custom_hostname"]["ssl"]["bundle_method"] == SSL_CONFIG["bundle_method"]


def test_unchanged_run_makes_exactly_one_call(ansible, emulator, pki):
    seed(emulator, [pki.rsa1, pki.ec1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.ec1), item(pki.rsa1)]}
    result = ansible.run_module(MOD, args)
    assert not result.failed and not result.changed, result.msg
    (call,) = emulator.journal()
    assert call["method"] == "GET" and call["path"].endswith("/zones/%s/custom_hostnames" % emulator.zone_id)
    assert call["query"] == {"hostname": HOST}
    view = result.result["custom_hostname"]
    assert view["hostname"] == HOST and view["ssl"]["status"] == "active"
    assert [c["key_type"] for c in view["ssl"]["certificates"]] == ["rsa", "ecdsa"]
    rsa = view["ssl"]["certificates"][0]
    assert rsa["serial_number"] == pki.rsa1.serial_number and rsa["fingerprint_sha256"] == pki.rsa1.fingerprint_sha256
    assert rsa["issuer"] == "Certops Test CA" and 85 <= rsa["days_remaining"] <= 90 and rsa["hosts"] == [HOST]


def test_bundle_method_alone_is_one_patch_keeping_the_certificates(ansible, emulator, pki):
    hostname = seed(emulator, [pki.rsa1, pki.ec1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa1), item(pki.ec1)], "bundle_method": "optimal"}
    check, real, again = converge(ansible, args)
    assert check["changed"] and real["changed"] and not again["changed"]
    assert check["custom_hostname"]["ssl"]["bundle_method"] == real["custom_hostname"]["ssl"]["bundle_method"] == "optimal"
    ((method, path, body),) = writes(emulator)
    assert method == "PATCH" and path == "custom_hostnames/%s" % hostname.id
    assert body == {"ssl": dict(SSL_CONFIG, bundle_method="optimal")}
    assert facts(real["custom_hostname"]) == leaf_facts([pki.rsa1, pki.ec1])


def test_force_uploads_identical_certificates_again(ansible, emulator, pki):
    seed(emulator, [pki.ec1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.ec1)], "force": True}
    result = ansible.run_module(MOD, args)
    assert result.changed and not result.failed, result.msg
    assert [(m, "custom_certificate" in b["ssl"]) for m, _p, b in writes(emulator)] == [("PATCH", True)]


def test_by_id_with_zone_name_and_a_wildcard_certificate(ansible, emulator, pki):
    hostname = seed(emulator, [pki.rsa1])
    args = {"zone": "example.com", "custom_hostname_id": hostname.id, "certificates": [item(pki.ec2)], "exclusive": False, "wait": True}
    result = ansible.run_module(MOD, args)
    assert result.changed and not result.failed, result.msg
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa1, pki.ec2])
    assert result.result["custom_hostname"]["ssl"]["status"] == "active"
    reads = [(e["path"].split("/client/v4/")[1], e["query"]) for e in emulator.journal() if e["method"] == "GET"][:2]
    assert reads == [("zones", {"name": "example.com", "page": "1", "per_page": "50"}), ("zones/%s/custom_hostnames/%s" % (emulator.zone_id, hostname.id), {})]


@pytest.mark.emulator(delay=1.0)
def test_wait_until_active(ansible, emulator, pki):
    seed(emulator, [pki.ec1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.ec2)], "wait": True, "wait_timeout": 30}
    result = ansible.run_module(MOD, args)
    assert result.changed and not result.failed, result.msg
    assert result.result["custom_hostname"]["ssl"]["status"] == "active"
    by_id = [e for e in emulator.journal() if e["method"] == "GET" and e["path"].endswith(stored(emulator).id)]
    statuses = [e["response_body"]["result"]["ssl"]["status"] for e in by_id]
    assert "pending_deployment" in statuses and statuses[-1] == "active"
    # In check mode nothing is waited for and nothing is written.
    emulator.reset_journal()
    check = ansible.run_module(MOD, dict(args, certificates=[item(pki.ec1)]), check=True)
    assert check.changed and emulator.counts() == {"reads": 1, "writes": 0}


def test_patch_lost_after_it_was_applied_is_settled_by_reading_again(ansible, emulator, pki):
    seed(emulator, [pki.rsa1])
    emulator.add_fault("reset_after", method="PATCH")
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2)]}
    result = ansible.run_module(MOD, args)
    assert result.changed and not result.failed, result.msg
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa2])
    assert [m for m, _p, _b in writes(emulator)] == ["PATCH"], "the PATCH must not be sent twice"
    assert [e["method"] for e in emulator.journal()] == ["GET", "PATCH", "GET"]  # the re-read is the state: no read-back after it


def test_put_retried_after_a_lost_answer_is_settled_by_reading_again(ansible, emulator, pki):
    hostname = seed(emulator, [pki.rsa1, pki.ec1])
    old_id = hostname.certs[1].id
    emulator.add_fault("reset_after", method="PUT")
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa1), item(pki.ec2)]}
    result = ansible.run_module(MOD, args)
    assert result.changed and not result.failed, result.msg
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa1, pki.ec2])
    # The client sent the PUT again (idempotent); the certificate it replaced was gone, so the module read the state.
    puts = [(e["path"].rsplit("/", 1)[1], e["status"]) for e in emulator.journal() if e["method"] == "PUT"]
    assert puts == [(old_id, 202), (old_id, 404)]
    assert [m for m, _p, _b in writes(emulator)] == ["PUT", "PUT"]


def test_patch_lost_before_it_was_applied_is_not_sent_again(ansible, emulator, pki):
    seed(emulator, [pki.rsa1])
    emulator.add_fault("reset_before", method="PATCH")
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2)]}
    result = ansible.run_module(MOD, args)
    assert result.failed
    assert "not applied" in result.msg and "running the task again is safe" in result.msg
    assert "Traceback" not in result.output and no_traceback(result.result)
    assert [m for m, _p, _b in writes(emulator)] == ["PATCH"]
    assert [c.info.fingerprint_sha256 for c in stored(emulator).certs] == [pki.rsa1.fingerprint_sha256]
    # The re-run it advises succeeds.
    assert ansible.run_module(MOD, args).changed


def test_bad_inputs_fail_before_any_write(ansible, emulator, pki):
    seed(emulator, [pki.rsa1])
    seed(emulator, [pki.ec1, pki.rsa1], hostname="pair.customer.com")
    zone = {"zone_id": emulator.zone_id}
    base = dict(zone, hostname=HOST)
    wrong_key = {"certificate": pki.ec1.chain_pem, "private_key": pki.ec2.key_pem}
    cases = [
        (
            "garbage PEM",
            dict(base, certificates=[{"certificate": "-----BEGIN CERTIFICATE-----\nnot base64\n", "private_key": pki.ec1.key_pem}]),
            "certificates[0]: no PEM certificate found",
        ),
        (
            "garbage key",
            dict(base, certificates=[{"certificate": pki.ec1.chain_pem, "private_key": "garbage"}]),
            "certificates[0] private key: no PEM private key found",
        ),
        ("key of another certificate", dict(base, certificates=[wrong_key]), "certificates[0]: the private key does not belong to this certificate"),
        ("expired", dict(base, certificates=[item(pki.expired)]), "certificates[0]: it expired on"),
        (
            "not covering the hostname",
            dict(base, certificates=[item(pki.other_host)]),
            "certificates[0]: it does not cover app.customer.com (it is for other.example.com)",
        ),
        (
            "not covering, hostname by id",
            dict(zone, custom_hostname_id=stored(emulator).id, certificates=[item(pki.other_host)]),
            "certificates[0]: it does not cover app.customer.com",
        ),
        ("two RSA", dict(base, certificates=[item(pki.rsa1), item(pki.rsa2)]), "certificates[0] and certificates[1] are both RSA certificates"),
        ("three", dict(base, certificates=[item(pki.rsa1), item(pki.ec1), item(pki.ec2)]), "at most two certificates (one RSA and one ECDSA); 3 were given"),
        (
            "unknown hostname",
            dict(zone, hostname="nope.customer.com", certificates=[item(pki.ec2)]),
            "custom hostname nope.customer.com does not exist in zone %s" % emulator.zone_id,
        ),
        (
            "unknown hostname id",
            dict(zone, custom_hostname_id="0" * 32, certificates=[item(pki.ec1)]),
            "custom hostname id %s does not exist in zone %s" % ("0" * 32, emulator.zone_id),
        ),
        (
            "unknown zone id",
            dict(base, zone_id="f" * 32, certificates=[item(pki.ec1)]),
            "zone %s was not found or these credentials cannot read it" % ("f" * 32),
        ),
        ("unknown zone name", dict(base, zone_id=None, zone="nope.example", certificates=[item(pki.ec1)]), "no zone named 'nope.example'"),
        (
            "removing the last certificate",
            dict(base, state="absent", key_type="rsa"),
            "cannot remove the RSA certificate of app.customer.com in zone %s: it is the hostname's only custom certificate" % emulator.zone_id,
        ),
        ("no certificate", dict(base, certificates=[]), "certificates must hold one or two certificates with state=present"),
        ("absent without key_type", dict(base, state="absent"), "state is absent but all of the following are missing: key_type"),
        ("absent with certificates", dict(base, state="absent", key_type="rsa", certificates=[item(pki.rsa1)]), "certificates is not used with state=absent"),
        (
            "both content and path",
            dict(base, certificates=[dict(item(pki.ec1), certificate_path="/tmp/x.pem")]),
            "parameters are mutually exclusive: certificate|certificate_path",
        ),
        (
            "a path that cannot be read",
            dict(base, certificates=[{"certificate_path": "/nonexistent/c.pem", "private_key": pki.ec1.key_pem}]),
            "certificates[0].certificate_path: cannot read /nonexistent/c.pem",
        ),
    ]
    tasks = [{"name": name, MOD: {k: v for k, v in args.items() if v is not None}, "ignore_errors": True} for name, args, _msg in cases]
    run = ansible.run_tasks(tasks)
    assert len(run.results) == len(cases), run.output
    for (name, _args, expected), entry in zip(cases, run.results):
        result = entry["result"]
        assert result.get("failed"), name
        assert expected in result["msg"], "%s: %s" % (name, result["msg"])
        assert no_traceback(result), name
        assert not any(line in result["msg"] for leaf in (pki.ec1, pki.ec2) for line in _key_body(leaf.key_pem)), name
    assert "Traceback" not in run.output
    assert emulator.counts()["writes"] == 0 and not writes(emulator)
    # Local checks come before any call: garbage PEM cost nothing, a missing hostname one read.
    assert len(emulator.journal()) == 6


def test_wrong_credentials_fail_clearly(ansible, emulator, pki):
    seed(emulator, [pki.rsa1])
    token = "wrong-token-5ecr3t"
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2)]}
    result = ansible.run_module(MOD, args, env={"CLOUDFLARE_API_TOKEN": token})
    assert result.failed
    assert "Authentication error (code 10000)" in result.msg and "HTTP 403" in result.msg
    assert token not in result.output and "Traceback" not in result.output and no_traceback(result.result)
    assert emulator.counts() == {"reads": 1, "writes": 0}


def test_private_key_appears_nowhere_at_vvvv(ansible, emulator, pki, tmp_path):
    seed(emulator, [pki.rsa1])
    # An encrypted ECDSA key: decrypted locally, the clear key is uploaded and must not show either.
    encrypted = pki.ec1.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pass phrase")
    ).decode()
    key_file = tmp_path / "rsa.key"
    key_file.write_text(pki.rsa2.key_pem)
    args = {
        "zone_id": emulator.zone_id,
        "hostname": HOST,
        "certificates": [
            {"certificate": pki.ec1.chain_pem, "private_key": encrypted, "private_key_passphrase": "pass phrase"},
            {"certificate": pki.rsa2.chain_pem, "private_key_path": str(key_file)},
        ],
    }
    result = ansible.run_module(MOD, args, diff=True, verbosity=4)
    assert result.changed and not result.failed, result.msg
    bodies = [_key_body(leaf.key_pem) for leaf in (pki.ec1, pki.rsa2)] + [_key_body(encrypted)]
    output = result.output + json.dumps(result.result) + json.dumps(emulator.dump_state()) + json.dumps(emulator.journal())
    for body in bodies:
        for line in body:
            assert line not in output
    assert "pass phrase" not in result.output
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa2, pki.ec1])


def _key_body(pem: str) -> List[str]:
    """The base64 lines of a PEM key (the part that is secret)."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and not re.match(r"^[A-Za-z-]+:", line)]
