"""The fidelity ledger (tests/emulator/LEDGER.md) against the rules the emulator states.

Each rule is tagged where tests/emulator/README.md states it (`<!-- rule: <id> -->`, an HTML comment that does
not render) or in a module of tests/emulator (a `# rule: <id>` line). The ledger's first table has one row per rule:
its public source, its status (`documented`, or `unverified against the live API` where only prose, an example or
users' reports back it) and the tests that cover it (`tests/<path>.py::<test>`). Its second table lists the fields
the official SDK's models do not declare, with the operations that answer them and their public source
(test_official_sdk.py reads it).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / "tests" / "emulator"
README = EMULATOR / "README.md"
LEDGER = EMULATOR / "LEDGER.md"

RULE_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
README_TAG = re.compile(r"<!--\s*rule:\s*(\S*?)\s*-->")
CODE_TAG = re.compile(r"^\s*#\s*rule:\s*(\S*)\s*$", re.MULTILINE)
STATUSES = ("documented", "unverified against the live API")
RULES_HEADER = ["Rule", "Source", "Status", "Tests"]
FIELDS_HEADER = ["Field", "Operations", "Source"]
TEST_REF = re.compile(r"^(tests/[\w/.-]+\.py)::((?:\w+::)?\w+)(?:\[.*\])?$")


def _cells(line: str) -> List[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables(text: str) -> Dict[Tuple[str, ...], List[Tuple[int, List[str]]]]:
    """Every Markdown table of `text`, by its header: the data rows, each with its line number."""
    found: Dict[Tuple[str, ...], List[Tuple[int, List[str]]]] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("|") and index + 1 < len(lines) and re.match(r"^\|(\s*:?-+:?\s*\|)+\s*$", lines[index + 1]):
            rows = found.setdefault(tuple(_cells(lines[index])), [])
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                rows.append((index + 1, _cells(lines[index])))
                index += 1
        else:
            index += 1
    return found


def _ticked(cell: str) -> List[str]:
    return re.findall(r"`([^`]+)`", cell)


def rule_rows() -> List[Tuple[int, List[str]]]:
    return tables(LEDGER.read_text(encoding="utf-8")).get(tuple(RULES_HEADER), [])


def sdk_field_rows() -> Set[Tuple[str, str]]:
    """(field, operationId) for every row of the ledger's "Fields the official SDK does not declare" table."""
    pairs: Set[Tuple[str, str]] = set()
    for _line, cells in tables(LEDGER.read_text(encoding="utf-8")).get(tuple(FIELDS_HEADER), []):
        pairs.update((field, operation) for field in _ticked(cells[0]) for operation in _ticked(cells[1]))
    return pairs


def tags() -> Iterator[Tuple[str, str]]:
    """(where, id) for every rule tag: in the README and in the emulator's modules."""
    # A tag quoted in code (a fenced block or `...`) is an example, not a tag.
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", README.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL))
    for match in README_TAG.finditer(prose):
        yield "tests/emulator/README.md", match.group(1)
    for path in sorted(EMULATOR.rglob("*.py")):
        for match in CODE_TAG.finditer(path.read_text(encoding="utf-8")):
            yield str(path.relative_to(ROOT)), match.group(1)


def defined_tests(path: Path) -> Set[str]:
    """`name` for each function at module level and `Class::name` and `name` for each method of a class."""
    names: Set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.update((item.name, "%s::%s" % (node.name, item.name)))
    return names


def test_the_ledger_has_both_tables():
    found = tables(LEDGER.read_text(encoding="utf-8"))
    assert found.get(tuple(RULES_HEADER)), "LEDGER.md: no table | %s |" % " | ".join(RULES_HEADER)
    assert tuple(FIELDS_HEADER) in found, "LEDGER.md: no table | %s |" % " | ".join(FIELDS_HEADER)
    assert "## Fields the official SDK does not declare" in LEDGER.read_text(encoding="utf-8")


def test_every_tag_is_well_formed():
    bad = ["%s: %r" % (where, rule) for where, rule in tags() if not re.fullmatch(RULE_ID, rule)]
    assert not bad, "rule ids are lowercase words joined by hyphens: %s" % bad


def test_every_tagged_rule_has_a_ledger_row_and_every_row_a_tag():
    tagged = {rule for _where, rule in tags()}
    assert tagged, "no rule tags found in tests/emulator"
    rows: Dict[str, List[int]] = {}
    for line, cells in rule_rows():
        for rule in _ticked(cells[0])[:1]:
            rows.setdefault(rule, []).append(line)
    assert not sorted(tagged - set(rows)), "rules tagged but not in LEDGER.md: %s" % sorted(tagged - set(rows))
    assert not sorted(set(rows) - tagged), "LEDGER.md rows naming no rule tag: %s" % sorted(set(rows) - tagged)
    duplicates = {rule: lines for rule, lines in rows.items() if len(lines) > 1}
    assert not duplicates, "rules with more than one LEDGER.md row (lines): %s" % duplicates


def test_every_row_has_one_rule_a_source_and_a_known_status():
    problems = []
    for line, cells in rule_rows():
        if len(cells) != len(RULES_HEADER):
            problems.append("line %d: %d cells" % (line, len(cells)))
            continue
        rule, source, status, _tests = cells
        if len(_ticked(rule)) != 1 or rule != "`%s`" % _ticked(rule)[0]:
            problems.append("line %d: the Rule cell is not one `id`: %r" % (line, rule))
        if not source.strip(" -"):
            problems.append("line %d: no source" % line)
        if status not in STATUSES:
            problems.append("line %d: unknown status %r (one of %s)" % (line, status, STATUSES))
    assert not problems, "LEDGER.md: %s" % problems


def test_every_row_names_tests_that_exist():
    problems = []
    cache: Dict[Path, Set[str]] = {}
    for line, cells in rule_rows():
        refs = [ref.strip().strip("`") for ref in cells[-1].split(", ")] if cells[-1].strip() else []
        if not refs:
            problems.append("line %d: no test" % line)
        for ref in refs:
            match = TEST_REF.match(ref)
            if not match:
                problems.append("line %d: not tests/<path>.py::<test>: %r" % (line, ref))
                continue
            path = ROOT / match.group(1)
            if not path.is_file():
                problems.append("line %d: no file %s" % (line, match.group(1)))
                continue
            if path not in cache:
                cache[path] = defined_tests(path)
            if match.group(2) not in cache[path]:
                problems.append("line %d: %s defines no %s" % (line, match.group(1), match.group(2)))
    assert not problems, "LEDGER.md: %s" % problems


def test_every_sdk_field_row_has_fields_operations_and_a_source():
    problems = []
    for line, cells in tables(LEDGER.read_text(encoding="utf-8")).get(tuple(FIELDS_HEADER), []):
        if len(cells) != len(FIELDS_HEADER):
            problems.append("line %d: %d cells" % (line, len(cells)))
        elif not _ticked(cells[0]) or not _ticked(cells[1]) or not cells[2].strip(" -"):
            problems.append("line %d: needs `field`s, `operationId`s and a source" % line)
    assert not problems, "LEDGER.md: %s" % problems


@pytest.mark.parametrize(
    "text, expected",
    [
        ("| Rule | Source | Status | Tests |\n| --- | --- | --- | --- |\n| `a` | s | documented | t |\n\nafter", {("Rule", "Source", "Status", "Tests"): 1}),
        ("| A | B |\n|---|:-:|\n| 1 | 2 |\n| 3 | 4 |\n", {("A", "B"): 2}),
        ("| not a table |\nno separator\n", {}),
    ],
)
def test_tables_reads_markdown_tables(text, expected):
    assert {header: len(rows) for header, rows in tables(text).items()} == expected


def test_a_tag_quoted_in_code_is_not_a_tag(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("Tag with `<!-- rule: <id> -->`.\n\n```\n<!-- rule: in-a-block -->\n```\n\n* A rule. <!-- rule: a-rule -->\n")
    monkeypatch.setattr(sys.modules[__name__], "README", readme)
    monkeypatch.setattr(sys.modules[__name__], "EMULATOR", tmp_path)
    assert list(tags()) == [("tests/emulator/README.md", "a-rule")]


def test_defined_tests_sees_module_functions_and_methods(tmp_path):
    source = tmp_path / "test_x.py"
    source.write_text("def test_a():\n    def inner():\n        pass\n\n\nclass TestB:\n    def test_c(self):\n        pass\n")
    assert defined_tests(source) == {"test_a", "test_c", "TestB::test_c"}
