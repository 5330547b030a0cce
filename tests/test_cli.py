"""The command line, as a user types it: exit codes, flags, output formats, catalog commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint import __version__, catalog
from gradlint.cli import main

BAD = '''\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())
optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
'''
CLEAN = '''\
import torch

model = torch.nn.Linear(4, 4)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
'''
RUFF_FIELDS = {"code", "name", "severity", "message", "filename", "location", "end_location", "fix", "url", "noqa_row",
               "cell"}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with one bad and one clean script; the current directory while the test runs."""
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def gradlint(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def finding_lines(output: str) -> list[str]:
    """The `path:row:col: CODE` heads of the findings, without messages or source lines."""
    heads = []
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and not line.startswith(" ") and words[0].endswith(":") and words[1].startswith("GL"):
            heads.append(f"{words[0]} {words[1]}")
    return heads


# -- exit codes -----------------------------------------------------------------------------------


def test_findings_exit_1_and_are_printed_with_a_summary(project):
    result = gradlint("bad.py")
    assert result.exit_code == 1
    assert finding_lines(result.output) == ["bad.py:4:9: GL101", "bad.py:5:13: GL202"]
    assert "Found 2 findings (GL101: 1, GL202: 1)." in result.output


def test_no_findings_exit_0(project):
    result = gradlint("clean.py")
    assert result.exit_code == 0
    assert result.output.strip() == "All checks passed!"


def test_default_command_is_check(project):
    plain, explicit = gradlint("."), gradlint("check", ".")
    assert plain.exit_code == explicit.exit_code == 1
    assert plain.output == explicit.output


def test_no_path_lints_the_current_folder(project):
    result = gradlint()
    assert result.exit_code == 1
    assert finding_lines(result.output) == ["bad.py:4:9: GL101", "bad.py:5:13: GL202"]


def test_exit_zero_keeps_the_report(project):
    result = gradlint("--exit-zero", "bad.py")
    assert result.exit_code == 0
    assert "GL202" in result.output


def test_missing_path_is_one_line_and_exit_2(project):
    result = CliRunner().invoke(main, ["nowhere.py"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["gradlint: error: nowhere.py: no such file or directory"]


def test_unknown_option_is_a_usage_error(project):
    result = CliRunner().invoke(main, ["--no-such-flag", "bad.py"])
    assert result.exit_code == 2


# -- selection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        (("--select", "GL202"), ["bad.py:5:13: GL202"]),
        (("--select", "GL2"), ["bad.py:5:13: GL202"]),
        (("--select", "GL101,GL202"), ["bad.py:4:9: GL101", "bad.py:5:13: GL202"]),
        (("--select", "GL101", "--select", "GL202"), ["bad.py:4:9: GL101", "bad.py:5:13: GL202"]),
        (("--ignore", "GL101"), ["bad.py:5:13: GL202"]),
        (("--ignore", "GL1,GL2"), []),
        (("--select", "GL000", "--extend-select", "GL101"), ["bad.py:4:9: GL101"]),
        (("--select", "ALL", "--ignore", "GL202"), ["bad.py:4:9: GL101"]),
    ],
)
def test_select_ignore_extend_select(project, args, expected):
    result = gradlint(*args, "bad.py")
    assert finding_lines(result.output) == expected
    assert result.exit_code == (1 if expected else 0)


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_is_exit_2_with_one_line_naming_it(project, flag):
    result = CliRunner().invoke(main, [flag, "GL202,GL999", "bad.py"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "GL999" in lines[0] and flag in lines[0]


# -- output -----------------------------------------------------------------------------------------


def test_quiet_prints_findings_but_no_summary(project):
    result = gradlint("-q", "bad.py")
    assert result.exit_code == 1
    assert finding_lines(result.output) == ["bad.py:4:9: GL101", "bad.py:5:13: GL202"]
    assert "Found" not in result.output
    assert gradlint("-q", "clean.py").output == ""


def test_text_output_shows_the_source_line_and_a_caret_under_the_span(project):
    lines = gradlint("--select", "GL202", "bad.py").output.splitlines()
    assert lines[1] == " 5 | optimizer = torch.optim.SGD(model.parameters(), lr=5.0)"
    assert lines[2] == "   |             " + "^" * len("torch.optim.SGD(model.parameters(), lr=5.0)")


def test_statistics_counts_per_rule(project):
    (project / "more.py").write_text(BAD)
    result = gradlint("--statistics", ".")
    assert result.exit_code == 1
    table = [line.split("\t") for line in result.output.splitlines() if "\t" in line]
    assert table == [["    2", "GL101", "saturating-activation-stack"], ["    2", "GL202", "large-fixed-learning-rate"]]
    assert "bad.py:4:9" not in result.output


def test_output_file_is_written_and_nothing_goes_to_stdout(project):
    result = gradlint("--output-format", "json", "--output-file", "out/report.json", "bad.py")
    assert result.exit_code == 1
    assert result.output == ""
    report = json.loads((project / "out" / "report.json").read_text())
    assert [item["code"] for item in report] == ["GL101", "GL202"]


def test_color_never_has_no_ansi(project):
    assert "\x1b[" not in gradlint("--color", "never", "bad.py").output


def test_color_auto_is_plain_when_not_a_terminal(project):
    assert "\x1b[" not in gradlint("bad.py").output


def test_color_always_has_ansi_even_when_piped(project):
    assert "\x1b[" in gradlint("--color", "always", "bad.py").output


def test_json_has_ruffs_fields_plus_name_and_severity(project):
    result = gradlint("--output-format", "json", "bad.py")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(item["code"], item["location"]["row"]) for item in report] == [("GL101", 4), ("GL202", 5)]
    for item in report:
        assert set(item) == RUFF_FIELDS
        assert set(item["location"]) == set(item["end_location"]) == {"row", "column"}
        assert item["fix"] is None
        assert item["noqa_row"] == item["location"]["row"] >= 1
        assert Path(item["filename"]) == project.resolve() / "bad.py"
        rule = catalog.get(item["code"])
        assert (item["name"], item["severity"], item["url"]) == (rule.name, rule.severity, rule.url)
    gl202 = report[1]
    assert gl202["location"] == {"row": 5, "column": 13}
    assert gl202["end_location"] == {"row": 5, "column": 56}
    assert gl202["message"].startswith("SGD lr=5")


def test_json_with_no_findings_is_an_empty_array(project):
    result = gradlint("--output-format", "json", "clean.py")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


# -- catalog commands ---------------------------------------------------------------------------------


def test_rules_lists_every_code_in_the_rules_folder(project):
    result = gradlint("rules")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines()[1:]]
    on_disk = sorted(p.stem for p in catalog.rules_dir().glob("GL*.md"))
    assert listed == on_disk and "GL202" in listed
    assert result.output.splitlines()[0].split() == ["code", "name", "severity", "fixable", "default"]
    assert "large-fixed-learning-rate" in result.output


def test_rule_prints_the_markdown(project):
    result = gradlint("rule", "GL202")
    assert result.exit_code == 0
    assert result.output.startswith("# GL202 large-fixed-learning-rate")
    assert "## Why it breaks gradients" in result.output and "```python" in result.output


def test_rule_code_is_case_insensitive(project):
    assert gradlint("rule", "gl101").output.startswith("# GL101")


def test_unknown_rule_is_exit_2(project):
    result = CliRunner().invoke(main, ["rule", "GL999"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["gradlint: error: unknown rule code 'GL999'; `gradlint rules` lists them"]


def test_version(project):
    result = gradlint("--version")
    assert (result.exit_code, result.output) == (0, f"gradlint {__version__}\n")


# -- the installed console script, as a real process ------------------------------------------------------


def console_script() -> str:
    found = shutil.which("gradlint", path=str(Path(sys.executable).parent))
    assert found, "the gradlint console script is not installed next to this interpreter"
    return found


def test_console_script_end_to_end(project):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    done = subprocess.run([console_script(), "--output-format", "json", "."], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert [(i["code"], Path(i["filename"]).name, i["location"]["row"]) for i in json.loads(done.stdout)] == [
        ("GL101", "bad.py", 4), ("GL202", "bad.py", 5)]
    assert done.stderr == ""


def test_console_script_exit_codes(project):
    script = console_script()
    clean = subprocess.run([script, "clean.py"], cwd=project, capture_output=True, text=True, timeout=120)
    missing = subprocess.run([script, "gone/"], cwd=project, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0 and clean.stdout.strip() == "All checks passed!"
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == ["gradlint: error: gone/: no such file or directory"]
    assert "Traceback" not in missing.stderr


def test_python_dash_m_gradlint(project):
    done = subprocess.run([sys.executable, "-m", "gradlint", "--select", "GL202", "-q", "bad.py"], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout.startswith("bad.py:5:13: GL202 ")


def test_stdin_is_linted_under_the_given_name():
    result = CliRunner().invoke(main, ["-", "--stdin-filename", "src/train.py"],
                                input="import torch\nopt = torch.optim.Adam(params, lr=1.0)\n")
    assert result.exit_code == 1
    assert result.stdout.startswith("src/train.py:2:7: GL202 Adam lr=1")


def test_a_folder_with_nothing_to_lint_says_so_on_stderr(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    result = CliRunner().invoke(main, ["--no-cache", str(tmp_path)])
    assert result.exit_code == 0
    assert "no Python files or notebooks found" in result.stderr
