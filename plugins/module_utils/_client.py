# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cloudflare v4 API client shared by every module of the collection.

This is a private file: it may change in any release without notice.

It knows HTTP and Cloudflare, not Ansible: the emulator tests and the benchmarks use it as is.
Credentials and request bodies never appear in an exception or a log line.
"""

from __future__ import annotations

import email.utils
import json
import math
import os
import random
import re
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pacer import (
    CLOUDFLARE_WINDOW,
    CLOUDFLARE_WINDOW_LIMIT,
    DEFAULT_HEADROOM,
    Pacer,
    window_cap,
)

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "certops.cloudflare/" + COLLECTION_VERSION
DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = 30.0
# Cloudflare allows 1,200 requests per 5 minutes per user. The default average rate is what that
# window allows less 5 % headroom for the dashboard and other tools: 1,200 * 0.95 / 300 = 3.8 per second.
DEFAULT_RATE_LIMIT = 3.8
# Testing knobs, not user options: the benchmark scales Cloudflare's window down to match the emulator's
# (e.g. 100 requests per 5 s). Read here only, so the pacer itself stays free of the environment.
RATE_WINDOW_ENV = "CERTOPS_RATE_WINDOW"
RATE_WINDOW_LIMIT_ENV = "CERTOPS_RATE_WINDOW_LIMIT"
RATE_HEADROOM_ENV = "CERTOPS_RATE_HEADROOM"

RETRY_AFTER_MIN = 1.0
# The time one call may spend waiting out 429s and retrying: enough for one of Cloudflare's five-minute blocks.
DEFAULT_RETRY_BUDGET = 330.0
RETRY_BUDGET_ENV = "CLOUDFLARE_API_RETRY_BUDGET"
# The rate-limit headers (Cloudflare's changelog of 2025-09-03) are untrusted: a value longer than this, a list of more
# items, or a number of more digits than a structured-field integer holds is ignored.
_RATELIMIT_MAX_TEXT = 1024
_RATELIMIT_MAX_ITEMS = 16
_RATELIMIT_ITEM_RE = re.compile(r'^\s*(?:"([A-Za-z0-9_.:-]{0,64})"|([A-Za-z*][A-Za-z0-9_.:*-]{0,63}))((?:\s*;\s*[a-z][a-z0-9_.*-]{0,31}(?:=[^;,]*)?)*)\s*$')
_RATELIMIT_PARAM_RE = re.compile(r"\s*;\s*([a-z][a-z0-9_.*-]{0,31})(?:=([^;,]*))?")
# A bound on the pages of one list: 10,000 pages of 50 is 500,000 objects.
MAX_PAGES = 10000
IDEMPOTENT_METHODS = frozenset(("GET", "PUT", "DELETE"))
# The API strips these from responses by contract; we strip them again in case it does not.
SECRET_RESPONSE_FIELDS = frozenset(("custom_key", "private_key"))

# The only operations that may answer without an envelope `result`: DELETE zones/{zone_id}/custom_hostnames/{id}
# answers a bare {"id": ...}, and the certificate-pack certificate PUT and DELETE may answer 202 with no body.
_BARE_RESPONSES = (
    ("DELETE", re.compile(r"^zones/[^/]+/custom_hostnames/[^/]+$")),
    ("PUT", re.compile(r"^zones/[^/]+/custom_hostnames/[^/]+/certificate_pack/[^/]+/certificates/[^/]+$")),
    ("DELETE", re.compile(r"^zones/[^/]+/custom_hostnames/[^/]+/certificate_pack/[^/]+/certificates/[^/]+$")),
)

# Text from the server is untrusted: PEM blocks (a server echoing the request may send our private key
# back) are cut out, even when JSON-escaped or missing their END line, and messages are kept short.
_PEM_BLOCK_RE = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.S)
PEM_REDACTED = "[PEM block removed]"
SECRET_REDACTED = "********"
MAX_SERVER_TEXT = 500
# How a failed name lookup shows in requests' and urllib3's errors, across versions and platforms.
_DNS_FAILURES = (
    "NameResolutionError",
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "getaddrinfo failed",
)

AUTH_HINT = "Use either api_token (CLOUDFLARE_API_TOKEN) or api_email plus api_key (CLOUDFLARE_EMAIL, CLOUDFLARE_API_KEY)"
SERVICE_KEY_HINT = " (the Origin CA modules also take api_user_service_key, CLOUDFLARE_API_USER_SERVICE_KEY)"


class CloudflareConfigError(ValueError):
    """The client was configured in a way that cannot work (credentials, base URL)."""


def _item_key(item: Any) -> str:
    """The identity of a listed item: its id, else its whole text (serialised only then: a list of 10,000 has ids)."""
    if not isinstance(item, dict):
        return repr(item)
    if "id" in item:
        return str(item["id"])
    return json.dumps(item, sort_keys=True)


class CloudflareError(Exception):
    """An API call failed. Carries what a user needs and nothing secret."""

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        errors: Optional[List[Dict[str, Any]]] = None,
        method: Optional[str] = None,
        path: Optional[str] = None,
    ) -> None:
        self.message = message
        self.status = status
        self.errors = errors or []
        self.method = method
        self.path = path
        super().__init__(str(self))

    @property
    def codes(self) -> List[int]:
        return [e["code"] for e in self.errors if e.get("code") is not None]

    def __str__(self) -> str:
        where = "%s %s" % (self.method, self.path) if self.method else ""
        status = "HTTP %s" % self.status if self.status else ""
        codes = ", ".join(str(c) for c in self.codes)
        text = self.message + (" (code %s)" % codes if codes else "")
        return ": ".join(part for part in (where, status, text) if part)

    def to_dict(self) -> Dict[str, Any]:
        return {"status": self.status, "cloudflare_errors": self.errors, "method": self.method, "path": self.path}

    def with_message(self, message: str, kind: Optional[type] = None) -> "CloudflareError":
        """The same failure (status, errors, call) told with another message, as `kind` (this error's type by default)."""
        return (kind or type(self))(message, status=self.status, errors=self.errors, method=self.method, path=self.path)

    def detail(self) -> str:
        """The message, the API's codes and the call, as a failure shows them."""
        codes = ", ".join(str(c) for c in self.codes)
        text = self.message + (" (code %s)" % codes if codes else "")
        return text + (" [HTTP %s on %s %s]" % (self.status, self.method, self.path) if self.status else "")


def zone_not_found(zone_label: str, exc: CloudflareError) -> CloudflareError:
    """The error for a zone-scoped read answered 404: the zone is missing or the credentials cannot read it."""
    return exc.with_message("zone %s was not found or these credentials cannot read it (%s)" % (zone_label, exc.message), CloudflareError)


class OutcomeUnknownError(CloudflareError):
    """A POST or PATCH failed in a way that leaves unknown whether the API applied it.

    It is never re-sent blindly: the caller re-reads state to learn what happened (and may send it once more when
    that read proves it was not applied).
    """


class NotFoundError(CloudflareError):
    """The API answered 404."""


def scrub(text: Any, secrets: Iterable[str] = ()) -> str:
    """Server text made safe to show: PEM blocks and the given secrets (also JSON-escaped) removed, length capped."""
    text = _PEM_BLOCK_RE.sub(PEM_REDACTED, str(text))
    for secret in secrets:
        if secret:
            for form in (secret, json.dumps(secret)[1:-1]):
                text = text.replace(form, SECRET_REDACTED)
    return text if len(text) <= MAX_SERVER_TEXT else text[:MAX_SERVER_TEXT] + "... (cut)"


def _error_code(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _flatten_errors(errors: Any, secrets: Iterable[str] = ()) -> List[Dict[str, Any]]:
    """Cloudflare's `errors` entries, `error_chain` flattened in, reduced to code and scrubbed message.

    Malformed shapes (a string, a dict, entries that are not objects) become entries without a code.
    """
    if errors is None:
        return []
    if isinstance(errors, (str, dict)):
        errors = [errors]
    elif not isinstance(errors, list):
        errors = [str(errors)]
    flat: List[Dict[str, Any]] = []
    for entry in errors:
        if isinstance(entry, dict):
            flat.append({"code": _error_code(entry.get("code")), "message": scrub(entry.get("message", ""), secrets)})
            flat.extend(_flatten_errors(entry.get("error_chain"), secrets))
        else:
            flat.append({"code": None, "message": scrub(entry, secrets)})
    return flat


def _shape_name(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else "a %s" % type(value).__name__


_SECRET_FIELD_BYTES = tuple(name.encode() for name in SECRET_RESPONSE_FIELDS)


def may_hold_secrets(raw: bytes) -> bool:
    """Whether a response's raw bytes could hold a private key field: its name, a \\u escape (which could spell one),
    or a NUL byte (UTF-16 or UTF-32 text, where the name's bytes differ).

    An answer that holds none of them cannot decode to a key named custom_key or private_key, so it need not be walked.
    """
    return b"\\u" in raw or b"\x00" in raw or any(name in raw for name in _SECRET_FIELD_BYTES)


def strip_secrets(value: Any) -> Any:
    """Remove private key fields from a decoded response, at any depth."""
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items() if k not in SECRET_RESPONSE_FIELDS}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def _parse_retry_after(value: Optional[str], cap: float) -> Optional[float]:
    """The seconds a Retry-After header asks for, at least 1 and at most `cap` (the block's length); None when it is
    missing or unreadable. Seconds or an HTTP date, as RFC 9110 allows."""
    if value is None or len(value) > 64:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds) and seconds != math.inf:
        return None
    return min(max(seconds, RETRY_AFTER_MIN), cap)


def _structured_items(value: Optional[str]) -> Dict[str, Dict[str, int]]:
    """The items of a `Ratelimit` or `Ratelimit-Policy` header by name, each with its integer parameters.

    The headers come from the server and are untrusted: a malformed item, or a parameter that is not a non-negative
    integer of at most 15 digits (a structured-field integer), is left out; a header too long or with too many items
    gives nothing.
    """
    if not value or len(value) > _RATELIMIT_MAX_TEXT:
        return {}
    parts = value.split(",")
    if len(parts) > _RATELIMIT_MAX_ITEMS:
        return {}
    items: Dict[str, Dict[str, int]] = {}
    for part in parts:
        found = _RATELIMIT_ITEM_RE.match(part)
        if not found:
            continue
        params: Dict[str, int] = {}
        for key, raw in _RATELIMIT_PARAM_RE.findall(found.group(3)):
            raw = raw.strip()
            if raw.isdigit() and raw.isascii() and len(raw) <= 15:
                params[key] = int(raw)
        items[found.group(1) if found.group(1) is not None else found.group(2)] = params
    return items


def parse_ratelimit(headers: Any) -> Tuple[Optional[Tuple[int, int]], Optional[float]]:
    """What an answer's rate-limit headers say: (remaining, quota) of the policy with the smallest share left, and the
    longest window of its policies (seconds); None for what they do not say (or say in a malformed way).

    `Ratelimit: "default";r=50;t=30` (remaining requests, seconds to the reset) and
    `Ratelimit-Policy: "default";q=1200;w=300` (quota, window), paired by name.
    """
    try:
        state = _structured_items(headers.get("Ratelimit"))
        policies = _structured_items(headers.get("Ratelimit-Policy"))
    except (AttributeError, TypeError):
        return None, None
    windows = [p["w"] for p in policies.values() if p.get("w", 0) > 0]
    quota: Optional[Tuple[int, int]] = None
    for name, params in state.items():
        q = policies.get(name, {}).get("q", 0)
        if "r" in params and q > 0 and (quota is None or params["r"] * quota[1] < quota[0] * q):
            quota = (min(params["r"], q), q)
    return quota, (float(max(windows)) if windows else None)


def _ratelimit_reset(headers: Any) -> Optional[float]:
    """Seconds to the reset of a policy the `Ratelimit` header shows used up (r=0), if any: a 429's wait when it has no
    readable Retry-After."""
    try:
        state = _structured_items(headers.get("Ratelimit"))
    except (AttributeError, TypeError):
        return None
    resets = [p["t"] for p in state.values() if p.get("r") == 0 and "t" in p]
    return float(max(resets)) if resets else None


def _env_number(name: str, default: float, valid: Callable[[float], bool], expected: str) -> float:
    """A testing knob from the environment; a bad value fails loudly rather than pacing wrongly."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and valid(value)):
        raise CloudflareConfigError("%s (a testing setting) must be %s, got %r" % (name, expected, raw))
    return value


def _window_setting() -> float:
    """Cloudflare's window in seconds, unless the testing knob scales it."""
    return _env_number(RATE_WINDOW_ENV, CLOUDFLARE_WINDOW, lambda v: v > 0, "a positive number of seconds")


def pacing_settings() -> Tuple[float, int]:
    """The pacer's window in seconds and its cap per window: Cloudflare's, unless the testing knobs say otherwise."""
    window = _window_setting()
    limit = _env_number(RATE_WINDOW_LIMIT_ENV, CLOUDFLARE_WINDOW_LIMIT, lambda v: v >= 1, "a number of requests of at least 1")
    headroom = _env_number(RATE_HEADROOM_ENV, DEFAULT_HEADROOM, lambda v: 0 <= v < 1, "a share from 0 up to (not including) 1")
    return window, window_cap(int(limit), headroom)


def _block_window() -> float:
    """The length of one of Cloudflare's blocks when pacing is off: its window, or the testing knob's when that is usable."""
    try:
        return _window_setting()
    except CloudflareConfigError:
        return CLOUDFLARE_WINDOW  # pacing is off: its settings are not checked


class _Budget:
    """Time spent on one call's retries: wall time, or the waits asked for when sleep is faked."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.slept = 0.0

    def allows(self, delay: float) -> bool:
        spent = max(time.monotonic() - self.started, self.slept)
        return spent + delay <= self.seconds

    def sleep(self, sleep: Callable[[float], None], delay: float) -> None:
        self.slept += delay
        sleep(delay)


class CloudflareClient:
    """A small Cloudflare v4 client on a requests.Session.

    Retry policy (the request was processed or not, and whether sending it again is safe):
    * 429: retried for every method within `retry_budget` seconds whatever the number of attempts (the request was
      not processed), after Retry-After, honoured up to the block's length: the window of the answer's
      Ratelimit-Policy, else the pacer's (Cloudflare's five minutes). A block longer than the budget fails at once.
    * refused connections: retried for every method (the request was not processed).
    * GET, PUT, DELETE: also retried on 5xx, connection reset and read time-out with jittered
      exponential backoff (they are idempotent; a DELETE answered 404 on a retry counts as done).
    * POST, PATCH: on 5xx, reset or read time-out raise OutcomeUnknownError; never re-sent.
    """

    def __init__(
        self,
        api_token: Optional[str] = None,
        api_email: Optional[str] = None,
        api_key: Optional[str] = None,
        api_user_service_key: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        validate_certs: bool = True,
        rate_limit: Optional[float] = DEFAULT_RATE_LIMIT,
        rate_limit_key: Optional[str] = None,
        max_attempts: int = 6,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        log: Optional[Callable[[str], None]] = None,
        sleep: Callable[[float], None] = time.sleep,
        session: Optional[Any] = None,
    ) -> None:
        if not HAS_REQUESTS:
            raise CloudflareConfigError("The Python library requests is required: %s" % REQUESTS_IMPORT_ERROR)
        self._headers = self._auth_headers(api_token, api_email, api_key, api_user_service_key)
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if not re.match(r"^https?://", self.base_url):
            raise CloudflareConfigError("api_base_url must start with http:// or https://, got %r" % self.base_url)
        self.timeout = timeout
        self.verify = validate_certs
        self.max_attempts = max(1, max_attempts)
        self.retry_budget = retry_budget
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.log = log or (lambda message: None)
        self.sleep = sleep
        # one budget per credential, or per label when several tokens of one Cloudflare user share it
        identity = api_token and "token:" + api_token or api_user_service_key and "service-key:" + api_user_service_key or "key:%s:%s" % (api_email, api_key)
        if rate_limit_key:
            identity = "label:" + rate_limit_key
        window, cap = pacing_settings() if rate_limit else (CLOUDFLARE_WINDOW, None)
        self.pacer = Pacer(rate_limit or 0.0, self.base_url + "|" + identity, sleep=sleep, log=self.log, window=window, cap=cap)
        # a 429 is waited out up to one block: this window when the answer names none (the testing knob scales it too)
        self.block_window = window if rate_limit else _block_window()
        self._secrets = tuple(s for s in (api_token, api_key, api_user_service_key) if s)
        self.session = session or self._new_session()
        self.session.headers.update(self._headers)
        self.session.headers["User-Agent"] = USER_AGENT
        self.request_count = 0
        self.rate_limited_count = 0  # answers with HTTP 429

    def _new_session(self) -> Any:
        """A session that reads the environment's proxy and CA settings once, for the API's address.

        requests reads them again on every request otherwise (a scan of the whole environment, a third of a list
        form's time at 10,000 hostnames), and its .netrc lookup could replace the token's header.
        """
        session = requests.Session()
        session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if self.verify is True and ca_bundle:
            self.verify = ca_bundle
        session.trust_env = False
        return session

    @staticmethod
    def _auth_headers(api_token: Optional[str], api_email: Optional[str], api_key: Optional[str], service_key: Optional[str] = None) -> Dict[str, str]:
        hint = AUTH_HINT + (SERVICE_KEY_HINT if service_key is not None else "")
        given = [
            name
            for name, value in (
                ("an API token (api_token, CLOUDFLARE_API_TOKEN)", api_token),
                ("api_email (CLOUDFLARE_EMAIL)", api_email),
                ("api_key (CLOUDFLARE_API_KEY)", api_key),
                ("an Origin CA key (api_user_service_key, CLOUDFLARE_API_USER_SERVICE_KEY)", service_key),
            )
            if value
        ]
        if (api_token or service_key) and len(given) > 1:
            raise CloudflareConfigError(
                "Both %s are set. %s, not both; unset the one you do not mean to use (check the environment of the host running the module)."
                % (" and ".join(given), hint)
            )
        if api_token:
            return {"Authorization": "Bearer " + api_token}
        if service_key:
            return {"X-Auth-User-Service-Key": service_key}
        if api_email and api_key:
            return {"X-Auth-Email": api_email, "X-Auth-Key": api_key}
        if api_email or api_key:
            missing = "api_key (CLOUDFLARE_API_KEY)" if api_email else "api_email (CLOUDFLARE_EMAIL)"
            raise CloudflareConfigError("Global API key authentication needs both api_email and api_key; %s is missing. %s." % (missing, hint))
        raise CloudflareConfigError("No Cloudflare credentials given. %s." % hint)

    # -- public verbs -------------------------------------------------------------------------

    # `expect` (dict or list) is the shape the operation's `result` must have; another shape is an error.

    def get(self, path: str, params: Optional[Dict[str, Any]] = None, expect: Optional[type] = None) -> Any:
        return self.request("GET", path, params=params, expect=expect)[0]

    def post(self, path: str, body: Optional[Dict[str, Any]] = None, expect: Optional[type] = dict) -> Any:
        return self.request("POST", path, body=body, expect=expect)[0]

    def put(self, path: str, body: Optional[Dict[str, Any]] = None, expect: Optional[type] = None) -> Any:
        return self.request("PUT", path, body=body, expect=expect)[0]

    def patch(self, path: str, body: Optional[Dict[str, Any]] = None, expect: Optional[type] = dict) -> Any:
        return self.request("PATCH", path, body=body, expect=expect)[0]

    def delete(self, path: str, expect: Optional[type] = None) -> Any:
        return self.request("DELETE", path, expect=expect)[0]

    def scrub(self, text: Any) -> str:
        """`text` from the server, safe to show: no PEM block, none of this client's credentials."""
        return scrub(text, self._secrets)

    def paginate(self, path: str, params: Optional[Dict[str, Any]] = None, per_page: int = 50, max_passes: int = 3) -> List[Any]:
        """Every item of a paged list, each exactly once.

        Items are de-duplicated by id. When the number of unique items differs from the
        `total_count` the API reports (a list that changed while we paged), the list is read
        again, up to `max_passes` times, and the union of the passes is returned.
        """
        seen: Dict[Any, Any] = {}
        for _attempt in range(max_passes):
            total = None
            for item, total in self._pages(path, params, per_page):
                seen[_item_key(item)] = item
            if total is None or total == len(seen):
                break
            self.log("list %s: %d unique items but total_count %s; reading it again" % (path, len(seen), total))
        return list(seen.values())

    def stream(self, path: str, params: Optional[Dict[str, Any]] = None, per_page: int = 50, max_passes: int = 3) -> Iterator[Any]:
        """Every item of a paged list once, as paginate() reads them, but yielded page by page as each is read.

        Only the ids are kept, so a list of 100,000 never sits whole in memory, and a caller that writes what a
        page holds does so before the next page is read (the page is then at most one page of writes old).
        """
        seen: set = set()
        for _attempt in range(max_passes):
            total = None
            for item, total in self._pages(path, params, per_page):
                key = _item_key(item)
                if key not in seen:
                    seen.add(key)
                    yield item
            if total is None or total == len(seen):
                return
            self.log("list %s: %d unique items but total_count %s; reading it again" % (path, len(seen), total))

    def _pages(self, path: str, params: Optional[Dict[str, Any]], per_page: int) -> Iterator[Tuple[Any, Optional[int]]]:
        page = 1
        keys: set = set()
        while True:
            query = dict(params or {}, page=page, per_page=per_page)
            result, info = self.request("GET", path, params=query, expect=list)
            items = result or []
            info = info or {}
            total = info.get("total_count")
            new = {_item_key(item) for item in items} - keys
            if items and not new or page > MAX_PAGES:
                # An answer that keeps announcing more pages would be read forever.
                raise CloudflareError(
                    "listing %s: page %d %s while the API says more pages follow; stopped reading this inconsistent list"
                    % (path, page, "repeats only items already read" if not new else "is beyond %d pages" % MAX_PAGES),
                    method="GET",
                    path=path,
                )
            keys |= new
            for item in items:
                yield item, total
            total_pages = info.get("total_pages")
            if total_pages is None and total is not None:
                total_pages = -(-int(total) // per_page)
            if not items or (total_pages is not None and page >= total_pages) or (total_pages is None and len(items) < per_page):
                return
            page += 1

    # -- transport ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Optional[Dict[str, Any]] = None,
        body: Optional[Dict[str, Any]] = None,
        expect: Optional[type] = None,
    ) -> Tuple[Any, Optional[Dict[str, Any]]]:
        """Send one API call with the retry policy; return (result, result_info).

        Redirects are never followed: requests would re-send the body (a private key) and the
        X-Auth-* headers to the new address.
        """
        method = method.upper()
        path = path.strip("/")
        url = "%s/%s" % (self.base_url, path)
        budget: Optional[_Budget] = None
        attempt = 0
        limited = 0  # attempts answered 429: bounded by the budget alone, not by max_attempts
        retried = False
        while True:
            attempt += 1
            self.pacer.wait()
            # the budget is for retries: the first pacing wait, up to one window, is not part of it
            budget = budget or _Budget(self.retry_budget)
            self.request_count += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=body if body is not None else None, timeout=self.timeout, verify=self.verify, allow_redirects=False
                )
            except requests.exceptions.RequestException as exc:
                reason, processed, retryable = self._classify_transport_error(exc, url)
                if not retryable:
                    raise CloudflareError(reason, method=method, path=path) from None
                if processed and method not in IDEMPOTENT_METHODS:
                    raise OutcomeUnknownError(
                        "%s; the API may or may not have applied this change, so it was not sent again" % reason, method=method, path=path
                    ) from None
                delay = self._backoff(attempt)
                if not self._may_retry(attempt - limited, budget, delay):
                    raise CloudflareError("%s (gave up after %d attempts)" % (reason, attempt), method=method, path=path) from None
                self.log("%s %s: %s; retrying in %.1fs (attempt %d)" % (method, path, reason, delay, attempt))
                budget.sleep(self.sleep, delay)
                retried = True
                continue

            status = response.status_code
            headers = getattr(response, "headers", None) or {}
            quota, policy_window = parse_ratelimit(headers)
            self.pacer.observe(quota)
            if 300 <= status < 400:
                raise CloudflareError(self._redirect_message(response), status=status, method=method, path=path)
            if status == 429:
                self.rate_limited_count += 1
                delay, asked = self._rate_limit_wait(headers, policy_window)
                if not budget.allows(delay):
                    raise CloudflareError(
                        "rate limited by Cloudflare (HTTP 429) on attempt %d: waiting %.0fs more%s would pass the api_retry_budget "
                        "of %.0fs for one call. Raise api_retry_budget to wait out a longer block, lower api_rate_limit (the limit is "
                        "shared with the dashboard and other tools of the same user), or retry later" % (attempt, delay, asked, self.retry_budget),
                        status=429,
                        errors=self._envelope_errors(response),
                        method=method,
                        path=path,
                    )
                self.log("%s %s: rate limited (HTTP 429); waiting %.1fs%s (attempt %d)" % (method, path, delay, asked, attempt))
                budget.sleep(self.sleep, delay)
                limited += 1
                retried = True
                continue
            if status >= 500:
                if method not in IDEMPOTENT_METHODS:
                    raise OutcomeUnknownError(
                        "server error (HTTP %d); the API may or may not have applied this change, so it was not sent again" % status,
                        status=status,
                        errors=self._envelope_errors(response),
                        method=method,
                        path=path,
                    )
                delay = self._backoff(attempt)
                if self._may_retry(attempt - limited, budget, delay):
                    self.log("%s %s: server error (HTTP %d); retrying in %.1fs (attempt %d)" % (method, path, status, delay, attempt))
                    budget.sleep(self.sleep, delay)
                    retried = True
                    continue
            if status == 404 and method == "DELETE" and retried:
                # An earlier attempt deleted it and we lost the answer.
                return None, None
            return self._unwrap(method, path, response, expect)

    def _redirect_message(self, response: Any) -> str:
        location = response.headers.get("Location") or ""
        target = urlsplit(location).hostname or (location and "a relative address") or "no Location"
        return (
            "the API answered with a redirect (HTTP %d to %s); redirects are never followed, because they would send the request "
            "and its credentials to another address. Check api_base_url (now %s): it must be the API's own address"
            % (response.status_code, self.scrub(target), self.base_url)
        )

    def _rate_limit_wait(self, headers: Any, policy_window: Optional[float]) -> Tuple[float, str]:
        """How long to wait after a 429, and what asked for it (for the log and the message).

        Retry-After, honoured up to the block's length (the answer's policy window, else the pacer's); without a readable
        one, the reset of a used-up policy in `Ratelimit`, else 1 second.
        """
        cap = max(RETRY_AFTER_MIN, policy_window or self.block_window)
        delay = _parse_retry_after(headers.get("Retry-After"), cap)
        if delay is not None:
            return delay, " as Retry-After asks"
        reset = _ratelimit_reset(headers)
        if reset is not None:
            return min(max(reset, RETRY_AFTER_MIN), cap), " for the quota's reset (Ratelimit)"
        return RETRY_AFTER_MIN, ""

    def _may_retry(self, attempt: int, budget: "_Budget", delay: float) -> bool:
        return attempt < self.max_attempts and budget.allows(delay)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # nosec - jitter, not cryptography

    def _classify_transport_error(self, exc: Exception, url: str) -> Tuple[str, bool, bool]:
        """A readable reason, whether the server may have processed the request, and whether retrying can help."""
        host = urlsplit(url).hostname or url
        text = str(exc)
        if isinstance(exc, requests.exceptions.SSLError):
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                return (
                    "TLS certificate verification of %s failed; check api_base_url (%s), or set validate_certs=false only for a test "
                    "endpoint you trust" % (host, self.base_url),
                    False,
                    False,
                )
            return "TLS handshake with %s failed; check api_base_url (%s) and validate_certs" % (host, self.base_url), False, False
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return "connection to the API at %s timed out; check api_base_url (%s)" % (host, self.base_url), False, True
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return "the API did not answer in time (read time-out)", True, True
        if isinstance(exc, requests.exceptions.ConnectionError):
            if any(sign in text for sign in _DNS_FAILURES):
                return "cannot resolve the API host %s; check api_base_url (%s) and the controller's DNS" % (host, self.base_url), False, False
            if "refused" in text.lower() or "NewConnectionError" in text:
                return "connection to the API at %s refused; check api_base_url (%s)" % (host, self.base_url), False, True
            return "connection to the API was reset", True, True
        return "request failed: %s" % type(exc).__name__, True, True

    @staticmethod
    def _decode(response: Any) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    def _envelope_errors(self, response: Any) -> List[Dict[str, Any]]:
        data = self._decode(response)
        return _flatten_errors(data.get("errors"), self._secrets) if isinstance(data, dict) else []

    def _unwrap(self, method: str, path: str, response: Any, expect: Optional[type] = None) -> Tuple[Any, Optional[Dict[str, Any]]]:
        status = response.status_code
        data = self._decode(response)
        if data is not None and may_hold_secrets(response.content or b""):
            data = strip_secrets(data)
        if status >= 400 or (isinstance(data, dict) and data.get("success") is False):
            errors = _flatten_errors(data.get("errors"), self._secrets) if isinstance(data, dict) else []
            message = "; ".join(e["message"] for e in errors if e["message"]) or "the API answered HTTP %d" % status
            error_cls = NotFoundError if status == 404 else CloudflareError
            raise error_cls(message, status=status, errors=errors, method=method, path=path)
        bare = any(m == method and rx.match(path) for m, rx in _BARE_RESPONSES)
        if bare and not (isinstance(data, dict) and "result" in data):
            return (data if isinstance(data, dict) else None), None
        if not isinstance(data, dict):
            what = "an answer that is not JSON" if data is None else "JSON that is not a Cloudflare envelope (%s)" % _shape_name(data)
            raise CloudflareError("the API answered HTTP %d with %s" % (status, what), status=status, method=method, path=path)
        if "result" in data:
            result = data["result"]
        else:
            raise CloudflareError("the API answered HTTP %d without a result" % status, status=status, method=method, path=path)
        if expect is not None and not isinstance(result, expect):
            raise CloudflareError(
                "the API answered HTTP %d with a result of the wrong shape: expected %s, got %s" % (status, _shape_name(expect()), _shape_name(result)),
                status=status,
                method=method,
                path=path,
            )
        info = data.get("result_info")
        return result, info if isinstance(info, dict) else None


def find_zone_id(client: CloudflareClient, name: str) -> str:
    """The id of the zone called `name`; a clear error when there is none or more than one."""
    wanted = normalize_hostname(name)
    zones = [z for z in client.paginate("zones", params={"name": wanted}) if str(z.get("name", "")).lower() == wanted]
    if not zones:
        raise CloudflareError("no zone named %r is visible to these credentials; check the name or give zone_id" % wanted, method="GET", path="zones")
    if len(zones) > 1:
        ids = ", ".join("%s (account %s)" % (z.get("id"), (z.get("account") or {}).get("name", "?")) for z in zones)
        raise CloudflareError("more than one zone is named %r: %s; give zone_id instead" % (wanted, ids), method="GET", path="zones")
    return zones[0]["id"]
