"""Integration harness: real ansible-playbook runs of the collection's modules against the emulator.

`ansible` fixture: `ansible.run_module(name, args, check=False, diff=False, verbosity=0)` runs one task
and returns a TaskRun; `ansible.run_tasks([task, ...])` runs several in one play and returns a PlaybookRun.
Credentials and the base URL point at the function-scoped `emulator` fixture (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from emulator.testcerts import generations, make_ca, trusted_cas, write_files

COLLECTIONS = Path(__file__).resolve().parents[2] / ".build" / "collections"  # linked by tests/conftest.py
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"


@dataclass
class PlaybookRun:
    rc: int
    output: str
    results: List[Dict[str, Any]] = field(default_factory=list)

    def result(self, index: int = -1) -> Dict[str, Any]:
        return self.results[index]["result"]


@dataclass
class TaskRun:
    rc: int
    output: str
    result: Dict[str, Any]

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def msg(self) -> str:
        return str(self.result.get("msg", ""))


class Ansible:
    """Runs playbooks in a temporary directory with the collection from the working tree."""

    def __init__(self, tmp_path: Path, emulator: Any) -> None:
        self.tmp_path = tmp_path
        self.emulator = emulator
        self.counter = 0
        self.env: Dict[str, str] = {}

    def trust_bundle(self) -> str:
        """The test CA registry's roots as a PEM bundle: the "public" roots of this test run, as the emulator trusts them.
        Given to the playbooks as REQUESTS_CA_BUNDLE, the CA bundle the collection trusts by default (as requests does)."""
        path = self.tmp_path / "trusted-roots.pem"
        path.write_text("".join(ca.cert_pem for ca in trusted_cas() if ca.is_root))
        return str(path)

    def temp_dir(self) -> str:
        path = self.tmp_path / "tmp"
        path.mkdir(exist_ok=True)
        return str(path)

    def lock_dir(self) -> str:
        """Where the collection's zone locks of this Ansible's runs live (under its TMPDIR)."""
        return os.path.join(self.env.get("TMPDIR") or self.temp_dir(), "certops-cloudflare-%d" % os.getuid())

    def base_env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
            ANSIBLE_CALLBACKS_ENABLED="results_json",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_LOCAL_TEMP=str(self.tmp_path / "ansible-tmp"),
            CLOUDFLARE_API_TOKEN=self.emulator.token,
            CLOUDFLARE_BASE_URL=self.emulator.url,
            CLOUDFLARE_API_RATE_LIMIT="0",
            REQUESTS_CA_BUNDLE=self.trust_bundle(),
            # Each test's own temporary directory: the pacer's shared window and the zone locks live there, and the
            # emulators of parallel tests share zone ids.
            TMPDIR=self.temp_dir(),
        )
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env.update(self.env)
        return {k: v for k, v in env.items() if v is not None}

    def run_tasks(
        self,
        tasks: List[Dict[str, Any]],
        check: bool = False,
        diff: bool = False,
        verbosity: int = 0,
        env: Optional[Dict[str, Optional[str]]] = None,
        play_vars: Optional[Dict[str, Any]] = None,
        play_extra: Optional[Dict[str, Any]] = None,
    ) -> PlaybookRun:
        self.counter += 1
        playbook = self.tmp_path / ("play%d.yml" % self.counter)
        results_path = self.tmp_path / ("results%d.jsonl" % self.counter)
        play = dict({"hosts": "localhost", "gather_facts": False, "vars": play_vars or {}, "tasks": tasks}, **(play_extra or {}))
        playbook.write_text(json.dumps([play], indent=1))  # JSON is YAML
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        run_env = self.base_env()
        for key, value in (env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = value
        run_env["RESULTS_JSON_PATH"] = str(results_path)
        proc = subprocess.run(cmd, env=run_env, cwd=str(self.tmp_path), capture_output=True, text=True, timeout=600, check=False)
        results = []
        if results_path.exists():
            results = [json.loads(line) for line in results_path.read_text().splitlines() if line.strip()]
        return PlaybookRun(proc.returncode, proc.stdout + proc.stderr, results)

    def run_module(self, name: str, args: Dict[str, Any], **kwargs: Any) -> TaskRun:
        fqcn = name if "." in name else "certops.cloudflare." + name
        run = self.run_tasks([{"name": "run " + fqcn, fqcn: args, "register": "result", "ignore_errors": True}], **kwargs)
        assert run.results, "the playbook produced no task result:\n" + run.output
        return TaskRun(run.rc, run.output, run.results[-1]["result"])


def seed_due_hostnames(emulator: Any, pki: SimpleNamespace, pattern: str, count: int) -> List[str]:
    """`count` custom hostnames named by `pattern` % i, each serving the `pki` fixture's due wildcard certificate."""
    names = [pattern % i for i in range(count)]
    emulator.state.add_custom_hostnames(emulator.zone_id, names, pki.due.chain_pem, ssl={"method": "txt", "type": "dv"})
    return names


@pytest.fixture
def ansible(tmp_path: Path, emulator: Any) -> Ansible:
    return Ansible(tmp_path, emulator)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """One wildcard certificate per generation (due, fresh, new) for *.customer.example, written to files (the list
    form takes paths). Test files that need other certificates define their own `pki`."""
    leaves = generations(make_ca("Certops Wildcard CA"), ["*.customer.example"])
    root = tmp_path_factory.mktemp("wildcard-pki")
    return SimpleNamespace(root=root, files=write_files(root, leaves), **leaves)


@pytest.fixture(scope="module")
def scenario_emulator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Tuple[Any, Ansible]]]:
    """For a scenario run once and asserted on by several tests: `emulator, ansible = scenario_emulator(**kwargs)` starts a fresh
    emulator (Emulator(delay=0.05, **kwargs), as the `emulator` fixture does) and an Ansible bound to it, both kept until the
    test module is done. A module-scoped fixture calls it, runs the scenario's playbooks and returns what its tests assert on;
    the tests only read, so their order does not matter. The journals are saved for the contract check, as for `emulator`.

    Keep a scenario's tests in one class: `--dist loadscope` sends a class to one worker, so the scenario runs once. Under
    the default `load` distribution a class's tests may land on both workers; each then runs the scenario with its own emulator."""
    root_conftest = Path(__file__).resolve().parents[1] / "conftest.py"  # its write_journal and DEFAULT_DELAY
    (root,) = [p for p in request.config.pluginmanager.get_plugins() if getattr(p, "__file__", None) and Path(p.__file__).resolve() == root_conftest]
    started: List[Any] = []

    def factory(**kwargs: Any) -> Tuple[Any, Ansible]:
        kwargs.setdefault("delay", root.DEFAULT_DELAY)
        emu = root.Emulator(**kwargs)
        emu.start()
        started.append(emu)
        return emu, Ansible(tmp_path_factory.mktemp("scenario"), emu)

    yield factory
    for emu in started:
        emu.stop()
        root.write_journal(emu, request.node.nodeid)
