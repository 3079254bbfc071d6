"""Suite 3 of `make reliability`: hostile and bad input (issue 14).

One table of cases across every module and the role `cert_rotation`: garbage, truncated and binary PEM, a chain in
the wrong order, a key for another certificate, encrypted keys without and with a wrong passphrase, expired and
not-yet-valid certificates, a certificate for another hostname, two RSA certificates for one bundle, a 51-host pack,
overlong and invalid hostnames, wrong-typed options, unknown ids and zones, an `api_base_url` that is not a URL or
refuses connections, and server answers that are not JSON, lack `result`, or page forever (emulator faults).

Each case fails before any write (no POST, PUT, PATCH or DELETE in the emulator's journal) with a message naming
what is wrong (`words`, all of them, case-insensitive), and without a traceback. Uppercase and internationalised
hostnames are not errors: the NORMALISED cases show they succeed and reach the API lower-cased, as A-labels.

It extends tests/integration/test_bad_inputs.py (every id, hostname and timeout option with the same bad values)
and tests/integration/test_hardening.py (redirects, echoes, not-yet-valid certificates of the two custom hostname
modules) and does not repeat them. The cases run as tasks of a few playbooks (one per batch of about a dozen, run
once per pytest run and shared by the xdist workers); each case is still its own parametrised test, so each counts in
the suite's summary line.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from cryptography.hazmat.primitives import serialization

from emulator import Emulator
from emulator.testcerts import make_ca, make_leaf
from integration.conftest import Ansible

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HOST = "app.example.com"  # a custom hostname of the seeded zone
CLIENT_HOST = "origin.example.com"
ZONE_HOSTS = ["example.com", "www.example.com"]
PASSPHRASE = "correct horse battery staple"
WRONG = "not-the-passphrase"  # not a word of any message: Ansible masks no_log values wherever they appear
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
LONG_HOST = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50]) + ".example.com"  # labels fit, the name does not (254+)
ROLE = "role"


@dataclass(frozen=True)
class Case:
    """One hostile input: `module` (or ROLE) run with `args` must fail with every one of `words` in its message.

    Strings in `args` of the form "{label}" are replaced by the pki's file paths or contents (see `pki`).
    `batch` names the playbook the case runs in; `fault` is injected into that batch's emulator first.
    """

    id: str
    module: str
    args: Dict[str, Any]
    words: Tuple[str, ...]
    batch: str = "main"
    fault: Optional[Dict[str, Any]] = None


def chc(**args: Any) -> Dict[str, Any]:
    return dict({"zone_id": "{zone_id}", "hostname": HOST}, **args)


def pair(cert: str = "{good.pem}", key: str = "{good.key}", **extra: Any) -> Dict[str, Any]:
    return dict({"certificate_path": cert, "private_key_path": key}, **extra)


def listed(*certificates: Dict[str, Any], hostname: str = HOST) -> Dict[str, Any]:
    return {"zone_id": "{zone_id}", "hostname_certificates": [{"hostname": hostname, "certificates": list(certificates)}]}


def hcc(**args: Any) -> Dict[str, Any]:
    return dict({"zone_id": "{zone_id}", "certificate_path": "{client.pem}", "private_key_path": "{client.key}", "hostnames": [CLIENT_HOST]}, **args)


def zcert(**args: Any) -> Dict[str, Any]:
    return dict({"zone_id": "{zone_id}", "certificate_path": "{zone.pem}", "private_key_path": "{zone.key}"}, **args)


def pack(**args: Any) -> Dict[str, Any]:
    return dict({"zone_id": "{zone_id}", "hosts": ZONE_HOSTS, "validation_method": "txt", "validity_days": 90, "certificate_authority": "lets_encrypt"}, **args)


def plan(**args: Any) -> Dict[str, Any]:
    return dict({"discovered": {"custom_hostnames": [], "hostname_client_certs": [], "custom_certs": [], "cert_packs": []}}, **args)


def role(**extra: Any) -> Dict[str, Any]:
    return dict({"cert_rotation_zone": "example.com", "cert_rotation_custom_hostnames": [{"hostname": HOST, "certificates": [pair()]}]}, **extra)


def info(**args: Any) -> Dict[str, Any]:
    return dict({"zone_id": "{zone_id}"}, **args)


HOSTILE_PEM = [
    # custom_hostname_cert, single form
    Case(
        "chc-garbage-content",
        "custom_hostname_cert",
        chc(certificates=[{"certificate": "{garbage}", "private_key": "{good.key.text}"}]),
        ("certificate", "PEM"),
    ),
    Case("chc-truncated-file", "custom_hostname_cert", chc(certificates=[pair("{truncated.pem}")]), ("{truncated.pem}", "PEM")),
    Case("chc-binary-file", "custom_hostname_cert", chc(certificates=[pair("{binary.pem}")]), ("{binary.pem}", "PEM")),
    Case("chc-chain-wrong-order", "custom_hostname_cert", chc(certificates=[pair("{reversed.pem}")]), ("{reversed.pem}", "order")),
    Case("chc-key-of-another-cert", "custom_hostname_cert", chc(certificates=[pair(key="{other.key}")]), ("private key", "does not belong")),
    Case(
        "chc-encrypted-key-no-passphrase",
        "custom_hostname_cert",
        chc(certificates=[pair(key="{encrypted.key}")]),
        ("private key is encrypted", "private_key_passphrase"),
    ),
    Case(
        "chc-encrypted-key-wrong-passphrase",
        "custom_hostname_cert",
        chc(certificates=[pair(key="{encrypted.key}", private_key_passphrase=WRONG)]),
        ("private key", "wrong passphrase"),
    ),
    Case("chc-expired", "custom_hostname_cert", chc(certificates=[pair("{expired.pem}", "{expired.key}")]), ("{expired.pem}", "expired")),
    Case("chc-another-hostname", "custom_hostname_cert", chc(certificates=[pair("{stranger.pem}", "{stranger.key}")]), ("does not cover", HOST)),
    Case(
        "chc-two-rsa",
        "custom_hostname_cert",
        chc(certificates=[pair("{rsa1.pem}", "{rsa1.key}"), pair("{rsa2.pem}", "{rsa2.key}")]),
        ("both RSA", "at most one RSA"),
    ),
    Case("chc-binary-key", "custom_hostname_cert", chc(certificates=[pair(key="{binary.key}")]), ("{binary.key}", "not a PEM")),
    Case("chc-key-as-empty-file", "custom_hostname_cert", chc(certificates=[pair(key="{empty}")]), ("private key", "no PEM private key")),
    # custom_hostname_cert, list form
    Case("list-garbage", "custom_hostname_cert", listed(pair("{garbage.pem}")), ("hostname_certificates[0]", "{garbage.pem}")),
    Case("list-truncated", "custom_hostname_cert", listed(pair("{truncated.pem}")), ("hostname_certificates[0]", "{truncated.pem}")),
    Case("list-binary", "custom_hostname_cert", listed(pair("{binary.pem}")), ("hostname_certificates[0]", "{binary.pem}")),
    Case("list-chain-wrong-order", "custom_hostname_cert", listed(pair("{reversed.pem}")), ("hostname_certificates[0]", "order")),
    Case("list-encrypted-key-no-passphrase", "custom_hostname_cert", listed(pair(key="{encrypted.key}")), ("hostname_certificates[0]", "passphrase")),
    Case(
        "list-encrypted-key-wrong-passphrase",
        "custom_hostname_cert",
        listed(pair(key="{encrypted.key}", private_key_passphrase=WRONG)),
        ("hostname_certificates[0]", "wrong passphrase"),
    ),
    Case("list-not-yet-valid", "custom_hostname_cert", listed(pair("{future.pem}", "{future.key}")), ("hostname_certificates[0]", "not valid yet")),
    Case("list-two-rsa", "custom_hostname_cert", listed(pair("{rsa1.pem}", "{rsa1.key}"), pair("{rsa2.pem}", "{rsa2.key}")), ("both RSA",)),
    # hostname_client_cert
    Case("hcc-garbage-content", "hostname_client_cert", hcc(certificate_path=None, certificate="{garbage}"), ("certificate", "PEM")),
    Case("hcc-truncated-key", "hostname_client_cert", hcc(private_key_path="{truncated.key}"), ("private key", "no PEM private key")),
    Case("hcc-binary-cert", "hostname_client_cert", hcc(certificate_path="{binary.pem}"), ("{binary.pem}", "not a PEM")),
    Case("hcc-chain-wrong-order", "hostname_client_cert", hcc(certificate_path="{client-reversed.pem}"), ("certificate", "not issued by", "order")),
    Case("hcc-key-of-another-cert", "hostname_client_cert", hcc(private_key_path="{good.key}"), ("private key", "does not belong")),
    Case(
        "hcc-encrypted-key-no-passphrase",
        "hostname_client_cert",
        hcc(private_key_path="{client-encrypted.key}"),
        ("private key is encrypted", "private_key_passphrase"),
    ),
    Case(
        "hcc-encrypted-key-wrong-passphrase",
        "hostname_client_cert",
        hcc(private_key_path="{client-encrypted.key}", private_key_passphrase=WRONG),
        ("private key", "wrong passphrase"),
    ),
    Case("hcc-expired", "hostname_client_cert", hcc(certificate_path="{expired.pem}", private_key_path="{expired.key}"), ("certificate", "expired on")),
    # custom_cert (zone custom certificates)
    Case("zone-garbage-content", "custom_cert", zcert(certificate_path=None, certificate="{garbage}"), ("certificate", "PEM")),
    Case("zone-truncated", "custom_cert", zcert(certificate_path="{truncated.pem}"), ("certificate", "no PEM certificate")),
    Case("zone-binary-key", "custom_cert", zcert(private_key_path="{binary.key}"), ("{binary.key}", "not a PEM")),
    Case("zone-chain-wrong-order", "custom_cert", zcert(certificate_path="{zone-reversed.pem}"), ("certificate", "not issued by", "order")),
    Case("zone-key-of-another-cert", "custom_cert", zcert(private_key_path="{good.key}"), ("private key", "does not belong")),
    Case(
        "zone-encrypted-key-no-passphrase",
        "custom_cert",
        zcert(private_key_path="{zone-encrypted.key}"),
        ("private key is encrypted", "private_key_passphrase"),
    ),
    Case(
        "zone-encrypted-key-wrong-passphrase",
        "custom_cert",
        zcert(private_key_path="{zone-encrypted.key}", private_key_passphrase=WRONG),
        ("private key", "wrong passphrase"),
    ),
    Case("zone-expired", "custom_cert", zcert(certificate_path="{expired.pem}", private_key_path="{expired.key}"), ("certificate", "expired on")),
    Case("zone-not-yet-valid", "custom_cert", zcert(certificate_path="{future.pem}", private_key_path="{future.key}"), ("certificate", "not valid yet")),
    Case("zone-new-cert-without-key", "custom_cert", zcert(certificate_path="{zone2.pem}", private_key_path=None), ("private key",)),
    # rotation_plan: the role's planning module, its material as content and paths
    Case(
        "plan-garbage-hostname-cert",
        "rotation_plan",
        plan(custom_hostnames=[{"hostname": HOST, "certificates": [{"certificate": "{garbage}", "private_key": "{good.key.text}"}]}], material_dir="{tmp}"),
        (HOST, "no PEM certificate"),
    ),
    Case(
        "plan-content-without-material-dir",
        "rotation_plan",
        plan(custom_hostnames=[{"hostname": HOST, "certificates": [{"certificate": "{good.pem.text}", "private_key": "{good.key.text}"}]}]),
        ("custom_hostnames[0].certificates[0].certificate", "material_dir"),
    ),
    Case(
        "plan-expired-hostname-cert",
        "rotation_plan",
        plan(custom_hostnames=[{"hostname": HOST, "certificates": [pair("{expired.pem}", "{expired.key}")]}]),
        ("expired",),
    ),
    Case(
        "plan-two-rsa",
        "rotation_plan",
        plan(custom_hostnames=[{"hostname": HOST, "certificates": [pair("{rsa1.pem}", "{rsa1.key}"), pair("{rsa2.pem}", "{rsa2.key}")]}]),
        ("two new certificates of key type rsa",),
    ),
    Case(
        "plan-client-key-of-another",
        "rotation_plan",
        plan(client_certs=[dict(pair("{client.pem}", "{good.key}"), hostnames=[CLIENT_HOST])]),
        ("does not belong",),
    ),
    Case(
        "plan-client-not-yet-valid",
        "rotation_plan",
        plan(client_certs=[dict(pair("{future.pem}", "{future.key}"), hostnames=[CLIENT_HOST])]),
        ("not valid yet",),
    ),
    Case("plan-zone-wrong-order", "rotation_plan", plan(zone_certs=[pair("{zone-reversed.pem}", "{zone.key}")]), ("order",)),
    Case("plan-zone-encrypted-key", "rotation_plan", plan(zone_certs=[pair("{zone.pem}", "{zone-encrypted.key}")]), ("{zone.pem}", "private key is encrypted")),
    Case("plan-zone-truncated", "rotation_plan", plan(zone_certs=[pair("{truncated.pem}", "{zone.key}")]), ("{truncated.pem}",)),
]

HOSTNAMES_AND_TYPES = [
    Case("pack-51-hosts", "cert_pack", pack(hosts=["h%02d.example.com" % i for i in range(51)]), ("hosts", "51", "50")),
    Case("pack-overlong-host", "cert_pack", pack(hosts=[LONG_HOST]), ("hosts", "characters long")),
    Case("pack-validity-days", "cert_pack", pack(validity_days=45), ("validity_days", "45")),
    Case("pack-wildcard-inside", "cert_pack", pack(hosts=["a.*.example.com"]), ("hosts", "a.*.example.com")),
    Case("pack-host-outside-zone", "cert_pack", pack(hosts=["example.com", "shop.other-zone.net"]), ("shop.other-zone.net", "zone")),
    Case("pack-unknown-id", "cert_pack", {"zone_id": "{zone_id}", "certificate_pack_id": UNKNOWN_ID}, (UNKNOWN_ID,)),
    Case("ch-overlong-hostname", "custom_hostname", info(hostname=LONG_HOST), ("hostname", "characters long")),
    Case("ch-leading-hyphen", "custom_hostname", info(hostname="-app.example.com"), ("hostname", "-app")),
    Case(
        "ch-invalid-a-label",
        "custom_hostname",
        info(hostname="xn--zz.example.com"),
        ("hostname", "xn--zz"),
        batch="a-label",  # its own playbook: had it been accepted, no other case would see the write
    ),
    Case("ch-empty-hostname", "custom_hostname", info(hostname=""), ("hostname", "empty")),
    Case("ch-origin-server", "custom_hostname", info(hostname=HOST, custom_origin_server="origin server!"), ("custom_origin_server",)),
    Case("ch-ssl-method", "custom_hostname", info(hostname=HOST, ssl={"method": "dns"}), ("method", "dns")),
    Case("ch-metadata-type", "custom_hostname", info(hostname=HOST, custom_metadata=["customer", "acme"]), ("custom_metadata", "dict")),
    Case("chc-wait-timeout-type", "custom_hostname_cert", chc(certificates=[pair()], wait_timeout="soon"), ("wait_timeout", "int")),
    Case("chc-certificates-type", "custom_hostname_cert", chc(certificates="{good.pem}"), ("certificates", "dict")),
    Case("list-overlong-hostname", "custom_hostname_cert", listed(pair(), hostname=LONG_HOST), ("hostname_certificates[0].hostname", "characters long")),
    Case(
        "list-entries-type",
        "custom_hostname_cert",
        {"zone_id": "{zone_id}", "hostname_certificates": "app.example.com"},
        ("hostname_certificates", "dict"),
    ),
    Case("hcc-overlong-hostname", "hostname_client_cert", hcc(hostnames=[LONG_HOST]), ("hostnames", "characters long")),
    Case("hcc-enabled-type", "hostname_client_cert", hcc(enabled="maybe"), ("enabled", "bool")),
    Case("priority-type", "cert_priority", info(certificates=[{"hosts": ZONE_HOSTS, "priority": "first"}]), ("priority", "int")),
    Case("zone-type-choice", "custom_cert", zcert(type="modern_custom"), ("type", "modern_custom")),
    Case("pack-info-days-type", "cert_pack_info", info(expiring_within_days="soon"), ("expiring_within_days", "int")),
    Case("zone-info-status", "custom_cert_info", info(status="bogus"), ("status", "bogus")),
    Case("chc-info-hostnames", "custom_hostname_cert_info", info(hostnames=["ok.example.com", "not ok.example.com"]), ("hostnames", "not ok.example.com")),
    Case("hcc-info-days-type", "hostname_client_cert_info", info(expiring_within_days=[30]), ("expiring_within_days", "int")),
    Case("plan-percentage", "rotation_plan", plan(renew_before_percentage=150), ("renew_before_percentage", "150")),
    Case("plan-discovered-type", "rotation_plan", {"discovered": "everything"}, ("discovered", "dict")),
    Case("report-rows-type", "rotation_report", {"rows": "all of them", "report_dir": "{tmp}/reports"}, ("rows", "dict")),
    Case("report-dir-is-a-file", "rotation_report", {"rows": [], "report_dir": "{good.pem}"}, ("{good.pem}",)),
]

UNKNOWN_IDS_AND_ZONES = [
    Case(
        "chc-unknown-hostname-id",
        "custom_hostname_cert",
        info(custom_hostname_id=UNKNOWN_ID, certificates=[pair()]),
        ("custom hostname id", UNKNOWN_ID, "does not exist"),
    ),
    Case(
        "chc-hostname-not-in-zone",
        "custom_hostname_cert",
        chc(hostname="nobody.example.com", certificates=[pair("{nobody.pem}", "{nobody.key}")]),
        ("nobody.example.com",),
    ),
    Case(
        "chc-unknown-zone",
        "custom_hostname_cert",
        {"zone": "no-such-zone.example", "hostname": HOST, "certificates": [pair()]},
        ("no zone named", "no-such-zone.example"),
    ),
    Case(
        "hcc-unknown-certificate-id",
        "hostname_client_cert",
        {"zone_id": "{zone_id}", "certificate_id": UNKNOWN_ID, "hostnames": [CLIENT_HOST]},
        ("certificate_id", UNKNOWN_ID),
    ),
    Case("hcc-unknown-zone-id", "hostname_client_cert", hcc(zone_id=UNKNOWN_ID), ("zone", UNKNOWN_ID)),
    Case(
        "priority-unknown-zone",
        "cert_priority",
        {"zone": "no-such-zone.example", "certificates": [{"hosts": ZONE_HOSTS, "priority": 1}]},
        ("no zone named", "no-such-zone.example"),
    ),
    Case("priority-unknown-id", "cert_priority", info(certificates=[{"id": UNKNOWN_ID, "priority": 1}]), (UNKNOWN_ID,)),
    Case("priority-unknown-hosts", "cert_priority", info(certificates=[{"hosts": ["nothing.example.com"], "priority": 1}]), ("nothing.example.com",)),
    Case("pack-info-unknown-zone", "cert_pack_info", {"zone": "no-such-zone.example"}, ("no zone named", "no-such-zone.example")),
    Case("zone-info-unknown-zone-id", "custom_cert_info", {"zone_id": UNKNOWN_ID}, ("zone", UNKNOWN_ID)),
    Case("ch-unknown-zone-id", "custom_hostname", {"zone_id": UNKNOWN_ID, "hostname": HOST}, ("zone", UNKNOWN_ID)),
]

ENDPOINTS = [
    Case("base-url-not-a-url", "custom_hostname_cert_info", info(api_base_url="api.example.com/client/v4"), ("api_base_url", "http")),
    Case("base-url-ftp", "hostname_client_cert_info", info(api_base_url="ftp://127.0.0.1/client/v4"), ("api_base_url", "http")),
    Case("base-url-unresolvable", "cert_pack_info", info(api_base_url="http://cloudflare-api.invalid/client/v4"), ("cannot resolve", "api_base_url")),
    Case(
        "base-url-refused",
        "custom_cert_info",
        info(api_base_url="http://127.0.0.1:9/client/v4"),
        ("refused", "api_base_url"),
        batch="refused",
    ),
]

SERVER_ANSWERS = [
    Case(
        "answer-not-json",
        "custom_hostname_cert_info",
        info(),
        ("not JSON",),
        batch="answers",
        fault={"kind": "unapplied", "answer": "not_json", "method": "GET", "path": "/custom_hostnames$"},
    ),
    Case(
        "answer-without-result",
        "hostname_client_cert_info",
        info(),
        ("without a result",),
        batch="answers",
        fault={"kind": "unapplied", "answer": "no_result", "method": "GET", "path": "/origin_tls_client_auth/hostnames/certificates$"},
    ),
    Case(
        "answer-null-result",
        "cert_pack_info",
        info(),
        ("wrong shape",),
        batch="answers",
        fault={"kind": "unapplied", "answer": "empty", "method": "GET", "path": "/ssl/certificate_packs$"},
    ),
    Case(
        "answer-not-json-on-zone-lookup",
        "custom_cert",
        dict(zcert(zone_id=None), zone="example.com"),
        ("not JSON",),
        batch="answers",
        fault={"kind": "unapplied", "answer": "not_json", "method": "GET", "path": "/zones$"},
    ),
]

# A list that never ends: its own batch. The fault stops after ENDLESS_PAGES pages so that a client without a bound
# ends too (and the case shows it succeeded); a client with a bound must fail long before, naming the list.
ENDLESS_PAGES = 300
ENDLESS = [
    Case(
        "answer-pages-forever",
        "custom_cert_info",
        info(),
        ("custom_certificates", "pages"),
        batch="endless",
        fault={"kind": "endless_pages", "method": "GET", "path": "/custom_certificates$", "count": ENDLESS_PAGES},
    ),
]

ROLE_CASES = [
    Case(
        "role-garbage-inline",
        ROLE,
        role(cert_rotation_custom_hostnames=[{"hostname": HOST, "certificates": [{"certificate": "{garbage}", "private_key": "{good.key.text}"}]}]),
        (HOST, "PEM"),
    ),
    Case(
        "role-missing-file",
        ROLE,
        role(cert_rotation_custom_hostnames=[{"hostname": HOST, "certificates": [pair("{tmp}/missing.pem")]}]),
        ("{tmp}/missing.pem",),
    ),
    Case(
        "role-expired", ROLE, role(cert_rotation_custom_hostnames=[{"hostname": HOST, "certificates": [pair("{expired.pem}", "{expired.key}")]}]), ("expired",)
    ),
    Case("role-unknown-zone", ROLE, role(cert_rotation_zone="no-such-zone.example"), ("no zone named", "no-such-zone.example")),
    Case("role-items-type", ROLE, role(cert_rotation_custom_hostnames="app.example.com"), ("cert_rotation_custom_hostnames",)),
    Case("role-base-url", ROLE, role(cert_rotation_api_base_url="api.example.com"), ("api_base_url", "http")),
    Case("role-zone-cert-wrong-order", ROLE, role(cert_rotation_zone_certs=[pair("{zone-reversed.pem}", "{zone.key}")]), ("order",)),
]


def batched(prefix: str, cases: List[Case], size: int) -> List[Case]:
    """Cases without a batch of their own go in consecutive batches of `size` (a playbook each)."""
    return [replace(c, batch="%s-%d" % (prefix, i // size)) if c.batch == "main" else c for i, c in enumerate(cases)]


CASES: List[Case] = (
    batched("pem", HOSTILE_PEM, 13)
    + batched("types", HOSTNAMES_AND_TYPES, 14)
    + batched("unknown", UNKNOWN_IDS_AND_ZONES + ENDPOINTS, 14)
    + SERVER_ANSWERS
    + ENDLESS
    + batched("role", ROLE_CASES, 4)
)


@dataclass(frozen=True)
class Normalised:
    """Not an error: `module` run with `args` succeeds, and the API sees `expected` (lower-case, A-labels)."""

    id: str
    module: str
    args: Dict[str, Any]
    expected: Any


ROLE_HOST = "role.example.com"
NORMALISED = [
    Normalised("ch-uppercase", "custom_hostname", info(hostname="Shop.Example.COM"), "shop.example.com"),
    Normalised("ch-idna", "custom_hostname", info(hostname="Bücher.example.com"), "xn--bcher-kva.example.com"),
    Normalised(
        "hcc-uppercase-and-idna",
        "hostname_client_cert",
        hcc(hostnames=["API.Example.COM", "münchen.example.com."]),
        ["api.example.com", "xn--mnchen-3ya.example.com"],
    ),
    Normalised("pack-uppercase", "cert_pack", pack(hosts=["WWW.Example.com", "Example.COM"]), ZONE_HOSTS),
    Normalised("chc-uppercase-trailing-dot", "custom_hostname_cert", chc(hostname="APP.EXAMPLE.COM.", certificates=[pair()]), HOST),
    Normalised("chc-info-idna", "custom_hostname_cert_info", info(hostnames=["BÜCHER.example.com"]), ["xn--bcher-kva.example.com"]),
    Normalised(
        "role-uppercase",
        ROLE,
        role(cert_rotation_custom_hostnames=[{"hostname": "Role.Example.COM", "certificates": [pair("{role-new.pem}", "{role-new.key}")]}]),
        ROLE_HOST,
    ),
]


# -- material ------------------------------------------------------------------------------------------------


def _encrypted(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSPHRASE.encode())).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Files (and contents) of good and bad material; `{label}` in a case's args names one of them."""
    ca = make_ca("Certops Hostile CA")
    leaves = dict(
        good=make_leaf(ca, [HOST]),
        other=make_leaf(ca, [HOST]),
        expired=make_leaf(ca, [HOST, CLIENT_HOST] + ZONE_HOSTS, days=-1, not_before_days=-90),
        future=make_leaf(ca, [HOST, CLIENT_HOST] + ZONE_HOSTS, not_before_days=5),
        stranger=make_leaf(ca, ["stranger.example.net"]),
        nobody=make_leaf(ca, ["nobody.example.com"]),
        rsa1=make_leaf(ca, [HOST], key_type="rsa"),
        client=make_leaf(ca, [CLIENT_HOST]),
        zone=make_leaf(ca, ZONE_HOSTS),
        zone2=make_leaf(ca, ZONE_HOSTS, days=120),  # another expiry: zone certificates are known by hosts, issuer and expiry
        **{"role-old": make_leaf(ca, [ROLE_HOST], days=10, not_before_days=-80), "role-new": make_leaf(ca, [ROLE_HOST])},
    )
    leaves["rsa2"] = make_leaf(ca, [HOST], key_type="rsa", key=leaves["rsa1"].key)
    root = tmp_path_factory.mktemp("hostile")
    values: Dict[str, str] = {"tmp": str(root), "passphrase": PASSPHRASE}

    def write(label: str, content: Any) -> None:
        path = root / label
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        values[label] = str(path)

    for label, leaf in leaves.items():
        write(label + ".pem", leaf.chain_pem)
        write(label + ".key", leaf.key_pem)
        values[label + ".pem.text"], values[label + ".key.text"] = leaf.chain_pem, leaf.key_pem
    good = leaves["good"]
    values["garbage"] = "this is not a certificate, just text someone pasted\n"
    write("garbage.pem", values["garbage"])
    write("truncated.pem", good.chain_pem[: len(good.cert_pem) // 2])
    write("truncated.key", leaves["client"].key_pem[: len(leaves["client"].key_pem) // 2])
    write("binary.pem", good.cert.public_bytes(serialization.Encoding.DER) + bytes(range(256)))
    write("binary.key", good.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    write("empty", "")
    for label, leaf in (("", good), ("client-", leaves["client"]), ("zone-", leaves["zone"])):
        write(label + "reversed.pem", ca.cert_pem + leaf.cert_pem)
        write(label + "encrypted.key", _encrypted(leaf.key))
    return SimpleNamespace(values=values, leaves=leaves, root=root)


def fill(value: Any, values: Dict[str, str]) -> Any:
    """`value` with every "{label}" replaced (whole strings become the value, so contents stay intact); None drops a key."""
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if isinstance(value, str):
        whole = re.fullmatch(r"\{([^{}]+)\}", value)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        return re.sub(r"\{([^{}]+)\}", lambda m: values.get(m.group(1), m.group(0)), value)
    return value


# -- batches: one emulator and one playbook per batch, run once per pytest run ---------------------------------
#
# Under pytest-xdist the parametrised cases of one batch may land on both workers: the first to ask runs the batch
# (under a file lock) and leaves its outcome as JSON where the other worker finds it.


def seed_zone(emu: Emulator, pki: SimpleNamespace) -> None:
    """The zone the cases meet: custom hostnames, a client certificate with an association, a zone certificate."""
    zone = emu.zone_id
    emu.state.add_custom_hostname(zone, HOST, ssl={"method": "http", "type": "dv"}, certificates=[{"certificate": pki.leaves["other"].chain_pem}])
    client = emu.state.add_client_cert(zone, certificate=pki.leaves["client"].chain_pem, status="active").id
    emu.state.add_association(zone, CLIENT_HOST, client)
    emu.state.add_custom_certificate(zone, certificate=pki.leaves["zone"].chain_pem, type="sni_custom", priority=1)
    emu.state.add_custom_hostname(zone, ROLE_HOST, ssl={"method": "http", "type": "dv"}, certificates=[{"certificate": pki.leaves["role-old"].chain_pem}])
    emu.reset_journal()


def case_tasks(case: Any, values: Dict[str, str]) -> List[Dict[str, Any]]:
    """The tasks of a case; each leaves one result named "case <id>" (for the role: its failure, or that it finished)."""
    name = "case " + case.id
    args = fill(case.args, values)
    if case.module != ROLE:
        return [{"name": name, "certops.cloudflare." + case.module: args, "ignore_errors": True}]
    role_vars = dict(args, cert_rotation_report_dir=str(Path(values["tmp"]) / ("report-" + case.id)), cert_rotation_poll_interval=1)
    include = {"name": name + " (role)", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}, "vars": role_vars}
    finished = {"name": name, "ansible.builtin.debug": {"msg": "the role finished"}}
    caught = {"name": name, "ansible.builtin.debug": {"var": "ansible_failed_result"}}
    return [{"name": name + " (block)", "block": [include, finished], "rescue": [caught]}]


def run_batch(batch: str, pki: SimpleNamespace, workdir: Path) -> Dict[str, Any]:
    """Run a batch's cases as tasks of one playbook against a fresh emulator; return what the tests check, as JSON data."""
    cases: List[Any] = NORMALISED if batch == "normalised" else [c for c in CASES if c.batch == batch]
    emu = Emulator(delay=0.05)
    emu.start()
    try:
        seed_zone(emu, pki)
        for case in cases:
            if getattr(case, "fault", None):
                emu.add_fault(**case.fault)
        values = dict(pki.values, zone_id=emu.zone_id)
        tasks = [task for case in cases for task in case_tasks(case, values)]
        play = Ansible(workdir, emu).run_tasks(tasks, verbosity=3)
        results = {e["task"][len("case ") :]: e["result"] for e in play.results if e["task"].startswith("case ") and not e["task"].endswith(")")}
        journal = emu.journal()
        return {
            "values": values,
            "output": play.output,
            "results": results,
            "writes": [[e["method"], e["path"]] for e in journal if e["method"] in WRITE_METHODS],
            "sent": [[e["path"], e["query"], e["request_body"]] for e in journal],
            "state": emu.dump_state(),
            "violations": [str(v) for v in emu.history.violations()],
            "served": {ROLE_HOST: getattr(emu.history.served(ROLE_HOST), "fingerprint_sha256", None)},
            "role_new": pki.leaves["role-new"].fingerprint_sha256,
        }
    finally:
        emu.stop()
        _save_journal(emu, "tests/reliability/test_hostile.py::" + batch)


def _save_journal(emu: Emulator, test_id: str) -> None:
    """The journal, for the contract check, as tests/conftest.py saves those of its function-scoped emulators."""
    spec = importlib.util.spec_from_file_location("_hostile_tests_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
    if spec and spec.loader:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.write_journal(emu, test_id)


@pytest.fixture(scope="module")
def batches(pki: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Dict[str, Any]]:
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this run's directory, shared by its workers
    memo: Dict[str, Dict[str, Any]] = {}

    def get(name: str) -> Dict[str, Any]:
        if name not in memo:
            cache = shared / ("hostile-batch-%s.json" % name)
            with open(shared / ("hostile-batch-%s.lock" % name), "w", encoding="utf-8") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not cache.exists():
                    data = run_batch(name, pki, tmp_path_factory.mktemp("hostile-" + name))
                    partial = cache.with_suffix(".part")
                    partial.write_text(json.dumps(data, default=str), encoding="utf-8")
                    os.replace(partial, cache)
            memo[name] = json.loads(cache.read_text(encoding="utf-8"))
        return memo[name]

    return get


# -- the cases -------------------------------------------------------------------------------------------------


def words_of(case: Case, values: Dict[str, str]) -> List[str]:
    return [fill(word, values) for word in case.words]


def failure_text(result: Dict[str, Any]) -> str:
    """The message a user reads: the module's msg, or for the role the msg of the task that failed."""
    if "ansible_failed_result" in result:
        return str((result["ansible_failed_result"] or {}).get("msg", ""))
    return str(result.get("msg", ""))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_fails_before_any_write_with_a_clear_message(batches, case):
    batch = batches(case.batch)
    assert case.id in batch["results"], "case %s left no result:\n%s" % (case.id, batch["output"][-4000:])
    result = batch["results"][case.id]
    failed = result.get("failed") or "ansible_failed_result" in result
    assert failed, "case %s was accepted: %s" % (case.id, json.dumps(result, default=str)[:2000])
    if "ansible_failed_result" in result:
        result = result["ansible_failed_result"] or {}
    msg = failure_text({"msg": result.get("msg", "")})
    assert not result.get("changed"), (case.id, msg)
    assert batch["writes"] == [], "the batch %s sent writes: %s" % (case.batch, batch["writes"])
    # no traceback for user errors: not in the result, not in the output (at -vvv Ansible would print it)
    assert "Traceback" not in str(result.get("exception", "")) and "module_stderr" not in result, (case.id, result)
    assert "Traceback (most recent call last)" not in batch["output"], batch["output"][-4000:]
    assert not msg.startswith("Unexpected error"), msg
    missing = [w for w in words_of(case, batch["values"]) if w.lower() not in msg.lower()]
    assert not missing, "case %s: the message lacks %s: %s" % (case.id, missing, msg)


@pytest.mark.parametrize("case", NORMALISED, ids=[c.id for c in NORMALISED])
def test_uppercase_and_idna_hostnames_succeed_and_reach_the_api_normalised(batches, case):
    batch = batches("normalised")
    result = batch["results"].get(case.id)
    assert result is not None, batch["output"][-4000:]
    assert not result.get("failed") and "ansible_failed_result" not in result, "case %s failed: %s" % (case.id, json.dumps(result, default=str)[:2000])
    expected = case.expected if isinstance(case.expected, list) else [case.expected]
    state = json.dumps(batch["state"])
    for name in expected:
        assert name in state or case.module.endswith("_info"), "%s: %s is not in the emulator's state" % (case.id, name)
        assert case.module == ROLE or name in json.dumps(result), "%s: the result does not show %s" % (case.id, name)
    # what the user typed never reached the API in that form
    sent = json.dumps(batch["sent"], ensure_ascii=False)
    for raw in _hostnames_in(case.args):
        if raw != raw.lower().rstrip(".") or not raw.isascii():
            assert raw not in sent and raw.rstrip(".") not in sent, "%s: %r reached the API as typed" % (case.id, raw)
    if case.module == ROLE:
        assert batch["served"][ROLE_HOST] == batch["role_new"], "the role did not rotate %s" % ROLE_HOST
    assert batch["violations"] == []


def _hostnames_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("hostname", "hostnames", "hosts") or key.endswith("_hostnames"):
                yield from ([item] if isinstance(item, str) else [v for v in item if isinstance(v, str)] if isinstance(item, list) else [])
            if not isinstance(item, str):
                yield from _hostnames_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hostnames_in(item)
