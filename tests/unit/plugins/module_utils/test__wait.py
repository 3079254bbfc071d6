"""The one wait: read until done, back off from 0.25 s doubling up to 10 s, time out with WaitTimeoutError."""

from __future__ import annotations

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import WaitTimeoutError, poll


def test_poll_returns_the_first_value_that_is_done_backing_off_up_to_ten_seconds():
    values = iter(range(9))
    slept = []
    assert poll(lambda: next(values), lambda v: v == 8, 3600, "eight", sleep=slept.append) == 8
    assert slept == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_poll_times_out_with_the_one_timeout_error_naming_what_it_waited_for():
    with pytest.raises(WaitTimeoutError, match=r"^timed out after 0.1s waiting for the thing; last seen: 7$"):
        poll(lambda: 7, lambda v: False, 0.1, "the thing", sleep=lambda s: None, last_seen=lambda v: "last seen: %s" % v)


def test_a_timeout_is_an_api_error_a_caller_can_report_per_object():
    assert issubclass(WaitTimeoutError, CloudflareError)


def test_done_may_stop_the_wait_at_once():
    def stuck(value):
        raise CloudflareError("stuck in %s" % value)

    slept = []
    with pytest.raises(CloudflareError, match="stuck in 1"):
        poll(lambda: 1, stuck, 3600, "never", sleep=slept.append)
    assert slept == []
