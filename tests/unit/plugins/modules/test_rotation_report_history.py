"""rotation_report's history: a folder per run named by time and mode, the latest and latest-rotate pointers, pruning,
and a copy where no symlink can be made."""

from __future__ import annotations

import datetime
import json
import os
import stat

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import history
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.history import (
    LATEST,
    LATEST_ROTATE,
    TARGET_FILE,
    make_run_folder,
    next_run_name,
    point,
    pointed,
    prune,
    run_folders,
    write_run,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import FILE_NAMES

NOW = datetime.datetime(2026, 12, 6, 6, 15, tzinfo=datetime.timezone.utc)


def at(minutes: int) -> datetime.datetime:
    return NOW + datetime.timedelta(minutes=minutes)


def texts(label: str = "run") -> dict:
    return {"json": json.dumps({"label": label}), "markdown": "# %s\n" % label, "html": "<p>%s</p>\n" % label}


def run(report_dir, mode: str = "rotate", now: datetime.datetime = NOW, label: str = "run") -> dict:
    return write_run(str(report_dir), mode, texts(label), FILE_NAMES, now)


def name(paths: dict) -> str:
    return os.path.basename(paths["folder"])


def no_symlinks(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", refuse)


# -- run folders -------------------------------------------------------------------------------------------------------


def test_a_folder_is_named_by_its_utc_time_and_mode(tmp_path):
    assert name(run(tmp_path / "r", "check")) == "20261206T061500Z-check"


def test_a_time_with_an_offset_names_the_folder_in_utc(tmp_path):
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert name(run(tmp_path / "r", now=datetime.datetime(2026, 12, 6, 7, 15, tzinfo=paris))) == "20261206T061500Z-rotate"


def test_a_second_run_of_the_same_time_and_mode_gets_suffix_2(tmp_path):
    run(tmp_path / "r")
    assert name(run(tmp_path / "r")) == "20261206T061500Z-rotate-2"


def test_a_third_run_of_the_same_time_and_mode_gets_suffix_3(tmp_path):
    run(tmp_path / "r")
    run(tmp_path / "r")
    assert name(run(tmp_path / "r")) == "20261206T061500Z-rotate-3"


def test_another_mode_at_the_same_time_needs_no_suffix(tmp_path):
    run(tmp_path / "r", "check")
    assert name(run(tmp_path / "r", "rotate")) == "20261206T061500Z-rotate"


def test_the_next_name_creates_nothing(tmp_path):
    next_run_name(str(tmp_path), "audit", NOW)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError):
        next_run_name(str(tmp_path), "apply", NOW)


def test_a_missing_report_dir_is_created_for_the_owner_only(tmp_path):
    run(tmp_path / "r")
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o700


def test_an_existing_report_dir_keeps_its_mode(tmp_path):
    (tmp_path / "r").mkdir(mode=0o750)
    os.chmod(tmp_path / "r", 0o750)
    run(tmp_path / "r")
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o750


def test_a_run_folder_is_readable_by_all(tmp_path):
    old = os.umask(0o077)
    try:
        paths = run(tmp_path / "r")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(paths["folder"]).st_mode) == 0o755


def test_the_run_folder_holds_the_three_files(tmp_path):
    paths = run(tmp_path / "r")
    assert sorted(os.listdir(paths["folder"])) == sorted(FILE_NAMES.values())


def test_each_file_holds_its_text(tmp_path):
    paths = run(tmp_path / "r", label="one")
    assert open(paths["markdown"], encoding="utf-8").read() == "# one\n"


def test_the_files_are_readable_by_all(tmp_path):
    paths = run(tmp_path / "r")
    assert stat.S_IMODE(os.stat(paths["html"]).st_mode) == 0o644


def test_the_result_names_the_latest_pointer(tmp_path):
    assert run(tmp_path / "r")["latest"] == str(tmp_path / "r" / "latest")


def test_no_temporary_entry_is_left(tmp_path):
    run(tmp_path / "r", "rotate", at(0))
    run(tmp_path / "r", "check", at(1))
    assert sorted(os.listdir(tmp_path / "r")) == ["20261206T061500Z-rotate", "20261206T061600Z-check", LATEST, LATEST_ROTATE]


def test_a_folder_claimed_between_the_look_and_the_mkdir_is_skipped(tmp_path, monkeypatch):
    taken = tmp_path / "r" / "20261206T061500Z-rotate"
    real = history.next_run_name
    calls = []

    def racing(report_dir, mode, now):
        found = real(report_dir, mode, now)
        if not calls:  # another run takes the name right after this one looked
            taken.mkdir(parents=True)
        calls.append(found)
        return found

    monkeypatch.setattr(history, "next_run_name", racing)
    assert os.path.basename(make_run_folder(str(tmp_path / "r"), "rotate", NOW)) == "20261206T061500Z-rotate-2"


# -- pointers ----------------------------------------------------------------------------------------------------------


def test_latest_is_a_symlink(tmp_path):
    run(tmp_path / "r")
    assert (tmp_path / "r" / LATEST).is_symlink()


def test_latest_is_relative(tmp_path):
    run(tmp_path / "r")
    assert os.readlink(tmp_path / "r" / LATEST) == "20261206T061500Z-rotate"


def test_latest_points_to_the_second_of_two_runs(tmp_path):
    run(tmp_path / "r", "check", at(0))
    second = run(tmp_path / "r", "rotate", at(1))
    assert pointed(str(tmp_path / "r"), LATEST) == name(second)


def test_latest_reads_the_newest_report(tmp_path):
    run(tmp_path / "r", "rotate", at(0), label="first")
    run(tmp_path / "r", "audit", at(1), label="second")
    assert (tmp_path / "r" / LATEST / "rotation-report.md").read_text() == "# second\n"


def test_a_rotate_run_sets_latest_rotate(tmp_path):
    paths = run(tmp_path / "r", "rotate")
    assert pointed(str(tmp_path / "r"), LATEST_ROTATE) == name(paths)


def test_a_check_run_makes_no_latest_rotate(tmp_path):
    run(tmp_path / "r", "check")
    assert not os.path.lexists(tmp_path / "r" / LATEST_ROTATE)


def test_a_check_run_does_not_move_latest_rotate(tmp_path):
    rotate = run(tmp_path / "r", "rotate", at(0))
    run(tmp_path / "r", "check", at(1))
    assert pointed(str(tmp_path / "r"), LATEST_ROTATE) == name(rotate)


def test_an_audit_run_does_not_move_latest_rotate(tmp_path):
    rotate = run(tmp_path / "r", "rotate", at(0))
    run(tmp_path / "r", "audit", at(1))
    assert pointed(str(tmp_path / "r"), LATEST_ROTATE) == name(rotate)


def test_a_check_run_moves_latest(tmp_path):
    run(tmp_path / "r", "rotate", at(0))
    check = run(tmp_path / "r", "check", at(1))
    assert pointed(str(tmp_path / "r"), LATEST) == name(check)


def test_a_pointer_replaces_a_directory_of_that_name(tmp_path):
    (tmp_path / "r" / LATEST).mkdir(parents=True)
    run(tmp_path / "r")
    assert (tmp_path / "r" / LATEST).is_symlink()


# -- a copy where no symlink can be made --------------------------------------------------------------------------------


def test_without_symlinks_latest_is_a_directory(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    run(tmp_path / "r")
    assert (tmp_path / "r" / LATEST).is_dir() and not (tmp_path / "r" / LATEST).is_symlink()


def test_without_symlinks_latest_holds_a_copy_of_the_report(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    run(tmp_path / "r", label="copied")
    assert (tmp_path / "r" / LATEST / "rotation-report.md").read_text() == "# copied\n"


def test_without_symlinks_latest_rotate_is_a_copy_too(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    run(tmp_path / "r", label="copied")
    assert (tmp_path / "r" / LATEST_ROTATE / "rotation-report.json").read_text() == json.dumps({"label": "copied"})


def test_without_symlinks_a_later_run_replaces_the_copy(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    run(tmp_path / "r", "rotate", at(0), label="first")
    run(tmp_path / "r", "check", at(1), label="second")
    assert (tmp_path / "r" / LATEST / "rotation-report.md").read_text() == "# second\n"


def test_a_copy_names_the_folder_it_copies(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    paths = run(tmp_path / "r")
    assert pointed(str(tmp_path / "r"), LATEST) == name(paths)


def test_a_copy_is_readable_by_all(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    run(tmp_path / "r")
    assert stat.S_IMODE((tmp_path / "r" / LATEST).stat().st_mode) == 0o755


def test_without_symlinks_no_temporary_entry_is_left(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    run(tmp_path / "r", "rotate", at(0))
    run(tmp_path / "r", "rotate", at(1))
    assert sorted(os.listdir(tmp_path / "r")) == ["20261206T061500Z-rotate", "20261206T061600Z-rotate", LATEST, LATEST_ROTATE]


def test_a_symlink_replaces_an_earlier_copy(tmp_path, monkeypatch):
    with monkeypatch.context() as patched:
        no_symlinks(patched)
        run(tmp_path / "r", "rotate", at(0))
    run(tmp_path / "r", "rotate", at(1))
    assert os.readlink(tmp_path / "r" / LATEST) == "20261206T061600Z-rotate"


def test_a_leftover_temporary_link_name_is_not_reused(tmp_path, monkeypatch):
    (tmp_path / "r").mkdir()
    names = iter(["used", "used", "free"])
    monkeypatch.setattr(history.secrets, "token_hex", lambda size: next(names))
    os.symlink("elsewhere", tmp_path / "r" / ".latest-used.tmp")
    (tmp_path / "r" / "20261206T061500Z-rotate").mkdir()
    point(str(tmp_path / "r"), LATEST, "20261206T061500Z-rotate")
    assert os.readlink(tmp_path / "r" / LATEST) == "20261206T061500Z-rotate"


# -- pruning -------------------------------------------------------------------------------------------------------------


def five_runs(report_dir, modes=("rotate",) * 5) -> list:
    return [name(run(report_dir, mode, at(i))) for i, mode in enumerate(modes)]


def test_pruning_keeps_the_newest_n(tmp_path):
    names = five_runs(tmp_path / "r")
    prune(str(tmp_path / "r"), 2)
    assert run_folders(str(tmp_path / "r")) == names[-2:]


def test_pruning_says_what_it_removed(tmp_path):
    names = five_runs(tmp_path / "r")
    assert prune(str(tmp_path / "r"), 2) == names[:3]


def test_pruning_keeps_the_folder_latest_rotate_points_to_when_older(tmp_path):
    names = five_runs(tmp_path / "r", ("rotate", "check", "check", "check", "check"))
    prune(str(tmp_path / "r"), 2)
    assert names[0] in run_folders(str(tmp_path / "r"))


def test_pruning_keeps_only_the_newest_n_and_the_pointed(tmp_path):
    names = five_runs(tmp_path / "r", ("rotate", "check", "check", "check", "check"))
    prune(str(tmp_path / "r"), 2)
    assert run_folders(str(tmp_path / "r")) == [names[0]] + names[-2:]


def test_pruning_keeps_the_folder_latest_points_to_when_older(tmp_path):
    newest = name(run(tmp_path / "r", "check", at(60)))
    oldest = name(run(tmp_path / "r", "check", at(0)))  # the clock went back: latest is the oldest name
    prune(str(tmp_path / "r"), 1)
    assert run_folders(str(tmp_path / "r")) == [oldest, newest]


def test_pruning_keeps_the_folder_a_copy_names(tmp_path, monkeypatch):
    no_symlinks(monkeypatch)
    names = five_runs(tmp_path / "r", ("rotate", "check", "check", "check", "check"))
    prune(str(tmp_path / "r"), 1)
    assert run_folders(str(tmp_path / "r")) == [names[0], names[-1]]


def test_pruning_orders_suffix_10_after_suffix_2(tmp_path):
    for _run in range(10):
        run(tmp_path / "r")
    prune(str(tmp_path / "r"), 1)
    assert run_folders(str(tmp_path / "r")) == ["20261206T061500Z-rotate-10"]


def test_pruning_leaves_the_pointers(tmp_path):
    five_runs(tmp_path / "r")
    prune(str(tmp_path / "r"), 1)
    assert os.path.isdir(tmp_path / "r" / LATEST) and os.path.isdir(tmp_path / "r" / LATEST_ROTATE)


def test_pruning_touches_nothing_that_is_not_a_run_folder(tmp_path):
    report_dir = tmp_path / "r"
    five_runs(report_dir)
    others = ["notes.txt", "rotation-report.json", "20261206T061500Z-other", "20261206T0615Z-rotate", "archive"]
    for other in others[:2]:
        (report_dir / other).write_text("mine")
    for other in others[2:]:
        (report_dir / other).mkdir()
    prune(str(report_dir), 1)
    assert all((report_dir / other).exists() for other in others)


def test_pruning_leaves_a_symlink_named_as_a_run(tmp_path):
    report_dir = tmp_path / "r"
    five_runs(report_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), report_dir / "20200101T000000Z-rotate")
    prune(str(report_dir), 1)
    assert os.path.islink(report_dir / "20200101T000000Z-rotate") and elsewhere.is_dir()


def test_pruning_a_missing_report_dir_removes_nothing(tmp_path):
    assert prune(str(tmp_path / "missing"), 3) == []


def test_pruning_refuses_to_keep_none(tmp_path):
    with pytest.raises(ValueError):
        prune(str(tmp_path), 0)


def test_a_copy_naming_no_run_folder_points_nowhere(tmp_path):
    (tmp_path / LATEST).mkdir()
    (tmp_path / LATEST / TARGET_FILE).write_text("../../etc\n")
    assert pointed(str(tmp_path), LATEST) is None
