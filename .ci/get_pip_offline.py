"""Offline stand-in for the get-pip.py script ansible-test downloads to bootstrap its virtual environments.

ansible-test runs `python get_pip.py [pip options] pip==X --no-setuptools --no-wheel` in a new virtual environment
that has no pip. This machine cannot download the real script, so this one puts an existing pip on `sys.path` and
runs it, which then installs the requested pip from the configured package index. The first pip found is used:

1. the wheel bundled with Python's ensurepip (python.org and pyenv builds);
2. the wheel in the interpreter's `WHEEL_PKG_DIR`, or in `/usr/share/python-wheels` (Debian and Ubuntu builds,
   whose ensurepip bundles no wheel);
3. the pip installed in the development venv, whose site-packages the Makefile writes to the file
   `get_pip_offline.pip_dir` beside this script when it copies it into ansible-test's cache.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import sys
import sysconfig
import tempfile

import ensurepip

BUNDLED = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")
DISTRIBUTION_WHEELS = "/usr/share/python-wheels"
PIP_DIR_FILE = "get_pip_offline.pip_dir"


def wheel_directories() -> list[str]:
    """Directories that may hold a pip wheel, most specific first."""
    return [BUNDLED, sysconfig.get_config_var("WHEEL_PKG_DIR") or "", DISTRIBUTION_WHEELS]


def newest_wheel(directory: str) -> str | None:
    """The pip wheel with the highest version in a directory, or None."""
    wheels = glob.glob(os.path.join(directory, "pip-*.whl")) if directory else []
    return max(wheels, key=wheel_version, default=None)


def wheel_version(path: str) -> tuple[int, ...]:
    """(23, 0, 1) for pip-23.0.1-py3-none-any.whl, so 23.10 sorts after 23.9."""
    version = os.path.basename(path).split("-")[1]
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def installed_pip_path() -> str | None:
    """A directory holding only a link to the development venv's installed pip package, or None."""
    pip_dir_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), PIP_DIR_FILE)
    if not os.path.isfile(pip_dir_file):
        return None
    with open(pip_dir_file, encoding="utf-8") as handle:
        site_packages = handle.read().strip()
    package = os.path.join(site_packages, "pip")
    if not os.path.isfile(os.path.join(package, "__init__.py")):
        return None
    # Only pip, not the rest of the venv's site-packages, goes on sys.path.
    holder = tempfile.mkdtemp(prefix="get-pip-offline-")
    atexit.register(shutil.rmtree, holder, True)
    os.symlink(package, os.path.join(holder, "pip"))
    return holder


def find_pip() -> str | None:
    """A sys.path entry from which `pip` can be imported, or None."""
    for directory in wheel_directories():
        wheel = newest_wheel(directory)
        if wheel:
            return wheel
    return installed_pip_path()


def main() -> int:
    pip_path = find_pip()
    if not pip_path:
        searched = ", ".join(directory for directory in wheel_directories() if directory)
        sys.stderr.write("no pip found: no wheel in %s and no %s beside %s\n" % (searched, PIP_DIR_FILE, __file__))
        return 1
    sys.stderr.write("get_pip_offline: running pip from %s\n" % pip_path)
    sys.path.insert(0, pip_path)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    return pip_main(["install", "--upgrade"] + args)


if __name__ == "__main__":
    sys.exit(main())
