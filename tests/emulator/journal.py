"""The journal of API requests, and the counts of reads and writes.

Nothing secret is ever stored: credentials appear as their id, and every `private_key` /
`custom_key` field, or any string holding a PEM private key, is replaced by "<redacted>".
"""

from __future__ import annotations

import copy
import datetime
import threading
from typing import Any, Dict, List

from .auth import WRITE_METHODS

SECRET_FIELDS = ("private_key", "custom_key")
REDACTED = "<redacted>"
BRIEF_FIELDS = ("seq", "time", "method", "path", "status", "fault", "duration_ms")


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_FIELDS and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and "PRIVATE KEY" in value:
        return REDACTED
    return value


class Journal:
    def __init__(self, bodies: bool = True) -> None:
        self.bodies = bodies
        self._lock = threading.Lock()
        self._entries: List[Dict[str, Any]] = []
        self._reads = self._writes = 0

    def record(self, entry: Dict[str, Any]) -> None:
        """Add one request; request_body and response_body are redacted here."""
        entry = dict(entry, request_body=redact(entry.get("request_body")))
        if self.bodies:
            entry["response_body"] = redact(entry.get("response_body"))
        else:
            entry.pop("response_body", None)
        with self._lock:
            entry["seq"] = len(self._entries) + 1
            entry["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
            self._entries.append(entry)
            if entry["method"] in WRITE_METHODS:
                self._writes += 1
            else:
                self._reads += 1

    def entries(self) -> List[Dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._entries)

    def brief(self) -> List[Dict[str, Any]]:
        """Each entry without its query, headers and bodies: a journal of 100,000 requests read in a second."""
        with self._lock:
            return [{k: e.get(k) for k in BRIEF_FIELDS} for e in self._entries]

    def counts(self) -> Dict[str, int]:
        with self._lock:
            return {"reads": self._reads, "writes": self._writes}

    def reset(self) -> None:
        with self._lock:
            self._entries = []
            self._reads = self._writes = 0
