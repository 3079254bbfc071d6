"""Headless Chromium for the tests that look at pages as people do (tests/browser, tests/docsite).

Debian's chromium and chromedriver, named explicitly and driven by Selenium offline (SE_OFFLINE: Selenium Manager
must not fetch a browser or a driver). Without them a test skips, saying why, except under CI (CI=true), where it fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Any, Iterator, List

import pytest

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1400, 900


def missing() -> List[str]:
    parts = [path for path in (CHROMIUM, DRIVER) if not os.access(path, os.X_OK)]
    if importlib.util.find_spec("selenium") is None:
        parts.append("the selenium Python package")
    return parts


def set_viewport(driver: Any, height: int = HEIGHT) -> None:
    """The viewport itself WIDTH x height, whatever the window's frame takes."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})


def headless_chromium(make_target: str) -> Iterator[Any]:
    """A driver at WIDTH x HEIGHT logging every request, for a module-scoped fixture; `make_target` installs the parts."""
    gone = missing()
    if gone:
        message = "headless Chromium needs %s: run `make %s`, which installs them (as root)" % (", ".join(gone), make_target)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=%d,%d" % (WIDTH, HEIGHT)):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    set_viewport(driver)
    try:
        yield driver
    finally:
        driver.quit()


def requests_made(driver: Any) -> List[str]:
    """The URLs Chromium requested since the log was last read."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
