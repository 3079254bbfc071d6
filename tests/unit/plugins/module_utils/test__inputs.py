"""Hostnames compare one way everywhere: _inputs.normalize_hostname and host_set."""

from __future__ import annotations

from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_hostname, host_set, normalize_hostname


def test_a_hostname_compares_lower_cased_without_blanks_or_a_trailing_dot():
    assert normalize_hostname(" App.Example.COM. ") == "app.example.com"


def test_a_host_set_ignores_order_case_trailing_dots_and_repeats():
    assert host_set(["b.example.com", "A.example.com.", "a.example.com"]) == ["a.example.com", "b.example.com"]


def test_a_host_set_of_one_name_given_as_text_is_that_name():
    assert host_set("App.Example.com") == ["app.example.com"]


def test_a_host_set_of_nothing_is_empty():
    assert host_set(None) == []


def test_check_hostname_normalises_as_normalize_hostname_does():
    assert check_hostname(" App.Example.COM. ", "hostname") == normalize_hostname(" App.Example.COM. ")
