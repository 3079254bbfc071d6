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

import atexit
import json
import os
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.errors import NoLogError

from ansible_collections.certops.cloudflare.plugins.module_utils._client import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_RETRY_BUDGET,
    RETRY_BUDGET_ENV,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    CloudflareClient,
    CloudflareConfigError,
    CloudflareError,
    OutcomeUnknownError,
    find_zone_id,
    scrub,
    strip_secrets,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_hostname, check_id
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import WaitTimeoutError
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    CertificateError,
    holds_private_key,
    private_key_blocks,
)

# Options checked by name in every module, before any API call (see check_inputs).
HOSTNAME_OPTIONS = frozenset(("hostname", "hostnames", "hosts", "zone"))


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
        # a label naming a shared budget, not a secret
        api_rate_limit_key=dict(type="str", no_log=False, fallback=(env_fallback, ["CLOUDFLARE_API_RATE_LIMIT_KEY"])),
        api_retry_budget=dict(type="float", default=DEFAULT_RETRY_BUDGET, fallback=(env_fallback, [RETRY_BUDGET_ENV])),
        validate_certs=dict(type="bool", default=True),
        api_usage_file=dict(type="path"),
    )


def zone_argument_spec() -> Dict[str, Any]:
    """Options of the certops.cloudflare.zone doc fragment."""
    return dict(zone_id=dict(type="str"), zone=dict(type="str"))


# A certificate and its key, each as content or as a path read where the module runs (the certops.cloudflare.material
# doc fragment); `private_key_path` is a path, not a secret, so no_log=False says so to Ansible's no_log heuristics.
MATERIAL_OPTIONS = dict(
    certificate=dict(type="str"),
    certificate_path=dict(type="path"),
    private_key=dict(type="str", no_log=True),
    private_key_path=dict(type="path", no_log=False),
)
MATERIAL_RULES = dict(
    mutually_exclusive=[["certificate", "certificate_path"], ["private_key", "private_key_path"]],
    required_one_of=[["certificate", "certificate_path"], ["private_key", "private_key_path"]],
)


def material_argument_spec(passphrase: bool = True) -> Dict[str, Any]:
    """The certificate and key options, with `private_key_passphrase` unless the caller seals keys itself."""
    spec = dict(MATERIAL_OPTIONS)
    if passphrase:
        spec["private_key_passphrase"] = dict(type="str", no_log=True)
    return spec


def wait_argument_spec(timeout: int = 300) -> Dict[str, Any]:
    """`wait` and `wait_timeout` (the certops.cloudflare.wait doc fragment)."""
    return dict(wait=dict(type="bool", default=False), wait_timeout=dict(type="int", default=timeout))


class NamingModule(AnsibleModule):
    """AnsibleModule whose argument errors name the option.

    ansible-core shows only the first validation error. For a list-of-dicts option with no_log suboptions given a
    string, that is the no_log scan's, which does not name the option ("dictionary requested, could not parse JSON or
    key=value"); the type error that follows does. Show that one instead.
    """

    def fail_json(self, msg: Any = None, **kwargs: Any) -> None:  # pylint: disable=arguments-differ
        result = getattr(self, "validation_result", None)  # not set yet when a failure comes before the validation
        errors = result.errors.errors if result is not None else []  # the plain list behind AnsibleValidationErrorMultiple
        if errors and isinstance(errors[0], NoLogError) and msg == errors[0].msg:
            msg = next((error.msg for error in errors if not isinstance(error, NoLogError)), msg)
        super().fail_json(msg=msg, **kwargs)


def build_module(argument_spec: Dict[str, Any], zone_scoped: bool = True, wildcard_options: Tuple[str, ...] = (), **kwargs: Any) -> AnsibleModule:
    """An AnsibleModule with the auth (and zone) options merged into the module's own, its inputs checked.

    `zone_id` and `zone` may both be given (one from module_defaults, one from the task: a module
    cannot tell which is which); `zone_id` wins. `wildcard_options` names the hostname options
    where the API takes a leading `*.`.
    """
    spec = auth_argument_spec()
    constraints: Dict[str, List[Any]] = {"mutually_exclusive": [], "required_one_of": []}
    if zone_scoped:
        spec.update(zone_argument_spec())
        constraints["required_one_of"].append(["zone_id", "zone"])
    spec.update(argument_spec)
    for name in constraints:
        kwargs[name] = constraints[name] + list(kwargs.get(name) or [])
    kwargs.setdefault("supports_check_mode", True)
    module = NamingModule(argument_spec=spec, **kwargs)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(CRYPTOGRAPHY_IMPORT_ERROR))
    try:
        check_inputs(module, spec, module.params, frozenset(wildcard_options))
    except InputError as exc:
        module.fail_json(msg=str(exc))
    return module


def _checked(value: Any, check: Callable[..., Any], *args: Any) -> Any:
    """`check(item, *args)` for a value or each item of a list; every bad item is named, not the first only."""
    items = value if isinstance(value, list) else [value]
    checked, problems = [], []
    for item in items:
        try:
            checked.append(check(item, *args))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError("; ".join(problems))
    return checked if isinstance(value, list) else checked[0]


def is_certificate_option(name: str, option: Optional[Dict[str, Any]] = None) -> bool:
    """Whether an option holds certificate text: named `certificate` or `*_certificate`, and a string (a flag such as
    custom_hostname's `use_managed_certificate` is not)."""
    return (name == "certificate" or name.endswith("_certificate")) and (option or {}).get("type", "str") == "str"


def check_inputs(module: AnsibleModule, spec: Dict[str, Any], values: Dict[str, Any], wildcards: frozenset, where: str = "") -> None:
    """The checks every module gets from the names of its options, suboptions included, before any API call.

    `*_id`: characters an id may hold; `hostname(s)`, `hosts`, `zone`: valid hostnames, rewritten
    lower-cased and as A-labels; `*timeout` and `api_retry_budget`: positive; `api_rate_limit`: not negative; certificate
    options: no private key (which would show, since they are not no_log).
    """
    for name, option in spec.items():
        value = values.get(name)
        if value is None:
            continue
        label = where + name
        if name == "id" or name.endswith("_id"):
            values[name] = _checked(value, check_id, label)
        elif name in HOSTNAME_OPTIONS:
            values[name] = _checked(value, check_hostname, label, name in wildcards)
        if (name.endswith("timeout") or name == "api_retry_budget") and not value > 0:
            raise InputError("%s must be a positive number of seconds, not %s" % (label, value))
        if name == "api_rate_limit" and value < 0:
            raise InputError("api_rate_limit must be 0 (no pacing) or a positive number of requests per second, not %s" % value)
        if is_certificate_option(name, option) and isinstance(value, str) and holds_private_key(value):
            module.no_log_values.update(private_key_blocks(value))
            raise InputError("%s holds a private key; give only the certificate (and its chain) there, and the key in the private key option" % label)
        suboptions = option.get("options")
        if suboptions:
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    check_inputs(module, suboptions, item, wildcards, "%s%s[%d]." % (where, name, index) if isinstance(value, list) else label + ".")


def resolve_zone_id(client: CloudflareClient, params: Dict[str, Any]) -> str:
    """`zone_id`, or the id of the zone named `zone` (one lookup)."""
    return params.get("zone_id") or find_zone_id(client, params["zone"])


def client_from_module(module: AnsibleModule) -> CloudflareClient:
    p = module.params
    rate = p.get("api_rate_limit")
    client = CloudflareClient(
        api_token=p.get("api_token"),
        api_email=p.get("api_email"),
        api_key=p.get("api_key"),
        # "" where the module has the option but it is not set: messages about credentials then name it too
        api_user_service_key=p.get("api_user_service_key") or ("" if "api_user_service_key" in p else None),
        base_url=p.get("api_base_url"),
        timeout=p.get("api_timeout") or 30.0,
        validate_certs=p.get("validate_certs", True),
        rate_limit=rate if rate is not None else DEFAULT_RATE_LIMIT,
        rate_limit_key=p.get("api_rate_limit_key"),
        retry_budget=p.get("api_retry_budget") or DEFAULT_RETRY_BUDGET,
        log=module.log,
    )
    if p.get("api_usage_file"):
        atexit.register(record_usage, client, p["api_usage_file"])
    return client


def record_usage(client: CloudflareClient, path: str) -> None:
    """Append this module run's API requests and HTTP 429 answers to `path` as one JSON line (O_APPEND: the lines of
    runs that end at once do not mix). Counting is for metrics: a file that cannot be written is left alone."""
    line = json.dumps({"requests": client.request_count, "rate_limited": client.rate_limited_count}) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("ascii"))
        finally:
            os.close(fd)
    except OSError:
        pass


def read_text_file(path: str, label: str, not_text: str = "is not a UTF-8 text file") -> str:
    """The text of the file at `path`; an InputError naming `label` when it cannot be read or is not text (`not_text`)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise InputError("%s: cannot read %s: %s" % (label, path, exc.strerror)) from None
    except UnicodeDecodeError:
        raise InputError("%s: %s %s" % (label, path, not_text)) from None


def read_file_option(values: Dict[str, Any], content_option: str, path_option: str, where: str = "") -> Optional[str]:
    """`values[content_option]`, or the text of the file `values[path_option]` names.

    `values` is the module's params or one item of a list option; `where` names that item in errors.
    """
    if values.get(content_option) is not None:
        return values[content_option]
    path = values.get(path_option)
    if path is None:
        return None
    label = (where + "." if where else "") + path_option
    text = read_text_file(path, label, "is not a PEM text file")
    if is_certificate_option(content_option) and holds_private_key(text):
        # A combined file: its key would be sent as part of the certificate.
        raise InputError("%s: %s holds a private key; give a file with only the certificate (and its chain), and the key in the key option" % (label, path))
    return text


# What a step's call returns when it decided at run time not to write (for example, a replaced object kept
# because its successor is not ready): not a write, nothing to check.
SKIPPED = object()


class Step:
    """One write of a plan: `key` says what it changes, so a re-read can tell whether it happened.

    `check(answer, state)` judges the write by its own answer: it returns the state after the write
    (what lookup() would return), raises unexpected_answer() when the answer does not show the
    change, or returns None where the API answers bare and only a read can tell. Without `check`
    the state is read back after the writes.
    """

    def __init__(self, key: str, call: Callable[[], Any], check: Optional[Callable[[Any, Any], Any]] = None) -> None:
        self.key = key
        self.call = call
        self.check = check

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
        self.written: List[str] = []  # the writes the API accepted, for `changed` and for messages after a failure
        self.resent = False  # a write whose outcome was unknown, proven not applied by a read, was sent once more

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
        return self.params.get("zone_id") or self.params.get("zone") or ""

    def answer_id(self, step_key: str, answer: Any, what: str) -> str:
        """The id in a write's answer, checked like an id option; the error of unexpected_answer() otherwise."""
        found = answer.get("id") if isinstance(answer, dict) else None
        if not found or not isinstance(found, str):
            raise self.unexpected_answer(step_key, "has no %s id" % what, answer)
        try:
            return check_id(found, "id")
        except ValueError:
            raise self.unexpected_answer(step_key, "has an id that is not a Cloudflare id", answer) from None

    def unexpected_answer(self, step_key: str, problem: str, answer: Any) -> CloudflareError:
        """The error for a write whose answer does not show it: what was sent, what came back, nothing secret."""
        return CloudflareError(
            "the API accepted the write (%s) but its answer %s; it came back as %s. The change may not have been applied: "
            "nothing further was sent; check the state (for example with the _info module) and run the task again"
            % (step_key, problem, summarize_answer(answer, self.client.scrub))
        )

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
        with error_handling(self.module, lambda: "manage %s" % self.describe(), lambda: self.written):
            self.client  # pylint: disable=pointless-statement  # bad credentials fail before anything else
            self.validate()
            current = self.lookup()
            before = self.to_view(current)
            steps, predicted = self.plan(current)
            changed = bool(steps)
            if changed and not self.module.check_mode:
                after = self.settle(self.to_view(self.apply(steps, current)))
            elif changed:
                after = predicted
            else:
                # Nothing to change, but a resource still getting ready (a re-run after a wait timed out) is waited for too.
                after = before if self.module.check_mode or before is None else self.settle(before)
            result: Dict[str, Any] = {"changed": changed, self.RESULT_KEY: after}
            result.update(self.extra_result())
            if self.resent:
                result["resent"] = True
            if self.module._diff:
                result["diff"] = self.diff(before, after, current)
            self.module.exit_json(**result)

    def extra_result(self) -> Dict[str, Any]:
        """Result keys beside RESULT_KEY, once the run is done (for example what it removed)."""
        return {}

    def diff(self, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]], current: Any) -> Dict[str, Any]:
        """The diff of the views; a module adds what else the change touches."""
        return {"before": before or {}, "after": after or {}}

    def apply(self, steps: List[Step], current: Any = None) -> Any:
        """Run the steps; return the state afterwards, from the writes' own answers where they show it.

        The state is read again only when a step cannot tell from its answer (see Step). A write
        whose outcome is unknown is settled by reading the state again: when the new plan no longer
        holds that step, it happened and the rest of the new plan runs; when it still does, the read
        proves it was not applied, so the new plan runs once more, that step included (`resent`). A
        second unknown outcome fails the task saying a re-run is safe.
        """
        pending = list(steps)
        settled = False
        state, read_back = current, False
        while pending:
            step = pending.pop(0)
            try:
                answer = step.call()
            except OutcomeUnknownError as exc:
                if settled:
                    raise exc.with_message(
                        "%s (after one more try, made when a read showed the first was not applied); running the task again is safe, as it reads "
                        "the state first" % exc.message,
                        CloudflareError,
                    ) from None
                settled = True
                self.module.log("outcome of %s unknown (%s); reading the state again" % (step.key, exc.message))
                state = self.lookup()
                replanned, _predicted = self.plan(state)
                if any(s.key == step.key for s in replanned):
                    self.module.log("reading the state again shows %s was not applied; sending it once more" % step.key)
                    self.resent = True
                else:
                    self.written.append(step.key)
                pending = replanned
                continue
            if answer is SKIPPED:
                continue
            self.written.append(step.key)
            new_state = step.check(answer, state) if step.check else None
            if new_state is None:
                read_back = True
            else:
                state = new_state
        return self.lookup() if read_back else state


def summarize_answer(answer: Any, scrub_text: Callable[[Any], str] = scrub, limit: int = 300) -> str:
    """An API answer as short, secret-free text for a message."""
    try:
        text = json.dumps(strip_secrets(answer), sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(answer)
    text = scrub_text(text)
    return text if len(text) <= limit else text[:limit] + "..."


class error_handling:
    """Turn exceptions into fail_json: input errors plainly, API errors with their codes, bugs with a traceback."""

    def __init__(self, module: AnsibleModule, action: Callable[[], str], written: Callable[[], List[str]] = list) -> None:
        self.module = module
        self.action = action
        self.written = written

    def __enter__(self) -> "error_handling":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc is None or isinstance(exc, SystemExit):
            return False
        # A failure after a write still changed something: say so, and what.
        written = list(self.written())
        extra: Dict[str, Any] = {"changed": True} if written else {}
        done = " Already changed before this failure: %s." % "; ".join(written) if written else ""
        if isinstance(exc, (InputError, CertificateError, CloudflareConfigError)):
            text = str(exc)
            self.module.fail_json(msg=text + ("." if done and not text.endswith(".") else "") + done, **extra)
        if isinstance(exc, WaitTimeoutError):
            # A flag to test in a playbook (failed_when), never the message.
            extra["timed_out"] = True
        if isinstance(exc, CloudflareError):
            self.module.fail_json(msg="Failed to %s: %s%s" % (self.action(), exc.detail(), done), **dict(exc.to_dict(), **extra))
        self.module.fail_json(msg="Unexpected error: %s: %s%s" % (type(exc).__name__, exc, done), exception=traceback.format_exc(), **extra)
        return True  # pragma: no cover - fail_json exits
