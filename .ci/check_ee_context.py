"""Check an ansible-builder build context without a container engine: usage `check_ee_context.py CONTEXT_DIR`.

The image build runs, in containers, `ansible-galaxy collection install -r requirements.yml` in the context's `_build`
directory and then the context's `introspect.py` on the installed collections, and pip-installs what it prints.
This script runs the same two steps from the same files on this machine and fails unless the collection is installed
and the Python requirements the build would install include requests and cryptography, and the optional
prometheus_client the execution environment file lists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

COLLECTION = "certops.cloudflare"
REQUIRED = ("requests", "cryptography", "prometheus_client")


def build_instructions(context: str) -> str:
    """The Containerfile (podman) or Dockerfile (docker) ansible-builder wrote."""
    for name in ("Containerfile", "Dockerfile"):
        path = os.path.join(context, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                return handle.read()
    raise SystemExit("no Containerfile or Dockerfile in %s" % context)


def check_build_steps(instructions: str) -> None:
    """The build installs the collections from requirements.yml and introspects them: what this script repeats."""
    for step in ("ansible-galaxy collection install", "-r requirements.yml", "introspect.py introspect"):
        if step not in instructions:
            raise SystemExit("the build instructions have no step with %r" % step)


def install_collections(build_dir: str, collections_path: str) -> None:
    """The galaxy stage: run from a copy of `_build`, as the image build runs in /build."""
    subprocess.run(
        ["ansible-galaxy", "collection", "install", "-r", "requirements.yml", "--collections-path", collections_path],
        cwd=build_dir,
        check=True,
        # Only the empty target path, as in the image: a collection installed elsewhere would be taken as present.
        env={**os.environ, "ANSIBLE_GALAXY_DISABLE_GPG_VERIFY": "1", "ANSIBLE_COLLECTIONS_PATH": collections_path},
    )
    installed = os.path.join(collections_path, "ansible_collections", *COLLECTION.split("."), "MANIFEST.json")
    if not os.path.isfile(installed):
        raise SystemExit("the context's requirements.yml did not install %s" % COLLECTION)


def introspected_requirements(build_dir: str, collections_path: str) -> list[str]:
    """The builder stage: the context's introspect.py writes the pip requirements the image build installs, the
    collection's and the execution environment file's own (`--user-pip`, as the build passes them)."""
    pip_file = os.path.join(collections_path, "requirements.txt")
    script = os.path.join(build_dir, "scripts", "introspect.py")
    command = [sys.executable, script, "introspect", collections_path, "--write-pip", pip_file]
    user_pip = os.path.join(build_dir, "requirements.txt")
    if os.path.isfile(user_pip):
        command.append("--user-pip=%s" % user_pip)
    subprocess.run(command, check=True)
    if not os.path.isfile(pip_file):
        raise SystemExit("introspection found no Python requirements")
    with open(pip_file, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def requirement_name(line: str) -> str:
    """`requests>=2.28  # from collection certops.cloudflare` -> `requests`."""
    return re.split(r"[\s<>=!~;\[#]", line, maxsplit=1)[0].lower()


def main() -> int:
    context = sys.argv[1]
    check_build_steps(build_instructions(context))
    with tempfile.TemporaryDirectory(prefix="ee-context-") as scratch:
        build_dir = os.path.join(scratch, "build")
        shutil.copytree(os.path.join(context, "_build"), build_dir)
        collections_path = os.path.join(scratch, "collections")
        install_collections(build_dir, collections_path)
        requirements = introspected_requirements(build_dir, collections_path)
    missing = [name for name in REQUIRED if name not in {requirement_name(line) for line in requirements}]
    print("\n".join(["The image build would pip-install:"] + ["  " + line for line in requirements]))
    if missing:
        print("missing from the execution environment: %s" % ", ".join(missing))
        return 1
    print("ok: the context installs %s and pip-installs %s" % (COLLECTION, ", ".join(REQUIRED)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
