# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The files the rotation's stages hand to each other, in the role's private directory, and the material they name.

This is a private file: it may change in any release without notice.

Ansible copies, checks and templates every dictionary of a task's arguments and results; a path costs nothing. So the
lists that grow with the zone (the custom hostnames, the plan, what was applied, what the edge served) travel as files
(docs/rotation.md lists them). Every file is written whole and renamed into place; every file read is shape-checked,
since a file can hold anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any, Dict, List, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, read_text_file
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import KEY_TYPES, CertificateError, load_private_key, private_key_to_pem


def write_atomically(path: str, text: str, mode: int = 0o600) -> None:
    """Write a temporary file next to `path`, then rename it over `path`: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".certops-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename: after a crash, the old file or the new one
        os.chmod(tmp, mode)  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json_file(path: str, data: Any, option: str) -> None:
    try:
        write_atomically(path, json.dumps(data, separators=(",", ":")))
    except (IOError, OSError) as exc:
        raise InputError("%s: cannot write %s: %s" % (option, path, exc.strerror)) from None


class JsonListWriter:
    """A JSON object with lists written item by item, so a file of 100,000 hostnames never sits whole in memory.

    Use as a context manager: `head` (a dict) is written first, then each `add(key, item)` appends to the list `key`
    (keys in the order of `lists`: items of a later list are spooled to a temporary file until the earlier ones end).
    The file appears at `path` (mode 0600) only when the block ends without an error, renamed into place whole.
    """

    def __init__(self, path: str, option: str, head: Dict[str, Any], lists: Tuple[str, ...]) -> None:
        self.path, self.option, self.head, self.lists = path, option, head, lists
        self.counts = {key: 0 for key in lists}
        self._spools: Dict[str, Any] = {}
        self._handle: Any = None
        self._tmp = ""

    def __enter__(self) -> "JsonListWriter":
        try:
            fd, self._tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(self.path)), prefix=".certops-", suffix=".tmp")
        except (IOError, OSError) as exc:
            raise InputError("%s: cannot write %s: %s" % (self.option, self.path, exc.strerror)) from None
        self._handle = os.fdopen(fd, "w", encoding="utf-8")
        self._handle.write(json.dumps(self.head, separators=(",", ":"))[:-1] + ("," if self.head else "") + json.dumps(self.lists[0]) + ":[")
        for key in self.lists[1:]:  # the first list goes straight to the file; the others wait their turn
            self._spools[key] = tempfile.TemporaryFile("w+", encoding="utf-8", dir=os.path.dirname(self._tmp))
        return self

    def add(self, key: str, item: Any) -> None:
        handle = self._spools.get(key, self._handle)
        handle.write(("," if self.counts[key] else "") + json.dumps(item, separators=(",", ":")))
        self.counts[key] += 1

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        try:
            if exc_type is None:
                self._handle.write("]")
                for key in self.lists[1:]:
                    spool = self._spools[key]
                    spool.seek(0)
                    self._handle.write("," + json.dumps(key) + ":[")
                    while True:
                        chunk = spool.read(1 << 20)
                        if not chunk:
                            break
                        self._handle.write(chunk)
                    self._handle.write("]")
                self._handle.write("}")
                self._handle.flush()
                os.fsync(self._handle.fileno())  # on disk before the rename: after a crash, the old file or the new one
        finally:
            self._handle.close()
            for spool in self._spools.values():
                spool.close()
        if exc_type is not None:
            os.unlink(self._tmp)
            return
        os.replace(self._tmp, self.path)


def read_json_file(path: str, option: str) -> Any:
    not_json = "does not hold JSON; give the file the module named there wrote"
    text = read_text_file(path, option, not_json)
    try:
        return json.loads(text)
    except ValueError:
        raise InputError("%s: %s %s" % (option, path, not_json)) from None


def check_dest_dir(path: str, option: str = "dest") -> None:
    """Fail before any call when the file `path` cannot be written: its directory is missing or not writable."""
    target = os.path.dirname(os.path.abspath(path))
    if not (os.path.isdir(target) and os.access(target, os.W_OK | os.X_OK)):
        raise InputError("%s: cannot write %s: its directory %s does not exist or is not writable" % (option, path, target))


# -- the custom hostnames, as custom_hostname_cert_info returns them ----------------------------------------------


def read_hostnames(value: Any, option: str) -> List[Dict[str, Any]]:
    """Custom hostnames as custom_hostname_cert_info returns them: the list, its JSON text, or the file its `dest` wrote."""
    expected = "%s must be the list custom_hostname_cert_info returns as custom_hostnames, its JSON text, or the path of the file its dest wrote" % option
    if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError("%s is text but not JSON: give custom_hostname_cert_info's custom_hostnames, or `| to_json` of it" % option) from None
    elif isinstance(value, str):
        try:
            value = read_json_file(value, option)
        except InputError as exc:
            raise InputError("%s; %s" % (exc, expected)) from None
    if isinstance(value, dict):  # what dest writes: the list with its zone
        value = value.get("custom_hostnames")
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InputError(expected)
    return value


def read_zone_state(state: Dict[str, Any], option: str) -> Dict[str, Any]:
    """The zone's state as the _info modules return it (the planner's `discovered`, the report's `state`), checked:
    `custom_hostnames` as a list, its JSON text or the file a `dest` wrote, and the other kinds as lists of dicts."""
    state = dict(state)
    if state.get("custom_hostnames") is not None:
        state["custom_hostnames"] = read_hostnames(state["custom_hostnames"], "%s.custom_hostnames" % option)
    for key in ("hostname_client_certs", "custom_certs", "cert_packs"):
        if not isinstance(state.get(key) or [], list) or not all(isinstance(item, dict) for item in state.get(key) or []):
            raise InputError("%s.%s must be the list the _info module returns as %s" % (option, key, key))
    return state


# -- {hostname, certificates} entries whose certificates are files ------------------------------------------------


def path_entry_spec(**certificate_options: Any) -> Dict[str, Any]:
    """The argument spec of a {hostname, certificates} entry whose certificates are files: the list form's
    hostname_certificates, and rotation_plan's custom_hostnames_file. Paths only, so no key passes in the arguments."""
    paths = dict(certificate_path=dict(type="path", required=True), private_key_path=dict(type="path", required=True, no_log=False))
    return dict(
        hostname=dict(type="str", required=True),
        certificates=dict(type="list", elements="dict", required=True, options=dict(paths, **certificate_options)),
    )


def read_entries_file(path: str) -> List[Dict[str, Any]]:
    """rotation_plan's custom_hostnames_file: a JSON or YAML list, each entry checked as the option custom_hostnames would be."""
    text = read_text_file(path, "custom_hostnames_file")
    try:
        data = json.loads(text)
    except ValueError:
        data = load_yaml(text, path)
    if not isinstance(data, list):
        raise InputError("custom_hostnames_file: %s must hold a list of {hostname, certificates} entries, as custom_hostnames takes" % path)
    entry = dict(path_entry_spec(), drop_key_types=dict(type="list", elements="str", choices=list(KEY_TYPES), default=[]))
    spec = {"custom_hostnames_file": dict(type="list", elements="dict", options=entry)}
    checked = ArgumentSpecValidator(spec).validate({"custom_hostnames_file": data})
    if checked.error_messages:
        raise InputError("custom_hostnames_file %s: %s" % (path, "; ".join(checked.error_messages[:20])))
    return checked.validated_parameters["custom_hostnames_file"]


def load_yaml(text: str, path: str) -> Any:
    try:
        import yaml  # pylint: disable=import-outside-toplevel  # ansible-core's own dependency, needed only for YAML files
    except ImportError:
        raise InputError("custom_hostnames_file: %s is not JSON, and PyYAML is missing to read it as YAML" % path) from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # nosec - a safe loader
    except yaml.YAMLError as exc:
        raise InputError("custom_hostnames_file: %s is neither JSON nor YAML: %s" % (path, str(exc).splitlines()[0])) from None


def plan_entries(path: str) -> List[Dict[str, Any]]:
    """The hostname_certificates of a plan file rotation_plan wrote, shape-checked by hand (it is a file, so anything).

    By hand rather than with path_entry_spec's validator: this runs on the apply path for 10,000 entries, where the
    validator's deep copy costs about 0.3 s, and the message names the entry's index.
    """
    data = read_json_file(path, "plan")
    entries = (data.get("plan") or {}).get("hostname_certificates") if isinstance(data, dict) and isinstance(data.get("plan"), dict) else None
    if not isinstance(entries, list):
        raise InputError("plan: %s is not a plan file of certops.cloudflare.rotation_plan (give the path its dest option wrote)" % path)
    out = []
    for index, entry in enumerate(entries):
        certificates = entry.get("certificates") if isinstance(entry, dict) else None
        well_formed = isinstance(certificates, list) and isinstance(entry.get("hostname"), str)
        if not well_formed or not all(
            isinstance(c, dict) and isinstance(c.get("certificate_path"), str) and isinstance(c.get("private_key_path"), str) for c in certificates
        ):
            raise InputError("plan: hostname_certificates[%d] of %s is not an entry rotation_plan writes; make the plan again" % (index, path))
        paths = [{"certificate_path": c["certificate_path"], "private_key_path": c["private_key_path"], "private_key_passphrase": None} for c in certificates]
        exclusive = entry.get("exclusive")
        out.append({"hostname": entry["hostname"], "certificates": paths, "exclusive": exclusive if isinstance(exclusive, bool) else None})
    return out


def read_plan(path: str) -> Dict[str, Any]:
    """The plan of a plan file rotation_plan wrote, with its objects, shape-checked."""
    data = read_json_file(path, "plan")
    plan = data.get("plan") if isinstance(data, dict) else None
    if not isinstance(plan, dict) or not isinstance(plan.get("objects"), list) or not all(isinstance(o, dict) for o in plan["objects"]):
        raise InputError("plan: %s is not a plan file of certops.cloudflare.rotation_plan (give the path its dest option wrote)" % path)
    return plan


# -- material given as content: written to files, keys sealed ----------------------------------------------------


def read_replaced(path: str) -> Tuple[List[Dict[str, Any]], Any]:
    """The `replaced` list of an earlier run's JSON report, and a warning when it cannot be read (then nothing: without
    proof nothing is deleted). A report that does not exist yet is no proof and no warning."""
    if not os.path.exists(path):
        return [], None
    try:
        data = read_json_file(path, "previous_report")
    except InputError as exc:
        return [], "%s; no certificate an earlier run replaced is retired" % exc
    replaced = data.get("replaced") if isinstance(data, dict) else None
    if not isinstance(replaced, list):
        return [], None  # a report of an older release: it names nothing
    return [e for e in replaced if isinstance(e, dict) and isinstance(e.get("id"), str) and e.get("kind") in ("client_cert", "zone_cert")], None


def write_material(params: Dict[str, Any]) -> None:
    """Replace inline certificates and keys by files (0600) in material_dir, so the apply stage works on paths.

    A key given with its own passphrase (private_key_passphrase) is decrypted and written sealed with the run's
    material_passphrase, so the apply stage opens every key with one passphrase."""
    directory, passphrase = params.get("material_dir"), params.get("material_passphrase")
    # (file name stem, option label for messages, item)
    items = [("client_certs-%d" % i, "client_certs[%d]" % i, c) for i, c in enumerate(params["client_certs"])]
    items += [("zone_certs-%d" % i, "zone_certs[%d]" % i, c) for i, c in enumerate(params["zone_certs"])]
    for index, host in enumerate(params["custom_hostnames"]):
        items += [
            ("custom_hostnames-%d-certificates-%d" % (index, i), "custom_hostnames[%d].certificates[%d]" % (index, i), c)
            for i, c in enumerate(host["certificates"])
        ]
    # The same content is written once, so one wildcard given to 10,000 hostnames is one file, sealed and checked once.
    written: Dict[Tuple[str, str], Tuple[str, Any]] = {}  # (suffix, SHA-256 of the content) -> (path, sealed)
    for stem, label, item in items:
        own = item.pop("private_key_passphrase", None)
        if own is not None:
            reseal_key(item, own, directory, passphrase, stem, label)
        for content, path, suffix in (("certificate", "certificate_path", "pem"), ("private_key", "private_key_path", "key")):
            if item.get(content) is None:
                continue
            if not directory:
                raise InputError("%s.%s is given as content: set material_dir to a private directory to write it to" % (label, content))
            text = item.pop(content)
            digest = (suffix, hashlib.sha256(text.encode("utf-8")).hexdigest())
            if digest not in written:
                target, sealed = os.path.join(directory, "%s.%s" % (stem, suffix)), None
                if content == "private_key" and passphrase:
                    text, sealed = seal_key(text, passphrase)
                write_private(target, text)
                written[digest] = (target, sealed)
            item[path], sealed = written[digest]
            if sealed is not None:
                item["material_sealed"] = sealed


def write_private(target: str, text: str) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def reseal_key(item: Dict[str, Any], own: str, directory: Any, passphrase: Any, stem: str, label: str) -> None:
    """Decrypt a key with its own passphrase and write it to material_dir sealed with the run's passphrase."""
    if not (directory and passphrase):
        raise InputError("%s.private_key_passphrase needs material_dir and material_passphrase, to re-seal the key for the apply stage" % label)
    if item.get("private_key") is not None:
        text = item.pop("private_key")
    else:
        text = read_text_file(item["private_key_path"], "%s.private_key_path" % label)
    try:
        key = load_private_key(text, own, name="%s private key" % label)
    except CertificateError as exc:
        raise InputError(str(exc)) from None
    target = os.path.join(directory, "%s.key" % stem)
    write_private(target, private_key_to_pem(key, passphrase))
    item.update(private_key_path=target, material_sealed=True)


def seal_key(text: str, passphrase: str) -> Tuple[str, bool]:
    """The key encrypted with the run's passphrase, and whether it was; one that does not load stays as given, for the
    plan to refuse with its own message (it is no usable key, or is encrypted already)."""
    try:
        key = load_private_key(text)
    except CertificateError:
        return text, False
    return private_key_to_pem(key, passphrase), True
