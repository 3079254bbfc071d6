"""Injected faults and the rate-limit mode.

A fault rule applies to requests whose method equals `method` (any if None) and whose path
(e.g. "/client/v4/zones/<id>/custom_hostnames") matches the regular expression `path` (re.search;
any if None). It fires for the next `count` matching requests; with `probability` each matching
request fires with that chance (random.Random(seed)), at most `count` times (None: no limit).
Kinds: "429" (with Retry-After), "500", "502", "503", "reset_before" (connection reset, request
not processed), "reset_after" (processed, then reset), "slow" (processed, answered after `delay` s),
and three that answer without processing the request:

* "unapplied": a success that changed nothing. `answer` "stale" (default): status 200 and what a
  GET of the same path answers right now (the object unchanged; `{"result": {}}` in the success
  envelope for a POST, which creates an object, and when that GET does not exist or fails); "empty": 200 with `"result": null`;
  "no_result": 200 with an envelope that has no `result` key at all; "not_json": 200 with an HTML
  page instead of JSON, as a proxy or captive portal in the way would answer.
* "redirect": `status` (301, 302, 303, 307 or 308; default 307) with `Location: <location>`
  (required, an absolute http(s) URL) and the body `{}`.
* "echo": 400 with a failure envelope echoing the raw request body (at most 20000 characters),
  as a server that reflects the request (which may hold a private key) in its error. `answer`
  "list" (default): `errors: [{"code": 1000, "message": "Invalid request: <body>"}]`; "string":
  `errors` is the plain string "Invalid request: <body>" (a malformed envelope); "escaped": as
  "list" with the body JSON-encoded once more (newlines appear as `\\n`).

`answer` applies only to "unapplied" and "echo", `status` and `location` only to "redirect".

And one for paging: "endless_pages" answers a list GET with its first page (the request's other
query parameters kept) under `result_info` claiming one page more than the one asked for (page N of
N+1, `total_count` to match), as a server whose paging is broken; other requests are processed
normally. It fires for `count` requests like any rule: use `count=None` only with a client that
gives up on its own.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Deque, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

KINDS = ("429", "500", "502", "503", "reset_before", "reset_after", "slow", "unapplied", "redirect", "echo", "endless_pages")
ANSWERS = {"unapplied": ("stale", "empty", "no_result", "not_json"), "echo": ("list", "string", "escaped")}
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
ECHO_LIMIT = 20000  # characters of the request body an "echo" fault sends back


@dataclass
class FaultRule:
    kind: str
    method: Optional[str] = None
    path: Optional[str] = None
    count: Optional[int] = 1
    probability: Optional[float] = None
    seed: Optional[int] = None
    retry_after: Optional[float] = 1.0  # None: a 429 without Retry-After
    delay: float = 1.0
    answer: Optional[str] = None
    status: Optional[int] = None
    location: Optional[str] = None
    id: int = 0
    fired: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def fires(self, method: str, path: str) -> bool:
        if self.count is not None and self.fired >= self.count:
            return False
        if (self.method and self.method.upper() != method) or (self.path and not re.search(self.path, path)):
            return False
        if self.probability is not None and self._random.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def describe(self) -> Dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: List[FaultRule] = []
        self._ids = itertools.count(1)

    def add(
        self,
        kind: Any,
        method: Optional[str] = None,
        path: Optional[str] = None,
        count: Optional[int] = 1,
        probability: Optional[float] = None,
        seed: Optional[int] = None,
        retry_after: Optional[float] = 1.0,
        delay: float = 1.0,
        answer: Optional[str] = None,
        status: Optional[int] = None,
        location: Optional[str] = None,
    ) -> Dict[str, Any]:
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError("fault kind must be one of %s, not %r" % (", ".join(KINDS), kind))
        if path is not None:
            re.compile(path)
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        answer = _check_answer(kind, answer)
        status, location = _check_redirect(kind, status, location)
        rule = FaultRule(
            kind,
            method,
            path,
            count,
            probability,
            seed,
            retry_after,
            delay,
            answer=answer,
            status=status,
            location=location,
            id=next(self._ids),
        )
        with self._lock:
            self._rules.append(rule)
        return rule.describe()

    def pick(self, method: str, path: str) -> Optional[FaultRule]:
        """The first rule that fires for this request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.fires(method, path):
                    return rule
        return None

    def rules(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules = []


def _check_answer(kind: str, answer: Optional[str]) -> Optional[str]:
    """The answer variant of an "unapplied" or "echo" rule (its default when None)."""
    if kind not in ANSWERS:
        if answer is not None:
            raise ValueError("answer applies only to the fault kinds %s, not to %r" % (", ".join(ANSWERS), kind))
        return None
    if answer is None:
        return ANSWERS[kind][0]
    if answer not in ANSWERS[kind]:
        raise ValueError("answer of a %r fault must be one of %s, not %r" % (kind, ", ".join(ANSWERS[kind]), answer))
    return answer


def _check_redirect(kind: str, status: Optional[int], location: Optional[str]) -> Tuple[Optional[int], Optional[str]]:
    """The status and Location of a "redirect" rule (status 307 when None)."""
    if kind != "redirect":
        if status is not None or location is not None:
            raise ValueError("status and location apply only to the fault kind 'redirect', not to %r" % kind)
        return None, None
    if status is None:
        status = 307
    if isinstance(status, bool) or not isinstance(status, int) or status not in REDIRECT_STATUSES:
        raise ValueError("status of a redirect fault must be one of %s, not %r" % (", ".join(map(str, REDIRECT_STATUSES)), status))
    if not isinstance(location, str) or not location:
        raise ValueError("a redirect fault needs a location (an absolute http or https URL)")
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in location for c in "\r\n"):
        raise ValueError("location of a redirect fault must be an absolute http or https URL, not %r" % location)
    return status, location


# The error of a request refused by the rate limit, as an answer on the Cloudflare Community forum quotes the API's
# ("More than 1200 requests per 300 seconds reached. ..."); the code is unverified against the live API.
RATE_LIMIT_CODE = 10100
RATE_LIMIT_POLICY = "default"


@dataclass
class RateDecision:
    """What the rate limit says of one request: `retry_after` (None: it passes) and the headers of its answer."""

    retry_after: Optional[int]
    headers: Dict[str, str]


class RateLimiter:
    """At most `limit` requests per trailing `window` seconds per credential; past that, every request of the credential
    is refused (429) for one whole `window` from the request that went over.

    Cloudflare's "Rate limits" page (https://developers.cloudflare.com/fundamentals/api/reference/limits/): 1,200
    requests per five minutes per user; over it, all API calls for the next five minutes are blocked. Tests scale the
    window down. Refused requests are not counted (unverified against the live API): when a block ends, the requests
    that led to it are one window old, so the quota is whole again. While the mode is on every answer carries
    `Ratelimit` and `Ratelimit-Policy` (Cloudflare's changelog of 2025-09-03), and a refusal `Retry-After`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.limit: Optional[int] = None
        self.window = 300.0
        self._sent: Dict[str, Deque[float]] = {}
        self._blocked_until: Dict[str, float] = {}

    def configure(self, limit: Optional[int], window: float = 300.0) -> None:
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError("limit must be a whole number of requests (or null: off), not %r" % (limit,))
            if isinstance(window, bool) or not isinstance(window, (int, float)) or not (math.isfinite(window) and window > 0):
                raise ValueError("window must be a positive number of seconds, not %r" % (window,))
        with self._lock:
            self.limit, self.window, self._sent, self._blocked_until = limit, float(window), {}, {}

    def check(self, identity: str, now: float) -> Optional[int]:
        """None when the request may pass, else the Retry-After seconds (the request is counted when it passes)."""
        return self.decide(identity, now).retry_after

    def decide(self, identity: str, now: float, count: bool = True) -> RateDecision:
        """Whether this request of `identity` passes, and the rate-limit headers of its answer (none while the mode is off).

        `count=False` only looks (the answer of an injected fault, which the limit never saw).
        """
        with self._lock:
            if self.limit is None:
                return RateDecision(None, {})
            sent = self._sent.setdefault(identity, deque())
            while sent and sent[0] <= now - self.window:
                sent.popleft()
            blocked_until = self._blocked_until.get(identity, 0.0)
            if now < blocked_until:
                retry_after: Optional[int] = max(1, math.ceil(blocked_until - now))
            elif count and len(sent) >= self.limit:
                # this request goes over: every request is refused for one window from now
                self._blocked_until[identity] = blocked_until = now + self.window
                retry_after = max(1, math.ceil(self.window))
            else:
                retry_after = None
                if count:
                    sent.append(now)
            return RateDecision(retry_after, self._headers(sent, now, blocked_until))

    def _headers(self, sent: Deque[float], now: float, blocked_until: float) -> Dict[str, str]:
        limit = int(self.limit or 0)
        if now < blocked_until:
            remaining, reset = 0, blocked_until - now
        else:
            # the quota grows again when the oldest counted request leaves the window
            remaining, reset = max(0, limit - len(sent)), (sent[0] + self.window - now) if sent else 0.0
        headers = {
            "Ratelimit": '"%s";r=%d;t=%d' % (RATE_LIMIT_POLICY, remaining, max(0, math.ceil(reset))),
            "Ratelimit-Policy": '"%s";q=%d;w=%d' % (RATE_LIMIT_POLICY, limit, max(1, math.ceil(self.window))),
        }
        return headers

    def refusal(self) -> Dict[str, Any]:
        """The envelope of a request the limit refused, naming the limit and the window as Cloudflare's does."""
        message = "More than %d requests per %s seconds reached. Please wait and consider throttling your request speed" % (
            int(self.limit or 0),
            ("%d" % self.window) if float(self.window).is_integer() else ("%g" % self.window),
        )
        return {"success": False, "errors": [{"code": RATE_LIMIT_CODE, "message": message}], "messages": [], "result": None}

    def describe(self) -> Dict[str, Any]:
        return {"limit": self.limit, "window": self.window}
