"""The offline pip stand-in (.ci/get_pip_offline.py) bootstraps pip into a virtual environment created without pip,
as ansible-test does, from each source it knows. Run by `make sanity-distro` with the distribution's Python.

Every install is offline (`--no-index --find-links` a directory holding a pip wheel), so the tests need no network.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap

import pytest

STAND_IN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_offline.py")
BASE_PYTHON = os.environ.get("DISTRO_PYTHON", "/usr/bin/python3")
# The stand-in sources, forced off one by one in the child process (it runs the module's main()).
RUNNER = textwrap.dedent("""
    import runpy, sys, sysconfig
    namespace = runpy.run_path(sys.argv[1])
    hidden = sys.argv[2].split(",")
    main = namespace["main"]
    globals_of_main = main.__globals__
    if "bundled" in hidden:
        globals_of_main["BUNDLED"] = "/nonexistent"
    if "distribution" in hidden:
        globals_of_main["DISTRIBUTION_WHEELS"] = "/nonexistent"
        real = sysconfig.get_config_var
        sysconfig.get_config_var = lambda name: None if name == "WHEEL_PKG_DIR" else real(name)
    sys.argv = [sys.argv[1]] + sys.argv[3:]
    sys.exit(main())
    """)


def distribution_wheel_dir() -> str | None:
    """Where the base Python's distribution keeps its pip wheel, if it has one."""
    out = subprocess.run(
        [BASE_PYTHON, "-c", "import sysconfig; print(sysconfig.get_config_var('WHEEL_PKG_DIR') or '')"], capture_output=True, text=True, check=False
    )
    for directory in (out.stdout.strip(), "/usr/share/python-wheels"):
        if directory and glob.glob(os.path.join(directory, "pip-*.whl")):
            return directory
    return None


WHEELS = distribution_wheel_dir()
pytestmark = pytest.mark.skipif(not (os.path.exists(BASE_PYTHON) and WHEELS), reason="needs a distribution Python with a pip wheel directory")


def bare_venv(tmp_path) -> str:
    """A virtual environment without pip, as ansible-test creates before bootstrapping."""
    venv = str(tmp_path / "venv")
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", venv], check=True)
    return os.path.join(venv, "bin", "python")


def stand_in_in_cache(tmp_path, pip_dir: str | None) -> str:
    """The stand-in as `make sanity-run` lays it out in ansible-test's cache, with or without the pip_dir file."""
    cache = tmp_path / "cache"
    cache.mkdir()
    script = str(cache / "get_pip_24_2.py")
    shutil.copy(STAND_IN, script)
    if pip_dir:
        (cache / "get_pip_offline.pip_dir").write_text(pip_dir + "\n", encoding="utf-8")
    return script


def bootstrap(python: str, script: str, hidden: str) -> subprocess.CompletedProcess:
    args = ["--no-index", "--find-links", WHEELS, "pip", "--no-setuptools", "--no-wheel"]
    return subprocess.run([python, "-c", RUNNER, script, hidden] + args, capture_output=True, text=True, check=False)


def pip_version(python: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True, check=False)


def test_base_python_bundles_no_wheel():
    """The case this is for: the distribution's ensurepip has no _bundled wheel, which the old stand-in required."""
    out = subprocess.run([BASE_PYTHON, "-c", "import ensurepip, os; print(os.path.dirname(ensurepip.__file__))"], capture_output=True, text=True, check=False)
    assert not glob.glob(os.path.join(out.stdout.strip(), "_bundled", "pip-*.whl"))


def test_pip_from_the_distribution_wheel_directory(tmp_path):
    python = bare_venv(tmp_path)
    assert pip_version(python).returncode != 0
    result = bootstrap(python, stand_in_in_cache(tmp_path, None), "bundled")
    assert result.returncode == 0, result.stderr
    assert "running pip from %s" % WHEELS.rstrip("/") in result.stderr.replace("//", "/")
    assert pip_version(python).returncode == 0


def test_pip_from_the_dev_venv_when_no_wheel_is_found(tmp_path):
    python = bare_venv(tmp_path)
    site_packages = sysconfig.get_paths()["purelib"]  # the venv running pytest has pip installed
    assert os.path.isdir(os.path.join(site_packages, "pip"))
    result = bootstrap(python, stand_in_in_cache(tmp_path, site_packages), "bundled,distribution")
    assert result.returncode == 0, result.stderr
    assert "running pip from %s" % tempfile_prefix() in result.stderr
    assert pip_version(python).returncode == 0


def test_no_pip_anywhere_fails_with_a_message(tmp_path):
    python = bare_venv(tmp_path)
    result = bootstrap(python, stand_in_in_cache(tmp_path, None), "bundled,distribution")
    assert result.returncode == 1
    assert "no pip found" in result.stderr and "get_pip_offline.pip_dir" in result.stderr
    assert pip_version(python).returncode != 0


def tempfile_prefix() -> str:
    """The stand-in links the dev venv's pip into a fresh temporary directory with this prefix."""
    return os.path.join(tempfile.gettempdir(), "get-pip-offline-")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
