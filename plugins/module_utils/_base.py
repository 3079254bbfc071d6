# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Ansible side shared by every module: argument specs, the client, zones, and the resource flow.

This is a private file: it may change in any release without notice.

A module declares its argument spec and subclasses CloudflareResource with a few hooks; run()
owns the flow: validate locally, resolve the zone, look up, plan, act (skipped in check mode),
read back, and exit with the result and a diff of facts. API failures become one clear message.
"""

from __future__ import annotations

import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.certops.cloudflare.plugins.module_utils._client import (
    DEFAULT_RATE_LIMIT,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    CloudflareClient,
    CloudflareConfigError,
    CloudflareError,
    OutcomeUnknownError,
    find_zone_id,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    CertificateError,
)


class InputError(ValueError):
    """Bad input found before any API call; the message tells the user what to change."""


def auth_argument_spec() -> Dict[str, Any]:
    """Options of the certops.cloudflare.auth doc fragment."""
    return dict(
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_TOKEN"])),
        api_email=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_EMAIL"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_KEY"])),
        api_base_url=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_BASE_URL"])),
        api_timeout=dict(type="float", default=30.0),
        api_rate_limit=dict(type="float", fallback=(env_fallback, ["CLOUDFLARE_API_RATE_LIMIT"])),
        validate_certs=dict(type="bool", default=True),
    )


def zone_argument_spec() -> Dict[str, Any]:
    """Options of the certops.cloudflare.zone doc fragment."""
    return dict(zone_id=dict(type="str"), zone=dict(type="str"))


def build_module(argument_spec: Dict[str, Any], zone_scoped: bool = True, **kwargs: Any) -> AnsibleModule:
    """An AnsibleModule with the auth (and zone) options merged into the module's own."""
    spec = auth_argument_spec()
    constraints: Dict[str, List[Any]] = {"mutually_exclusive": [], "required_one_of": []}
    if zone_scoped:
        spec.update(zone_argument_spec())
        constraints["mutually_exclusive"].append(["zone_id", "zone"])
        constraints["required_one_of"].append(["zone_id", "zone"])
    spec.update(argument_spec)
    for name in constraints:
        kwargs[name] = constraints[name] + list(kwargs.get(name) or [])
    kwargs.setdefault("supports_check_mode", True)
    module = AnsibleModule(argument_spec=spec, **kwargs)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(CRYPTOGRAPHY_IMPORT_ERROR))
    return module


def resolve_zone_id(client: CloudflareClient, params: Dict[str, Any]) -> str:
    """`zone_id`, or the id of the zone named `zone` (one lookup)."""
    return params.get("zone_id") or find_zone_id(client, params["zone"])


def client_from_module(module: AnsibleModule) -> CloudflareClient:
    p = module.params
    rate = p.get("api_rate_limit")
    return CloudflareClient(
        api_token=p.get("api_token"),
        api_email=p.get("api_email"),
        api_key=p.get("api_key"),
        base_url=p.get("api_base_url"),
        timeout=p.get("api_timeout") or 30.0,
        validate_certs=p.get("validate_certs", True),
        rate_limit=rate if rate is not None else DEFAULT_RATE_LIMIT,
        log=module.log,
    )


def read_file_option(values: Dict[str, Any], content_option: str, path_option: str, where: str = "") -> Optional[str]:
    """`values[content_option]`, or the text of the file `values[path_option]` names.

    `values` is the module's params or one item of a list option; `where` names that item in errors.
    """
    if values.get(content_option) is not None:
        return values[content_option]
    path = values.get(path_option)
    if path is None:
        return None
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise InputError("%s%s: cannot read %s: %s" % (where + "." if where else "", path_option, path, exc.strerror)) from None


def poll(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float, what: str, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Call `fetch` until `done(value)`, backing off up to 10 s between reads; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() + delay > deadline:
            raise CloudflareError("timed out after %ds waiting for %s" % (timeout, what))
        sleep(delay)
        delay = min(delay * 2, 10.0)


class Step:
    """One write of a plan: `key` says what it changes, so a re-read can tell whether it happened."""

    def __init__(self, key: str, call: Callable[[], Any]) -> None:
        self.key = key
        self.call = call

    def __repr__(self) -> str:
        return "Step(%r)" % self.key


class CloudflareResource:
    """The flow every managing module shares. Subclasses set RESULT_KEY and implement the hooks."""

    RESULT_KEY = ""
    NOUN = "resource"

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self._client: Optional[CloudflareClient] = None
        self._zone_id: Optional[str] = module.params.get("zone_id")

    # -- shared helpers -------------------------------------------------------------------------

    @property
    def client(self) -> CloudflareClient:
        if self._client is None:
            self._client = client_from_module(self.module)
        return self._client

    @property
    def zone_id(self) -> str:
        """`zone_id`, or the id of the zone named `zone` (one lookup, cached)."""
        if self._zone_id is None:
            self._zone_id = resolve_zone_id(self.client, self.params)
        return self._zone_id

    @property
    def zone_label(self) -> str:
        return self.params.get("zone") or self.params.get("zone_id") or ""

    # -- hooks ----------------------------------------------------------------------------------

    def validate(self) -> None:
        """Local checks of the input, before any API call. Raise InputError or CertificateError."""

    def describe(self) -> str:
        """Names the resource in messages."""
        return self.NOUN

    def lookup(self) -> Any:
        """The current API state of the resource, or None when it does not exist."""
        raise NotImplementedError

    def to_view(self, current: Any) -> Optional[Dict[str, Any]]:
        """The secret-free view returned as the result and used in the diff."""
        return current

    def plan(self, current: Any) -> Tuple[List[Step], Optional[Dict[str, Any]]]:
        """The writes that bring `current` to what the user asked for, and the predicted view."""
        raise NotImplementedError

    def settle(self, view: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """Wait for the resource to be ready when asked to; return the final view.

        Called after the writes, and also when nothing changed but the resource exists (never in check mode).
        """
        return view

    # -- flow -----------------------------------------------------------------------------------

    def run(self) -> None:
        with error_handling(self.module, lambda: "manage %s" % self.describe()):
            self.client  # pylint: disable=pointless-statement  # bad credentials fail before anything else
            self.validate()
            current = self.lookup()
            before = self.to_view(current)
            steps, predicted = self.plan(current)
            changed = bool(steps)
            if changed and not self.module.check_mode:
                after = self.settle(self.to_view(self.apply(steps)))
            elif changed:
                after = predicted
            else:
                # Nothing to change, but a resource still getting ready (a re-run after a wait timed out) is waited for too.
                after = before if self.module.check_mode or before is None else self.settle(before)
            result: Dict[str, Any] = {"changed": changed, self.RESULT_KEY: after}
            if self.module._diff:
                result["diff"] = {"before": before or {}, "after": after or {}}
            self.module.exit_json(**result)

    def apply(self, steps: List[Step]) -> Any:
        """Run the steps; return the state read back afterwards.

        A write whose outcome is unknown is settled by reading the state again: when the new
        plan no longer holds that step, it happened and the rest of the new plan runs; when it
        still does, nothing is re-sent and the task fails saying a re-run is safe.
        """
        pending = list(steps)
        settled = False
        while pending:
            step = pending.pop(0)
            try:
                step.call()
            except OutcomeUnknownError as exc:
                if settled:
                    raise
                settled = True
                self.module.log("outcome of %s unknown (%s); reading the state again" % (step.key, exc.message))
                replanned, _predicted = self.plan(self.lookup())
                if any(s.key == step.key for s in replanned):
                    raise CloudflareError(
                        "%s; reading the state again shows it was not applied. Nothing was re-sent; running the task again is safe" % exc.message,
                        status=exc.status,
                        errors=exc.errors,
                        method=exc.method,
                        path=exc.path,
                    ) from None
                pending = replanned
        return self.lookup()


class error_handling:
    """Turn exceptions into fail_json: input errors plainly, API errors with their codes, bugs with a traceback."""

    def __init__(self, module: AnsibleModule, action: Callable[[], str]) -> None:
        self.module = module
        self.action = action

    def __enter__(self) -> "error_handling":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc is None or isinstance(exc, SystemExit):
            return False
        if isinstance(exc, (InputError, CertificateError, CloudflareConfigError)):
            self.module.fail_json(msg=str(exc))
        if isinstance(exc, CloudflareError):
            codes = ", ".join(str(c) for c in exc.codes)
            msg = "Failed to %s: %s%s" % (self.action(), exc.message, " (code %s)" % codes if codes else "")
            if exc.status:
                msg += " [HTTP %s on %s %s]" % (exc.status, exc.method, exc.path)
            self.module.fail_json(msg=msg, **exc.to_dict())
        self.module.fail_json(msg="Unexpected error: %s: %s" % (type(exc).__name__, exc), exception=traceback.format_exc())
        return True  # pragma: no cover - fail_json exits
