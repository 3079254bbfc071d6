"""Offline stand-in for the get-pip.py script ansible-test downloads to bootstrap its virtual environments.

ansible-test runs `python get_pip.py [pip options] pip==X --no-setuptools --no-wheel`. This machine cannot
download the real script, so this one runs pip from the wheel bundled with Python's ensurepip, which then
installs the requested pip from the configured package index. The Makefile copies it into ansible-test's cache.
"""

from __future__ import annotations

import glob
import os
import sys

import ensurepip

BUNDLED = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")


def main() -> int:
    wheels = sorted(glob.glob(os.path.join(BUNDLED, "pip-*.whl")))
    if not wheels:
        sys.stderr.write("no pip wheel bundled with ensurepip in %s\n" % BUNDLED)
        return 1
    sys.path.insert(0, wheels[-1])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    return pip_main(["install", "--upgrade"] + args)


if __name__ == "__main__":
    sys.exit(main())
