"""What a ruff user reaches for (issue 16, "Missing"): --add-noqa, GL001 unused-noqa, --ignore-noqa,
--fail-on, the concise/full text formats with [*] and the fixable footer, json-lines, --statistics in
every format, -V / `gradlint version`, `gradlint rules --output-format json`, `gradlint rule --all`.
All through the real CLI, on a small training script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint import __version__, catalog
from gradlint.cli import main

# GL101 on 5 (three sigmoids), GL202 on 6 (SGD lr=5), GL401 on 11 (fixable, safe), GL403 (warning) on 15.
TRAIN = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())
optimizer = torch.optim.SGD(model.parameters(), lr=5.0)


def nll(logits, targets):
    probs = F.softmax(logits, dim=-1)
    return F.nll_loss(torch.log(probs), targets)


def normalize(z):
    return z / z.norm(dim=-1, keepdim=True)
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def gradlint(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["--no-cache", *args], input=input)


def codes_rows(result) -> list[tuple[str, int]]:
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["location"]["row"]) for f in json.loads(result.stdout)]


ALL_FOUR = [("GL101", 5), ("GL202", 6), ("GL401", 11), ("GL403", 15)]


def test_the_script_has_the_four_findings(project):
    assert codes_rows(gradlint("--output-format", "json", "train.py")) == ALL_FOUR


# -- --add-noqa -------------------------------------------------------------------------------------------


def test_add_noqa_silences_every_reported_line_keeps_codes_and_is_idempotent(project):
    train = project / "train.py"
    train.write_text(TRAIN.replace("lr=5.0)", "lr=5.0)  # noqa: E501"), encoding="utf-8")
    result = gradlint("--add-noqa", ".")
    assert result.exit_code == 0, result.output
    assert "added 4 noqa directives" in result.stderr
    lines = train.read_text(encoding="utf-8").splitlines()
    assert lines[4].endswith("nn.Sigmoid())  # noqa: GL101")
    assert lines[5].endswith("lr=5.0)  # noqa: E501, GL202")  # the code already there stays
    assert lines[10].endswith("torch.log(probs), targets)  # noqa: GL401")
    assert codes_rows(gradlint("--output-format", "json", ".")) == []
    before = train.read_bytes()
    again = gradlint("--add-noqa", ".")
    assert again.exit_code == 0 and "added 0 noqa directives" in again.stderr
    assert train.read_bytes() == before


def test_add_noqa_adds_only_for_the_selected_and_reported_findings(project):
    gradlint("--add-noqa", "--select", "GL202", ".")
    text = (project / "train.py").read_text(encoding="utf-8")
    assert text.count("# noqa") == 1 and "lr=5.0)  # noqa: GL202" in text


def test_add_noqa_never_writes_into_a_multi_line_string(project):
    (project / "doc.py").write_text(
        'import torch\nx = torch.log(torch.softmax(torch.zeros(3), 0))\nHELP = """\nsee\n"""\n', encoding="utf-8")
    (project / "cont.py").write_text(
        "import torch\ny = torch.log(torch.softmax(torch.zeros(3), 0)) + \\\n    1\n", encoding="utf-8")
    result = gradlint("--add-noqa", "--select", "GL401", "doc.py", "cont.py")
    assert result.exit_code == 0
    assert "x = torch.log(torch.softmax(torch.zeros(3), 0))  # noqa: GL401" in (project / "doc.py").read_text()
    assert (project / "cont.py").read_text().count("noqa") == 0  # a backslash continuation: said, not written
    assert "no comment can end that line" in result.stderr


# -- GL001 and --ignore-noqa -----------------------------------------------------------------------------


NOQA = '''\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())  # noqa: GL101, GL202
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # noqa: GL202
label = "# noqa: GL202"
head = nn.Linear(4, 4)  # gradlint: ignore[GL999]
tail = nn.Linear(4, 4)  # noqa: E501
any_code = nn.Linear(4, 4)  # noqa
'''


def test_unused_noqa_is_off_by_default_and_flags_stale_gradlint_codes_only(project):
    (project / "noqa.py").write_text(NOQA, encoding="utf-8")
    assert codes_rows(gradlint("--output-format", "json", "noqa.py")) == []
    result = gradlint("--output-format", "json", "--extend-select", "GL001", "noqa.py")
    report = json.loads(result.stdout)
    # Not the string on line 6, not another tool's E501, not a bare noqa; GL999 is not a rule at all.
    assert [(f["code"], f["location"]["row"]) for f in report] == [("GL001", 4), ("GL001", 5), ("GL001", 7)]
    assert "no GL202 finding on this line" in report[0]["message"]
    assert "unknown rule code GL999" in report[2]["message"]
    assert all(f["fix"]["applicability"] == "safe" for f in report)


def test_unused_noqa_fix_removes_the_stale_codes_or_the_comment(project):
    path = project / "noqa.py"
    path.write_text(NOQA, encoding="utf-8")
    assert gradlint("--extend-select", "GL001", "--fix", "noqa.py").exit_code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[3].endswith("nn.Sigmoid())  # noqa: GL101")
    assert lines[4] == "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)"
    assert lines[6] == "head = nn.Linear(4, 4)"
    assert lines[7].endswith("# noqa: E501") and lines[8].endswith("# noqa")


def test_a_code_that_is_not_checked_is_not_judged(project):
    (project / "noqa.py").write_text(NOQA, encoding="utf-8")
    result = gradlint("--output-format", "json", "--select", "GL001,GL101", "noqa.py")
    # GL202 is not selected: its noqa may matter under another selection; GL999 is still no rule.
    assert codes_rows(result) == [("GL001", 7)]


def test_ignore_noqa_reports_what_the_comments_silence(project):
    (project / "noqa.py").write_text(NOQA, encoding="utf-8")
    assert codes_rows(gradlint("--output-format", "json", "--ignore-noqa", "--extend-select", "GL001", "noqa.py")) == [
        ("GL101", 4)]


# -- --fail-on -------------------------------------------------------------------------------------------


def test_fail_on_error_prints_warnings_but_exits_0_for_them(project):
    assert catalog.get("GL403").severity == "warning"
    warned = gradlint("--fail-on", "error", "--select", "GL403", "train.py")
    assert warned.exit_code == 0 and "train.py:15:12: GL403" in warned.output
    assert gradlint("--select", "GL403", "train.py").exit_code == 1
    assert gradlint("--fail-on", "error", "--select", "GL202,GL403", "train.py").exit_code == 1


# -- text formats ----------------------------------------------------------------------------------------


def test_concise_is_one_line_per_finding_with_the_fixable_marker(project):
    result = gradlint("--output-format", "concise", "train.py")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line.split(" ", 2)[:2] for line in lines[:4]] == [
        ["train.py:5:9:", "GL101"], ["train.py:6:13:", "GL202"], ["train.py:11:23:", "GL401"], ["train.py:15:12:", "GL403"]]
    assert lines[2].startswith("train.py:11:23: GL401 [*] torch.log of `probs`")
    assert "[*]" not in lines[1]
    assert lines[4:] == ["Found 4 findings (GL101: 1, GL202: 1, GL401: 1, GL403: 1).",
                         "[*] 1 fixable with the `--fix` option."]


def test_full_is_the_default_with_source_the_rule_name_and_the_fix(project):
    full, text = gradlint("--output-format", "full", "train.py"), gradlint("train.py")
    assert full.output == text.output
    lines = text.output.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("train.py:11:23: GL401 [*] ")))
    assert lines[at + 1] == " 11 |     return F.nll_loss(torch.log(probs), targets)"
    assert lines[at + 3].startswith("    = log-of-softmax · fix: Replace with `F.log_softmax(logits, dim=-1)`")


def test_the_footer_counts_unsafe_fixes_as_hidden(project):
    (project / "ent.py").write_text(
        "import torch\nimport torch.nn.functional as F\n\n\ndef entropy(logits):\n"
        "    probs = F.softmax(logits, dim=-1)\n    return -(probs * torch.log(probs)).sum(-1).mean()\n",
        encoding="utf-8")
    plain = gradlint("--output-format", "concise", "ent.py").output
    assert "[*]" not in plain.splitlines()[0]
    assert "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)" in plain
    unsafe = gradlint("--output-format", "concise", "--unsafe-fixes", "ent.py").output
    assert " GL401 [*] " in unsafe and "[*] 1 fixable with the `--fix` option." in unsafe


def test_json_lines_is_one_json_object_per_finding(project):
    result = gradlint("--output-format", "json-lines", "train.py")
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["code"], o["location"]["row"]) for o in objects] == ALL_FOUR
    assert objects == json.loads(gradlint("--output-format", "json", "train.py").stdout)


def test_output_format_concise_from_the_config(project):
    (project / "pyproject.toml").write_text('[tool.gradlint]\noutput-format = "concise"\n', encoding="utf-8")
    assert gradlint("train.py").output.splitlines()[0].startswith("train.py:5:9: GL101 3 saturating")


# -- --statistics in every format ------------------------------------------------------------------------


def test_statistics_as_json_and_json_lines(project):
    rows = json.loads(gradlint("--statistics", "--output-format", "json", "train.py").stdout)
    assert rows[0] == {"code": "GL101", "name": "saturating-activation-stack", "count": 1, "fixable": False}
    assert {r["code"]: r["fixable"] for r in rows} == {"GL101": False, "GL202": False, "GL401": True, "GL403": False}
    lines = gradlint("--statistics", "--output-format", "json-lines", "train.py").stdout.splitlines()
    assert [json.loads(line) for line in lines] == rows


@pytest.mark.parametrize("fmt", ["text", "concise", "github", "gitlab", "sarif", "junit"])
def test_statistics_is_honoured_in_the_other_formats(project, fmt):
    # Regression: --statistics was ignored unless the format was text.
    result = gradlint("--statistics", "--output-format", fmt, "train.py")
    assert result.exit_code == 1
    table = [line.split("\t") for line in result.output.splitlines() if "\t" in line]
    assert table == [["    1", "GL101", "saturating-activation-stack"], ["    1", "GL202", "large-fixed-learning-rate"],
                     ["    1", "GL401", "[*] log-of-softmax"], ["    1", "GL403", "unguarded-singularity"]]


# -- version and catalog commands -------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["-V"], ["--version"], ["version"]])
def test_version_three_ways(args):
    done = subprocess.run([sys.executable, "-m", "gradlint", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"gradlint {__version__}\n"


def test_rules_as_json_is_the_catalog():
    result = CliRunner().invoke(main, ["rules", "--output-format", "json"])
    rules = json.loads(result.stdout)
    assert [r["code"] for r in rules] == sorted(catalog.all_rules())
    gl001 = next(r for r in rules if r["code"] == "GL001")
    assert gl001 == {"code": "GL001", "name": "unused-noqa", "severity": "warning", "fixable": True, "default": False,
                     "summary": catalog.get("GL001").summary, "url": catalog.get("GL001").url}


def test_rule_all_prints_every_page_and_json_has_the_explanation():
    result = CliRunner().invoke(main, ["rule", "--all"])
    assert result.exit_code == 0
    assert [line.split()[1] for line in result.output.splitlines() if line.startswith("# GL")] == sorted(
        catalog.all_rules())
    one = json.loads(CliRunner().invoke(main, ["rule", "GL202", "--output-format", "json"]).stdout)
    assert one["name"] == "large-fixed-learning-rate" and one["explanation"].startswith("# GL202")
    assert CliRunner().invoke(main, ["rule"]).exit_code == 2


# -- fix workflow: --fix-only, --show-fixes, --exit-non-zero-on-fix, fixable/unfixable ---------------------


def test_fix_only_fixes_and_reports_nothing(project):
    result = gradlint("--fix-only", "train.py")
    assert result.exit_code == 0 and result.stdout == ""
    assert "F.nll_loss(F.log_softmax(logits, dim=-1), targets)" in (project / "train.py").read_text()
    assert "fixed 1 finding in 1 file" in result.stderr


def test_exit_non_zero_on_fix(project):
    assert gradlint("--fix-only", "--exit-non-zero-on-fix", "train.py").exit_code == 1
    assert gradlint("--fix-only", "--exit-non-zero-on-fix", "train.py").exit_code == 0  # nothing left to fix
    clean = gradlint("--select", "GL401", "--fix", "--exit-non-zero-on-fix", "train.py")
    assert clean.exit_code == 0


def test_show_fixes_lists_what_was_fixed_per_file_and_rule(project):
    result = gradlint("--fix", "--show-fixes", "train.py")
    assert result.exit_code == 1  # three findings remain
    assert "Fixed 1 finding:\n- train.py:\n    1 × GL401 (log-of-softmax)\n" in result.stderr


def test_unfixable_rules_are_neither_marked_nor_fixed(project):
    (project / "pyproject.toml").write_text('[tool.gradlint]\nunfixable = ["GL4"]\n', encoding="utf-8")
    report = json.loads(gradlint("--output-format", "json", "train.py").stdout)
    assert [f["fix"] for f in report if f["code"] == "GL401"] == [None]
    assert "[*]" not in gradlint("--output-format", "concise", "train.py").output
    assert gradlint("--fix", "train.py").stderr.startswith("gradlint: fixed 0 findings")
    # The command line replaces the file's list.
    assert "[*]" in gradlint("--output-format", "concise", "--unfixable", "GL2", "train.py").output
    assert "GL999" in gradlint("--unfixable", "GL999", "train.py").output


# -- progress -------------------------------------------------------------------------------------------


class _Terminal:
    def __init__(self):
        self.written = []

    def isatty(self):
        return True

    def write(self, text):
        self.written.append(text)

    def flush(self):
        pass


def test_the_progress_bar_moves_on_a_terminal_and_never_in_a_pipe(tmp_path, monkeypatch):
    from gradlint import config, discovery, engine
    from gradlint.cli import ProgressBar

    monkeypatch.delenv("CI", raising=False)
    for i in range(70):
        (tmp_path / f"s{i:02}.py").write_text(TRAIN, encoding="utf-8")
    settings = config.Settings()
    files = discovery.discover([str(tmp_path)], settings)
    terminal = _Terminal()
    assert ProgressBar.wanted(len(files), terminal) and not ProgressBar.wanted(10, terminal)
    bar = ProgressBar(len(files), terminal)
    engine.run(files, settings, jobs=1, progress=bar)
    bar.close()
    drawn = [w for w in terminal.written if "files" in w]
    assert drawn[0] == "\rgradlint: [" + "#" * 27 + "   ] 64/70 files"
    assert drawn[-1].endswith("] 70/70 files") and terminal.written[-1].endswith("\r")
    monkeypatch.setenv("CI", "true")
    assert not ProgressBar.wanted(len(files), terminal)
    # Through the CLI, stderr is no terminal: no bar at all.
    monkeypatch.chdir(tmp_path)
    assert "\r" not in CliRunner().invoke(main, ["--no-cache", "."]).stderr


def test_help_summaries_are_whole_sentences():
    result = CliRunner().invoke(main, ["--help"])
    commands = result.output.split("Commands:\n", 1)[1].splitlines()
    summaries = {line.split()[0]: line.split(None, 1)[1] for line in commands if line.strip()}
    assert set(summaries) == {"check", "clean", "rule", "rules", "verify", "version"}
    for name, text in summaries.items():
        # Regression: click cut "Print the documentation of one rule (e.g." after "e.g.".
        assert text[0].isupper() and text.endswith(".") and not text.endswith("...") and not text.endswith("e.g."), name
