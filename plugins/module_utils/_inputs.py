# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks of the values users give, and the one way hostnames compare: hostnames and API identifiers.

This is a private file: it may change in any release without notice.
No Ansible import: pure functions, raising ValueError with a message that names the option.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Optional

try:  # IDNA 2008 with UTS 46 mapping, as browsers use; requests depends on it
    import idna as _idna
except ImportError:  # pragma: no cover - Python's own IDNA 2003 codec then
    _idna = None

# Ids go into URL paths: anything beyond these characters could reach another route (`/`, `?`, `#`, `..`).
# Their length is not checked: the API's own ids vary (the document gives `ssl.id` 36 characters, others 32).
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
MAX_HOSTNAME_LENGTH = 253  # DNS: 255 octets on the wire, 253 characters written out
MAX_LABEL_LENGTH = 63


def normalize_hostname(value: str) -> str:
    """Hostnames compare lower-cased, without surrounding blanks or a trailing dot."""
    return value.strip().rstrip(".").lower()


def host_set(hosts: Optional[Iterable[Any]]) -> List[str]:
    """A certificate's or a pack's hosts as they compare: normalized, de-duplicated and sorted (order does not matter)."""
    if isinstance(hosts, str):
        hosts = [hosts]
    return sorted({normalize_hostname(str(h)) for h in hosts or []})


def check_id(value: Any, option: str) -> str:
    """An API identifier: letters, digits, `-` and `_` only."""
    text = str(value).strip()
    if not _ID_RE.match(text):
        raise ValueError("%s: %r is not a valid Cloudflare id (only letters, digits, '-' and '_' are allowed)" % (option, _short(text)))
    return text


def check_hostname(value: Any, option: str, wildcard: bool = False) -> str:
    """A hostname lower-cased, without a trailing dot, IDNA names as A-labels (xn--).

    A leading `*.` is accepted only where the API takes wildcards (`wildcard`).
    """
    text = normalize_hostname(str(value))
    if not text:
        raise ValueError("%s: empty hostname" % option)
    prefix = ""
    if text.startswith("*."):
        if not wildcard:
            raise ValueError("%s: %s is a wildcard; this option takes exact hostnames only" % (option, _short(text)))
        prefix, text = "*.", text[2:]
    ascii_name = _to_ascii(text, option)
    labels = ascii_name.split(".")
    for label in labels:
        if not label:
            raise ValueError("%s: %s has an empty label (two dots in a row, or a leading dot)" % (option, _short(prefix + text)))
        if len(label) > MAX_LABEL_LENGTH:
            raise ValueError("%s: %s has a label of %d characters; at most %d are allowed" % (option, _short(prefix + text), len(label), MAX_LABEL_LENGTH))
        if not _LABEL_RE.match(label):
            raise ValueError(
                "%s: %s is not a valid hostname: label %r may hold only letters, digits and inner hyphens" % (option, _short(prefix + text), _short(label))
            )
        if label.startswith("xn--") and not _valid_a_label(label):
            raise ValueError("%s: %s is not a valid hostname: label %r is not a valid IDNA A-label (xn--)" % (option, _short(prefix + text), _short(label)))
    name = prefix + ascii_name
    if len(name) > MAX_HOSTNAME_LENGTH:
        raise ValueError("%s: %s is %d characters long; at most %d are allowed" % (option, _short(name), len(name), MAX_HOSTNAME_LENGTH))
    return name


def _valid_a_label(label: str) -> bool:
    """Whether an `xn--` label decodes to a valid internationalized label."""
    try:
        if _idna is not None:
            _idna.decode(label)
        else:  # pragma: no cover
            label.encode("ascii").decode("idna")
        return True
    except (UnicodeError, ValueError):
        return False


def _to_ascii(text: str, option: str) -> str:
    if text.isascii():
        return text
    try:
        if _idna is not None:
            return _idna.encode(text, uts46=True).decode("ascii")
        return text.encode("idna").decode("ascii")  # pragma: no cover
    except (UnicodeError, ValueError) as exc:
        raise ValueError("%s: %s is not a valid internationalized hostname (%s)" % (option, _short(text), exc)) from None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
