"""Injected faults and the rate-limit mode.

A fault rule applies to requests whose method equals `method` (any if None) and whose path
(e.g. "/client/v4/zones/<id>/custom_hostnames") matches the regular expression `path` (re.search;
any if None). It fires for the next `count` matching requests; with `probability` each matching
request fires with that chance (random.Random(seed)), at most `count` times (None: no limit).
Kinds: "429" (with Retry-After), "500", "502", "503", "reset_before" (connection reset, request
not processed), "reset_after" (processed, then reset), "slow" (processed, answered after `delay` s).
"""

from __future__ import annotations

import itertools
import math
import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

KINDS = ("429", "500", "502", "503", "reset_before", "reset_after", "slow")


@dataclass
class FaultRule:
    kind: str
    method: Optional[str] = None
    path: Optional[str] = None
    count: Optional[int] = 1
    probability: Optional[float] = None
    seed: Optional[int] = None
    retry_after: float = 1.0
    delay: float = 1.0
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
        retry_after: float = 1.0,
        delay: float = 1.0,
    ) -> Dict[str, Any]:
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError("fault kind must be one of %s, not %r" % (", ".join(KINDS), kind))
        if path is not None:
            re.compile(path)
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        rule = FaultRule(kind, method, path, count, probability, seed, retry_after, delay, next(self._ids))
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


class RateLimiter:
    """At most `limit` requests per `window` seconds per credential; past that, 429 until the window ends.

    Cloudflare allows 1,200 requests per five minutes and then blocks for the rest of the window;
    tests scale the window down (clarification 14).
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
