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
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple
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


class RateLimiter:
    """At most `limit` requests per `window` seconds per credential; past that, 429 until the window ends.

    Cloudflare allows 1,200 requests per five minutes and then blocks for the rest of the window;
    tests scale the window down (1,200 requests per 30 s in the benchmark's rate-limited row).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.limit: Optional[int] = None
        self.window = 300.0
        self._windows: Dict[str, List[float]] = {}

    def configure(self, limit: Optional[int], window: float = 300.0) -> None:
        with self._lock:
            self.limit, self.window, self._windows = limit, float(window), {}

    def check(self, identity: str, now: float) -> Optional[int]:
        """None when the request may pass, else the Retry-After seconds."""
        with self._lock:
            if self.limit is None:
                return None
            start, used = self._windows.get(identity, (now, 0))
            if now >= start + self.window:
                start, used = now, 0
            self._windows[identity] = [start, used + 1]
            if used + 1 <= self.limit:
                return None
            return max(1, math.ceil(start + self.window - now))

    def describe(self) -> Dict[str, Any]:
        return {"limit": self.limit, "window": self.window}
