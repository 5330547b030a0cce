"""--diff-since REV: only findings on lines added or changed since a git revision (pull-request annotations)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

TRAIN = """\
import torch
from torch import nn

model = nn.Sequential(
    nn.Linear(32, 64),
    nn.Sigmoid(),
    nn.Sigmoid(),
    nn.Sigmoid(),
)
optimizer = torch.optim.SGD(model.parameters(), lr=12.0)
"""


def git(cwd, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git repo whose first commit has src/train.py with GL101 (lines 4-9) and GL202 (line 10)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}.items():
        monkeypatch.setenv(key, value)
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "train.py").write_text(TRAIN, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    monkeypatch.chdir(root)
    return root


def findings(*args: str) -> list[tuple[str, str, int]]:
    result = CliRunner().invoke(main, ["--select", "GL101,GL202", "--output-format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["filename"].rsplit("/", 1)[-1], f["location"]["row"]) for f in json.loads(result.stdout)]


def test_nothing_changed_nothing_reported(repo):
    assert findings(".") == [("GL101", "train.py", 4), ("GL202", "train.py", 10)]
    assert findings("--diff-since", "HEAD", ".") == []


def test_only_the_added_line_is_reported(repo):
    train = repo / "src" / "train.py"
    train.write_text(train.read_text() + "fast = torch.optim.Adam(model.parameters(), lr=0.5)\n", encoding="utf-8")
    assert findings("--diff-since", "HEAD", ".") == [("GL202", "train.py", 11)]


def test_a_finding_that_rev_already_had_is_not_new_when_a_line_inside_it_changes(repo):
    # Diff mode reports what is new relative to REV: the sigmoid stack was flagged at REV too.
    train = repo / "src" / "train.py"
    train.write_text(train.read_text().replace("nn.Linear(32, 64)", "nn.Linear(32, 128)"), encoding="utf-8")
    assert findings("--diff-since", "HEAD", ".") == []
    # Editing the flagged line itself makes it a finding of the new code.
    train.write_text(train.read_text().replace("model = nn.Sequential(", "net = nn.Sequential("), encoding="utf-8")
    assert findings("--diff-since", "HEAD", ".") == [("GL101", "train.py", 4)]


def test_committed_and_staged_changes_since_an_older_revision_count(repo):
    train = repo / "src" / "train.py"
    train.write_text(train.read_text().replace("lr=12.0", "lr=20.0"), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "raise lr")
    assert findings("--diff-since", "HEAD", ".") == []
    assert findings("--diff-since", "HEAD~1", ".") == [("GL202", "train.py", 10)]


def test_an_untracked_file_is_new_from_top_to_bottom(repo):
    (repo / "src" / "new.py").write_text(TRAIN, encoding="utf-8")
    assert findings("--diff-since", "HEAD", ".") == [("GL101", "new.py", 4), ("GL202", "new.py", 10)]


def test_works_from_a_subfolder(repo, monkeypatch):
    train = repo / "src" / "train.py"
    train.write_text(train.read_text() + "fast = torch.optim.Adam(model.parameters(), lr=0.5)\n", encoding="utf-8")
    monkeypatch.chdir(repo / "src")
    assert findings("--diff-since", "HEAD", ".") == [("GL202", "train.py", 11)]
    assert findings("--diff-since", "HEAD", "train.py") == [("GL202", "train.py", 11)]


def test_a_renamed_file_reports_only_its_new_findings(repo):
    git(repo, "mv", "src/train.py", "src/trainer.py")
    trainer = repo / "src" / "trainer.py"
    trainer.write_text(trainer.read_text().replace("lr=12.0", "lr=20.0"), encoding="utf-8")
    assert findings("--diff-since", "HEAD", ".") == [("GL202", "trainer.py", 10)]
    git(repo, "commit", "-q", "-m", "rename")
    assert findings("--diff-since", "HEAD~1", ".") == [("GL202", "trainer.py", 10)]


def test_rev_with_three_dots_diffs_against_the_merge_base(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    train = repo / "src" / "train.py"
    train.write_text(train.read_text() + "fast = torch.optim.Adam(model.parameters(), lr=0.5)\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "feature work")
    git(repo, "checkout", "-q", "main")
    train.write_text(train.read_text().replace("lr=12.0", "lr=0.1"), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "main moved on")
    git(repo, "checkout", "-q", "feature")
    # Against main itself, the line main changed looks changed too; against the merge base it does not.
    assert findings("--diff-since", "main", ".") == [("GL202", "train.py", 10), ("GL202", "train.py", 11)]
    assert findings("--diff-since", "main...", ".") == [("GL202", "train.py", 11)]


def _error(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("gradlint: error: ") and result.stderr.count("\n") == 1
    return result.stderr


def test_an_unknown_revision_is_a_one_line_error(repo):
    assert "unknown git revision 'no-such-branch'" in _error("--diff-since", "no-such-branch", ".")
    assert "unknown git revision '--output=x'" in _error("--diff-since=--output=x", ".")


def test_outside_a_git_repository_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert "needs a git repository" in _error("--diff-since", "HEAD", "train.py")


# -- new relative to REV, not "on a changed line" ----------------------------------------------------------

LM = (FIXTURES / "bad" / "gl201_lstm_language_model.py").read_text(encoding="utf-8")
CLIPPED_LM = LM.replace("        loss.backward()\n",
                        "        loss.backward()\n        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)\n")


def commit(repo, files: dict[str, str], message: str = "change") -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", message)


def gl(*args: str) -> list[tuple[str, str, int]]:
    result = CliRunner().invoke(main, ["--output-format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["filename"].rsplit("/", 1)[-1], f["location"]["row"]) for f in json.loads(result.stdout)]


def test_deleting_the_clip_line_of_an_lstm_loop_reports_the_missing_clipping(repo):
    commit(repo, {"lm.py": CLIPPED_LM})
    assert gl("lm.py") == []
    (repo / "lm.py").write_text(LM, encoding="utf-8")
    # Regression: the finding is anchored on optimizer.step(), a line the change did not touch, so diff
    # mode used to exit 0 on the very change that removed the clipping.
    assert gl("--diff-since", "HEAD", "lm.py") == [("GL201", "lm.py", 41)]
    result = CliRunner().invoke(main, ["--diff-since", "HEAD", "lm.py"])
    assert result.exit_code == 1


def test_raising_an_argparse_default_reports_the_optimizer_line(repo):
    script = (FIXTURES / "bad" / "gl202_argparse_sgd.py").read_text(encoding="utf-8")
    commit(repo, {"cnn.py": script.replace("default=1.6", "default=0.1")})
    assert gl("--select", "GL202", "cnn.py") == []
    (repo / "cnn.py").write_text(script.replace("default=1.6", "default=3.0"), encoding="utf-8")
    assert gl("--select", "GL202", "--diff-since", "HEAD", "cnn.py") == [("GL202", "cnn.py", 39)]  # the SGD(...) line


def test_a_finding_that_only_moved_is_not_reported(repo):
    train = repo / "src" / "train.py"
    header = '"""Training script."""\n\nimport os\nimport sys\n\n'
    train.write_text(header + train.read_text(), encoding="utf-8")
    assert findings(".") == [("GL101", "train.py", 9), ("GL202", "train.py", 15)]
    assert findings("--diff-since", "HEAD", ".") == []
    # Moved and renamed, committed: still nothing new.
    git(repo, "mv", "src/train.py", "src/fit.py")
    git(repo, "commit", "-q", "-am", "move")
    assert findings("--diff-since", "HEAD~1", ".") == []


def test_a_second_copy_of_a_pattern_is_new(repo):
    train = repo / "src" / "train.py"
    line = "optimizer = torch.optim.SGD(model.parameters(), lr=12.0)\n"
    train.write_text(train.read_text() + "\n" + line, encoding="utf-8")
    assert findings("--diff-since", "HEAD", ".") == [("GL202", "train.py", 12)]


def test_a_change_in_another_file_makes_a_cross_file_finding_new(repo):
    project = FIXTURES / "projects" / "seq2seq"
    model = (project / "model.py").read_text(encoding="utf-8")
    commit(repo, {"s2s/model.py": model.replace("nn.GRU(hidden, hidden, batch_first=True)", "nn.Linear(hidden, hidden)"),
                  "s2s/train.py": (project / "train.py").read_text(encoding="utf-8")})
    assert gl("s2s") == []
    (repo / "s2s" / "model.py").write_text(model, encoding="utf-8")
    # train.py did not change, but the model it trains became recurrent: its missing clipping is new.
    assert gl("--diff-since", "HEAD", "s2s") == [("GL201", "train.py", 18)]


def test_write_baseline_with_diff_since_records_only_the_new_findings(repo):
    train = repo / "src" / "train.py"
    train.write_text(train.read_text() + "fast = torch.optim.Adam(model.parameters(), lr=0.5)\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--select", "GL101,GL202", "--diff-since", "HEAD", "--write-baseline", "b.json", "."])
    assert result.exit_code == 0, result.output
    assert [r["code"] for r in json.loads((repo / "b.json").read_text())["findings"]] == ["GL202"]


def test_a_notebook_finding_that_only_moved_to_a_new_cell_position_is_not_new(repo):
    notebook = json.loads((FIXTURES / "notebooks" / "bad_char_rnn.ipynb").read_text(encoding="utf-8"))
    commit(repo, {"nb.ipynb": json.dumps(notebook, indent=1)})
    assert gl("nb.ipynb") == [("GL202", "nb.ipynb", 3), ("GL201", "nb.ipynb", 6)]
    # A markdown cell and a code cell inserted at the top: every finding moves to another cell and raw line.
    notebook["cells"][:0] = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Char-RNN\n", "Trains a small model.\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["import os\n"]},
    ]
    (repo / "nb.ipynb").write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    assert gl("--diff-since", "HEAD", "nb.ipynb") == []
    # Raising the lr in its cell makes the GL202 finding new.
    cell = notebook["cells"][5]
    cell["source"] = [line.replace("lr=", "lr=2*") if "optim.SGD" in line else line for line in cell["source"]]
    (repo / "nb.ipynb").write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    assert gl("--diff-since", "HEAD", "nb.ipynb") == [("GL202", "nb.ipynb", 3)]
