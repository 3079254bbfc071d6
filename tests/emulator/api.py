"""Envelope, error codes, paging and request-checking helpers shared by the resource families."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs


class Codes:
    """Cloudflare error codes the emulator answers with.

    "known" codes appear in answers of the live API quoted in public bug reports; every other
    code is a guess in Cloudflare's style, unverified against the live API.
    """

    NO_ROUTE = 7000  # known: "No route for that URI"
    BAD_ROUTE = 7003  # known: "Could not route to ..., perhaps your object identifier is invalid?"
    METHOD_NOT_ALLOWED = 7001  # guess
    INVALID_HEADERS = 6003  # known: "Invalid request headers", with 6111 in its error_chain
    INVALID_AUTH_FORMAT = 6111  # known: "Invalid format for Authorization header"
    MALFORMED_JSON = 6007  # known: "Malformed JSON in request body"
    UNKNOWN_KEY = 9103  # known: "Unknown X-Auth-Key or X-Auth-Email"
    MISSING_EMAIL = 9106  # known: "Missing X-Auth-Email header"
    MISSING_KEY = 9107  # known: "Missing X-Auth-Key header"
    AUTH_ERROR = 10000  # known: "Authentication error" (bad token, or a token without the permission)
    RATE_LIMITED = 971  # known: "Please wait and consider throttling your request speed" (below the document's 1000)
    INTERNAL = 10001  # guess: body of an injected 500
    INVALID_ZONE = 1001  # guess: unknown zone id
    INVALID_REQUEST = 1004  # guess: a body or query parameter the document does not allow
    NOT_FOUND = 1005  # guess: unknown object in a known zone
    BAD_CERTIFICATE = 1401  # guess
    BAD_KEY = 1402  # guess
    KEY_MISMATCH = 1403  # guess
    CERT_EXPIRED = 1404  # guess
    KEY_TYPE = 1405  # guess: RSA/ECDSA pairing rules of custom hostname certificate packs
    DUPLICATE = 1406  # guess: hostname already exists in the zone
    LAST_CERTIFICATE = 1407  # guess: deleting the only certificate of a pack
    QUOTA = 1408  # guess: client certificate or certificate pack quota used up
    IN_USE = 1409  # guess: client certificate still associated with a hostname
    BAD_STATE = 1410  # guess: restarting validation of a pack that has not timed out
    UNTRUSTED = 1411  # guess: a self-signed or CA leaf, or a chain that does not verify to a trusted root
    FORCE_REQUIRED = 1412  # guess: custom_cert_bundle without bundle_method force
    BAD_CSR = 1413  # guess: an Origin CA CSR that does not parse, verify or carry an accepted key
    ORIGIN_CA_HOSTNAME = 1010  # users' reports: "Failed to validate requested hostname ..." (an Origin CA hostname in no zone)
    ORIGIN_CA_ZONE_REQUIRED = 1012  # users' reports: "Please provide a zone id when requesting a stored certificate, ..."


class ApiError(Exception):
    """An error answer: HTTP status plus Cloudflare error entries."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        more: Sequence[Dict[str, Any]] = (),
        chain: Optional[List[Dict[str, Any]]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__(message)
        first: Dict[str, Any] = {"code": code, "message": message}
        if chain:
            first["error_chain"] = chain
        self.status = status
        self.errors = [first] + list(more)
        self.headers = headers or {}


@dataclass
class Request:
    """What a resource handler sees of one API request."""

    method: str
    params: Dict[str, str]
    query: "Query"
    body: Any  # decoded JSON, None when the request had no body


@dataclass
class Route:
    method: str
    pattern: str  # path below /client/v4, e.g. "zones/{zone_id}/custom_hostnames"
    handler: Callable[..., Tuple[int, Any]]
    service_key: bool = False  # an Origin CA operation: the Origin CA key (X-Auth-User-Service-Key) is accepted


def invalid(message: str) -> ApiError:
    return ApiError(400, Codes.INVALID_REQUEST, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, Codes.NOT_FOUND, "%s not found" % what)


def success(result: Any, result_info: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def failure(errors: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"success": False, "errors": errors, "messages": [], "result": None}


class Query:
    """Query parameters of one request, with the document's limits checked on read."""

    def __init__(self, raw: str) -> None:
        self.params = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.params.get(name, default)

    def number(self, name: str, default: int, minimum: int, maximum: Optional[int] = None) -> int:
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise invalid("%s must be a number" % name) from None
        if not value.is_integer() or value < minimum or (maximum is not None and value > maximum):
            bound = "between %d and %d" % (minimum, maximum) if maximum is not None else "at least %d" % minimum
            raise invalid("%s must be a whole number %s" % (name, bound))
        return int(value)

    def enum(self, name: str, choices: Iterable[str], default: Optional[str] = None) -> Optional[str]:
        value = self.params.get(name, default)
        if value is not None and value not in choices:
            raise invalid("%s must be one of %s" % (name, ", ".join(choices)))
        return value


def paginate(items: List[Any], query: Query, default: int, minimum: int, maximum: int) -> Tuple[List[Any], Dict[str, Any]]:
    """One page of `items` and the result_info Cloudflare sends with it."""
    page = query.number("page", 1, 1)
    per_page = query.number("per_page", default, minimum, maximum)
    chunk = items[(page - 1) * per_page : page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    return chunk, info


def whole(items: List[Any]) -> Dict[str, Any]:
    """result_info of a list answered in one piece."""
    return {"page": 1, "per_page": max(len(items), 1), "count": len(items), "total_count": len(items), "total_pages": 1}


# -- request bodies -------------------------------------------------------------------------

_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")

_TYPES = {"object": dict, "string": str, "array": list}


def require_body(body: Any) -> Dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    return body


def check(value: Any, name: str, kind: str, choices: Optional[Sequence[Any]] = None, max_len: Optional[int] = None, nullable: bool = False) -> Any:
    """Check one body field against its type, enum and length; return it unchanged."""
    if value is None and nullable:
        return value
    if kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, _TYPES[kind])
    if not ok:
        raise invalid("%s must be of type %s" % (name, kind))
    if choices is not None and value not in choices:
        raise invalid("%s must be one of %s" % (name, ", ".join(str(c) for c in choices)))
    if max_len is not None and len(value) > max_len:
        raise invalid("%s must be at most %d long" % (name, max_len))
    return value


def optional(obj: Dict[str, Any], key: str, kind: str, where: str = "", **limits: Any) -> Any:
    """obj[key] checked, or None when absent."""
    if key not in obj:
        return None
    return check(obj[key], where + key, kind, **limits)


def required(obj: Dict[str, Any], key: str, kind: str, where: str = "", **limits: Any) -> Any:
    if key not in obj:
        raise invalid("%s%s is required" % (where, key))
    return check(obj[key], where + key, kind, **limits)


def hostname(value: Any, name: str = "hostname", wildcard: bool = False) -> str:
    """A lower-cased DNS name; wildcards only where the endpoint allows them."""
    check(value, name, "string", max_len=255)
    host = value.lower().rstrip(".")
    if not _HOSTNAME.match(host) or (host.startswith("*.") and not wildcard):
        raise invalid("%s %r is not a valid hostname" % (name, value))
    return host


# -- ids and time ---------------------------------------------------------------------------


def new_id() -> str:
    """Every id the emulator hands out, `ssl.id` included: 32 lowercase hex characters (path ids are limited to 32)."""
    return uuid.uuid4().hex


def stage(stages: Sequence[str], start: int, since: float, now: float, delay: float) -> str:
    """The status reached `now` when each of `stages` lasts `delay` seconds, from stages[start] at `since`."""
    steps = len(stages) - 1 - start if delay <= 0 else int(max(0.0, now - since) / delay)
    return stages[min(start + steps, len(stages) - 1)]


def reached_at(stages: Sequence[str], start: int, since: float, delay: float) -> float:
    """When the last of `stages` is reached."""
    return since + (len(stages) - 1 - start) * max(delay, 0.0)
