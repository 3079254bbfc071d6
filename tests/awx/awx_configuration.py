"""The AWX configuration as code (extras/awx/configure_awx.yml) as Ansible reads it, without an AWX server.

`task_calls()` loads the playbook with Ansible's own loader (so `!unsafe` and trust are Ansible's) and templates every
task's arguments, once per loop item, with the play's variables, extra variables and an environment, as the play would
when it runs: what each awx.awx module would get. Only ansible-core is needed, not awx.awx, so the ansible-runner test
(tests/integration/test_awx_runner.py, in the dev venv) reads the job templates from here too.
"""

from __future__ import annotations

import os
import sysconfig
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.task import Task
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "extras" / "awx"
PLAYBOOK = AWX / "configure_awx.yml"
PROJECT = AWX / "project"
# The environment the playbook reads when it runs: the AWX connection (read by the modules) and the secrets.
TEST_ENV = {
    "CONTROLLER_HOST": "https://awx.test",
    "CONTROLLER_USERNAME": "awx-test-admin",
    "CONTROLLER_PASSWORD": "awx-test-password",
    "CLOUDFLARE_API_TOKEN": "cloudflare-test-token",
    "CERTOPS_SMTP_PASSWORD": "smtp-test-password",
}
# Task keywords: every other key of a task is its module.
TASK_KEYWORDS = set(Task.fattributes) | {"action", "local_action", "with_items", "loop", "loop_control", "args"}


_PLUGINS_READY = []


def init_plugins() -> None:
    """Ansible's plugin loader, with the collections of this venv (the `ansible` package's, where installed) and ours."""
    if not _PLUGINS_READY:
        init_plugin_loader([sysconfig.get_paths()["purelib"], str(ROOT / ".build" / "collections")])
        _PLUGINS_READY.append(True)


@dataclass
class TaskCall:
    """One module call of the playbook: its task's name, the module, its templated arguments and the loop item."""

    name: str
    action: str
    args: Dict[str, Any]
    item: Any = None


@contextmanager
def environment(env: Dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_play(path: Path = PLAYBOOK) -> Dict[str, Any]:
    loader = DataLoader()
    loader.set_basedir(str(path.parent))
    (play,) = loader.load_from_file(str(path), trusted_as_template=True)  # a playbook is trusted, as ansible-playbook trusts it
    return play


def task_calls(path: Path = PLAYBOOK, extra_vars: Optional[Dict[str, Any]] = None, env: Optional[Dict[str, str]] = None) -> List[TaskCall]:
    """Every task's module call, its arguments templated per loop item as the play would (a `when` is not evaluated)."""
    init_plugins()
    loader = DataLoader()
    loader.set_basedir(str(path.parent))  # where lookup('file', ...) looks, as for the playbook
    play = load_play(path)
    variables = dict(play.get("vars") or {}, **(extra_vars or {}))
    variables["ansible_search_path"] = [str(path.parent)]
    calls = []
    with environment(dict(TEST_ENV, **(env or {}))):
        for task in play["tasks"]:
            (action,) = [key for key in task if key not in TASK_KEYWORDS]
            items = Templar(loader=loader, variables=variables).template(task["loop"]) if "loop" in task else [None]
            for item in items:
                templar = Templar(loader=loader, variables=dict(variables, item=item))
                calls.append(TaskCall(task["name"], action, templar.template(task[action]), item))
    return calls


def job_templates(calls: Optional[List[TaskCall]] = None) -> Dict[str, Dict[str, Any]]:
    """The job templates the playbook creates, by name: the arguments of awx.awx.job_template."""
    return {c.args["name"]: c.args for c in calls or task_calls() if c.action == "awx.awx.job_template"}


def play_vars() -> Dict[str, Any]:
    return dict(load_play().get("vars") or {})
