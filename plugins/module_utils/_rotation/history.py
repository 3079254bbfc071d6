# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The report's history: a folder per run in the report directory, the `latest` and `latest-rotate` pointers, pruning.

This is a private file: it may change in any release without notice.

A run folder is named by its UTC time and the run's mode (`20261206T061500Z-rotate`, then `-2`, `-3`... when that name
is taken), so names sort by time. A pointer is a relative symlink, replaced atomically; where the file system makes no
symlink, a copy of the folder. Pruning removes only run folders: anything else in the report directory is the user's.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import shutil
import tempfile
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import write_atomically, write_chunks_atomically

MODES = ("check", "rotate", "audit")
LATEST = "latest"
LATEST_ROTATE = "latest-rotate"
RUN_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-(?P<mode>check|rotate|audit)(?:-(?P<suffix>[1-9]\d*))?$")
# A copied pointer holds no link to read: this file in the copy names its run folder, so pruning still spares it.
TARGET_FILE = ".run-folder"


def write_text(path: str, text: Union[str, Iterable[str]], mode: int) -> None:
    """A text, or its pieces, written atomically."""
    if isinstance(text, str):
        write_atomically(path, text, mode)
    else:
        write_chunks_atomically(path, text, mode)


def stamp(now: datetime.datetime) -> str:
    """`now` in UTC as the folder name's time, 20261206T061500Z."""
    return now.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def run_sort_key(name: str) -> Tuple[str, int, str]:
    """By time, then by suffix as a number (so `-10` comes after `-2`), then by name."""
    match = RUN_NAME.match(name)
    return (match.group("stamp"), int(match.group("suffix") or 1), name) if match else ("", 0, name)


def run_folders(report_dir: str) -> List[str]:
    """The names of the run folders in `report_dir` (real directories only, not the pointers), oldest first."""
    try:
        names = os.listdir(report_dir)
    except FileNotFoundError:
        return []
    found = [n for n in names if RUN_NAME.match(n) and os.path.isdir(os.path.join(report_dir, n)) and not os.path.islink(os.path.join(report_dir, n))]
    return sorted(found, key=run_sort_key)


def next_run_name(report_dir: str, mode: str, now: datetime.datetime) -> str:
    """The first free name for a run of `mode` at `now`: its time and mode, then `-2`, `-3`..."""
    if mode not in MODES:
        raise ValueError("mode must be one of %s, not %r" % (", ".join(MODES), mode))
    base = "%s-%s" % (stamp(now), mode)
    name, count = base, 1
    while os.path.lexists(os.path.join(report_dir, name)):
        count += 1
        name = "%s-%d" % (base, count)
    return name


def make_run_folder(report_dir: str, mode: str, now: datetime.datetime) -> str:
    """Create the run's folder (0755) in `report_dir` (created 0700 when missing) and return its path.

    mkdir itself claims the name, so two runs in the same second never share a folder."""
    os.makedirs(report_dir, mode=0o700, exist_ok=True)
    while True:
        path = os.path.join(report_dir, next_run_name(report_dir, mode, now))
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            continue  # taken between the look and the mkdir: take the next suffix
        os.chmod(path, 0o755)  # the umask may have narrowed it
        return path


def pointed(report_dir: str, pointer: str) -> Optional[str]:
    """The run folder name `pointer` points to: a symlink's target, or the name a copy records; None when neither."""
    path = os.path.join(report_dir, pointer)
    if os.path.islink(path):
        return os.path.basename(os.path.normpath(os.readlink(path)))
    try:
        with open(os.path.join(path, TARGET_FILE), encoding="utf-8") as handle:
            name = handle.read().strip()
    except OSError:
        return None
    return name if RUN_NAME.match(name) else None


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _swap_in(new: str, target: str) -> None:
    """Put `new` at `target`. A rename when it can replace what is there (a symlink or file by a symlink); a directory
    on either side cannot be renamed over, so the old one steps aside first and goes after the new one is in place."""
    if not os.path.isdir(new) or os.path.islink(new):
        if not (os.path.isdir(target) and not os.path.islink(target)):
            os.replace(new, target)
            return
    if not os.path.lexists(target):
        os.rename(new, target)
        return
    aside = tempfile.mkdtemp(dir=os.path.dirname(target), prefix=".%s-old-" % os.path.basename(target))
    old = os.path.join(aside, "old")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)  # put the old pointer back rather than leave none
        raise
    finally:
        if os.path.lexists(old):
            _remove(old)
        os.rmdir(aside)


def point(report_dir: str, pointer: str, folder: str) -> str:
    """Make `report_dir/pointer` point to the run folder `folder` (a name in report_dir) and return the pointer's path.

    A relative symlink, made under a temporary name and renamed over the old pointer: a reader sees the old run or the
    new one. Where no symlink can be made, a copy of the folder, made aside and then swapped in."""
    target = os.path.join(report_dir, pointer)
    while True:
        link = os.path.join(report_dir, ".%s-%s.tmp" % (pointer, secrets.token_hex(4)))
        try:
            os.symlink(folder, link, target_is_directory=True)  # relative: the report directory can move
        except FileExistsError:
            continue  # a leftover of a crashed run holds that name: take another
        except OSError:
            copy_pointer(report_dir, target, folder)
            return target
        break
    try:
        _swap_in(link, target)
    except BaseException:
        if os.path.lexists(link):
            os.unlink(link)
        raise
    return target


def copy_pointer(report_dir: str, target: str, folder: str) -> None:
    """The pointer as a copy of the run folder, for file systems without symlinks."""
    tmp = tempfile.mkdtemp(dir=report_dir, prefix=".%s-" % os.path.basename(target))
    try:
        shutil.copytree(os.path.join(report_dir, folder), tmp, dirs_exist_ok=True)
        write_atomically(os.path.join(tmp, TARGET_FILE), folder + "\n", 0o644)
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700
        _swap_in(tmp, target)
    except BaseException:
        if os.path.lexists(tmp):
            shutil.rmtree(tmp)
        raise


def prune(report_dir: str, keep: int) -> List[str]:
    """Remove all run folders but the newest `keep` and those `latest` and `latest-rotate` point to; return the removed
    names. Only real directories named as runs are looked at, so nothing else in report_dir is touched."""
    if keep < 1:
        raise ValueError("keep must be at least 1, not %r" % keep)
    names = run_folders(report_dir)
    kept = set(names[-keep:]) | {pointed(report_dir, LATEST), pointed(report_dir, LATEST_ROTATE)}
    removed = []
    for name in names:
        if name not in kept:
            shutil.rmtree(os.path.join(report_dir, name))
            removed.append(name)
    return removed


def write_run(report_dir: str, mode: str, texts: Dict[str, Union[str, Iterable[str]]], file_names: Dict[str, str], now: datetime.datetime) -> Dict[str, str]:
    """Write one run: its folder, each text atomically (0644) under its file name, then the pointers (`latest`
    always, `latest-rotate` for a rotate run). Returns the paths: `folder`, `latest` and one per format.

    A text is a string, or its pieces (an iterable of strings, written as they come)."""

    def write(paths: Dict[str, str]) -> None:
        for fmt, text in texts.items():
            write_text(paths[fmt], text, 0o644)  # the report holds no secret

    return write_run_files(report_dir, mode, write, {fmt: file_names[fmt] for fmt in texts}, now)


def write_run_files(report_dir: str, mode: str, write: Callable[[Dict[str, str]], None], file_names: Dict[str, str], now: datetime.datetime) -> Dict[str, str]:
    """write_run with the files written by `write(paths)` (a path per key of `file_names`, in the run's folder), for
    a report of 100,000 rows written in one pass to all its files; then the pointers."""
    folder = make_run_folder(report_dir, mode, now)
    name = os.path.basename(folder)
    paths = {fmt: os.path.join(folder, file_names[fmt]) for fmt in file_names}
    write(paths)
    latest = point(report_dir, LATEST, name)
    if mode == "rotate":
        point(report_dir, LATEST_ROTATE, name)
    return dict(paths, folder=folder, latest=latest)
