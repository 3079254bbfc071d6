"""The official Python SDK (`cloudflare`, pinned in requirements-dev.txt) as a client of the emulator.

Every one of the 38 operations of the emulator (the operations of the OpenAPI document the contract check uses;
`tests/contract/selftest.py` sends the same sequence through `requests`) goes through
`cloudflare.Cloudflare(..., _strict_response_validation=True)`: an answer the SDK's models reject raises
`cloudflare.APIResponseValidationError`, and every returned model is walked for fields the models do not declare
(`model_extra`, recursively). Each undeclared field must be listed, with the operation and its public source, in the
second table of tests/emulator/LEDGER.md ("Fields the official SDK does not declare"); each row there must be seen.

The SDK has no method for one operation, the list of hostname associations
(per-hostname-authenticated-origin-pull-list-hostname-associations): it goes through the client's own
`get_api_list` with the SDK's `AuthenticatedOriginPull` model. The custom hostname list is filtered with the
documented `hostname` query parameter (`extra_query`): this SDK's `hostname` argument sends `hostname.exact` and
the like, which the document the emulator follows does not have.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, Set, Tuple

import pytest

from emulator.testcerts import make_ca, make_csr, make_leaf

from .test_ledger import sdk_field_rows

try:
    import cloudflare
except ImportError:  # the official SDK is a development requirement (requirements-dev.txt)
    cloudflare = None
else:  # present, it must have all of these: a missing one fails the tests rather than skipping them
    import httpx
    import pydantic
    from cloudflare.pagination import SyncSinglePage
    from cloudflare.types.origin_tls_client_auth import AuthenticatedOriginPull

pytestmark = pytest.mark.skipif(cloudflare is None, reason="the official Cloudflare SDK `cloudflare` is not importable: pip install -r requirements-dev.txt")

SDK_CA = ("Official SDK CA", "Certops SDK test")


def client(emu: Any) -> Any:
    """The official SDK's client for an emulator: no retries, and every answer validated against the SDK's models."""
    return cloudflare.Cloudflare(base_url=emu.url, api_token=emu.token, max_retries=0, _strict_response_validation=True)


def undeclared(value: Any, path: str = "") -> Set[str]:
    """The dotted paths (list indices left out) of the fields the SDK's models do not declare, at any depth of the models."""
    found: Set[str] = set()
    if isinstance(value, pydantic.BaseModel):
        for name, field in type(value).model_fields.items():
            found |= undeclared(getattr(value, name), _join(path, field.alias or name))
        for name in value.model_extra or {}:
            found.add(_join(path, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= undeclared(item, path)
    elif isinstance(value, dict):
        for item in value.values():
            found |= undeclared(item, path)
    return found


def inside_undeclared(value: Any, path: str = "") -> Set[str]:
    """The dotted paths of the keys inside the undeclared fields that hold objects (or lists of objects), at any depth."""
    found: Set[str] = set()
    if isinstance(value, pydantic.BaseModel):
        for name, field in type(value).model_fields.items():
            found |= inside_undeclared(getattr(value, name), _join(path, field.alias or name))
        for name, extra in (value.model_extra or {}).items():
            found |= _keys(extra, _join(path, name))
    elif isinstance(value, (list, tuple, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            found |= inside_undeclared(item, path)
    return found


def _keys(value: Any, path: str) -> Set[str]:
    found: Set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(_join(path, key))
            found |= _keys(item, _join(path, key))
    elif isinstance(value, list):
        for item in value:
            found |= _keys(item, path)
    return found


def _join(path: str, name: str) -> str:
    return "%s.%s" % (path, name) if path else name


def _relative(field: str) -> str:
    # A list's items are walked as the page's `result`: name their fields as for a single object.
    return field[len("result.") :] if field.startswith("result.") else field


class Recorder:
    """Records, per operationId, the undeclared fields of what each SDK call returned and the keys inside them."""

    def __init__(self) -> None:
        self.seen: Dict[str, Set[str]] = {}
        self.inside: Dict[str, Set[str]] = {}

    def __call__(self, operation: str, answer: Any) -> Any:
        assert answer is not None, "%s: the SDK returned no model" % operation
        self.seen.setdefault(operation, set()).update(_relative(field) for field in undeclared(answer))
        self.inside.setdefault(operation, set()).update(_relative(field) for field in inside_undeclared(answer))
        return answer

    def pairs(self, which: Dict[str, Set[str]]) -> Set[Tuple[str, str]]:
        return {(field, operation) for operation, fields in which.items() for field in fields}


def test_undeclared_finds_extra_fields_at_any_depth():
    # The walker itself, on the SDK's custom hostname model: `ssl.certificates` is not declared, `ssl.id` is.
    from cloudflare.types.custom_hostnames import CustomHostnameGetResponse

    model = CustomHostnameGetResponse.model_validate(
        {"id": "a" * 32, "hostname": "app.example.com", "ssl": {"id": "b" * 32, "certificates": [{"id": "c" * 32}]}, "surprise": {"x": 1}}
    )
    assert undeclared(model) == {"ssl.certificates", "surprise"}
    assert inside_undeclared(model) == {"ssl.certificates.id", "surprise.x"}


def drive(emu: Any) -> Recorder:
    """Every operation of the emulator through the SDK, in the self-test's order; what each returned, recorded."""
    cf = client(emu)
    zone = emu.zone_id
    record = Recorder()
    ca = make_ca(*SDK_CA)
    ecdsa, rsa = make_leaf(ca, ["app.example.com"]), make_leaf(ca, ["app.example.com"], key_type="rsa")

    # zones
    zones = record("zones-get", cf.zones.list(name="example.com", per_page=50))
    assert [z.id for z in zones.result] == [zone]
    assert record("zones-0-get", cf.zones.get(zone_id=zone)).name == "example.com"

    # zone custom certificates
    created = cf.custom_certificates.create(
        zone_id=zone,
        certificate=ecdsa.chain_pem,
        private_key=ecdsa.key_pem,
        type="sni_custom",
        bundle_method="ubiquitous",
        geo_restrictions={"label": "us"},
        policy="(country: US)",
    )
    custom_id = record("custom-ssl-for-a-zone-create-ssl-configuration", created).id
    listed = record("custom-ssl-for-a-zone-list-ssl-configurations", cf.custom_certificates.list(zone_id=zone, page=1, per_page=50))
    assert [c.id for c in listed.result] == [custom_id]
    assert record("custom-ssl-for-a-zone-ssl-configuration-details", cf.custom_certificates.get(custom_id, zone_id=zone)).id == custom_id
    # An sni_custom certificate comes back from a PATCH under a new id (the document's PATCH description).
    edited = cf.custom_certificates.edit(custom_id, zone_id=zone, bundle_method="optimal", certificate=ecdsa.cert_pem, private_key=ecdsa.key_pem)
    custom_id = record("custom-ssl-for-a-zone-edit-ssl-configuration", edited).id
    prioritized = cf.custom_certificates.prioritize.update(zone_id=zone, certificates=[{"id": custom_id, "priority": 1}])
    assert [c.priority for c in record("custom-ssl-for-a-zone-re-prioritize-ssl-certificates", prioritized).result] == [1]
    deleted = record("custom-ssl-for-a-zone-delete-ssl-configuration", cf.custom_certificates.delete(custom_id, zone_id=zone))
    assert deleted.id == custom_id

    # custom hostnames and their certificate pack
    bundle = [{"custom_certificate": c.chain_pem, "custom_key": c.key_pem} for c in (rsa, ecdsa)]
    ssl = {"method": "http", "type": "dv", "bundle_method": "force", "custom_cert_bundle": bundle}
    created = record("custom-hostname-for-a-zone-create-custom-hostname", cf.custom_hostnames.create(zone_id=zone, hostname="app.example.com", ssl=ssl))
    hostname_id, pack_id = created.id, created.ssl.id
    listed = cf.custom_hostnames.list(zone_id=zone, page=1, per_page=50, extra_query={"hostname": "app.example.com"})
    assert [h.id for h in record("custom-hostname-for-a-zone-list-custom-hostnames", listed).result] == [hostname_id]
    assert record("custom-hostname-for-a-zone-custom-hostname-details", cf.custom_hostnames.get(hostname_id, zone_id=zone)).hostname == "app.example.com"
    with pytest.raises(cloudflare.NotFoundError):
        cf.custom_hostnames.get("0" * 32, zone_id=zone)
    # No `method`: beside custom certificates it would start the move to a Cloudflare certificate.
    ssl = {"type": "dv", "settings": {"min_tls_version": "1.2"}, "bundle_method": "ubiquitous", "wildcard": False}
    edited = cf.custom_hostnames.edit(hostname_id, zone_id=zone, ssl=ssl, custom_metadata={"owner": "sdk"})
    assert record("custom-hostname-for-a-zone-edit-custom-hostname", edited).custom_metadata == {"owner": "sdk"}
    # `ssl.certificates` is not in the SDK's model (LEDGER.md): read from the model's extra fields.
    certificates = cf.custom_hostnames.get(hostname_id, zone_id=zone).ssl.model_extra["certificates"]
    by_type = {{rsa.fingerprint_sha256: "rsa", ecdsa.fingerprint_sha256: "ecdsa"}[c["fingerprint_sha256"]]: c["id"] for c in certificates}
    pack = {"zone_id": zone, "custom_hostname_id": hostname_id, "certificate_pack_id": pack_id}
    replacement = make_leaf(ca, ["app.example.com"])
    replaced = cf.custom_hostnames.certificate_pack.certificates.update(
        by_type["ecdsa"], custom_certificate=replacement.chain_pem, custom_key=replacement.key_pem, **pack
    )
    assert record("custom-hostname-for-a-zone-edit-custom-certificate-custom-hostname", replaced).id == hostname_id
    removed = cf.custom_hostnames.certificate_pack.certificates.delete(by_type["rsa"], **pack)
    assert record("custom-hostname-for-a-zone-delete_single_certificate_and_key_in_a_custom_hostname", removed).id
    last = cf.custom_hostnames.get(hostname_id, zone_id=zone).ssl.model_extra["certificates"]
    assert len(last) == 1
    with pytest.raises(cloudflare.BadRequestError):
        cf.custom_hostnames.certificate_pack.certificates.delete(last[0]["id"], **pack)
    deleted = cf.custom_hostnames.delete(hostname_id, zone_id=zone)
    assert record("custom-hostname-for-a-zone-delete-custom-hostname-(-and-any-issued-ssl-certificates)", deleted).id == hostname_id

    # per-hostname authenticated origin pulls
    client_certs = cf.origin_tls_client_auth.hostname_certificates
    uploaded = client_certs.create(zone_id=zone, certificate=ecdsa.cert_pem, private_key=ecdsa.key_pem)
    client_id = record("per-hostname-authenticated-origin-pull-upload-a-hostname-client-certificate", uploaded).id
    listed = record("per-hostname-authenticated-origin-pull-list-certificates", client_certs.list(zone_id=zone))
    assert [c.id for c in listed.result] == [client_id]
    got = record("per-hostname-authenticated-origin-pull-get-the-hostname-client-certificate", client_certs.get(client_id, zone_id=zone))
    assert got.id == client_id
    config = [{"hostname": "app.example.com", "cert_id": client_id, "enabled": True}]
    associated = cf.origin_tls_client_auth.hostnames.update(zone_id=zone, config=config)
    assert [a.hostname for a in record("per-hostname-authenticated-origin-pull-enable-or-disable-a-hostname-for-client-authentication", associated).result] == [
        "app.example.com"
    ]
    # No SDK method lists hostname associations: the client's own paged GET, cast to the SDK's model.
    associations = cf.get_api_list(
        "/zones/%s/origin_tls_client_auth/hostnames" % zone,
        page=SyncSinglePage[AuthenticatedOriginPull],
        model=AuthenticatedOriginPull,
        options={"params": {"status": "all", "per_page": 100}},
    )
    assert [a.cert_id for a in record("per-hostname-authenticated-origin-pull-list-hostname-associations", associations).result] == [client_id]
    status = cf.origin_tls_client_auth.hostnames.get("app.example.com", zone_id=zone)
    assert record("per-hostname-authenticated-origin-pull-get-the-hostname-status-for-client-authentication", status).cert_id == client_id
    with pytest.raises(cloudflare.BadRequestError):
        client_certs.delete(client_id, zone_id=zone)
    cf.origin_tls_client_auth.hostnames.update(zone_id=zone, config=[dict(config[0], enabled=None)])
    deleted = client_certs.delete(client_id, zone_id=zone)
    assert record("per-hostname-authenticated-origin-pull-delete-hostname-client-certificate", deleted).id == client_id

    # certificate packs
    timed_out = emu.state.add_cert_pack(zone, ["example.com", "*.example.com"], status="validation_timed_out")
    packs = cf.ssl.certificate_packs
    ordered = packs.create(
        zone_id=zone,
        type="advanced",
        hosts=["example.com", "www.example.com"],
        validation_method="txt",
        validity_days=90,
        certificate_authority="google",
        cloudflare_branding=False,
    )
    pack_id = record("certificate-packs-order-advanced-certificate-manager-certificate-pack", ordered).id
    listed = record("certificate-packs-list-certificate-packs", packs.list(zone_id=zone, status="all", per_page=50))
    assert {p.id for p in listed.result} == {pack_id, timed_out.id}
    quota = record("certificate-packs-get-certificate-pack-quotas", packs.quota.get(zone_id=zone))
    assert quota.advanced.allocated == 10
    assert record("certificate-packs-get-certificate-pack", packs.get(pack_id, zone_id=zone)).id == pack_id
    with pytest.raises(cloudflare.BadRequestError):
        packs.edit(pack_id, zone_id=zone)
    assert record("certificate-packs-restart-validation-for-advanced-certificate-manager-certificate-pack", packs.edit(timed_out.id, zone_id=zone)).id
    record(
        "certificate-packs-restart-validation-for-advanced-certificate-manager-certificate-pack", packs.edit(pack_id, zone_id=zone, cloudflare_branding=True)
    )
    assert record("certificate-packs-delete-advanced-certificate-manager-certificate-pack", packs.delete(pack_id, zone_id=zone)).id == pack_id

    # zone-level authenticated origin pulls (the SDK marks these methods deprecated; the paths are still documented)
    aop = cf.origin_tls_client_auth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        uploaded = record(
            "zone-level-authenticated-origin-pulls-upload-certificate", aop.create(zone_id=zone, certificate=rsa.cert_pem, private_key=rsa.key_pem)
        )
        assert [c.id for c in record("zone-level-authenticated-origin-pulls-list-certificates", aop.list(zone_id=zone)).result] == [uploaded.id]
        assert record("zone-level-authenticated-origin-pulls-get-certificate-details", aop.get(uploaded.id, zone_id=zone)).id == uploaded.id
        assert record("zone-level-authenticated-origin-pulls-set-enablement-for-zone", aop.settings.update(zone_id=zone, enabled=True)).enabled is True
        assert record("zone-level-authenticated-origin-pulls-get-enablement-setting-for-zone", aop.settings.get(zone_id=zone)).enabled is True
        assert record("zone-level-authenticated-origin-pulls-delete-certificate", aop.delete(uploaded.id, zone_id=zone)).id == uploaded.id

    # Origin CA
    csr = make_csr(["example.com", "*.example.com"])[0]
    order = {"csr": csr, "hostnames": ["example.com", "*.example.com"], "request_type": "origin-ecc", "requested_validity": 90}
    origin = record("origin-ca-create-certificate", cf.origin_ca_certificates.create(**order))
    listed = record("origin-ca-list-certificates", cf.origin_ca_certificates.list(zone_id=zone))
    assert [c.id for c in listed.result] == [origin.id]
    assert record("origin-ca-get-certificate", cf.origin_ca_certificates.get(origin.id)).certificate == origin.certificate
    assert record("origin-ca-revoke-certificate", cf.origin_ca_certificates.delete(origin.id)).id == origin.id

    assert len(record.seen) == 38, sorted(record.seen)
    return record


def test_strict_validation_rejects_an_answer_the_models_do_not_accept():
    # What makes the emulator test meaningful: with _strict_response_validation a wrong type raises, without it passes.
    def answer(request: Any) -> Any:
        return httpx.Response(200, json={"success": True, "errors": [], "messages": [], "result": {"id": 5, "hostname": ["app.example.com"]}})

    for strict in (True, False):
        cf = cloudflare.Cloudflare(
            base_url="http://emulator.invalid/client/v4",
            api_token="t",
            max_retries=0,
            http_client=httpx.Client(transport=httpx.MockTransport(answer)),
            _strict_response_validation=strict,
        )
        if strict:
            with pytest.raises(cloudflare.APIResponseValidationError):
                cf.custom_hostnames.get("a" * 32, zone_id="b" * 32)
        else:
            assert cf.custom_hostnames.get("a" * 32, zone_id="b" * 32).hostname == ["app.example.com"]


def test_every_operation_through_the_official_sdk_and_every_undeclared_field_in_the_ledger(emulator):
    # Strict validation: drive() raises cloudflare.APIResponseValidationError on any answer the models reject.
    record = drive(emulator)
    ledger = sdk_field_rows()
    unlisted = sorted(record.pairs(record.seen) - ledger)
    assert not unlisted, "fields the SDK does not declare and LEDGER.md does not list (field, operationId): %s" % unlisted
    unseen = sorted(ledger - record.pairs(record.seen) - record.pairs(record.inside))
    assert not unseen, "LEDGER.md lists fields this test never saw (field, operationId): %s" % unseen


def test_undeclared_objects_carry_only_the_fields_their_source_declares(emulator):
    # Inside an undeclared field (ssl.certificates[] of a custom hostname), every key must be in LEDGER.md too.
    record = drive(emulator)
    unlisted = sorted(record.pairs(record.inside) - sdk_field_rows())
    assert not unlisted, "keys inside undeclared fields that LEDGER.md does not list (field, operationId): %s" % unlisted


def test_unknown_body_fields_sent_through_extra_body_are_ignored(emulator):
    # The SDK's `extra_body` is how its users send fields its models lack: the emulator ignores fields it does not know.
    cf = client(emulator)
    cert = make_leaf(make_ca(*SDK_CA), ["example.com"])
    extra = {"surprise": {"nested": True}, "future_option": "on"}
    created = cf.custom_certificates.create(zone_id=emulator.zone_id, certificate=cert.chain_pem, private_key=cert.key_pem, extra_body=extra)
    assert created.id and not set(extra) & set(created.model_extra or {})
    hostname = cf.custom_hostnames.create(zone_id=emulator.zone_id, hostname="app.example.com", ssl={"method": "http", "type": "dv"}, extra_body=extra)
    assert hostname.ssl.status == "initializing" and not set(extra) & set(hostname.model_extra or {})


def test_a_patch_of_bundle_method_alone_does_not_verify_the_stored_certificate_again(emulator):
    # A seeded certificate is not checked; a PATCH of `bundle_method` alone keeps it, one sending it again verifies it.
    cf = client(emulator)
    cert = make_leaf(make_ca("Untrusted SDK CA", trusted=False), ["example.com"])
    seeded = emulator.state.add_custom_certificate(emulator.zone_id, certificate=cert.chain_pem, private_key=cert.key_pem)
    edited = cf.custom_certificates.edit(seeded.id, zone_id=emulator.zone_id, bundle_method="optimal")
    assert edited.id == seeded.id and edited.bundle_method == "optimal"
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.custom_certificates.edit(seeded.id, zone_id=emulator.zone_id, certificate=cert.chain_pem, private_key=cert.key_pem)
    assert [error["code"] for error in refused.value.body["errors"]] == [1411]


def test_removing_an_association_that_does_not_exist_answers_it_deleted(emulator):
    # The answer the SDK's HostnameUpdateResponse reads for an `enabled: null` on a hostname with no association.
    cf = client(emulator)
    cert = make_leaf(make_ca(*SDK_CA), ["origin.example.com"])
    cert_id = cf.origin_tls_client_auth.hostname_certificates.create(zone_id=emulator.zone_id, certificate=cert.cert_pem, private_key=cert.key_pem).id
    config = [{"hostname": "nothing.example.com", "cert_id": cert_id, "enabled": None}]
    answer = cf.origin_tls_client_auth.hostnames.update(zone_id=emulator.zone_id, config=config).result
    assert [(a.hostname, a.status, a.enabled) for a in answer] == [("nothing.example.com", "deleted", None)]
    with pytest.raises(cloudflare.NotFoundError):
        cf.origin_tls_client_auth.hostnames.get("nothing.example.com", zone_id=emulator.zone_id)
