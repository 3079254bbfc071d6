"""rotation_progress' lines and its reading of the async job file; the progress file the list form writes."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.certops.cloudflare.plugins.action.rotation_progress import duration, job_finished, progress_line
from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import apply_hostnames
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.apply_hostnames import Progress


def test_a_line_says_done_and_total_failures_pace_and_time_left():
    state = {"total": 10000, "done": 4200, "failed": 3, "waiting": 0, "phase": "writing", "started": 1000.0}
    assert progress_line("custom hostnames", state, 1112.0) == "custom hostnames: 4200 of 10000 done (42 %), 3 failed, 37.5 a second, about 2 min 35 s left"


def test_a_line_before_the_first_hostname_and_while_waiting():
    assert progress_line("custom hostnames", None, 5.0) == "custom hostnames: starting"
    assert progress_line("custom hostnames", {"total": 0}, 5.0) == "custom hostnames: starting"  # still checking the plan
    first = {"total": 300, "done": 0, "failed": 0, "phase": "writing", "started": 5.0}
    assert progress_line("custom hostnames", first, 6.0).endswith("0 failed, pace not known yet")
    waiting = dict(first, done=300, failed=2, waiting=41, phase="waiting")
    assert progress_line("custom hostnames", waiting, 60.0) == "custom hostnames: 300 of 300 done (100 %), 2 failed; waiting for 41 to go live"
    finished = dict(waiting, waiting=0, phase="finished", updated=130.0)
    assert progress_line("custom hostnames", finished, 140.0) == "custom hostnames: 300 of 300 done (100 %), 2 failed, in 2 min 05 s"


@pytest.mark.parametrize("seconds, text", [(0.4, "0 s"), (59, "59 s"), (60, "1 min 00 s"), (155, "2 min 35 s"), (3600 * 2 + 300, "2 h 05 min")])
def test_the_time_left_reads_as_people_say_it(seconds, text):
    assert duration(seconds) == text


def test_a_job_is_finished_by_async_status_rule():
    assert not job_finished("") and not job_finished("\n")  # not written yet
    assert not job_finished(json.dumps({"started": 1, "finished": 0, "ansible_job_id": "j1"}))
    assert job_finished(json.dumps({"changed": True, "summary": {"total": 3}}))  # the module's own result
    assert job_finished("Traceback (most recent call last):")  # no JSON: async_status reports it as a failure


def test_the_progress_file_is_written_at_most_once_a_second_and_always_at_the_end(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(apply_hostnames.time, "monotonic", lambda: clock[0])
    path = tmp_path / "progress.json"
    progress = Progress(str(path), 0)
    progress.update(force=True, total=500)
    for done in range(1, 200):
        progress.update(done=done)
    assert json.loads(path.read_text())["done"] == 0  # the clock has not moved: no write since the forced one
    clock[0] += 1.0
    progress.update(done=200, failed=1)
    assert json.loads(path.read_text())["done"] == 200
    progress.finish()
    state = json.loads(path.read_text())
    assert (state["total"], state["done"], state["failed"], state["phase"]) == (500, 200, 1, "finished")
    assert set(state) == {"total", "done", "failed", "waiting", "phase", "started", "updated"}  # counts and times only
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_a_progress_file_that_cannot_be_written_does_not_stop_the_work(tmp_path):
    progress = Progress(str(tmp_path / "missing-dir" / "progress.json"), 10)
    progress.update(force=True, done=5)
    assert progress.path is None and not (tmp_path / "missing-dir").exists()


def test_a_task_whose_watcher_is_gone_stops_before_its_next_write(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(apply_hostnames.time, "monotonic", lambda: clock[0])
    path = tmp_path / "progress.json"
    progress = Progress(str(path), 0)
    progress.update(force=True, total=50, done=10)  # no watch file yet: nothing to check
    watch = tmp_path / "progress.json.watched"
    watch.touch()
    clock[0] += 1.0
    progress.update(done=20)  # watched a moment ago
    old = os.stat(watch).st_mtime - 16
    os.utime(watch, (old, old))
    clock[0] += 1.0
    with pytest.raises(InputError, match=r"stopped waiting for it .*; 21 of 50 hostnames were handled, and running the play again finishes the rest"):
        progress.update(done=21)
    progress.finish()  # the end is written all the same
    assert json.loads(path.read_text())["phase"] == "finished"
