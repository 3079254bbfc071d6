"""`make bench`: what a rotation of N custom hostnames costs, in API calls, time and memory (issue 13).

Against the emulator, in this process, with N custom hostnames whose certificates are due (N = 100, 1,000 and
10,000 by default; --sizes to choose) and one new wildcard certificate for all of them:

1. API calls per hostname: the role's rotation of every hostname (calls per rotated hostname, the reads of its
   wait for the hostnames to go live counted apart), then an idempotent re-run of the role.
2. Wall time with pacing off: the role's rotation and the list form of custom_hostname_cert alone, each beside a
   floor measured in the same run on a fresh seed (a plain `requests` loop: list pages, then one PATCH per
   hostname); as a whole and per extra hostname (the slope between two sizes).
3. Under the emulator's rate limit, scaled to 100 requests per 5 s (the pacer scaled to match): the role's
   rotation at N = 1,000, with the share of the limit achieved, the 429s, failures and blocked windows.
4. Peak memory (VmHWM) of the module process and of ansible-playbook at the largest size >= 10,000.

Prints a table, writes tests/output/bench/bench.json, and exits 1 when a count target is missed (calls per
hostname, failures, blocked windows). Timing targets are printed with PASS or MISS and never fail the run.
docs/benchmarks.md explains the method.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import requests

from emulator import Emulator
from emulator.faults import RateLimiter
from emulator.testcerts import make_ca, make_leaf

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUTPUT = ROOT / "tests" / "output" / "bench" / "bench.json"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")

DOMAIN = "bench.example"
PAGE = 50  # the API's largest page of custom hostnames
# The list form waits within its apply task, by list pages: that task's reads are the wait's (it makes no other).
WAIT_TASK = "Apply | replace the certificates of the custom hostnames due, and wait until they are live"
SSL_FIELDS = ("method", "type", "settings", "bundle_method", "wildcard")  # what the module sends back with the certificate

# The rate-limited row: Cloudflare's 1,200 per 300 s scaled down to 100 per 5 s, and the pacer scaled to match.
RATE_LIMIT, RATE_WINDOW, HEADROOM = 100, 5.0, 0.05
EDGE_MAX = 1000  # the largest N verified at the emulator's TLS edge with edge_cert_info
PACED_RATE = RATE_LIMIT * (1 - HEADROOM) / RATE_WINDOW  # 19 requests per second


def _load_pacer() -> Any:
    """The collection's _pacer module (no Ansible import in it), by file path: its estimate is the one the role's plan prints."""
    spec = importlib.util.spec_from_file_location("certops_bench_pacer", ROOT / "plugins" / "module_utils" / "_pacer.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


PACER = _load_pacer()

# Count targets (a miss fails the run) and timing targets (printed only), from issue 13.
IDEMPOTENT_MAX = 0.03  # calls per hostname, at N = 1,000
ROTATION_MAX = 1.05  # calls per rotated hostname, waits excluded, at N = 1,000
SLOPE_MAX = 2.0  # cost per extra hostname against the floor's
WHOLE_MAX = 3.0  # the whole role against the floor, at N = 10,000
RATE_SHARE_MIN = 0.95  # achieved rate against api_rate_limit
PACED_MAX = 1.10  # paced rotation time against calls / api_rate_limit
MEMORY_MAX_MB = 300.0  # the module process at N = 10,000


class BenchError(Exception):
    pass


# -- material and seed --------------------------------------------------------------------------------------------


@dataclass
class Material:
    """The due certificate the zone serves, and the new wildcard certificate as files (the key 0600)."""

    due_pem: str
    cert_path: Path
    key_path: Path
    directory: Path
    new_fingerprint: str = ""

    def item(self, hostname: str) -> Dict[str, Any]:
        return {"hostname": hostname, "certificates": [{"certificate_path": str(self.cert_path), "private_key_path": str(self.key_path)}]}


def mint(directory: Path) -> Material:
    ca = make_ca("Certops Bench CA")
    due = make_leaf(ca, ["*." + DOMAIN], days=10, not_before_days=-80)
    new = make_leaf(ca, ["*." + DOMAIN], days=90)
    cert_path, key_path = directory / "wildcard.pem", directory / "wildcard.key"
    cert_path.write_text(new.chain_pem)
    # The bench CA as the "public" root the planner verifies against: the CA bundle requests uses (every playbook's env).
    (directory / "trusted-roots.pem").write_text(ca.cert_pem)
    os.environ["REQUESTS_CA_BUNDLE"] = str(directory / "trusted-roots.pem")
    with os.fdopen(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(new.key_pem)
    return Material(due.chain_pem, cert_path, key_path, directory, new.fingerprint_sha256)


def hostnames(n: int) -> List[str]:
    return ["h%05d.%s" % (i, DOMAIN) for i in range(n)]


def seeded(material: Material, n: int, delay: float) -> Emulator:
    """A fresh emulator whose zone example.com holds n custom hostnames, each serving the due certificate."""
    emu = Emulator(delay=delay, journal_bodies=False)  # request bodies are kept, answers are not: less memory
    ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
    for name in hostnames(n):
        emu.state.add_custom_hostname(emu.zone_id, name, ssl=ssl, certificates=[{"certificate": material.due_pem}])
    emu.start()
    return emu


# -- running ansible-playbook -------------------------------------------------------------------------------------


class MemorySampler:
    """Polls /proc for the peak resident size (VmHWM) of a process tree: no psutil, Linux only.

    VmHWM is each process's own high-water mark, so a poll misses only what a process reaches in its last
    interval before exiting. Processes are told apart by their command line.
    """

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root, self.interval = root, interval
        self.peak_kb: Dict[str, int] = {"ansible-playbook": 0, "workers": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._tree():
                self._sample(pid)
            self._stop.wait(self.interval)

    def _tree(self) -> List[int]:
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path("/proc/%s/stat" % entry).read_text()
                except OSError:
                    continue
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, queue = [], [self.root]
        while queue:
            pid = queue.pop()
            tree.append(pid)
            queue.extend(child for child, parent in parents.items() if parent == pid)
        return tree

    def _sample(self, pid: int) -> None:
        try:
            cmdline = Path("/proc/%d/cmdline" % pid).read_bytes()
            status = Path("/proc/%d/status" % pid).read_text()
        except OSError:
            return
        module = re.search(rb"AnsiballZ_(\w+)\.py", cmdline)
        kind = "ansible-playbook" if pid == self.root else "module " + module.group(1).decode() if module else "workers"
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.peak_kb[kind] = max(self.peak_kb.get(kind, 0), int(line.split()[1]))


@dataclass
class Run:
    wall: float
    rc: int
    output: str
    timeline: List[Tuple[float, str]]
    peak_mb: Dict[str, float] = field(default_factory=dict)
    cpu: float = 0.0  # user + system seconds of ansible-playbook and every process it waited for


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ansible_env(emu: Emulator, rate: float = 0.0, window: Optional[float] = None) -> Dict[str, str]:
    """Credentials and the base URL in the environment only; pacing off unless `rate` is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CERTOPS_RATE_"))}
    env.update(
        CLOUDFLARE_BASE_URL=emu.url,
        CLOUDFLARE_API_TOKEN=emu.token,
        CLOUDFLARE_API_RATE_LIMIT=str(rate),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="bench_timeline",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    if window is not None:  # the pacer's window scaled like the emulator's (test-only variables of the collection)
        env.update(CERTOPS_RATE_WINDOW=str(window), CERTOPS_RATE_WINDOW_LIMIT=str(RATE_LIMIT), CERTOPS_RATE_HEADROOM=str(HEADROOM))
    return env


def playbook(args: List[str], env: Dict[str, str], workdir: Path, label: str) -> Run:
    """Run ansible-playbook, sampling its memory; the output goes to a log file, shown only on failure."""
    timeline_path = workdir / ("%s.timeline.jsonl" % label)
    log_path = workdir / ("%s.log" % label)
    env = dict(env, BENCH_TIMELINE=str(timeline_path))
    started, cpu = time.monotonic(), children_cpu()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local"] + args, env=env, cwd=str(workdir), stdout=log, stderr=subprocess.STDOUT)
        with MemorySampler(proc.pid) as sampler:
            rc = proc.wait()
    wall = time.monotonic() - started
    marks = [json.loads(line) for line in timeline_path.read_text().splitlines()] if timeline_path.exists() else []
    peak = {k: round(v / 1024.0, 1) for k, v in sampler.peak_kb.items()}
    return Run(wall, rc, log_path.read_text(), [(m["start"], m["task"]) for m in marks], peak, children_cpu() - cpu)


def role_run(emu: Emulator, material: Material, n: int, workdir: Path, label: str, env: Dict[str, str], as_file: bool = True) -> Run:
    """The playbook certops.cloudflare.rotate over every hostname, as a user runs it: the hostnames' list in a file, as
    the role's docs advise for large zones, or (`as_file=False`) as the variable cert_rotation_custom_hostnames."""
    items = [material.item(h) for h in hostnames(n)]
    role_vars = {
        "cert_rotation_zone": "example.com",
        "cert_rotation_report_dir": str(workdir / ("%s-report" % label)),
        "cert_rotation_wait_timeout": 600,
        "cert_rotation_poll_interval": 1,
    }
    if as_file:
        items_file = workdir / ("%s-hostnames.json" % label)
        items_file.write_text(json.dumps(items))
        role_vars["cert_rotation_custom_hostnames_file"] = str(items_file)
    else:
        role_vars["cert_rotation_custom_hostnames"] = items
    vars_file = workdir / ("%s-vars.json" % label)
    vars_file.write_text(json.dumps(role_vars))  # JSON is YAML, and faster to load
    return playbook(["certops.cloudflare.rotate", "-e", "@%s" % vars_file], env, workdir, label)


def edge_run(emu: Emulator, material: Material, n: int, workdir: Path, label: str) -> Run:
    """edge_cert_info over every hostname at the emulator's TLS edge (default workers), expecting the new certificate."""
    names = hostnames(n)
    args = {"hostnames": names, "address": "127.0.0.1", "port": emu.edge_port, "key_types": ["ecdsa"], "expect": {h: material.new_fingerprint for h in names}}
    play = workdir / ("%s.json" % label)
    play.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "edge", "certops.cloudflare.edge_cert_info": args}]}]))
    return playbook([str(play)], ansible_env(emu), workdir, label)


def list_form_run(emu: Emulator, material: Material, n: int, workdir: Path, label: str) -> Run:
    """One task of custom_hostname_cert with hostname_certificates: it reads the list pages itself."""
    task = {
        "name": "list form",
        "certops.cloudflare.custom_hostname_cert": {"zone_id": emu.zone_id, "hostname_certificates": [material.item(h) for h in hostnames(n)]},
    }
    play = workdir / ("%s.json" % label)
    play.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    return playbook([str(play)], ansible_env(emu), workdir, label)


def floor(emu: Emulator, material: Material) -> Dict[str, float]:
    """The floor's loop in a process of its own, as a module is (in this one it would share the emulator's GIL)."""
    env = dict(ansible_env(emu), BENCH_ZONE_ID=emu.zone_id, BENCH_CERT=str(material.cert_path), BENCH_KEY=str(material.key_path))
    child = subprocess.run([sys.executable, __file__, "--floor-child"], env=env, capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise BenchError("the requests floor failed: %s" % child.stderr[-2000:])
    return json.loads(child.stdout)


def floor_child() -> int:
    """The minimal calls in a plain loop, one session: list pages, then one PATCH per hostname, as the module sends it.

    Timed from the first request on: no interpreter start, no imports. Prints {"wall": seconds, "cpu": seconds}.
    """
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + os.environ["CLOUDFLARE_API_TOKEN"]
    base = "%s/zones/%s/custom_hostnames" % (os.environ["CLOUDFLARE_BASE_URL"], os.environ["BENCH_ZONE_ID"])
    certificate, key = Path(os.environ["BENCH_CERT"]).read_text(), Path(os.environ["BENCH_KEY"]).read_text()
    started, cpu = time.monotonic(), time.process_time()
    found, page, pages = [], 1, 1
    while page <= pages:
        answer = session.get(base, params={"per_page": PAGE, "page": page})
        answer.raise_for_status()
        body = answer.json()
        found += body["result"]
        pages = body["result_info"]["total_pages"]
        page += 1
    for hostname in found:
        ssl = {k: hostname["ssl"][k] for k in SSL_FIELDS if k in hostname["ssl"]}
        ssl.update(custom_certificate=certificate, custom_key=key)
        session.patch("%s/%s" % (base, hostname["id"]), json={"ssl": ssl}).raise_for_status()
    print(json.dumps({"wall": time.monotonic() - started, "cpu": time.process_time() - cpu}))
    return 0


# -- reading the journal ------------------------------------------------------------------------------------------


def task_of(timeline: List[Tuple[float, str]]) -> Callable[[Dict[str, Any]], str]:
    """Which task was running when a journal entry was recorded (tasks run one after another: one host)."""

    def lookup(entry: Dict[str, Any]) -> str:
        at = datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
        name = "(before the first task)"
        for start, task in timeline:
            if start > at:
                break
            name = task
        return name

    return lookup


def calls(emu: Emulator, run: Run) -> Dict[str, Any]:
    """The calls of one run, by kind and by task; the wait's reads apart."""
    journal = emu.journal()
    which = task_of(run.timeline)
    by_task: Dict[str, int] = {}
    entries_of: Dict[str, List[Dict[str, Any]]] = {}
    for entry in journal:
        name = which(entry)
        by_task[name] = by_task.get(name, 0) + 1
        entries_of.setdefault(name, []).append(entry)
    busiest = max(entries_of, key=lambda name: len(entries_of[name]), default=None)
    wait = sum(1 for name, entries in entries_of.items() if name.endswith(WAIT_TASK) for e in entries if e["method"] == "GET")
    patched = {e["path"] for e in journal if e["method"] == "PATCH" and "/custom_hostnames/" in e["path"] and e["status"] == 200}
    return {
        "total": len(journal),
        "reads": sum(1 for e in journal if e["method"] == "GET"),
        "writes": sum(1 for e in journal if e["method"] != "GET"),
        "wait_reads": wait,
        "rotated": len(patched),
        "rate_limited": sum(1 for e in journal if e["fault"] == "rate_limit"),
        "by_task": by_task,
        "span": span(journal),
        # The task making most calls (the list form's writes): its rate is the pacer's, without Ansible's gaps.
        "busiest": {"task": busiest, "calls": len(entries_of[busiest]), "span": span(entries_of[busiest])} if busiest else None,
    }


def span(journal: List[Dict[str, Any]]) -> float:
    """Seconds from the first to the last request."""
    if len(journal) < 2:
        return 0.0
    times = [datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in (journal[0], journal[-1])]
    return times[1] - times[0]


def task_seconds(run: Run) -> Dict[str, float]:
    """Seconds per task, from one task's start to the next (the callback marks the end of the run too)."""
    seconds: Dict[str, float] = {}
    for (start, name), (end, _next) in zip(run.timeline, run.timeline[1:]):
        seconds[name] = round(seconds.get(name, 0.0) + end - start, 2)
    return seconds


def largest_module(peak_mb: Dict[str, float]) -> Tuple[str, float]:
    """The module process with the highest peak, as ("module <name>", MB)."""
    modules = [(k, v) for k, v in peak_mb.items() if k.startswith("module ")]
    return max(modules, key=lambda item: item[1], default=("module (none seen)", 0.0))


def require(run: Run, what: str) -> None:
    if run.rc != 0:
        raise BenchError("%s: ansible-playbook exited with %d:\n%s" % (what, run.rc, run.output[-4000:]))


# -- the measurements ---------------------------------------------------------------------------------------------


def measure_size(material: Material, n: int, delay: float, workdir: Path, idempotent: bool) -> Dict[str, Any]:
    """Every row at one size: the role (rotation and re-run), the list form alone and the floor, each on a fresh seed."""
    row: Dict[str, Any] = {"n": n}
    emu = seeded(material, n, delay)
    try:
        rotation = role_run(emu, material, n, workdir, "role-%d" % n, ansible_env(emu))
        require(rotation, "the role's rotation at N=%d" % n)
        row["rotation"] = dict(calls(emu, rotation), wall=rotation.wall, cpu=rotation.cpu, peak_mb=rotation.peak_mb, task_seconds=task_seconds(rotation))
        if idempotent:
            emu.reset_journal()
            rerun = role_run(emu, material, n, workdir, "rerun-%d" % n, ansible_env(emu))
            require(rerun, "the role's re-run at N=%d" % n)
            row["rerun"] = dict(calls(emu, rerun), wall=rerun.wall)
        row["violations"] = len(emu.history.violations())
        if n <= EDGE_MAX:  # issue 16: verified at the edge after the rotation; timing reported, not a target
            emu.start_edge(0)
            edge = edge_run(emu, material, n, workdir, "edge-%d" % n)
            require(edge, "edge_cert_info over %d hostnames" % n)
            row["edge"] = dict(wall=edge.wall, task_seconds=task_seconds(edge))
    finally:
        emu.stop()

    emu = seeded(material, n, delay)
    try:  # the same rotation with the list given as a variable: Ansible's templating of it, shown apart
        as_variable = role_run(emu, material, n, workdir, "role-vars-%d" % n, ansible_env(emu), as_file=False)
        require(as_variable, "the role's rotation with the list as a variable at N=%d" % n)
        row["rotation_vars"] = dict(wall=as_variable.wall, cpu=as_variable.cpu, task_seconds=task_seconds(as_variable))
    finally:
        emu.stop()

    emu = seeded(material, n, delay)
    try:
        listed = list_form_run(emu, material, n, workdir, "list-%d" % n)
        require(listed, "the list form at N=%d" % n)
        row["list_form"] = dict(calls(emu, listed), wall=listed.wall, cpu=listed.cpu, peak_mb=listed.peak_mb, task_seconds=task_seconds(listed))
    finally:
        emu.stop()

    emu = seeded(material, n, delay)
    try:
        row["floor"] = dict(floor(emu, material), total=len(emu.journal()))
    finally:
        emu.stop()
    return row


class CountingRateLimiter(RateLimiter):
    """The emulator's rate limiter, also counting the windows in which it answered 429 (its describe() has no counters)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked_windows: set = set()

    def check(self, identity: str, now: float) -> Optional[int]:
        retry_after = super().check(identity, now)
        if retry_after is not None:
            self.blocked_windows.add((identity, self._windows[identity][0]))
        return retry_after


def measure_rate_limited(material: Material, n: int, delay: float, workdir: Path) -> Dict[str, Any]:
    """The role's rotation against the scaled rate limit, paced to match through CERTOPS_RATE_WINDOW."""
    emu = seeded(material, n, delay)
    limiter = CountingRateLimiter()
    emu.rate_limit = limiter
    emu.set_rate_limit(RATE_LIMIT, RATE_WINDOW)
    try:
        run = role_run(emu, material, n, workdir, "paced-%d" % n, ansible_env(emu, rate=PACED_RATE, window=RATE_WINDOW))
        counted = calls(emu, run)
        if run.rc != 0:
            print("the rate-limited rotation failed:\n%s" % run.output[-4000:], file=sys.stderr)
    finally:
        emu.stop()
    rate = counted["total"] / counted["span"] if counted["span"] else 0.0
    busiest = counted["busiest"] or {"calls": 0, "span": 0.0}
    bulk_rate = busiest["calls"] / busiest["span"] if busiest["span"] else 0.0
    return dict(
        counted,
        n=n,
        wall=run.wall,
        rc=run.rc,
        failures=(0 if run.rc == 0 else 1) + max(0, n - counted["rotated"]),
        blocked_windows=len(limiter.blocked_windows),
        limit_per_s=RATE_LIMIT / RATE_WINDOW,
        api_rate_limit=PACED_RATE,
        achieved_per_s=rate,
        share_of_limit=rate / (RATE_LIMIT / RATE_WINDOW),
        share_of_api_rate_limit=rate / PACED_RATE,
        bulk_per_s=bulk_rate,
        bulk_share_of_limit=bulk_rate / (RATE_LIMIT / RATE_WINDOW),
        bulk_share_of_api_rate_limit=bulk_rate / PACED_RATE,
        wall_over_ideal=run.wall / (counted["total"] / PACED_RATE) if counted["total"] else 0.0,
        # The plan's estimate for these calls at this pace and window, with the emulator's answer time.
        estimated_s=PACER.estimated_seconds(counted["total"], PACED_RATE, window=RATE_WINDOW, answer_seconds=0.0),
    )


# -- figures, targets and the table -------------------------------------------------------------------------------


def per_hostname(row: Dict[str, Any]) -> Dict[str, Optional[float]]:
    rotation, rerun = row["rotation"], row.get("rerun")
    rotated = rotation["rotated"] or 1
    return {
        "rotation_per_rotated": (rotation["total"] - rotation["wait_reads"]) / rotated,
        "wait_reads_per_rotated": rotation["wait_reads"] / rotated,
        "wait_passes": rotation["wait_reads"] / math.ceil(row["n"] / PAGE),
        "rerun_per_hostname": rerun["total"] / row["n"] if rerun else None,
    }


def ratio(value: float, floor_value: float) -> Optional[float]:
    return value / floor_value if floor_value > 0 else None


def slopes(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Seconds per extra hostname between consecutive sizes: the fixed costs cancel out."""
    out = []
    for small, large in zip(rows, rows[1:]):
        extra = large["n"] - small["n"]
        slope = {k: (large[k]["wall"] - small[k]["wall"]) / extra for k in ("rotation", "rotation_vars", "list_form", "floor")}
        # CPU seconds of the client side: what another load on the machine changes least.
        cpu = {k: (large[k]["cpu"] - small[k]["cpu"]) / extra for k in ("rotation", "rotation_vars", "list_form", "floor")}
        out.append(
            {
                "from": small["n"],
                "to": large["n"],
                "seconds_per_hostname": slope,
                "role_over_floor": ratio(slope["rotation"], slope["floor"]),
                "role_vars_over_floor": ratio(slope["rotation_vars"], slope["floor"]),
                "list_form_over_floor": ratio(slope["list_form"], slope["floor"]),
                "cpu_seconds_per_hostname": cpu,
                "cpu_role_over_floor": ratio(cpu["rotation"], cpu["floor"]),
                "cpu_list_form_over_floor": ratio(cpu["list_form"], cpu["floor"]),
            }
        )
    return out


def targets(rows: List[Dict[str, Any]], slope_rows: List[Dict[str, Any]], paced: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each target met or missed; `count` targets fail the run, `timing` ones are printed only."""
    out = []

    def add(kind: str, what: str, value: Optional[float], limit: float, at_most: bool = True) -> None:
        met = value is not None and (value <= limit if at_most else value >= limit)
        out.append({"kind": kind, "target": what, "value": value, "limit": limit, "met": met})

    by_n = {r["n"]: r for r in rows}
    if 1000 in by_n:
        figures = per_hostname(by_n[1000])
        add("count", "idempotent re-run, calls per hostname at N=1000", figures["rerun_per_hostname"], IDEMPOTENT_MAX)
        add("count", "rotation, calls per rotated hostname (waits excluded) at N=1000", figures["rotation_per_rotated"], ROTATION_MAX)
    for row in rows:
        add("count", "rotation rotated every hostname at N=%d" % row["n"], row["rotation"]["rotated"], row["n"], at_most=False)
    for slope in slope_rows:
        if slope["to"] == 1000 or slope["to"] == rows[-1]["n"]:
            label = "%d to %d" % (slope["from"], slope["to"])
            add("timing", "role cost per extra hostname vs floor, %s" % label, slope["role_over_floor"], SLOPE_MAX)
            add("timing", "list form cost per extra hostname vs floor, %s" % label, slope["list_form_over_floor"], SLOPE_MAX)
    if 10000 in by_n:
        row = by_n[10000]
        add("timing", "whole role vs floor at N=10000", row["rotation"]["wall"] / row["floor"]["wall"], WHOLE_MAX)
        add("timing", "list form module process peak memory (MB) at N=10000", largest_module(row["list_form"]["peak_mb"])[1], MEMORY_MAX_MB)
        name, peak = largest_module(row["rotation"]["peak_mb"])
        add("timing", "role's largest module process (%s) peak memory (MB) at N=10000" % name[7:], peak, MEMORY_MAX_MB)
    if paced:
        add("count", "failures under the rate limit", paced["failures"], 0)
        add("count", "windows blocked under the rate limit", paced["blocked_windows"], 0)
        add("timing", "achieved rate vs api_rate_limit during the bulk writes", paced["bulk_share_of_api_rate_limit"], RATE_SHARE_MIN, at_most=False)
        add("timing", "paced rotation time vs calls / api_rate_limit (target at N=10000; here N=%d)" % paced["n"], paced["wall_over_ideal"], PACED_MAX)
    return out


def fmt(value: Optional[float], digits: int = 3) -> str:
    return "-" if value is None else ("%d" % value if isinstance(value, int) else "%.*f" % (digits, value))


def fmt_ms(slope: Dict[str, Any], key: str, figure: str = "seconds_per_hostname") -> str:
    return fmt(slope[figure][key] * 1000, 2)


def aligned(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    return "\n".join("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows)


def table(result: Dict[str, Any]) -> str:
    rows, sizes = result["sizes"], ["N=%d" % r["n"] for r in result["sizes"]]
    figures = [per_hostname(r) for r in rows]
    parts = [
        "certops.cloudflare benchmark, %s, %s" % (result["date"], result["machine"]),
        "",
        aligned(
            [
                ["API calls"] + sizes,
                ["  rotation, per rotated hostname (waits excluded)"] + [fmt(f["rotation_per_rotated"]) for f in figures],
                ["  waits: reads per rotated hostname"] + [fmt(f["wait_reads_per_rotated"]) for f in figures],
                ["  waits: passes of list pages"] + [fmt(f["wait_passes"], 1) for f in figures],
                ["  rotation, total calls"] + [fmt(r["rotation"]["total"]) for r in rows],
                ["  idempotent re-run, per hostname"] + [fmt(f["rerun_per_hostname"]) for f in figures],
                ["  idempotent re-run, total calls"] + [fmt(r["rerun"]["total"]) if "rerun" in r else "-" for r in rows],
                ["  list form alone, total calls"] + [fmt(r["list_form"]["total"]) for r in rows],
                ["  floor, total calls"] + [fmt(r["floor"]["total"]) for r in rows],
            ]
        ),
        "",
        aligned(
            [
                ["Wall time, pacing off (s)"] + sizes,
                ["  role rotation"] + [fmt(r["rotation"]["wall"], 1) for r in rows],
                ["  role rotation, list as a variable"] + [fmt(r["rotation_vars"]["wall"], 1) for r in rows],
                ["  list form alone"] + [fmt(r["list_form"]["wall"], 1) for r in rows],
                ["  requests floor"] + [fmt(r["floor"]["wall"], 2) for r in rows],
                ["  role / floor"] + [fmt(r["rotation"]["wall"] / r["floor"]["wall"], 1) for r in rows],
                ["  list form / floor"] + [fmt(r["list_form"]["wall"] / r["floor"]["wall"], 1) for r in rows],
                ["  edge_cert_info after the rotation (8 workers)"] + [fmt(r["edge"]["wall"], 1) if "edge" in r else "-" for r in rows],
                ["Client CPU time (s)"] + sizes,
                ["  role rotation"] + [fmt(r["rotation"]["cpu"], 1) for r in rows],
                ["  list form alone"] + [fmt(r["list_form"]["cpu"], 1) for r in rows],
                ["  requests floor"] + [fmt(r["floor"]["cpu"], 2) for r in rows],
            ]
        ),
    ]
    if result["slopes"]:
        labels = ["%d to %d" % (s["from"], s["to"]) for s in result["slopes"]]
        parts += [
            "",
            aligned(
                [
                    ["Cost per extra hostname (ms)"] + labels,
                    ["  role rotation"] + [fmt_ms(s, "rotation") for s in result["slopes"]],
                    ["  role rotation, list as a variable"] + [fmt_ms(s, "rotation_vars") for s in result["slopes"]],
                    ["  list form alone"] + [fmt_ms(s, "list_form") for s in result["slopes"]],
                    ["  requests floor"] + [fmt_ms(s, "floor") for s in result["slopes"]],
                    ["  role / floor"] + [fmt(s["role_over_floor"], 2) for s in result["slopes"]],
                    ["  role, list as a variable / floor"] + [fmt(s["role_vars_over_floor"], 2) for s in result["slopes"]],
                    ["  list form / floor"] + [fmt(s["list_form_over_floor"], 2) for s in result["slopes"]],
                    ["Client CPU per extra hostname (ms)"] + labels,
                    ["  role rotation"] + [fmt_ms(s, "rotation", "cpu_seconds_per_hostname") for s in result["slopes"]],
                    ["  list form alone"] + [fmt_ms(s, "list_form", "cpu_seconds_per_hostname") for s in result["slopes"]],
                    ["  requests floor"] + [fmt_ms(s, "floor", "cpu_seconds_per_hostname") for s in result["slopes"]],
                    ["  role / floor"] + [fmt(s["cpu_role_over_floor"], 2) for s in result["slopes"]],
                    ["  list form / floor"] + [fmt(s["cpu_list_form_over_floor"], 2) for s in result["slopes"]],
                ]
            ),
        ]
    largest = rows[-1]
    slowest = sorted(largest["rotation"]["task_seconds"].items(), key=lambda item: -item[1])[:5]
    parts += ["", "Where the role's time goes at N=%d (the slowest tasks, s)" % largest["n"]]
    parts += ["  %6.1f  %s" % (seconds, name.split(" : ", 1)[-1]) for name, seconds in slowest]
    paced = result.get("rate_limited")
    if paced:
        parts += [
            "",
            "Rate limited: role rotation at N=%d, emulator %d requests per %g s; pacer api_rate_limit %g/s, window %d per %g s less %g %%"
            % (paced["n"], RATE_LIMIT, RATE_WINDOW, PACED_RATE, RATE_LIMIT, RATE_WINDOW, HEADROOM * 100),
            aligned(
                [
                    ["  calls, wall time (s)", "%d, %.1f" % (paced["total"], paced["wall"])],
                    ["  requests per second, first to last request", fmt(paced["achieved_per_s"], 2)],
                    [
                        "    share of the limit (%g/s), of api_rate_limit" % paced["limit_per_s"],
                        "%.0f %%, %.0f %%" % (paced["share_of_limit"] * 100, paced["share_of_api_rate_limit"] * 100),
                    ],
                    ["  requests per second during the bulk writes (%d calls)" % (paced["busiest"] or {}).get("calls", 0), fmt(paced["bulk_per_s"], 2)],
                    [
                        "    share of the limit, of api_rate_limit",
                        "%.0f %%, %.0f %%" % (paced["bulk_share_of_limit"] * 100, paced["bulk_share_of_api_rate_limit"] * 100),
                    ],
                    ["  429s answered, failures, windows blocked", "%d, %d, %d" % (paced["rate_limited"], paced["failures"], paced["blocked_windows"])],
                    ["  wall time / (calls / api_rate_limit)", fmt(paced["wall_over_ideal"], 2)],
                    ["  the plan's estimate of the paced time (s), measured wall time (s)", "%s, %s" % (fmt(paced["estimated_s"], 1), fmt(paced["wall"], 1))],
                ]
            ),
        ]
    memory = [r for r in rows if r["n"] >= 10000]
    if memory:
        row = memory[-1]
        listed, role = largest_module(row["list_form"]["peak_mb"]), largest_module(row["rotation"]["peak_mb"])
        parts += [
            "",
            "Peak memory at N=%d (VmHWM, MB, polled from /proc every 0.1 s)" % row["n"],
            aligned(
                [
                    ["", "list form", "role"],
                    ["  module process (largest)", fmt(listed[1], 1), fmt(role[1], 1)],
                    ["    which module", listed[0][7:], role[0][7:]],
                    ["  ansible-playbook", fmt(row["list_form"]["peak_mb"]["ansible-playbook"], 1), fmt(row["rotation"]["peak_mb"]["ansible-playbook"], 1)],
                    ["  its workers (largest)", fmt(row["list_form"]["peak_mb"]["workers"], 1), fmt(row["rotation"]["peak_mb"]["workers"], 1)],
                ]
            ),
        ]
    parts += ["", "Targets"]
    for t in result["targets"]:
        parts.append("  %-4s %-6s %s: %s (limit %s)" % ("PASS" if t["met"] else "MISS", t["kind"], t["target"], fmt(t["value"]), fmt(t["limit"], 2)))
    return "\n".join(parts)


def machine() -> str:
    memory = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")), 0)
    return "%d CPUs, %.0f GB RAM, Python %s, %s" % (os.cpu_count() or 0, memory / 1024.0 / 1024.0, platform.python_version(), platform.machine())


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="numbers of custom hostnames, comma-separated (default 100,1000,10000)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds each emulator status step lasts (default 0)")
    parser.add_argument("--rate-size", type=int, default=1000, help="N of the rate-limited row; 0 skips it (default 1000)")
    parser.add_argument("--rerun-max", type=int, default=1000, help="largest N with an idempotent re-run (default 1000, to save time)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the JSON goes (default tests/output/bench/bench.json)")
    parser.add_argument("--floor-child", action="store_true", help=argparse.SUPPRESS)  # the floor's own process
    args = parser.parse_args(argv)
    if args.floor_child:
        return floor_child()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})

    started = time.monotonic()
    result: Dict[str, Any] = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), "delay": args.delay}
    with tempfile.TemporaryDirectory(prefix="certops-bench-") as tmp:  # mode 0700: the key lives here
        workdir = Path(tmp)
        material = mint(workdir)
        try:
            rows = []
            for n in sizes:
                print("measuring N=%d ..." % n, flush=True)
                rows.append(measure_size(material, n, args.delay, workdir, idempotent=n <= args.rerun_max))
            paced = None
            if args.rate_size:
                print("measuring the rate-limited rotation at N=%d ..." % args.rate_size, flush=True)
                paced = measure_rate_limited(material, args.rate_size, args.delay, workdir)
        except BenchError as exc:
            print("bench failed: %s" % exc, file=sys.stderr)
            return 2
    result.update(sizes=rows, slopes=slopes(rows), rate_limited=paced)
    result["targets"] = targets(rows, result["slopes"], paced)
    result["seconds"] = round(time.monotonic() - started, 1)
    print("\n" + table(result) + "\n\nThe benchmark took %.0f s." % result["seconds"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1))
    print("JSON: %s" % args.output)
    missed = [t["target"] for t in result["targets"] if t["kind"] == "count" and not t["met"]]
    if missed:
        print("count targets missed: %s" % "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
