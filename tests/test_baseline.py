"""--write-baseline records today's findings; --baseline hides exactly those, even after lines move."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gradlint.cli import main

HEADER = """\
import torch
from torch import nn

model = nn.Linear(10, 1)
"""
BLOCK = """
optimizer = torch.optim.SGD(model.parameters(), lr=10.0)

"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """train.py with two identical GL202 blocks (lines 6 and 9); cwd is the folder."""
    (tmp_path / "train.py").write_text(HEADER + BLOCK * 2, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def gradlint(*args: str):
    return CliRunner().invoke(main, ["--select", "GL202", "--output-format", "json", *args])


def reported(*args: str) -> list[tuple[str, str, int]]:
    result = gradlint(*args)
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["filename"].rsplit("/", 1)[-1], f["location"]["row"]) for f in json.loads(result.stdout)]


def test_write_baseline_records_findings_and_exits_zero(repo):
    result = gradlint("--write-baseline", "gradlint-baseline.json", ".")
    assert result.exit_code == 0
    data = json.loads((repo / "gradlint-baseline.json").read_text())
    assert [(r["code"], r["path"], r["index"]) for r in data["findings"]] == [
        ("GL202", "train.py", 0),
        ("GL202", "train.py", 1),
    ]


def test_baseline_hides_exactly_the_recorded_findings(repo):
    gradlint("--write-baseline", "gradlint-baseline.json", ".")
    result = gradlint("--baseline", "gradlint-baseline.json", ".")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_unrelated_edits_that_shift_lines_keep_findings_hidden(repo):
    gradlint("--write-baseline", "gradlint-baseline.json", ".")
    train = repo / "train.py"
    train.write_text('"""Training script."""\n\nimport os\n' + train.read_text().replace("    ", "\t"), encoding="utf-8")
    assert reported("--baseline", "gradlint-baseline.json", ".") == []


def test_a_new_finding_is_shown_while_the_old_ones_stay_hidden(repo):
    gradlint("--write-baseline", "gradlint-baseline.json", ".")
    train = repo / "train.py"
    train.write_text(train.read_text() + "fast = torch.optim.Adam(model.parameters(), lr=0.5)\n", encoding="utf-8")
    assert reported("--baseline", "gradlint-baseline.json", ".") == [("GL202", "train.py", 11)]


def test_an_identical_looking_finding_beyond_the_recorded_count_is_shown(repo):
    gradlint("--write-baseline", "gradlint-baseline.json", ".")
    (repo / "train.py").write_text(HEADER + BLOCK * 3, encoding="utf-8")
    assert reported("--baseline", "gradlint-baseline.json", ".") == [("GL202", "train.py", 12)]


def test_editing_the_flagged_line_itself_makes_the_finding_new(repo):
    gradlint("--write-baseline", "gradlint-baseline.json", ".")
    train = repo / "train.py"
    train.write_text(train.read_text().replace("lr=10.0", "lr=20.0", 1), encoding="utf-8")
    assert reported("--baseline", "gradlint-baseline.json", ".") == [("GL202", "train.py", 6)]


def test_paths_are_relative_to_the_baseline_file_so_it_works_from_any_folder(repo, monkeypatch):
    (repo / "ci").mkdir()
    gradlint("--write-baseline", "ci/baseline.json", "train.py")
    assert json.loads((repo / "ci" / "baseline.json").read_text())["findings"][0]["path"] == "../train.py"
    monkeypatch.chdir(repo / "ci")
    assert reported("--baseline", "baseline.json", "..") == []


@pytest.mark.parametrize(
    "content, error",
    [
        (None, "cannot read baseline"),
        ("{not json", "is not valid JSON"),
        ('{"findings": []}', "is not a gradlint baseline"),
        ('{"gradlint-baseline": 1, "findings": [{"code": "GL202"}]}', "finding 1 lacks"),
        ('{"gradlint-baseline": 1, "findings": [{"code": "GL202", "path": "a", "hash": "h", "index": "0"}]}',
         "wrong type"),
    ],
)
def test_a_bad_baseline_file_is_a_one_line_error_with_exit_2(repo, content, error):
    if content is not None:
        (repo / "baseline.json").write_text(content, encoding="utf-8")
    result = gradlint("--baseline", "baseline.json", ".")
    assert result.exit_code == 2
    assert result.stderr.startswith("gradlint: error: ") and error in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
