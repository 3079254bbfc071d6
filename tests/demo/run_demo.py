"""`make demo`: the emulator with the demo zone, new certificates, and the demo playbook three times.

1. --check --diff: what would change, certificate facts only, nothing written.
2. --diff: the rotation, waiting for Cloudflare (the emulator) to deploy.
3. again: nothing left to change.
Then the emulator's count of API calls and its check that no hostname ever lacked a valid certificate.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from emulator import Emulator, testcerts

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = Path(__file__).resolve().parent / "demo.yml"


def mint(directory: Path) -> None:
    """The new material a team would get from its CA: a server and a client certificate with keys."""
    ca = testcerts.make_ca("Demo Issuing CA", org="Certops Demo CA")
    for name, hosts, days in (("app.example.com", ["app.example.com"], 90), ("origin-pull", ["origin-pull.example.com"], 365)):
        leaf = testcerts.make_leaf(ca, hosts, days=days)
        (directory / (name + ".pem")).write_text(leaf.cert_pem)
        key_path = directory / (name + ".key")
        key_path.write_text(leaf.key_pem)
        key_path.chmod(0o600)


def playbook(emulator: Emulator, demo_dir: Path, *options: str) -> None:
    env = dict(
        os.environ,
        CLOUDFLARE_BASE_URL=emulator.url,
        CLOUDFLARE_API_TOKEN=emulator.token,
        CLOUDFLARE_API_RATE_LIMIT="0",
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    for name in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        env.pop(name, None)
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", "demo_dir=%s" % demo_dir]
    subprocess.run(command + list(options), env=env, check=True)


def main() -> int:
    delay = float(os.environ.get("EMULATOR_DELAY", "2"))
    emulator = Emulator(seed="demo", delay=delay)
    emulator.start(port=int(os.environ.get("EMULATOR_PORT", "0")))
    print("Cloudflare API emulator with the demo zone example.com on %s (status steps last %.0f s)" % (emulator.url, delay), flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="certops-demo-") as tmp:
            demo_dir = Path(tmp)
            mint(demo_dir)
            for title, options in (
                ("Preview: --check --diff writes nothing", ("--check", "--diff")),
                ("Rotate: --diff", ("--diff",)),
                ("Run again: nothing left to change", ()),
            ):
                print("\n===== %s =====" % title, flush=True)
                playbook(emulator, demo_dir, *options)
        counts = emulator.counts()
        print("\nAPI calls: %d reads, %d writes." % (counts["reads"], counts["writes"]))
        emulator.history.assert_valid()
        print("Every hostname, client certificate association and zone custom certificate stayed valid throughout the rotation.")
    except subprocess.CalledProcessError as exc:
        print("demo failed: %s" % exc, file=sys.stderr)
        return 1
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
