"""The real parts some tests run beside the emulator (a Pushgateway, nginx): finding their binaries and a free port.

Without a binary a test skips, saying how to install it, except under CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Optional

import pytest


def binary(name: str, install: str, env: Optional[str] = None, sbin: bool = False) -> str:
    """The path of the command `name` (or of the variable `env`); `install` says how to get it. `sbin`: look in
    /usr/sbin too, which a user's PATH may lack."""
    found = (os.environ.get(env) if env else None) or shutil.which(name) or (shutil.which(name, path="/usr/sbin") if sbin else None)
    if found:
        return found
    reason = "%s is missing (%s)" % (name, install)
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
