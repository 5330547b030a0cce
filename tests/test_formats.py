"""The CI output formats, produced by the real CLI: github annotations, SARIF 2.1.0, GitLab Code Quality, JUnit."""

from __future__ import annotations

import json
import os
import stat
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from gradlint import catalog
from gradlint.catalog import Rule
from gradlint.cli import main
from gradlint.finding import Finding, Span
from gradlint.report import ReportContext, render

SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text(encoding="utf-8"))

TRAIN = """\
import torch
from torch import nn

LR = 5.0

model = nn.Sequential(
    nn.Linear(32, 64),
    nn.Sigmoid(),
    nn.Sigmoid(),
    nn.Sigmoid(),
    nn.Linear(64, 1),
)
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
loss_fn = nn.MSELoss()

for inputs, targets in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
"""

CLEAN = """\
import torch
from torch import nn

model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with src/train.py (GL101 on lines 6-12, GL202 on line 13) and src/clean.py; cwd is the folder."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "src" / "clean.py").write_text(CLEAN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def gradlint(*args: str):
    return CliRunner().invoke(main, ["--select", "GL101,GL202", *args])


def sarif_errors(document) -> list[str]:
    """Every violation of the official SARIF 2.1.0 schema (draft-04 as declared, and Draft-07)."""
    errors = []
    for validator in (jsonschema.Draft4Validator, jsonschema.Draft7Validator):
        validator.check_schema(SARIF_SCHEMA)
        errors += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(SARIF_SCHEMA).iter_errors(document)]
    return errors


# --- github ----------------------------------------------------------------------------------------

def test_github_annotations_on_a_training_script(project):
    result = gradlint("--output-format", "github", str(project / "src"))
    messages = [f["message"] for f in json.loads(gradlint("--output-format", "json", "src").output)]
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "::error file=src/train.py,line=6,col=9,endLine=12,endColumn=2,"
        f"title=GL101 (saturating-activation-stack)::{messages[0]}",
        "::error file=src/train.py,line=13,col=13,endLine=13,endColumn=55,"
        f"title=GL202 (large-fixed-learning-rate)::{messages[1]}",
    ]
    assert messages[1].startswith("SGD lr=5 (constant LR in line 4)")


def test_github_escapes_message_and_properties_as_the_runner_expects():
    finding = Finding("GL202", "lr=100% too high\r\nsee: a,b", "dir,1/a:b%.py", Span(2, 3, 2, 9))
    assert render("github", [finding], ReportContext(files=())) == (
        "::error file=dir%2C1/a%3Ab%25.py,line=2,col=3,endLine=2,endColumn=9,"
        "title=GL202 (large-fixed-learning-rate)::lr=100%25 too high%0D%0Asee: a,b\n"
    )


def test_github_uses_warning_for_warning_severity_rules(monkeypatch):
    warning_rule = Rule("GL999", "some-warning", "warning", False, True, "", "")
    monkeypatch.setattr(catalog, "get", lambda code: warning_rule)
    finding = Finding("GL999", "careful", "train.py", Span(1, 1, 1, 5))
    assert render("github", [finding], ReportContext(files=())) == (
        "::warning file=train.py,line=1,col=1,endLine=1,endColumn=5,title=GL999 (some-warning)::careful\n"
    )


def test_output_format_from_config_is_honoured(project):
    (project / "pyproject.toml").write_text('[tool.gradlint]\noutput-format = "github"\n', encoding="utf-8")
    result = gradlint("src/train.py")
    assert result.output.startswith("::error file=src/train.py,line=6,")
    assert gradlint("--output-format", "text", "src/train.py").output.startswith("src/train.py:6:9: GL101")


# --- sarif -----------------------------------------------------------------------------------------

def test_sarif_validates_and_carries_rules_results_and_locations(project):
    result = gradlint("--output-format", "sarif", "src")
    document = json.loads(result.stdout)
    assert sarif_errors(document) == []
    run = document["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gradlint" and driver["informationUri"].startswith("https://")
    rules = {rule["id"]: rule for rule in driver["rules"]}
    gl202 = rules["GL202"]
    assert gl202["name"] == "large-fixed-learning-rate"
    assert gl202["shortDescription"]["text"] == catalog.get("GL202").summary
    assert gl202["fullDescription"]["text"].startswith("Finds optimizers constructed with a learning rate")
    assert "## Why it breaks gradients" in gl202["help"]["markdown"]
    assert gl202["helpUri"] == catalog.get("GL202").url
    assert gl202["defaultConfiguration"]["level"] == "error"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [("GL101", "error"), ("GL202", "error")]
    gl202_result = run["results"][1]
    assert driver["rules"][gl202_result["ruleIndex"]]["id"] == "GL202"
    location = gl202_result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 13, "startColumn": 13, "endLine": 13, "endColumn": 55}
    assert gl202_result["message"]["text"].startswith("SGD lr=5")


def _fingerprints(output: str) -> list[str]:
    return [r["partialFingerprints"]["gradlint/v1"] for r in json.loads(output)["runs"][0]["results"]]


def test_sarif_fingerprints_survive_line_shifts_and_tell_twins_apart(project):
    before = _fingerprints(gradlint("--output-format", "sarif", "src/train.py").output)
    shifted = TRAIN.replace("LR = 5.0\n", "# Learning rate, tuned by hand.\n\n\nLR = 5.0\n")
    (project / "src" / "train.py").write_text(shifted, encoding="utf-8")
    assert _fingerprints(gradlint("--output-format", "sarif", "src/train.py").output) == before
    twin = shifted + "optimizer = torch.optim.SGD(model.parameters(), lr=LR)\n"
    (project / "src" / "train.py").write_text(twin, encoding="utf-8")
    prints = _fingerprints(gradlint("--output-format", "sarif", "src/train.py").output)
    assert prints[:2] == before and len(set(prints)) == 3


def test_sarif_of_no_findings_and_of_every_fixture_validates(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)
    for args in (["--select", "ALL", "fixtures"], ["--select", "ALL", "gradlint/__init__.py"]):
        result = CliRunner().invoke(main, ["--output-format", "sarif", *args])
        assert result.exit_code in (0, 1), result.output
        assert sarif_errors(json.loads(result.stdout)) == []


def test_sarif_of_a_syntax_error_and_an_odd_file_name_validates(project):
    (project / "src" / "broken file.py").write_text("def train(:\n", encoding="utf-8")
    document = json.loads(CliRunner().invoke(main, ["--output-format", "sarif", "src/broken file.py"]).output)
    assert sarif_errors(document) == []
    [result] = document["runs"][0]["results"]
    assert result["ruleId"] == "GL000"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/broken%20file.py"


# --- gitlab ----------------------------------------------------------------------------------------

def test_gitlab_code_quality_report(project):
    issues = json.loads(gradlint("--output-format", "gitlab", "src").output)
    assert [(i["check_name"], i["severity"], i["location"]) for i in issues] == [
        ("GL101 (saturating-activation-stack)", "major", {"path": "src/train.py", "lines": {"begin": 6}}),
        ("GL202 (large-fixed-learning-rate)", "major", {"path": "src/train.py", "lines": {"begin": 13}}),
    ]
    assert issues[1]["description"].startswith("GL202 SGD lr=5")
    assert len({i["fingerprint"] for i in issues}) == 2


def test_gitlab_reports_warning_rules_as_minor(monkeypatch):
    monkeypatch.setattr(catalog, "get", lambda code: Rule("GL999", "some-warning", "warning", False, True, "", ""))
    [issue] = json.loads(render("gitlab", [Finding("GL999", "m", "a.py", Span(1, 1, 1, 2))], ReportContext(files=())))
    assert issue["severity"] == "minor"


# --- junit -----------------------------------------------------------------------------------------

def test_junit_has_a_testcase_per_file_and_a_failure_per_finding(project):
    result = gradlint("--output-format", "junit", "src")
    root = ET.fromstring(result.output)
    [suite] = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert sorted(cases) == ["src/clean.py", "src/train.py"]
    assert cases["src/clean.py"].findall("failure") == []
    failures = cases["src/train.py"].findall("failure")
    assert [f.get("message").split()[0] for f in failures] == ["GL101", "GL202"]
    assert failures[1].text.startswith("src/train.py:13:13: GL202 SGD lr=5")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")


def test_junit_stays_well_formed_with_control_characters_in_a_message():
    finding = Finding("GL000", "cannot decode byte \x00 <here> & there", "a.py", Span(1, 1, 1, 1))
    root = ET.fromstring(render("junit", [finding], ReportContext(files=("a.py",))))
    assert root.find("testsuite/testcase/failure").get("message") == "GL000 cannot decode byte \ufffd <here> & there"


@pytest.mark.parametrize("fmt", ["github", "sarif", "gitlab", "junit"])
def test_every_format_writes_to_an_output_file(project, fmt):
    result = gradlint("--output-format", fmt, "-o", "report.out", "src")
    assert result.exit_code == 1 and result.output == ""
    assert "GL202" in (project / "report.out").read_text(encoding="utf-8")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((project / "report.out").stat().st_mode) == 0o666 & ~umask  # not a temp file's 0600


# --- notebooks in the CI formats --------------------------------------------------------------------

NOTEBOOK_CELLS = [
    ("markdown", "# Training\nSome notes, with \"quotes\" and é.\n"),
    ("code", "import torch\nfrom torch import nn\n"),
    ("code", "%matplotlib inline\n"
             "NAME = \"réseau \\\"v2\\\"\"  # escapes and non-ASCII before the finding on the same cell\n"
             "model = nn.Sequential(\n    nn.Linear(32, 64),\n    nn.Sigmoid(),\n    nn.Sigmoid(),\n    nn.Sigmoid(),\n"
             "    nn.Linear(64, 1),\n)\n"
             "optimizer = torch.optim.SGD(model.parameters(), lr=5.0)  # é \"x\"\n"),
]


def write_notebook(path: Path, indent: int | None = 1, as_string: bool = False) -> str:
    cells = []
    for kind, source in NOTEBOOK_CELLS:
        cell = {"cell_type": kind, "metadata": {}, "source": source if as_string else source.splitlines(True)}
        if kind == "code":
            cell |= {"execution_count": None, "outputs": [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]}
        cells.append(cell)
    document = {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(document, indent=indent, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def raw_position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of needle in the raw file."""
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


@pytest.fixture
def notebook_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path, write_notebook(tmp_path / "train.ipynb")


def test_github_places_notebook_findings_on_the_raw_ipynb_line_and_names_the_cell(notebook_project):
    _, text = notebook_project
    result = gradlint("--output-format", "github", "train.ipynb")
    assert result.exit_code == 1
    gl101, gl202 = result.output.splitlines()
    sgd_line, sgd_col = raw_position(text, "torch.optim.SGD")
    # Regression: line=10 (the row inside cell 3) was used as a line of the raw JSON file.
    assert gl202.startswith(f"::error file=train.ipynb,line={sgd_line},col={sgd_col},endLine={sgd_line},"
                            f"endColumn={sgd_col + len('torch.optim.SGD(model.parameters(), lr=5.0)')},"
                            "title=GL202 (large-fixed-learning-rate) in cell 3::cell 3, line 10: SGD lr=5")
    start_line, start_col = raw_position(text, "nn.Sequential(")
    end_line, _ = raw_position(text, '")\\n"')
    assert gl101.startswith(f"::error file=train.ipynb,line={start_line},col={start_col},endLine={end_line},")
    assert "title=GL101 (saturating-activation-stack) in cell 3::cell 3, line 3:" in gl101


def test_sarif_regions_are_raw_ipynb_lines_with_the_cell_in_properties(notebook_project):
    _, text = notebook_project
    document = json.loads(gradlint("--output-format", "sarif", "train.ipynb").stdout)
    assert sarif_errors(document) == []
    results = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    line, col = raw_position(text, "torch.optim.SGD")
    region = results["GL202"]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endLine"]) == (line, col, line)
    assert results["GL202"]["properties"] == {"cell": 3, "cellStartLine": 10, "cellStartColumn": 13,
                                              "cellEndLine": 10, "cellEndColumn": 56}
    assert results["GL202"]["message"]["text"].startswith("cell 3, line 10: SGD lr=5")


def test_gitlab_and_junit_use_the_raw_ipynb_line_and_name_the_cell(notebook_project):
    _, text = notebook_project
    line, col = raw_position(text, "torch.optim.SGD")
    issues = {i["check_name"].split()[0]: i for i in json.loads(gradlint("--output-format", "gitlab", "train.ipynb").output)}
    assert issues["GL202"]["location"] == {"path": "train.ipynb", "lines": {"begin": line}}
    assert issues["GL202"]["description"].startswith("GL202 cell 3, line 10: SGD lr=5")
    root = ET.fromstring(gradlint("--output-format", "junit", "train.ipynb").output)
    failures = {f.get("message").split()[0]: f for f in root.iter("failure")}
    assert failures["GL202"].text.startswith(f"train.ipynb:{line}:{col}: GL202 cell 3, line 10: SGD lr=5")
    assert failures["GL202"].get("message").startswith("GL202 cell 3, line 10: SGD lr=5")


@pytest.mark.parametrize("layout", ["one-line-file", "source-as-one-string"])
def test_notebook_saved_without_one_line_per_source_line(tmp_path, monkeypatch, layout):
    """A notebook written as one line, or with each cell's source as one string: every source line of a
    cell is on one raw line, and the column still lands on the code."""
    monkeypatch.chdir(tmp_path)
    text = write_notebook(tmp_path / "train.ipynb", indent=None if layout == "one-line-file" else 1,
                          as_string=layout == "source-as-one-string")
    [gl202] = [line for line in gradlint("--output-format", "github", "train.ipynb").output.splitlines()
               if "GL202" in line]
    line, col = raw_position(text, "torch.optim.SGD")
    assert f"line={line},col={col},endLine={line}," in gl202


def test_text_and_json_formats_keep_cell_relative_positions(notebook_project):
    assert "train.ipynb:cell 3:10:13: GL202" in gradlint("train.ipynb").output
    [gl202] = [f for f in json.loads(gradlint("--output-format", "json", "train.ipynb").output) if f["code"] == "GL202"]
    assert (gl202["cell"], gl202["location"]) == (3, {"row": 10, "column": 13})


@pytest.mark.parametrize("indent", [None, 1, 2])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_raw_offsets_of_every_source_character_point_at_it(tmp_path, indent, ensure_ascii):
    from gradlint.report.notebook_lines import _code_cells

    sources = [["x = 1\n", 's = "q\\\\\\" é 😀\\tz\\u2028w"\n', "  y = 2"], "a = 1\r\nb = 2\n", [], ""]
    cells = [{"cell_type": "raw", "source": "raw"}] + [
        {"cell_type": "code", "metadata": {"tags": ["t"]}, "outputs": [{"data": {"image/png": "AAAA" * 50}}],
         "source": source} for source in sources]
    text = json.dumps({"metadata": {}, "cells": cells, "nbformat": 4}, indent=indent, ensure_ascii=ensure_ascii)
    found = _code_cells(text)
    assert sorted(found) == [2, 3, 4, 5]
    for index, source in zip((2, 3, 4, 5), sources):
        cell = found[index]
        assert cell.text == "".join(source)
        for char, offset in zip(cell.text, cell.raw):
            assert text[offset] == "\\" or text[offset] == char
        assert text[cell.raw[-1]] == '"' or not cell.text


def test_raw_span_is_none_when_the_notebook_on_disk_lacks_the_cell_line(tmp_path):
    from gradlint.report.notebook_lines import RawNotebooks

    write_notebook(tmp_path / "a.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    notebooks = RawNotebooks()
    assert notebooks.span(Finding("GL202", "m", str(tmp_path / "a.ipynb"), Span(99, 1, 99, 2), cell=3)) is None
    assert notebooks.span(Finding("GL202", "m", str(tmp_path / "a.ipynb"), Span(1, 1, 1, 2), cell=1)) is None  # markdown
    assert notebooks.span(Finding("GL202", "m", str(tmp_path / "broken.ipynb"), Span(1, 1, 1, 2), cell=1)) is None
    assert notebooks.span(Finding("GL202", "m", str(tmp_path / "missing.ipynb"), Span(1, 1, 1, 2), cell=1)) is None
    # The CI formats still report it, on the file's first line, naming the cell.
    line = render("github", [Finding("GL202", "m", str(tmp_path / "missing.ipynb"), Span(4, 2, 4, 9), cell=2)],
                  ReportContext(files=()))
    assert ",line=1,col=1,endLine=1,endColumn=1,title=GL202 (large-fixed-learning-rate) in cell 2::cell 2, line 4: m" in line


# --- internal errors in CI formats ------------------------------------------------------------------

@pytest.fixture
def broken_facts(project, monkeypatch):
    """src/train.py's facts stage raises (an internal error, exit 2); src/clean.py is linted as usual."""
    from conftest import break_facts

    break_facts(monkeypatch, "train.py")
    return project


DESCRIBED = "gradlint: internal error: src/train.py: facts: KeyError: 'facts boom'"


def test_an_internal_error_is_a_failed_invocation_with_a_notification_in_sarif(broken_facts):
    result = gradlint("--no-cache", "--jobs", "1", "--output-format", "sarif", "src")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert sarif_errors(document) == []
    [invocation] = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert (note["level"], note["message"]["text"], note["descriptor"]["id"]) == ("error", DESCRIBED, "facts")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/train.py"


def test_a_clean_run_is_a_successful_invocation_in_sarif(project):
    document = json.loads(gradlint("--no-cache", "--output-format", "sarif", "src/clean.py").stdout)
    assert document["runs"][0]["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def test_an_internal_error_is_an_error_annotation_in_github_and_an_error_testcase_in_junit(broken_facts):
    github = gradlint("--no-cache", "--jobs", "1", "--output-format", "github", "src")
    assert github.exit_code == 2
    assert github.stdout.splitlines() == [
        f"::error file=src/train.py,title=gradlint internal error::{DESCRIBED}"]
    junit = gradlint("--no-cache", "--jobs", "1", "--output-format", "junit", "src")
    assert junit.exit_code == 2
    root = ET.fromstring(junit.stdout)
    suite = root.find("testsuite")
    assert (root.get("errors"), suite.get("errors"), suite.get("failures"), suite.get("tests")) == ("1", "1", "0", "2")
    [case] = [c for c in suite.iter("testcase") if c.get("name") == "src/train.py"]
    [error] = case.findall("error")
    assert (error.get("type"), error.get("message")) == ("internal-error", DESCRIBED)
