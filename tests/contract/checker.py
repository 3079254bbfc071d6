"""Checks journaled requests and answers against Cloudflare's OpenAPI document with openapi-core.

Requests: path, method, query and body of the operation. Answers: a 2xx against the operation's
success schema; an error body against `api-response-common-failure` alone (the document's 4XX
schemas cannot be satisfied). Injected faults and rate-limit answers are not
answers of the API, so only their requests are checked. Documented quirks, waived here:
* a DELETE without a body: the document requires a schemaless body on every DELETE;
* the `ssl` query parameter of GET .../custom_hostnames defaults to '0' while its enum is [0, 1],
  so an absent parameter fails; parameters the request did not send are not reported;
* `ssl.id` is 32 hex characters, as every id the emulator hands out and the path ids' limit of 32,
  where the document says 36;
* credentials the newer reference accepts beyond the 2024 `security` of the ten operations `next/` adds
  (NEWER_SCHEMES): an API token or the Global API key for the Origin CA operations, whose 2024 security is the
  Origin CA key only ("You can use an Origin CA Key as your User Service Key or an API token", the official SDKs;
  all schemes since v3.32.0, the Terraform provider), and an API token for the zone-level authenticated origin pull
  ones, whose 2024 security is `api_email` + `api_key`. Any other security failure is reported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional
from urllib.parse import parse_qs

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import MissingRequestBody, MissingRequiredRequestBody, ParameterValidationError, SecurityValidationError
from openapi_schema_validator import OAS30Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = Path(REPO_ROOT).parent / "shared" / "cloudflare-openapi" / "next" / "certificates.openapi.json"
JOURNAL_DIR = REPO_ROOT / "tests" / "output" / "journal"
HOST = "https://api.cloudflare.com"
COLLECTION_AGENT = "certops.cloudflare/"
AUTH_HEADERS = {
    "token": {"Authorization": "Bearer placeholder"},
    "key": {"X-Auth-Email": "placeholder@example.com", "X-Auth-Key": "placeholder"},
    "service_key": {"X-Auth-User-Service-Key": "placeholder"},
}
_ORIGIN_CA = ("origin-ca-list-certificates", "origin-ca-create-certificate", "origin-ca-get-certificate", "origin-ca-revoke-certificate")
_ZONE_AOP = (
    "zone-level-authenticated-origin-pulls-list-certificates",
    "zone-level-authenticated-origin-pulls-upload-certificate",
    "zone-level-authenticated-origin-pulls-get-certificate-details",
    "zone-level-authenticated-origin-pulls-delete-certificate",
    "zone-level-authenticated-origin-pulls-get-enablement-setting-for-zone",
    "zone-level-authenticated-origin-pulls-set-enablement-for-zone",
)
# operationId -> the auth schemes (journal `auth_scheme`) the newer reference accepts beyond the document's `security`
NEWER_SCHEMES = dict([(op, ("token", "key")) for op in _ORIGIN_CA] + [(op, ("token",)) for op in _ZONE_AOP])


def read_journals(directory: Path = JOURNAL_DIR) -> List[Dict[str, Any]]:
    """Every journaled request the collection sent (told by its User-Agent)."""
    entries = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry.get("user_agent", "").startswith(COLLECTION_AGENT):
                entries.append(entry)
    return entries


class Checker:
    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        self.document = json.loads(spec_path.read_text(encoding="utf-8"))
        self.openapi = OpenAPI.from_file_path(str(spec_path), config=Config(spec_validator_cls=None))
        self._failure = {
            family: OAS30Validator({"$ref": "#/components/schemas/%s_api-response-common-failure" % family, "components": self.document["components"]})
            for family in ("tls-certificates-and-hostnames", "zones")
        }
        self._operations = []
        for template, item in self.document["paths"].items():
            regex = re.compile("^/client/v4" + re.sub(r"\{\w+\}", "[^/]+", template) + "$")
            for method, operation in item.items():
                self._operations.append((template.count("{"), method.upper(), regex, operation["operationId"]))
        self._operations.sort(key=lambda o: o[0])  # literal segments win over parameters
        self._cache: Dict[str, List[str]] = {}

    def operation_ids(self) -> List[str]:
        return sorted(o[3] for o in self._operations)

    def operation_id(self, method: str, path: str) -> Optional[str]:
        for _params, op_method, regex, operation_id in self._operations:
            if op_method == method and regex.match(path):
                return operation_id
        return None

    def check(self, entry: Dict[str, Any]) -> List[str]:
        """Every violation of one journal entry, each as one line naming the request."""
        where = "%s %s%s [%s]" % (entry["method"], entry["path"], "?" + entry["query_string"] if entry.get("query_string") else "", entry.get("test", "?"))
        shape = _shape({k: entry.get(k) for k in ("method", "path", "query_string", "auth_scheme", "request_body", "status", "fault", "response_body")})
        key = json.dumps(shape, sort_keys=True)
        if key not in self._cache:  # journals repeat the same shapes; openapi-core takes ~20 ms a check
            self._cache[key] = self._problems(shape)
        return ["%s: %s" % (where, p) for p in self._cache[key]]

    def _problems(self, entry: Dict[str, Any]) -> List[str]:
        if self.operation_id(entry["method"], entry["path"]) is None:
            return ["no such operation in the document"]
        request = self._request(entry)
        problems = ["request: %s" % p for p in self._request_problems(request, entry)]
        body = entry.get("response_body")
        if entry.get("fault") is None and isinstance(body, dict) and entry.get("status"):
            problems += ["answer HTTP %s: %s" % (entry["status"], p) for p in self._answer_problems(request, entry["status"], entry["path"], body)]
        return problems

    def _request(self, entry: Dict[str, Any]) -> MockRequest:
        body = entry.get("request_body")
        return MockRequest(
            HOST,
            entry["method"].lower(),
            entry["path"],
            args=parse_qs(entry.get("query_string") or "", keep_blank_values=True),
            headers=dict(AUTH_HEADERS.get(entry.get("auth_scheme") or "", {})),
            data=json.dumps(body).encode("utf-8") if body is not None else None,
        )

    def _request_problems(self, request: MockRequest, entry: Dict[str, Any]) -> Iterable[str]:
        sent = set(parse_qs(entry.get("query_string") or "", keep_blank_values=True))
        newer = entry.get("auth_scheme") in NEWER_SCHEMES.get(self.operation_id(entry["method"], entry["path"]) or "", ())
        for error in self.openapi.unmarshal_request(request).errors:
            if isinstance(error, SecurityValidationError) and newer:
                continue
            if isinstance(error, (MissingRequiredRequestBody, MissingRequestBody)) and entry["method"] == "DELETE":
                continue
            if isinstance(error, ParameterValidationError) and error.location == "query" and error.name not in sent:
                continue
            yield _explain(error)

    def _answer_problems(self, request: MockRequest, status: int, path: str, body: Dict[str, Any]) -> Iterable[str]:
        if status >= 400:
            family = "zones" if re.match(r"^/client/v4/zones(/[^/]+)?/?$", path) else "tls-certificates-and-hostnames"
            for error in self._failure[family].iter_errors(body):
                yield "%s at %s" % (error.message, "/".join(str(p) for p in error.absolute_path) or "the body")
            return
        response = MockResponse(json.dumps(_waive_ssl_id(body)).encode("utf-8"), status_code=status)
        for error in self.openapi.unmarshal_response(request, response).errors:
            yield _explain(error)


_HEX = re.compile(r"^[0-9a-f]{16,}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def _shape(value: Any) -> Any:
    """The entry with values the document does not constrain made uniform, so equal shapes are checked once.

    Only whole strings change, keeping type and length: ids and hex digests, decimal serials,
    well-formed timestamps, PEM blocks.
    """
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if not isinstance(value, str):
        return value
    if _HEX.match(value):
        return re.sub(r"[0-9a-f]", "a", value)
    if value.isdigit():
        return "1" * len(value)
    if _TIME.match(value):
        return "2020-01-01T00:00:00Z"
    if value.startswith("-----BEGIN "):
        return "-----BEGIN PEM-----"
    return value


def _waive_ssl_id(value: Any) -> Any:
    """Give every `ssl.id` the 36-character form the document asks for (ids here are 32 hex characters)."""
    if isinstance(value, list):
        return [_waive_ssl_id(v) for v in value]
    if not isinstance(value, dict):
        return value
    copy = {k: _waive_ssl_id(v) for k, v in value.items()}
    ssl = copy.get("ssl")
    if isinstance(ssl, dict) and isinstance(ssl.get("id"), str) and re.fullmatch(r"[0-9a-f]{32}", ssl["id"]):
        hex_id = ssl["id"]
        ssl["id"] = "-".join((hex_id[:8], hex_id[8:12], hex_id[12:16], hex_id[16:20], hex_id[20:]))
    return copy


def _explain(error: Exception) -> str:
    """An openapi-core error with the schema errors behind it."""
    text = str(error) or type(error).__name__
    cause = error.__cause__
    details = []
    for schema_error in getattr(cause, "schema_errors", ()) or ():
        where = "/".join(str(p) for p in schema_error.absolute_path)
        context = "; ".join(sorted({c.message for c in schema_error.context or ()}))
        details.append("%s%s%s" % (schema_error.message, " at " + where if where else "", " (" + context + ")" if context else ""))
    if cause is not None and not details and str(cause) not in text:
        details.append(str(cause))
    return text + (": " + " | ".join(details) if details else "")
