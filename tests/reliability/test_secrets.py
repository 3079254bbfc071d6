"""Suite 4, secrets (issue 14): no credential and no private key shows anywhere, whatever the run.

Every module and the role run through ansible-playbook in five modes: `-vvvv --diff` (real writes), `--check
--diff -vvvv`, a forced failure at `-vvvv` (a server that echoes the request, private key included, into its error;
an unknown zone; material that fails planning; a report directory that is a file; wrong passphrases, keys and
credentials), an option the argument spec refuses beside the key material, and `ANSIBLE_DEBUG=1` (secrets
only in environment variables and `*_path` options, as the docs advise). Key material is given as content and as
files, one RSA key encrypted with a passphrase; some runs authenticate with the API token, others with the Global
API key, some as options and some from the environment. After each run the API token, the Global API key, the
passphrase, every private key (whole, and distinctive slices of its base64 body in every encoding a module could
re-serialise it to) and any PEM private key block at all must appear zero times in: stdout and stderr, the registered
results (the results_json callback), the report files, the emulator journal and Ansible's log file
(ANSIBLE_LOG_PATH). One case per (module or role) x mode.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_ca, make_leaf

PASSPHRASE = "certops secret pass phrase 7f3a"
WRONG_PASSPHRASE = "certops wrong pass phrase 91c2"
WRONG_TOKEN = "certops-wrong-token-5d0e8b"
WRONG_KEY = "certops-wrong-global-key-a4f7"
WRONG_SERVICE_KEY = "v1.0-certops-wrong-origin-ca-key-c81e"
HOST = "app.customer.example"
DUE_HOSTS = ["due%d.customer.example" % i for i in range(3)]
ZONE_HOSTS = ["example.com", "www.example.com"]
CLIENT_HOST = "app.example.com"
MODES = ["vvvv_diff", "check", "failure", "bad_option", "debug"]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
MODULES = [
    "cert_pack",
    "cert_pack_info",
    "cert_priority",
    "custom_cert",
    "custom_cert_info",
    "custom_hostname",
    "custom_hostname_cert",
    "custom_hostname_cert_info",
    "hostname_client_cert",
    "hostname_client_cert_info",
    "origin_ca_cert",
    "origin_ca_cert_info",
    "origin_pull_cert",
    "origin_pull_cert_info",
    "rotation_plan",
    "rotation_report",
]
# Any PEM private key block, also JSON-escaped (a "\n" after the header) or with its newlines removed.
KEY_BLOCK = re.compile(r"PRIVATE KEY-----(?:\\r|\\n|\s)*[A-Za-z0-9+/]{16}")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Secrets CA")
    leaves = dict(
        host_old=make_leaf(ca, [HOST], days=10, not_before_days=-80),
        host_new=make_leaf(ca, [HOST], days=90),
        host_rsa=make_leaf(ca, [HOST], key_type="rsa", days=90),
        due_old=make_leaf(ca, ["*.customer.example"], days=10, not_before_days=-80),
        due_new=make_leaf(ca, ["*.customer.example"], days=90),
        client_old=make_leaf(ca, ["origin-pull.example.com"], days=10, not_before_days=-80),
        client_new=make_leaf(ca, ["origin-pull.example.com"], days=365),
        zone_old=make_leaf(ca, ZONE_HOSTS, days=10, not_before_days=-80),
        zone_new=make_leaf(ca, ZONE_HOSTS, days=90),
        static=make_leaf(ca, ["static.example.com"], days=200),
        expired=make_leaf(ca, [HOST], days=-1, not_before_days=-90),
    )
    root = tmp_path_factory.mktemp("secrets-pki")
    files: Dict[str, Dict[str, str]] = {}
    for label, leaf in leaves.items():
        (root / (label + ".pem")).write_text(leaf.chain_pem)
        (root / (label + ".key")).write_text(leaf.key_pem)
        files[label] = {"certificate_path": str(root / (label + ".pem")), "private_key_path": str(root / (label + ".key"))}
    encrypted = (
        leaves["host_rsa"]
        .key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSPHRASE.encode()))
        .decode()
    )
    (root / "host_rsa-encrypted.key").write_text(encrypted)
    files["host_rsa_encrypted"] = dict(files["host_rsa"], private_key_path=str(root / "host_rsa-encrypted.key"))
    return SimpleNamespace(root=root, files=files, leaves=leaves, encrypted=encrypted, **leaves)


def key_secrets(pki: SimpleNamespace) -> List[Tuple[str, str]]:
    """(label, text) for each private key: the whole PEM, and slices of its body in each encoding it may take."""
    found: List[Tuple[str, str]] = [("encrypted key of host_rsa", pki.encrypted)]
    found += [("slice %d of the encrypted key" % i, line[:40]) for i, line in enumerate(_body(pki.encrypted)[1:3])]
    for label, leaf in pki.leaves.items():
        found.append(("private key of %s" % label, leaf.key_pem))
        encodings = {
            "pkcs8": leaf.key_pem,
            "traditional": leaf.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            ).decode(),
        }
        for name, pem in encodings.items():
            body = _body(pem)
            found += [("%s key of %s, line %d" % (name, label, i), body[i][8:48]) for i in sorted({0, len(body) // 2, len(body) - 2}) if len(body[i]) >= 48]
        der = leaf.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        found.append(("unwrapped base64 of the key of %s" % label, base64.b64encode(der).decode()[70:110]))
    return found


def _body(pem: str) -> List[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and ":" not in line]


def secrets(pki: SimpleNamespace, emulator: Any) -> List[Tuple[str, str]]:
    credentials = [("API token", emulator.token), ("Global API key", emulator.api_key), ("passphrase", PASSPHRASE)]
    credentials += [("wrong passphrase", WRONG_PASSPHRASE), ("wrong API token", WRONG_TOKEN), ("wrong Global API key", WRONG_KEY)]
    credentials += [("wrong Origin CA key", WRONG_SERVICE_KEY), ("Origin CA key", emulator.service_key)]
    return credentials + key_secrets(pki)


def sinks(run: Any, ansible: Any, log: Path, *report_dirs: Path) -> Iterator[Tuple[str, str]]:
    yield "stdout and stderr", run.output
    yield "registered results", json.dumps(run.results)
    for directory in report_dirs:
        for path in sorted(directory.rglob("*")) if directory.exists() else []:
            if path.is_file():
                yield "report file %s" % path.name, path.read_text(errors="replace")
    yield "emulator journal", json.dumps(ansible.emulator.journal())
    yield "Ansible log file", log.read_text(errors="replace") if log.exists() else ""


def leaks(pki: SimpleNamespace, ansible: Any, run: Any, log: Path, *report_dirs: Path) -> List[str]:
    """Every secret found in every sink, with a little context (test keys only: they may be shown)."""
    found = []
    for sink, text in sinks(run, ansible, log, *report_dirs):
        variants = (text, text.replace("\\n", "\n"))
        for label, secret in secrets(pki, ansible.emulator):
            where = next((v.find(secret) for v in variants if secret in v), -1)
            if where >= 0:
                found.append("%s in %s: ...%s..." % (label, sink, text[max(0, where - 200) : where + 60]))
        for match in KEY_BLOCK.finditer(text):
            found.append("a PEM private key block in %s: ...%s..." % (sink, text[max(0, match.start() - 200) : match.end()]))
    return found


def use_log(ansible: Any, tmp_path: Path, name: str) -> Path:
    log = tmp_path / ("ansible-%s.log" % name)
    ansible.env["ANSIBLE_LOG_PATH"] = str(log)
    return log


def auth_env(emulator: Any, method: str) -> Dict[str, Any]:
    if method == "token":
        return {"CLOUDFLARE_API_TOKEN": emulator.token, "CLOUDFLARE_EMAIL": None, "CLOUDFLARE_API_KEY": None}
    return {"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_EMAIL": emulator.api_email, "CLOUDFLARE_API_KEY": emulator.api_key}


def content(leaf: Any) -> Dict[str, str]:
    return {"certificate": leaf.chain_pem, "private_key": leaf.key_pem}


# -- the modules -------------------------------------------------------------------------------------------------


def seed_for_modules(emulator: Any, pki: SimpleNamespace) -> None:
    zone = emulator.zone_id
    emulator.state.add_custom_hostname(zone, HOST, ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": pki.host_old.chain_pem}])
    emulator.state.add_custom_hostname(zone, "managed.customer.example", ssl={"method": "txt", "type": "dv"})
    emulator.state.add_custom_certificate(zone, certificate=pki.static.chain_pem, type="sni_custom", priority=5)


def module_args(name: str, mode: str, pki: SimpleNamespace, emulator: Any, tmp_path: Path) -> Dict[str, Any]:
    """Arguments of one module in one mode: key material as content except in the debug run (files only)."""
    files, zone = pki.files, {"zone_id": emulator.zone_id}
    by_path = mode == "debug"
    rsa = files["host_rsa"] if by_path else dict(files["host_rsa_encrypted"], private_key_passphrase=PASSPHRASE)
    if name.endswith("_info"):
        return {"zone": "missing-zone.example"} if mode == "failure" else zone
    if name == "cert_pack":
        return dict(zone, hosts=["example.com", "shop.example.com"], validation_method="txt", validity_days=90, certificate_authority="lets_encrypt")
    if name == "cert_priority":
        return dict(zone, certificates=[{"hosts": ["static.example.com"], "priority": 1}])
    if name == "custom_cert":
        return dict(zone, bundle_method="ubiquitous", **(files["zone_new"] if by_path else content(pki.zone_new)))
    if name == "custom_hostname":
        return dict(zone, hostname="managed.customer.example", ssl={"method": "http", "type": "dv"})
    if name == "custom_hostname_cert":
        return dict(zone, hostname=HOST, certificates=[files["host_new"] if by_path else content(pki.host_new), rsa])
    if name == "hostname_client_cert":
        return dict(zone, hostnames=[CLIENT_HOST], **(files["client_new"] if by_path else content(pki.client_new)))
    if name == "origin_pull_cert":
        return dict(zone, **(files["client_new"] if by_path else content(pki.client_new)))
    if name == "origin_ca_cert":  # a key made by the module, encrypted with the passphrase except in the debug run
        paths = {"certificate_path": str(tmp_path / ("origin-%s.pem" % mode)), "private_key_path": str(tmp_path / ("origin-%s.key" % mode))}
        return dict(zone, hostnames=["origin.example.com"], **paths, **({} if by_path else {"private_key_passphrase": PASSPHRASE}))
    if name == "rotation_plan":
        material = tmp_path / ("material-" + mode)
        material.mkdir(mode=0o700, exist_ok=True)
        new = pki.expired if mode == "failure" else pki.host_new  # expired new material: a planning problem
        hostname = {"hostname": HOST, "certificates": [files["host_new"] if by_path else content(new)]}
        client = dict(files["client_new"] if by_path else content(pki.client_new), hostnames=[CLIENT_HOST])
        discovered = {
            "custom_hostnames": "{{ found_custom_hostname_cert_info.custom_hostnames | default([]) }}",
            "hostname_client_certs": "{{ found_hostname_client_cert_info.hostname_client_certs | default([]) }}",
        }
        return {"custom_hostnames": [hostname], "client_certs": [client], "discovered": discovered, "material_dir": str(material)}
    if name == "rotation_report":
        report = tmp_path / ("report-modules-" + mode)
        if mode == "failure":
            report.write_text("a file where the report directory should be")
        row = {"kind": "custom_hostname", "name": HOST, "action": "rotate", "reason": "due", "outcome": "rotated", "detail": None}
        return {"zone": "example.com", "rows": [row], "report_dir": str(report)}
    raise AssertionError("no arguments for module " + name)


def module_play(mode: str, pki: SimpleNamespace, emulator: Any, tmp_path: Path, auth: str) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    tasks = []
    for name in MODULES:
        args = module_args(name, mode, pki, emulator, tmp_path)
        if mode == "bad_option":  # refused by the argument spec, with the key material beside it
            args["colour"] = "blue"
        tasks.append({"name": "case " + name, "certops.cloudflare." + name: args, "register": "found_" + name, "ignore_errors": True})
    if mode == "failure":
        for name, variant, args in failing_variants(pki, emulator):
            tasks.append({"name": "case %s (%s)" % (name, variant), "certops.cloudflare." + name: args, "ignore_errors": True})
    extra: Dict[str, Any] = {}
    if mode == "vvvv_diff":  # credentials as options (from a vault, say), not from the environment
        creds = {"api_token": emulator.token} if auth == "token" else {"api_email": emulator.api_email, "api_key": emulator.api_key}
        extra = {"module_defaults": {"group/certops.cloudflare.all": creds}}
    return tasks, extra


def failing_variants(pki: SimpleNamespace, emulator: Any) -> List[Tuple[str, str, Dict[str, Any]]]:
    """More failures where key material or a credential is at hand: each fails before any write."""
    zone, files = {"zone_id": emulator.zone_id}, pki.files
    combined = {"certificate": pki.zone_new.chain_pem + pki.zone_new.key_pem, "private_key": pki.zone_new.key_pem}
    return [
        ("custom_cert", "wrong passphrase", dict(zone, private_key_passphrase=WRONG_PASSPHRASE, **files["host_rsa_encrypted"])),
        ("custom_cert", "the key inside the certificate option", dict(zone, **combined)),
        (
            "custom_hostname_cert",
            "a key for another certificate",
            dict(zone, hostname=HOST, certificates=[{"certificate": pki.host_new.chain_pem, "private_key": pki.due_new.key_pem}]),
        ),
        ("custom_hostname_cert", "an encrypted key without its passphrase", dict(zone, hostname=HOST, certificates=[files["host_rsa_encrypted"]])),
        (
            "hostname_client_cert",
            "a key for another certificate",
            dict(zone, hostnames=[CLIENT_HOST], certificate=pki.client_new.chain_pem, private_key=pki.zone_new.key_pem),
        ),
        (
            "hostname_client_cert",
            "a certificate where the key goes",
            dict(zone, hostnames=[CLIENT_HOST], certificate=pki.client_new.chain_pem, private_key=pki.client_new.chain_pem),
        ),
        ("cert_pack_info", "a wrong API token", dict(zone, api_token=WRONG_TOKEN, api_email=None, api_key=None)),
        ("custom_hostname_cert_info", "a wrong Global API key", dict(zone, api_email=emulator.api_email, api_key=WRONG_KEY)),
        ("origin_ca_cert_info", "a wrong Origin CA key", dict(zone, api_user_service_key=WRONG_SERVICE_KEY)),
    ]


def fail_every_write(emulator: Any) -> None:
    """A server that reflects the request body (the private key with it) in a 400 error, for every write."""
    for method, answer in zip(WRITE_METHODS, ("list", "escaped", "string", "list")):
        emulator.add_fault("echo", method=method, answer=answer, count=None)


MODULE_AUTH = {"vvvv_diff": "token", "check": "global_key", "failure": "global_key", "bad_option": "token", "debug": "token"}
ROLE_AUTH = {"vvvv_diff": "global_key", "check": "token", "failure": "token", "bad_option": "global_key", "debug": "global_key"}


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_shows_from_any_module(ansible, emulator, pki, tmp_path, record_cases, mode):
    seed_for_modules(emulator, pki)
    if mode == "failure":
        fail_every_write(emulator)
    log = use_log(ansible, tmp_path, "modules-" + mode)
    auth = MODULE_AUTH[mode]
    env = auth_env(emulator, auth)
    if mode == "vvvv_diff":  # only the module_defaults credentials
        env = {"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_EMAIL": None, "CLOUDFLARE_API_KEY": None}
    if mode == "debug":
        env["ANSIBLE_DEBUG"] = "1"
    tasks, extra = module_play(mode, pki, emulator, tmp_path, auth)
    run = ansible.run_tasks(tasks, check=mode == "check", diff=mode != "debug", verbosity=0 if mode == "debug" else 4, env=env, play_extra=extra)
    record_cases(len(MODULES))

    variants = [r for r in run.results if r["task"].startswith("case ") and "(" in r["task"]]
    assert len(variants) == (len(failing_variants(pki, emulator)) if mode == "failure" else 0), run.output[-3000:]
    for entry in variants:
        assert entry["result"].get("failed") and not entry["result"].get("changed"), entry
    results = {r["task"][len("case ") :]: r for r in run.results if r["task"].startswith("case ") and "(" not in r["task"]}
    assert sorted(results) == MODULES, run.output[-3000:]
    for name, entry in results.items():
        if mode in ("failure", "bad_option"):
            assert entry["result"].get("failed"), "%s did not fail: %s" % (name, entry["result"])
        else:
            assert not entry["result"].get("failed"), "%s failed: %s" % (name, entry["result"].get("msg"))
    if mode == "failure":  # the writes reached the server that echoes them, key and all
        echoed = {e["method"] for e in emulator.journal() if e["fault"] == "echo"}
        assert echoed == {"POST", "PATCH", "PUT"}, echoed
        assert "[PEM block removed]" in results["custom_hostname_cert"]["result"]["msg"]
    if mode == "bad_option":
        assert all("Unsupported parameters" in entry["result"]["msg"] for entry in results.values())
    if mode in ("vvvv_diff", "check", "failure"):  # -vvvv showed the arguments, the key masked
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in json.dumps(results["custom_hostname_cert"]["result"]["invocation"])
    if mode in ("check", "failure", "bad_option"):
        assert not [e for e in emulator.journal() if e["method"] in WRITE_METHODS and e["fault"] is None]
    else:
        assert results["custom_hostname_cert"]["result"]["changed"] and results["hostname_client_cert"]["result"]["changed"]
    credential = "token" if auth == "token" else "global-key"
    if mode != "bad_option":
        used = {e["credential"] for e in emulator.journal() if e["fault"] is None}
        assert used == ({credential, None} if mode == "failure" else {credential}), used  # None: the wrong credentials, refused
    if mode == "debug":
        assert "_low_level_execute_command" in run.output  # ANSIBLE_DEBUG really was on
    assert leaks(pki, ansible, run, log, tmp_path / ("report-modules-" + mode)) == []


# -- the role ----------------------------------------------------------------------------------------------------


def seed_for_role(emulator: Any, pki: SimpleNamespace) -> None:
    zone = emulator.zone_id
    ssl = {"method": "txt", "type": "dv"}
    for host in DUE_HOSTS:
        emulator.state.add_custom_hostname(zone, host, ssl=ssl, certificates=[{"certificate": pki.due_old.chain_pem}])
    emulator.state.add_custom_hostname(zone, HOST, ssl=ssl, certificates=[{"certificate": pki.host_old.chain_pem}])
    client = emulator.state.add_client_cert(zone, certificate=pki.client_old.chain_pem, status="active").id
    emulator.state.add_association(zone, CLIENT_HOST, client)
    emulator.state.add_custom_certificate(zone, certificate=pki.zone_old.chain_pem, type="legacy_custom", priority=1)


def role_vars(mode: str, pki: SimpleNamespace, emulator: Any, report: Path) -> Dict[str, Any]:
    files, inline = pki.files, mode != "debug"
    hostnames = [{"hostname": host, "certificates": [files["due_new"]]} for host in DUE_HOSTS]
    # Inline content (written by the role to a private directory) beside paths, except in the debug run.
    hostnames.append({"hostname": HOST, "certificates": [content(pki.host_new) if inline else files["host_new"]]})
    client = dict(content(pki.client_new) if inline else files["client_new"], hostnames=[CLIENT_HOST])
    values = dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=hostnames,
        cert_rotation_client_certs=[client],
        cert_rotation_zone_certs=[content(pki.zone_new) if inline else files["zone_new"]],
        cert_rotation_report_dir=str(report),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
    )
    if mode == "vvvv_diff":  # credentials as role variables, not from the environment
        values.update(cert_rotation_api_email=emulator.api_email, cert_rotation_api_key=emulator.api_key)
    if mode == "bad_option":  # refused by the role's argument spec, with the inline key beside the bad values
        hostnames[-1]["certificates"][0]["colour"] = "blue"
        hostnames[-1]["certificates"].append(
            {"certificate": pki.host_rsa.chain_pem, "private_key": pki.host_rsa.key_pem, "private_key_path": "/nonexistent.key"}
        )
        values.update(cert_rotation_force="maybe", cert_rotation_api_key=emulator.api_key, cert_rotation_api_email=["not", "a", "string"])
    return values


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_shows_from_the_role(ansible, emulator, pki, tmp_path, record_cases, mode):
    seed_for_role(emulator, pki)
    hostname_id = next(h["id"] for h in emulator.dump_state()["zones"][0]["custom_hostnames"] if h["hostname"] == HOST)
    if mode == "failure":  # the server echoes the upload of the inline material back in its error
        emulator.add_fault("echo", method="PATCH", path="custom_hostnames/%s$" % hostname_id, answer="escaped", count=None)
    log = use_log(ansible, tmp_path, "role-" + mode)
    auth = ROLE_AUTH[mode]
    env = auth_env(emulator, auth)
    if mode == "vvvv_diff":
        env = {"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_EMAIL": None, "CLOUDFLARE_API_KEY": None}
    if mode == "debug":
        env["ANSIBLE_DEBUG"] = "1"
    report = tmp_path / "report"
    run = ansible.run_tasks(
        ROLE, check=mode == "check", diff=mode != "debug", verbosity=0 if mode == "debug" else 4, env=env, play_vars=role_vars(mode, pki, emulator, report)
    )
    record_cases(1)

    if mode == "failure":
        assert run.rc != 0 and "did not complete" in run.output and HOST in run.output, run.output[-3000:]
        assert [e["fault"] for e in emulator.journal() if e["method"] == "PATCH" and hostname_id in e["path"]] == ["echo"]
        assert (report / "latest" / "rotation-report.json").exists()
    elif mode == "bad_option":
        assert run.rc != 0 and "Validation of arguments failed" in run.output and "cert_rotation_force" in run.output, run.output[-3000:]
        assert emulator.journal() == []
    else:
        assert run.rc == 0, run.output[-3000:]
    if mode == "check":
        assert not [e for e in emulator.journal() if e["method"] in WRITE_METHODS]
        assert json.loads((report / "latest" / "rotation-report.json").read_text())["preview"] is True  # the report is a preview, scanned too
    if mode in ("vvvv_diff", "debug"):
        assert emulator.history.served(HOST, "ecdsa").fingerprint_sha256 == pki.host_new.fingerprint_sha256
        assert emulator.history.served_client_cert(CLIENT_HOST).fingerprint_sha256 == pki.client_new.fingerprint_sha256
        assert emulator.history.served("www.example.com", "ecdsa").fingerprint_sha256 == pki.zone_new.fingerprint_sha256
    assert emulator.history.violations() == []
    credential = "token" if auth == "token" else "global-key"
    if mode != "bad_option":
        assert {e["credential"] for e in emulator.journal() if e["fault"] is None} == {credential}
    if mode == "debug":
        assert "_low_level_execute_command" in run.output
    assert leaks(pki, ansible, run, log, report) == []


def test_the_leak_detector_finds_each_secret_in_each_sink(ansible, emulator, pki, tmp_path, record_cases):
    """The check itself: each secret, shown raw, JSON-escaped or as a slice, is found in each sink (no case counted)."""
    record_cases(0)
    log, report = tmp_path / "detector.log", tmp_path / "detector-report"
    report.mkdir()
    for label, secret in secrets(pki, emulator) + [("a PEM key block", pki.static.key_pem.replace("\n", ""))]:
        for sink in ("output", "results", "report", "log"):
            run = SimpleNamespace(output="", results=[])
            log.write_text("")
            (report / "r.md").write_text("")
            shown = "prefix " + secret + " suffix"
            if sink == "output":
                run.output = shown
            elif sink == "results":
                run.results = [{"task": "t", "result": {"msg": shown}}]
            else:
                (log if sink == "log" else report / "r.md").write_text(json.dumps(shown))
            assert leaks(pki, ansible, run, log, report), "%s not found in %s" % (label, sink)
    log.write_text("")
    (report / "r.md").write_text("")
    assert leaks(pki, ansible, SimpleNamespace(output="", results=[]), log, report) == []
