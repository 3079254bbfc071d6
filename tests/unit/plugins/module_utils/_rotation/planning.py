"""Helpers of the planner's unit tests: times relative to now, and new material written as the files a plan takes."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Dict, Optional

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat

NOW = datetime.datetime.now(datetime.timezone.utc)


def at(days: float) -> str:
    """An API time `days` from NOW."""
    return isoformat(NOW + datetime.timedelta(days=days))


def files(tmp_path: Path, label: str, leaf: Any, chain: Optional[str] = None) -> Dict[str, str]:
    """The leaf's chain (or `chain`, for a chain as a user may give it) and its key as `<label>.pem` and `<label>.key`."""
    (tmp_path / (label + ".pem")).write_text(leaf.chain_pem if chain is None else chain)
    (tmp_path / (label + ".key")).write_text(leaf.key_pem)
    return {"certificate_path": str(tmp_path / (label + ".pem")), "private_key_path": str(tmp_path / (label + ".key"))}
