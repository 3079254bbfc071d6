# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Prometheus metrics of a zone's rotation (rotation_metrics): the expiry of every object the report lists, and
facts of the run, written for node_exporter's textfile collector and pushed to a Pushgateway by prometheus_client.

prometheus_client is optional: imported under a guard, and the module says what to install when it is missing.
docs/metrics.md names every metric.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

try:
    from prometheus_client import CollectorRegistry, Gauge, generate_latest, pushadd_to_gateway, write_to_textfile
    from prometheus_client.exposition import basic_auth_handler, default_handler
    from prometheus_client.parser import text_string_to_metric_families

    HAS_PROMETHEUS_CLIENT = True
    PROMETHEUS_CLIENT_IMPORT_ERROR: Optional[ImportError] = None
except ImportError as exc:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_PROMETHEUS_CLIENT = False
    PROMETHEUS_CLIENT_IMPORT_ERROR = exc

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import JsonReader
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import OUTCOMES, serving_expiry

PREFIX = "certops_cloudflare_"
EXPIRY = PREFIX + "certificate_expiry_timestamp_seconds"
LAST_SUCCESS = PREFIX + "rotation_last_success_timestamp_seconds"
OBJECT_LABELS = ("zone", "kind", "name", "key_type", "id")


def file_name(zone: str) -> str:
    """The zone's file in the metrics folder; node_exporter's textfile collector reads the files ending in .prom."""
    return "%s%s.prom" % (PREFIX, zone)


class Run:
    """What the run's metrics say besides the expiries."""

    def __init__(self, zone: str, mode: str, success: bool, end: float, usage: Tuple[int, int]) -> None:
        self.zone, self.mode, self.success, self.end = zone, mode, success, end
        self.requests, self.rate_limited = usage


def report_objects(path: str) -> Iterator[Tuple[Dict[str, str], Optional[float], str]]:
    """Each row of a rotation-report.json, read as it goes: its labels, the expiry of the certificate it serves after
    the run (the one the report's histogram counts; None without one), and its outcome."""
    with JsonReader(path, "report") as reader:
        if reader.kind() != "{":
            raise InputError("report: %s is not the rotation-report.json of certops.cloudflare.rotation_report" % path)
        for key in reader.members():
            if key != "rows":
                continue
            for row in reader.items():
                if isinstance(row, dict):
                    yield object_labels(row), serving_expiry(row), str(row.get("outcome") or "unknown")
        reader.end()


def object_labels(row: Dict[str, Any]) -> Dict[str, str]:
    """Names and ids only: a row's kind, name, key types (comma-separated, as the report lists them) and id."""
    key_types = row.get("key_types")
    key_type = ",".join(str(k) for k in key_types) if isinstance(key_types, list) else str(row.get("key_type") or "")
    return {"kind": str(row.get("kind") or ""), "name": str(row.get("name") or ""), "key_type": key_type, "id": str(row.get("id") or "")}


def read_usage(path: Optional[str]) -> Tuple[int, int]:
    """The API requests and HTTP 429 answers of the run: the sum of the lines the modules added to api_usage_file."""
    requests = limited = 0
    if not path or not os.path.exists(path):
        return requests, limited
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
                requests += int(entry.get("requests") or 0)
                limited += int(entry.get("rate_limited") or 0)
            except (ValueError, TypeError, AttributeError):
                continue  # a line cut short by a crash: the others still count
    return requests, limited


class Previous(NamedTuple):
    """The zone's previous file: its text, the time of the last successful run, and its expiry samples (kept when
    this run has no report). Nothing from a file that is missing or not in the text format."""

    text: Optional[str] = None
    last_success: Optional[float] = None
    expiries: List[Tuple[Dict[str, str], float]] = []


def previous(path: Optional[str]) -> Previous:
    text = read_text(path) if path else None
    try:
        families = list(text_string_to_metric_families(text)) if text is not None else []
    except ValueError:
        return Previous(text)
    last, expiries = None, []
    for family in families:
        for sample in family.samples:
            if sample.name == LAST_SUCCESS:
                last = sample.value
            elif sample.name == EXPIRY:
                expiries.append(({k: sample.labels.get(k, "") for k in OBJECT_LABELS if k != "zone"}, sample.value))
    return Previous(text, last, expiries)


def registry_for(run: Run, report: Optional[str], before: Previous) -> Tuple[Any, Dict[str, Any]]:
    """The registry of the zone's metrics, and what the module returns of it."""
    last, kept = before.last_success, before.expiries
    registry = CollectorRegistry()
    # Left out when there is nothing to say (no report, no previous file): a push then leaves the gateway's samples.
    expiry = None
    if report is not None or kept:
        expiry = Gauge(EXPIRY, "When the certificate each object serves after the run expires (Unix time).", OBJECT_LABELS, registry=registry)
    objects = Gauge(PREFIX + "rotation_objects", "The objects of the zone's last run, by outcome.", ("zone", "outcome"), registry=registry)
    outcomes = dict.fromkeys(OUTCOMES, 0)
    samples = 0
    if report is not None:
        for labels, expires, outcome in report_objects(report):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if expires is not None and expiry is not None:
                expiry.labels(zone=run.zone, **labels).set(expires)
                samples += 1
    else:
        for labels, expires in kept:
            expiry.labels(zone=run.zone, **labels).set(expires)  # type: ignore[union-attr]  # made above when kept
            samples += 1
    for outcome, count in outcomes.items():
        objects.labels(zone=run.zone, outcome=outcome).set(count)
    if run.success and run.mode == "rotate":
        last = run.end
    run_gauges = (
        ("rotation_due_without_material", "Objects due for rotation without new material in the last run.", outcomes.get("due", 0)),
        ("rotation_api_requests", "API requests the last run sent.", run.requests),
        ("rotation_api_rate_limited", "API requests of the last run that Cloudflare answered with HTTP 429.", run.rate_limited),
        ("rotation_end_timestamp_seconds", "When the last run ended (Unix time).", run.end),
        ("rotation_success", "1 when the last run completed, else 0.", 1 if run.success else 0),
    )
    for name, help_text, value in run_gauges:
        Gauge(PREFIX + name, help_text, ("zone", "mode"), registry=registry).labels(zone=run.zone, mode=run.mode).set(value)
    if last is not None:
        Gauge(LAST_SUCCESS, "When the last rotate run that completed ended (Unix time).", ("zone",), registry=registry).labels(zone=run.zone).set(last)
    facts = {
        "expiry_samples": samples,
        "outcomes": {k: v for k, v in outcomes.items() if v},
        "api_requests": run.requests,
        "api_rate_limited": run.rate_limited,
        "last_success": last,
        "kept_expiries": report is None and bool(kept),
    }
    return registry, facts


def exposition(registry: Any) -> str:
    """The text the file holds (and the push sends)."""
    return generate_latest(registry).decode("utf-8")


def read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def write(registry: Any, directory: str, zone: str) -> str:
    """The zone's file, written whole and renamed into place (prometheus_client's write_to_textfile)."""
    path = os.path.join(directory, file_name(zone))
    write_to_textfile(path, registry)
    return path


def push(registry: Any, url: str, job: str, zone: str, timeout: float, username: Optional[str] = None, password: Optional[str] = None) -> None:
    """Push to the zone's group (job, zone) with POST: each metric pushed replaces the group's metric of that name
    whole (an object gone from the zone goes), and a metric not pushed stays (the last success a failed run cannot
    give, the expiries a run without report cannot)."""

    def handler(url: str, method: str, timeout: Optional[float], headers: List[Tuple[str, str]], data: bytes) -> Any:
        if username is not None:
            return basic_auth_handler(url, method, timeout, headers, data, username, password)
        return default_handler(url, method, timeout, headers, data)

    pushadd_to_gateway(url, job=job, registry=registry, grouping_key={"zone": zone}, timeout=timeout, handler=handler)
