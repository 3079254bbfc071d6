"""The AWX configuration as code (extras/awx/configure_awx.yml) checked without an AWX server.

The playbook and the project playbooks pass `ansible-playbook --syntax-check`; every task's arguments, templated as the
play would template them, validate against the argument spec of the installed awx.awx module (captured from the
module itself, with its auth options and constraints); every name a task refers to is defined by an earlier task;
and the job templates' extra variables and survey answers validate against the role's argument spec. Each checker
has a negative case, so that it can be seen failing. Run with the Python of the `ansible` package's venv (`make awx`).
"""

from __future__ import annotations

import copy
import importlib
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml

from awx_configuration import AWX, PLAYBOOK, PROJECT, ROOT, TEST_ENV, TaskCall, init_plugins, job_templates, play_vars, task_calls

init_plugins()  # Ansible's collection finder first: it loads awx.awx with its metadata
try:
    importlib.import_module("ansible_collections.awx.awx")
except ImportError as error:  # the dev venv: these tests need the `ansible` package's venv
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("awx.awx is not importable (%s): run with .venv-ansible/bin/python, as `make awx` does" % error, allow_module_level=True)

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

BIN = Path(sys.executable).parent
COLLECTIONS = ROOT / ".build" / "collections"
ROLE_SPEC = yaml.safe_load((ROOT / "roles" / "cert_rotation" / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
# The variables the project playbooks read besides the role's, with their types: each must be read by one of them.
PROJECT_VARS = {"certops_job_slice_count": dict(type="int"), "certops_api_rate_total": dict(type="float"), "certops_rotate_node": dict(type="str")}
# The built-in objects of every AWX the playbook refers to without creating them.
BUILT_IN = {"organization": {"Default"}}


class _Captured(Exception):
    pass


def module_spec(action: str) -> Dict[str, Any]:
    """The awx.awx module's argument spec and constraints, as its main() gives them to ControllerAPIModule."""
    init_plugins()
    name = action.split(".")[-1]
    module = importlib.import_module("ansible_collections.awx.awx.plugins.modules." + name)
    captured: Dict[str, Any] = {}

    class Capture(module.ControllerAPIModule):  # type: ignore[name-defined]
        def __init__(self, argument_spec: Dict[str, Any], **kwargs: Any) -> None:  # pylint: disable=super-init-not-called
            captured.update(kwargs, argument_spec=dict(self.AUTH_ARGSPEC, **argument_spec))
            raise _Captured()

    original = module.ControllerAPIModule
    module.ControllerAPIModule = Capture
    try:
        with pytest.raises(_Captured):
            module.main()
    finally:
        module.ControllerAPIModule = original
    constraints = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")
    return dict(argument_spec=captured["argument_spec"], **{k: captured[k] for k in constraints if captured.get(k)})


def documented_suboptions(action: str, option: str) -> Dict[str, Any]:
    """An option's suboptions as the module's DOCUMENTATION states them, as an argument spec (its code checks none)."""
    module = importlib.import_module("ansible_collections.awx.awx.plugins.modules." + action.split(".")[-1])

    def to_spec(options: Dict[str, Any]) -> Dict[str, Any]:
        keys = ("type", "elements", "choices", "required", "default", "aliases")
        return {n: dict({k: o[k] for k in keys if k in o}, **({"options": to_spec(o["suboptions"])} if "suboptions" in o else {})) for n, o in options.items()}

    return to_spec(yaml.safe_load(module.DOCUMENTATION)["options"][option]["suboptions"])


def argument_errors(calls: List[TaskCall]) -> List[str]:
    errors = []
    for call in calls:
        if not call.action.startswith("awx.awx."):
            continue
        spec = module_spec(call.action)
        result = ArgumentSpecValidator(**spec).validate(copy.deepcopy(call.args))
        errors += ["%s: %s" % (call.name, e) for e in result.error_messages]
        if call.action == "awx.awx.workflow_job_template":
            node_spec = documented_suboptions(call.action, "workflow_nodes")
            for node in call.args.get("workflow_nodes", []):
                errors += ["%s: node %s: %s" % (call.name, node.get("identifier"), e) for e in ArgumentSpecValidator(node_spec).validate(node).error_messages]
    return errors


def name_errors(calls: List[TaskCall], existing_credentials: Tuple[str, ...] = ()) -> List[str]:
    """Every name a task refers to must be defined by an earlier task, be one of AWX's built-in objects, or be one of
    the existing credentials the playbook's variables name (certops_awx_controller_credential, ..._extra_credentials)."""
    defined: Dict[str, set] = {kind: set(names) for kind, names in BUILT_IN.items()}
    defined["credential"] = set(existing_credentials)
    hosts: Dict[str, set] = {}
    errors = []

    def need(call: TaskCall, kind: str, name: Optional[str]) -> None:
        if name is not None and name not in defined.get(kind, set()):
            errors.append("%s: %s %r is not defined before it" % (call.name, kind, name))

    for call in calls:
        a, kind = call.args, call.action.split(".")[-1]
        need(call, "organization", a.get("organization"))
        for field in ("notification_templates_started", "notification_templates_success", "notification_templates_error", "notification_templates_approvals"):
            for name in a.get(field) or []:
                need(call, "notification_template", name)
        if kind == "credential":
            need(call, "credential_type", a["credential_type"])
            fields = defined.get("credential_type_fields", {}).get(a["credential_type"], set())
            errors += ["%s: input %r is no field of its credential type" % (call.name, k) for k in a.get("inputs") or {} if k not in fields]
        elif kind == "project":
            need(call, "execution_environment", a.get("default_environment"))
        elif kind in ("host", "group"):
            need(call, "inventory", a["inventory"])
            for name in a.get("hosts") or []:
                if name not in hosts.get(a["inventory"], set()):
                    errors.append("%s: host %r is not in the inventory %r" % (call.name, name, a["inventory"]))
            if kind == "host":
                hosts.setdefault(a["inventory"], set()).add(a["name"])
        elif kind == "job_template":
            for field in ("inventory", "project", "execution_environment"):
                need(call, field, a.get(field))
            for name in a.get("credentials") or []:
                need(call, "credential", name)
            if not (ROOT / a["playbook"]).is_file():  # the project is the repository: the playbook's path is from its root
                errors.append("%s: playbook %s is not in the project" % (call.name, a["playbook"]))
        elif kind == "workflow_job_template":
            nodes = a.get("workflow_nodes") or []
            identifiers = [n["identifier"] for n in nodes]
            if len(set(identifiers)) != len(identifiers):
                errors.append("%s: node identifiers repeat: %s" % (call.name, identifiers))
            for node in nodes:
                template = node["unified_job_template"]
                if template.get("type") == "job_template":
                    need(call, "job_template", template["name"])
                elif template.get("type") != "workflow_approval":
                    errors.append("%s: node %s has the type %r" % (call.name, node["identifier"], template.get("type")))
                for link in ("success_nodes", "failure_nodes", "always_nodes"):
                    for target in (node.get("related") or {}).get(link) or []:
                        if target["identifier"] not in identifiers:
                            errors.append("%s: node %s links to %r, no node of it" % (call.name, node["identifier"], target["identifier"]))
        elif kind == "schedule":
            if a["unified_job_template"] not in defined.get("workflow_job_template", set()) | defined.get("job_template", set()):
                errors.append("%s: unified_job_template %r is not defined before it" % (call.name, a["unified_job_template"]))
        defined.setdefault(kind, set()).add(a.get("name"))
        if kind == "credential_type":
            defined.setdefault("credential_type_fields", {})[a["name"]] = {f["id"] for f in a["inputs"]["fields"]}
    return errors


def role_variable_errors(templates: Dict[str, Dict[str, Any]]) -> List[str]:
    """Extra variables and survey answers: only the role's variables, checked against its spec, and the project's own."""
    errors = []
    for name, template in templates.items():
        answers = dict(template.get("extra_vars") or {})
        answers.update({q["variable"]: q.get("default") for q in (template.get("survey_spec") or {}).get("spec", [])})
        unknown = sorted(set(answers) - set(ROLE_SPEC) - set(PROJECT_VARS))
        errors += ["%s: %s is neither a variable of the role nor one the project playbooks read" % (name, v) for v in unknown]
        result = ArgumentSpecValidator(dict(ROLE_SPEC, **PROJECT_VARS)).validate({k: v for k, v in answers.items() if k not in unknown})
        errors += ["%s: %s" % (name, e) for e in result.error_messages]
    return errors


def call(calls: List[TaskCall], action: str, name: str) -> TaskCall:
    (found,) = [c for c in calls if c.action == action and c.args.get("name") == name]
    return found


@pytest.fixture(scope="module")
def calls() -> List[TaskCall]:
    return task_calls()


def syntax_check(playbook: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (COLLECTIONS, sysconfig.get_paths()["purelib"]))
    return subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(playbook)], env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("playbook", [PLAYBOOK, PROJECT / "rotate.yml", PROJECT / "check_results.yml"], ids=lambda p: p.name)
def test_the_playbooks_pass_the_syntax_check(playbook: Path) -> None:
    result = syntax_check(playbook)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_syntax_check_fails_on_an_unknown_module(tmp_path: Path) -> None:
    broken = tmp_path / "configure_awx.yml"
    broken.write_text(PLAYBOOK.read_text().replace("awx.awx.workflow_job_template:", "awx.awx.workflow_template:"))
    result = syntax_check(broken)
    assert result.returncode != 0 and "awx.awx.workflow_template" in result.stdout + result.stderr


def test_every_task_calls_its_module_with_arguments_its_argument_spec_accepts(calls: List[TaskCall]) -> None:
    assert {c.action for c in calls} >= {
        "awx.awx.credential_type",
        "awx.awx.credential",
        "awx.awx.project",
        "awx.awx.inventory",
        "awx.awx.host",
        "awx.awx.group",
        "awx.awx.job_template",
        "awx.awx.workflow_job_template",
        "awx.awx.schedule",
        "awx.awx.notification_template",
    }
    assert argument_errors(calls) == []


def test_the_argument_check_finds_a_bad_option_a_bad_choice_and_a_bad_node(calls: List[TaskCall]) -> None:
    bad = copy.deepcopy(calls)
    call(bad, "awx.awx.job_template", play_vars()["certops_awx_rotate_template"]).args.update(job_type="apply", slices=2)
    workflow = call(bad, "awx.awx.workflow_job_template", play_vars()["certops_awx_workflow"])
    workflow.args["workflow_nodes"][0]["job_slice_count"] = "four"
    del workflow.args["workflow_nodes"][1]["identifier"]
    errors = "\n".join(argument_errors(bad))
    assert "job_type" in errors and "apply" in errors and "slices" in errors
    assert "node preview" in errors and "job_slice_count" in errors and "identifier" in errors


def test_the_module_spec_holds_the_auth_options_and_the_constraints() -> None:
    spec = module_spec("awx.awx.credential")
    assert spec["argument_spec"]["controller_host"]["fallback"][1][0] == "CONTROLLER_HOST"
    assert spec["mutually_exclusive"] == [("organization", "user", "team")]
    errors = ArgumentSpecValidator(**spec).validate({"name": "c", "credential_type": "t", "organization": "o", "user": "u"}).error_messages
    assert errors and "mutually exclusive" in errors[0]


def test_every_name_a_task_refers_to_is_defined_before_it(calls: List[TaskCall]) -> None:
    assert name_errors(calls) == []
    workflow = call(calls, "awx.awx.workflow_job_template", play_vars()["certops_awx_workflow"]).args
    chain = {n["identifier"]: [s["identifier"] for s in n.get("related", {}).get("success_nodes", [])] for n in workflow["workflow_nodes"]}
    assert chain == {"preview": ["approve"], "approve": ["rotate"], "rotate": ["check"], "check": []}
    kinds = {n["identifier"]: n["unified_job_template"]["type"] for n in workflow["workflow_nodes"]}
    assert kinds["approve"] == "workflow_approval"
    templates = job_templates(calls)
    assert templates[play_vars()["certops_awx_preview_template"]]["job_type"] == "check"
    assert templates[play_vars()["certops_awx_rotate_template"]]["job_type"] == "run"
    check = templates[play_vars()["certops_awx_check_template"]]
    assert check["notification_templates_error"] and workflow["notification_templates_error"]
    assert check["extra_vars"]["certops_rotate_node"] in chain  # the node whose slices the check node reads
    schedule = [c.args for c in calls if c.action == "awx.awx.schedule"]
    assert [s["unified_job_template"] for s in schedule] == [workflow["name"]] and "FREQ=WEEKLY" in schedule[0]["rrule"]


@pytest.mark.parametrize(
    "breakage, expected",
    [
        ("workflow_nodes.2.unified_job_template.name", "job_template 'Rotate Cloudflare certificate'"),
        ("workflow_nodes.0.related.success_nodes.0.identifier", "links to 'approv'"),
        ("schedule", "unified_job_template"),
        ("credential_type", "credential_type 'Cloudflare API (certops.cloudflare'"),
        ("credential_input", "input 'api_tokn'"),
        ("group_host", "host 'example.co'"),
        ("notification", "notification_template 'Cloudflare rotation (failures and approvals'"),
        ("order", "project 'certops rotation' is not defined before it"),
    ],
)
def test_the_name_check_finds_an_undefined_name(calls: List[TaskCall], breakage: str, expected: str) -> None:
    bad = copy.deepcopy(calls)
    workflow = call(bad, "awx.awx.workflow_job_template", play_vars()["certops_awx_workflow"]).args
    if breakage.startswith("workflow_nodes"):
        *path, last = breakage.split(".")
        target: Any = workflow
        for key in path:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = target[last][:-1]
    elif breakage == "schedule":
        next(c for c in bad if c.action == "awx.awx.schedule").args["unified_job_template"] += " (old)"
    elif breakage == "credential_type":
        next(c for c in bad if c.action == "awx.awx.credential").args["credential_type"] = play_vars()["certops_awx_credential_type"][:-1]
    elif breakage == "credential_input":
        next(c for c in bad if c.action == "awx.awx.credential").args["inputs"]["api_tokn"] = "x"
    elif breakage == "group_host":
        next(c for c in bad if c.action == "awx.awx.group").args["hosts"].append("example.co")
    elif breakage == "notification":
        workflow["notification_templates_error"] = [play_vars()["certops_awx_notify_failure"][:-1]]
    elif breakage == "order":  # the job templates before the project they run
        project = next(i for i, c in enumerate(bad) if c.action == "awx.awx.project")
        bad.append(bad.pop(project))
    assert any(expected in e for e in name_errors(bad)), name_errors(bad)


def test_the_job_templates_variables_validate_against_the_role_argument_spec(calls: List[TaskCall]) -> None:
    templates = job_templates(calls)
    assert role_variable_errors(templates) == []
    rotation = [t for t in templates.values() if t["playbook"].endswith("/rotate.yml")]
    assert len(rotation) == 2 and all(t["extra_vars"]["certops_job_slice_count"] == t["job_slice_count"] for t in rotation)
    project_text = "".join(p.read_text() for p in PROJECT.glob("*.yml"))
    assert [v for v in PROJECT_VARS if not re.search(r"\b%s\b" % v, project_text)] == []


def test_the_role_variable_check_finds_an_unknown_variable_and_a_wrong_type(calls: List[TaskCall]) -> None:
    templates = copy.deepcopy(job_templates(calls))
    rotate = templates[play_vars()["certops_awx_rotate_template"]]
    rotate["extra_vars"].update(cert_rotation_renew_before=30, cert_rotation_force="sometimes")
    rotate["survey_spec"]["spec"][0]["default"] = "thirty"
    errors = "\n".join(role_variable_errors(templates))
    assert "cert_rotation_renew_before is neither" in errors and "cert_rotation_force" in errors and "cert_rotation_renew_before_days" in errors


def test_the_injectors_reach_awx_as_templates_and_the_token_comes_from_the_environment(calls: List[TaskCall]) -> None:
    credential_type = next(c for c in calls if c.action == "awx.awx.credential_type").args
    assert credential_type["injectors"] == yaml.safe_load((AWX / "credential_type_injectors.yml").read_text())
    assert credential_type["injectors"]["env"]["CLOUDFLARE_API_TOKEN"] == "{{ api_token }}"
    assert credential_type["inputs"] == yaml.safe_load((AWX / "credential_type_inputs.yml").read_text())
    credential = next(c for c in calls if c.action == "awx.awx.credential").args
    assert credential["inputs"]["api_token"] == TEST_ENV["CLOUDFLARE_API_TOKEN"]
    other = task_calls(env={"CLOUDFLARE_API_TOKEN": "another-token"})
    assert next(c for c in other if c.action == "awx.awx.credential").args["inputs"]["api_token"] == "another-token"
    group = next(c for c in calls if c.action == "awx.awx.group").args
    assert group["variables"]["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"  # for the job to render


def test_no_placeholder_and_no_secret_in_the_files() -> None:
    for path in [PLAYBOOK, *PROJECT.glob("*.yml")]:
        text = path.read_text()
        assert not re.search(r"<[a-z][^>]*>", text), path
        assert not [v for v in TEST_ENV.values() if v in text], path
    assert not (AWX / "job_template_rotate.yml").exists()


def test_every_task_that_handles_a_secret_hides_it() -> None:
    play = yaml.safe_load(re.sub(r"!unsafe ", "", PLAYBOOK.read_text()))[0]
    for task in play["tasks"]:
        if re.search(r"env', '(CLOUDFLARE_API_TOKEN|CERTOPS_SMTP_PASSWORD)'", yaml.safe_dump(task)) and "assert" not in str(task):
            assert task.get("no_log") is True, task["name"]


def test_a_controller_credential_named_in_the_variables_is_attached_to_every_template() -> None:
    """The credential that gives each slice its count and the check node every slice's summary: an existing one."""
    settings = {"certops_awx_controller_credential": "AWX job reader", "certops_awx_extra_credentials": ["Rotation vault"]}
    calls = task_calls(extra_vars=settings)
    templates = job_templates(calls)
    assert {name: t["credentials"] for name, t in templates.items()} == {
        play_vars()["certops_awx_preview_template"]: ["Cloudflare API", "AWX job reader", "Rotation vault"],
        play_vars()["certops_awx_rotate_template"]: ["Cloudflare API", "AWX job reader", "Rotation vault"],
        play_vars()["certops_awx_check_template"]: ["AWX job reader"],
    }
    assert argument_errors(calls) == []
    assert name_errors(calls, existing_credentials=("AWX job reader", "Rotation vault")) == []
    assert any("credential 'AWX job reader' is not defined" in e for e in name_errors(calls))
