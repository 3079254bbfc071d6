"""custom_hostname_cert's progress lines (its action plugin) and the progress file the list form writes."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.certops.cloudflare.plugins.action.custom_hostname_cert import duration, lines_every, progress_line, read_state
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import apply_hostnames
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.apply_hostnames import Progress


def test_a_line_says_done_and_total_failures_pace_and_time_left():
    state = {"total": 10000, "done": 4200, "failed": 3, "waiting": 0, "phase": "writing", "started": 1000.0}
    assert progress_line(state, 1112.0) == "custom hostnames: 4200 of 10000 done (42 %), 3 failed, 37.5 a second, about 2 min 35 s left"


def test_a_line_before_the_first_hostname_and_while_waiting():
    assert progress_line(None, 5.0) == "custom hostnames: starting"
    assert progress_line({"total": 0}, 5.0) == "custom hostnames: starting"  # still checking the plan
    first = {"total": 300, "done": 0, "failed": 0, "phase": "writing", "started": 5.0}
    assert progress_line(first, 6.0).endswith("0 failed, pace not known yet")
    waiting = dict(first, done=300, failed=2, waiting=41, phase="waiting")
    assert progress_line(waiting, 60.0) == "custom hostnames: 300 of 300 done (100 %), 2 failed; waiting for 41 to go live"
    finished = dict(waiting, waiting=0, phase="finished", updated=130.0)
    assert progress_line(finished, 140.0) == "custom hostnames: 300 of 300 done (100 %), 2 failed, in 2 min 05 s"


@pytest.mark.parametrize("seconds, text", [(0.4, "0 s"), (59, "59 s"), (60, "1 min 00 s"), (155, "2 min 35 s"), (3600 * 2 + 300, "2 h 05 min")])
def test_the_time_left_reads_as_people_say_it(seconds, text):
    assert duration(seconds) == text


def test_a_progress_file_not_written_yet_reads_as_none(tmp_path):
    empty = tmp_path / "progress.json"
    empty.write_text("")  # the temporary file before the module's first write
    assert read_state(str(empty)) is None and read_state(str(tmp_path / "missing.json")) is None
    empty.write_text('{"total": 3}')
    assert read_state(str(empty)) == {"total": 3}


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


def test_the_interval_is_read_as_ansible_may_hand_it():
    assert [lines_every(v) for v in (30, "30", None, 0, -5, "soon", True)] == [30, 30, 0, 0, 0, 0, 0]
