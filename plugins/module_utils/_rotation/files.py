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

import contextlib
import hashlib
import json
import os
import shutil
import re
import secrets
import sys
import tempfile
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

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
                    shutil.copyfileobj(spool, self._handle)
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
    for key in ("hostname_client_certs", "custom_certs", "cert_packs", "origin_pull_certs"):
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


def read_entries_file(path: str, entry_spec: Optional[Dict[str, Any]] = None, no_log_values: Optional[Set[str]] = None) -> List[Dict[str, Any]]:
    """rotation_plan's custom_hostnames_file: a JSON or YAML list, each entry checked as the option custom_hostnames
    would be (`entry_spec`; default: paths only). The values the spec marks no_log (keys given as content) join
    `no_log_values`, so that Ansible masks them as it masks the module's own options."""
    text = read_text_file(path, "custom_hostnames_file")
    try:
        data = json.loads(text)
    except ValueError:
        data = load_yaml(text, path)
    if not isinstance(data, list):
        raise InputError("custom_hostnames_file: %s must hold a list of {hostname, certificates} entries, as custom_hostnames takes" % path)
    entry = entry_spec or dict(path_entry_spec(), drop_key_types=dict(type="list", elements="str", choices=list(KEY_TYPES), default=[]))
    plain = plain_entries(data, entry)
    if plain is not None:
        return plain
    spec = {"custom_hostnames_file": dict(type="list", elements="dict", options=entry)}
    checked = ArgumentSpecValidator(spec).validate({"custom_hostnames_file": data})
    if no_log_values is not None:
        no_log_values.update(checked._no_log_values)  # pylint: disable=protected-access  # ansible-core has no public name for it
    if checked.error_messages:
        raise InputError("custom_hostnames_file %s: %s" % (path, "; ".join(checked.error_messages[:20])))
    return checked.validated_parameters["custom_hostnames_file"]


def plain_entries(data: List[Any], spec: Dict[str, Any]) -> Optional[List[Dict[str, Any]]]:
    """The entries as ArgumentSpecValidator would return them, when each is already what `spec` asks for and holds
    nothing the validator would convert, expand or mask; else None, and the validator checks them (and words the error).

    The validator deep-copies and walks each entry: at 100,000 entries that is most of the planner's time.
    """
    out = [_plain_options(entry, spec, {}) for entry in data]
    return None if any(entry is None for entry in out) else out  # type: ignore[return-value]


PLAIN_KEYS = frozenset(("type", "required", "default", "choices", "elements", "options", "no_log", "mutually_exclusive", "required_one_of"))


def _plain_options(value: Any, spec: Dict[str, Any], rules: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if not isinstance(value, dict) or not set(value) <= set(spec):
        return None
    out: Dict[str, Any] = {}
    for name, option in spec.items():
        item = value.get(name)
        if not set(option) <= PLAIN_KEYS or item is not None and option.get("no_log"):
            return None  # aliases, fallbacks, a key given as content (to be masked): the validator's
        if item is None:
            if option.get("required"):
                return None
            default = option.get("default")
            out[name] = list(default) if isinstance(default, list) else default
            continue
        kind = option.get("type", "str")
        if kind == "list":
            item = _plain_list(item, option)
        elif kind not in ("str", "path") or not isinstance(item, str) or kind == "path" and ("~" in item or "$" in item):
            item = None  # a conversion (bool, number), or a path the validator would expand
        elif option.get("choices") is not None and item not in option["choices"]:
            item = None
        if item is None:
            return None
        out[name] = item
    for names in rules.get("mutually_exclusive", []):
        if sum(out.get(n) is not None for n in names) > 1:
            return None
    for names in rules.get("required_one_of", []):
        if not any(out.get(n) is not None for n in names):
            return None
    return out


def _plain_list(item: Any, option: Dict[str, Any]) -> Optional[List[Any]]:
    if not isinstance(item, list):
        return None
    if option.get("elements") == "str":
        choices = option.get("choices")
        return list(item) if all(isinstance(i, str) and (choices is None or i in choices) for i in item) else None
    if option.get("elements") == "dict" and option.get("options"):
        out = [_plain_options(i, option["options"], option) for i in item]
        return None if any(i is None for i in out) else out
    return None


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
    validator's deep copy costs about 0.3 s, and the message names the entry's index. Read as it goes (JsonReader):
    the plan's other lists, one row per object of the zone, are skipped rather than held.
    """
    wrong = InputError("plan: %s is not a plan file of certops.cloudflare.rotation_plan (give the path its dest option wrote)" % path)
    out: Optional[List[Dict[str, Any]]] = None
    with JsonReader(path, "plan") as reader:
        if reader.kind() != "{":
            reader.value()
            reader.end()
            raise wrong
        for key in reader.members():
            if key != "plan" or reader.kind() != "{":
                continue
            for name in reader.members():
                if name != "hostname_certificates":
                    continue
                if reader.kind() != "[":
                    raise wrong
                out = [_plan_entry(entry, index, path) for index, entry in enumerate(reader.items())]
        reader.end()
    if out is None:
        raise wrong
    return out


def _plan_entry(entry: Any, index: int, path: str) -> Dict[str, Any]:
    certificates = entry.get("certificates") if isinstance(entry, dict) else None
    well_formed = isinstance(certificates, list) and isinstance(entry.get("hostname"), str)
    if not well_formed or not all(
        isinstance(c, dict) and isinstance(c.get("certificate_path"), str) and isinstance(c.get("private_key_path"), str) for c in certificates
    ):
        raise InputError("plan: hostname_certificates[%d] of %s is not an entry rotation_plan writes; make the plan again" % (index, path))
    paths = [{"certificate_path": c["certificate_path"], "private_key_path": c["private_key_path"], "private_key_passphrase": None} for c in certificates]
    exclusive = entry.get("exclusive")
    return {"hostname": entry["hostname"], "certificates": paths, "exclusive": exclusive if isinstance(exclusive, bool) else None}


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
    if params.get("origin_pull_cert"):
        items.append(("origin_pull_cert", "origin_pull_cert", params["origin_pull_cert"]))
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


# -- files of 100,000 hostnames: read and written as they go ------------------------------------------------------

NOT_JSON = "does not hold JSON; give the file the module named there wrote"
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class JsonReader:
    """A JSON file read as it goes, so that a file of 100,000 hostnames never sits whole in memory: a pull parser over
    the json module's own decoder, which decodes one list item at a time.

    Use as a context manager. At each value, kind() tells its first character ('{', '[', '"', ...); members() walks
    an object, yielding each key with its value next (a value the caller leaves alone is skipped, a list item by item);
    items() decodes a list's items one by one; value() decodes the value whole; end() checks that nothing follows.
    Errors are the messages of read_json_file: the option, the path, and why.
    """

    CHUNK = 1 << 16

    def __init__(self, path: str, option: str) -> None:
        self.path, self.option = path, option
        self._text, self._pos, self._eof, self._reads = "", 0, False, 0
        self._handle: Any = None

    def __enter__(self) -> "JsonReader":
        try:
            self._handle = open(self.path, "r", encoding="utf-8")
        except (IOError, OSError) as exc:
            raise InputError("%s: cannot read %s: %s" % (self.option, self.path, exc.strerror)) from None
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._handle.close()

    def error(self) -> InputError:
        return InputError("%s: %s %s" % (self.option, self.path, NOT_JSON))

    def _more(self) -> bool:
        """Read on (at least as much again as the value being decoded holds, so a large value costs linear time)."""
        if self._eof:
            return False
        try:
            chunk = self._handle.read(max(self.CHUNK, len(self._text) - self._pos))
        except UnicodeDecodeError:
            raise self.error() from None
        except (IOError, OSError) as exc:
            raise InputError("%s: cannot read %s: %s" % (self.option, self.path, exc.strerror)) from None
        if not chunk:
            self._eof = True
            return False
        self._text = self._text[self._pos :] + chunk
        self._pos = 0
        return True

    def kind(self) -> str:
        """The first character of the next value ('' at the end of the file)."""
        while True:
            self._pos = _SPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]  # matches always
            if self._pos < len(self._text):
                return self._text[self._pos]
            if not self._more():
                return ""

    def _take(self, char: str) -> None:
        if self.kind() != char:
            raise self.error()
        self._pos += 1

    def _decode(self) -> Any:
        self.kind()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._pos)
            except ValueError:
                if self._more():
                    continue
                raise self.error() from None
            if end == len(self._text) and self._more():
                continue  # a number may go on in the next chunk
            self._pos = end
            return value

    def value(self) -> Any:
        self._reads += 1
        return self._decode()

    def items(self) -> Iterator[Any]:
        self._reads += 1
        self._take("[")
        if self.kind() == "]":
            self._pos += 1
            return
        while True:
            yield self._decode()
            char = self.kind()
            self._pos += 1
            if char == "]":
                return
            if char != ",":
                raise self.error()

    def members(self) -> Iterator[str]:
        self._reads += 1
        self._take("{")
        if self.kind() == "}":
            self._pos += 1
            return
        while True:
            if self.kind() != '"':
                raise self.error()
            key = self._decode()
            self._take(":")
            reads = self._reads
            yield key
            if self._reads == reads:
                self.skip()
            char = self.kind()
            self._pos += 1
            if char == "}":
                return
            if char != ",":
                raise self.error()

    def skip(self) -> None:
        char = self.kind()
        if char == "[":
            for _item in self.items():
                pass
        elif char == "{":
            for _key in self.members():
                pass
        else:
            self.value()

    def end(self) -> None:
        if self.kind() != "":
            raise self.error()


def iter_hostnames(value: Any, option: str) -> Iterator[Dict[str, Any]]:
    """read_hostnames item by item: the file its `dest` wrote is read as it goes, so only the item being read is whole
    in memory (the list and its JSON text are in memory already). The messages are read_hostnames'; a file's may come
    after items were yielded, so read it whole before acting on any."""
    if not isinstance(value, str) or value.lstrip().startswith(("[", "{")):
        yield from read_hostnames(value, option)
        return
    expected = "%s must be the list custom_hostname_cert_info returns as custom_hostnames, its JSON text, or the path of the file its dest wrote" % option
    try:
        with JsonReader(value, option) as reader:
            if reader.kind() == "[":  # a bare list
                for item in reader.items():
                    if not isinstance(item, dict):
                        raise _NotHostnames(expected)
                    yield item
            elif reader.kind() == "{":  # what dest writes: the list with its zone
                found = False
                for key in reader.members():
                    if key != "custom_hostnames" or found:
                        continue
                    if reader.kind() != "[":
                        raise _NotHostnames(expected)
                    found = True
                    for item in reader.items():
                        if not isinstance(item, dict):
                            raise _NotHostnames(expected)
                        yield item
                if not found:
                    raise _NotHostnames(expected)
            else:
                reader.value()
                reader.end()
                raise _NotHostnames(expected)
            reader.end()
    except _NotHostnames:
        raise
    except InputError as exc:  # the file cannot be read, or is no JSON
        raise InputError("%s; %s" % (exc, expected)) from None


class _NotHostnames(InputError):
    """JSON, but not the custom hostnames."""


# What the planner and the report read of a custom hostname: the rest of its view (records, settings, metadata) is
# never looked at, so a zone of 100,000 keeps these few fields each, the words that repeat shared.
COMPACT_HOSTNAME = ("id", "hostname", "status")
COMPACT_SSL = ("status", "bundle_method")
COMPACT_CERTIFICATE = ("key_type", "serial_number", "fingerprint_sha256", "issuer", "expires_on", "not_before", "uploaded_on", "not_after")
_SHARED = ("status", "bundle_method", "key_type", "issuer")


def _shared(key: str, value: Any) -> Any:
    return sys.intern(value) if key in _SHARED and isinstance(value, str) else value


def compact_hostname(host: Dict[str, Any]) -> Dict[str, Any]:
    """A custom hostname's view with only the fields the planner and the report read (a key absent stays absent, so
    `.get` answers as on the whole view): id, hostname, status, and ssl's status, bundle_method and certificates,
    each certificate with its identity, key type and times."""
    out = {key: _shared(key, host[key]) for key in COMPACT_HOSTNAME if key in host}
    ssl = host.get("ssl")
    if isinstance(ssl, dict):
        small = {key: _shared(key, ssl[key]) for key in COMPACT_SSL if key in ssl}
        certs = ssl.get("certificates")
        if isinstance(certs, list):
            small["certificates"] = [
                {key: _shared(key, cert[key]) for key in COMPACT_CERTIFICATE if key in cert} if isinstance(cert, dict) else cert for cert in certs
            ]
        elif "certificates" in ssl:
            small["certificates"] = certs
        out["ssl"] = small
    elif "ssl" in host:
        out["ssl"] = ssl
    return out


def _cannot_write(option: str, path: str, exc: OSError) -> InputError:
    return InputError("%s: cannot write %s: %s" % (option, path, exc.strerror))


class _AtomicFile:
    """A temporary file next to `path` (binary, or text in UTF-8), fsynced, given `mode` and renamed over `path` when
    the block ends without an error, else removed: a reader never sees half a file."""

    def __init__(self, path: str, mode: int, text: bool = False) -> None:
        self.path, self.mode, self.text = path, mode, text
        self.handle: Any = None
        self._tmp = ""

    def __enter__(self) -> Any:
        fd, self._tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(self.path)), prefix=".certops-", suffix=".tmp")
        self.handle = os.fdopen(fd, "w", encoding="utf-8") if self.text else os.fdopen(fd, "wb")
        return self.handle

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        try:
            try:
                if exc_type is None:
                    self.handle.flush()
                    os.fsync(self.handle.fileno())  # on disk before the rename: after a crash, the old file or the new one
            finally:
                self.handle.close()
            if exc_type is None:
                os.chmod(self._tmp, self.mode)  # mkstemp makes 0600
                os.replace(self._tmp, self.path)
                return
        except BaseException:
            os.unlink(self._tmp)
            raise
        os.unlink(self._tmp)


@contextlib.contextmanager
def atomic_files(paths: Dict[str, str], mode: int = 0o600, modes: Optional[Dict[str, int]] = None) -> Iterator[Dict[str, Any]]:
    """Several files written at once, each as write_atomically writes one: a text handle per key of `paths`, with the
    mode `modes` gives its key, else `mode`; each is renamed into place when the block ends without an error; when the
    block fails, none is."""
    with contextlib.ExitStack() as stack:
        yield {key: stack.enter_context(_AtomicFile(path, (modes or {}).get(key, mode), text=True)) for key, path in paths.items()}


def write_chunks_atomically(path: str, chunks: Iterable[str], mode: int = 0o600) -> None:
    """write_atomically for a text given piece by piece (a report of 100,000 rows is never whole in memory)."""
    with _AtomicFile(path, mode, text=True) as handle:
        for chunk in chunks:
            handle.write(chunk)


class SortedJsonListWriter:
    """JsonListWriter's file for one list kept in order of a key: each item goes to a temporary file as it comes, and
    only its key and place stay in memory; at the end the file is written in key order (a stable sort, so items of
    one key keep their order) and renamed into place whole (mode 0600). The file is what write_json_file writes of
    {**head, key: sorted items}, byte for byte."""

    def __init__(self, path: str, option: str, head: Dict[str, Any], key: str) -> None:
        self.path, self.option, self.head, self.key = path, option, head, key
        self.count = 0
        self._index: List[Tuple[Any, int, int]] = []  # (sort key, offset, length) per item
        self._spool: Any = None
        self._size = 0

    def __enter__(self) -> "SortedJsonListWriter":
        try:
            self._spool = tempfile.TemporaryFile("w+b", dir=os.path.dirname(os.path.abspath(self.path)))
        except (IOError, OSError) as exc:
            raise _cannot_write(self.option, self.path, exc) from None
        return self

    def add(self, sort_key: Any, item: Any) -> None:
        data = json.dumps(item, separators=(",", ":")).encode("utf-8")
        self._spool.write(data)
        self._index.append((sort_key, self._size, len(data)))
        self._size += len(data)
        self.count += 1

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        try:
            if exc_type is None:
                self._index.sort(key=lambda entry: entry[0])
                head = json.dumps(self.head, separators=(",", ":"))[:-1] + ("," if self.head else "") + json.dumps(self.key) + ":["
                try:
                    with _AtomicFile(self.path, 0o600) as out:
                        out.write(head.encode("utf-8"))
                        for number, (_key, offset, length) in enumerate(self._index):
                            self._spool.seek(offset)
                            out.write((b"," if number else b"") + self._spool.read(length))
                        out.write(b"]}")
                except (IOError, OSError) as exc_:
                    raise _cannot_write(self.option, self.path, exc_) from None
        finally:
            self._spool.close()
            self._index = []


class JsonSpool:
    """A list of a JSON file to be (write_json_spooled), written item by item to a temporary file next to `path` as it
    grows; in memory only the first `keep` items (`head`) and the count (len()). Close it when done (a `with` block)."""

    def __init__(self, path: str, option: str, keep: int = 0) -> None:
        try:
            self.handle = tempfile.TemporaryFile("w+", encoding="utf-8", dir=os.path.dirname(os.path.abspath(path)))
        except (IOError, OSError) as exc:
            raise _cannot_write(option, path, exc) from None
        self.keep, self.count = keep, 0
        self.head: List[Any] = []
        self.marker = "certops-spool-%s" % secrets.token_hex(16)  # where the list goes in the file, unguessable

    def append(self, item: Any) -> None:
        self.handle.write(("," if self.count else "") + json.dumps(item, separators=(",", ":")))
        if self.count < self.keep:
            self.head.append(item)
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __enter__(self) -> "JsonSpool":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        self.handle.close()


def write_json_spooled(path: str, data: Any, option: str) -> None:
    """write_json_file for `data` whose lists may be JsonSpools: each is copied from its temporary file into place, so
    the file is what write_json_file writes of the same data with whole lists, byte for byte, never whole in memory."""
    spools: Dict[str, JsonSpool] = {}

    def placeholder(value: Any) -> str:
        if not isinstance(value, JsonSpool):
            raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)
        spools[value.marker] = value
        return value.marker

    text = json.dumps(data, separators=(",", ":"), default=placeholder)
    try:
        with _AtomicFile(path, 0o600) as out:
            start = 0
            for found in re.finditer(r'"(certops-spool-[0-9a-f]{32})"', text):
                spool = spools.get(found.group(1))
                if spool is None:
                    continue
                out.write(text[start : found.start()].encode("utf-8") + b"[")
                spool.handle.flush()
                spool.handle.seek(0)
                while True:
                    chunk = spool.handle.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk.encode("utf-8"))
                spool.handle.seek(0, os.SEEK_END)
                out.write(b"]")
                start = found.end()
            out.write(text[start:].encode("utf-8"))
    except (IOError, OSError) as exc:
        raise _cannot_write(option, path, exc) from None


def scan_replaced(path: str) -> Tuple[List[Dict[str, Any]], Any]:
    """read_replaced, reading the earlier report as it goes: of its rows (one per object, 100,000 in a large zone) none
    is kept, only the `replaced` list."""
    if not os.path.exists(path):
        return [], None
    replaced = None
    try:
        with JsonReader(path, "previous_report") as reader:
            if reader.kind() == "{":
                for key in reader.members():
                    if key == "replaced":
                        replaced = reader.value()
            else:
                reader.value()
            reader.end()
    except InputError as exc:
        return [], "%s; no certificate an earlier run replaced is retired" % exc
    if not isinstance(replaced, list):
        return [], None  # a report of an older release: it names nothing
    return [e for e in replaced if isinstance(e, dict) and isinstance(e.get("id"), str) and e.get("kind") in ("client_cert", "zone_cert")], None


def scan_plan(path: str, on_object: Callable[[Dict[str, Any]], None], keep: Tuple[str, ...] = ("replaced", "audit", "due_without_material")) -> Dict[str, Any]:
    """read_plan as it goes: `on_object` is called with each object of the plan in turn (none is kept), and the plan's
    members named in `keep` are returned whole, with `objects` as their count. The same checks and messages; a file
    found wrong after some objects were handed over fails all the same, so act on none before this returns."""
    wrong = InputError("plan: %s is not a plan file of certops.cloudflare.rotation_plan (give the path its dest option wrote)" % path)
    plan: Optional[Dict[str, Any]] = None
    with JsonReader(path, "plan") as reader:
        if reader.kind() != "{":
            reader.value()
            reader.end()
            raise wrong
        for key in reader.members():
            if key != "plan":
                continue
            if reader.kind() != "{":
                plan = None
                continue
            plan = {}
            for name in reader.members():
                if name == "objects" and reader.kind() == "[":
                    count = 0
                    for obj in reader.items():
                        if not isinstance(obj, dict):
                            raise wrong
                        on_object(obj)
                        count += 1
                    plan["objects"] = count
                elif name in keep:
                    plan[name] = reader.value()
                elif name == "objects":
                    plan.pop("objects", None)
                    reader.value()
        reader.end()
    if plan is None or "objects" not in plan:
        raise wrong
    return plan


def read_compact_zone_state(state: Dict[str, Any], option: str) -> Dict[str, Any]:
    """read_zone_state with `custom_hostnames` read as it goes (iter_hostnames) and kept compact (compact_hostname):
    what the planner and the report take, so a zone of 100,000 hostnames is never whole in memory."""
    state = dict(state)
    if state.get("custom_hostnames") is not None:
        state["custom_hostnames"] = [compact_hostname(h) for h in iter_hostnames(state["custom_hostnames"], "%s.custom_hostnames" % option)]
    for key in ("hostname_client_certs", "custom_certs", "cert_packs", "origin_pull_certs"):
        if not isinstance(state.get(key) or [], list) or not all(isinstance(item, dict) for item in state.get(key) or []):
            raise InputError("%s.%s must be the list the _info module returns as %s" % (option, key, key))
    return state


def failed_results(path: str, option: str) -> Dict[str, str]:
    """The custom hostnames whose write failed, each with its message, from the `results` of the file the list form of
    custom_hostname_cert wrote with `dest` (read as it goes: only the failed entries are kept)."""
    failed: Dict[str, str] = {}
    with JsonReader(path, option) as reader:
        if reader.kind() != "{":
            raise InputError("%s: %s is not the file custom_hostname_cert's dest option wrote" % (option, path))
        for key in reader.members():
            if key == "results" and reader.kind() == "[":
                for entry in reader.items():
                    if isinstance(entry, dict) and entry.get("failed") and entry.get("hostname"):
                        failed[str(entry["hostname"])] = str(entry.get("msg") or "failed")
        reader.end()
    return failed
