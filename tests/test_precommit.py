"""The pre-commit hook, run for real: `pre-commit run gradlint --all-files` in a project whose
.pre-commit-config.yaml names this project at a commit, as a user's does.

pre-commit installs the hook from a commit of the hook repository (untracked files never reach it), so
the test commits a copy of this project's package, rules and hook file into a temporary repository.
It builds the hook's environment once for the module, in one PRE_COMMIT_HOME (`try-repo` would build it
again for every run, in a store of its own). It needs the package registry for that and is skipped only
when that cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BAD = """\
import torch
from torch import nn

model = nn.Linear(128, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=10.0)

for inputs, targets in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
"""

CLEAN = """\
import torch
from torch import nn

model = nn.Linear(128, 10)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
"""


def registry_reachable(tmp: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(tmp), "click"],
        capture_output=True, timeout=120,
    )
    return done.returncode == 0


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not registry_reachable(tmp_path_factory.mktemp("pip-probe")):
        pytest.skip("the package registry cannot be reached, so pre-commit cannot build the hook's environment")
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CEILING_DIRECTORIES": str(tmp_path_factory.getbasetemp()),
    }


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env):
    """This project as pre-commit sees a hook repository: one commit with the package and .pre-commit-hooks.yaml."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for folder in ("gradlint", "rules"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "hook"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    return repo


def run_hook(project: Path, env, hook_repo: Path):
    """`pre-commit run gradlint --all-files` in `project` (a git repository), with the hook at hook_repo's HEAD."""
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, check=True, capture_output=True, text=True,
                         env=env).stdout.strip()
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n-   repo: {hook_repo}\n    rev: {rev}\n    hooks:\n    -   id: gradlint\n", encoding="utf-8")
    subprocess.run(["git", "add", ".pre-commit-config.yaml"], cwd=project, check=True, capture_output=True, env=env)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "gradlint", "--all-files", "--color", "never"],
        cwd=project, capture_output=True, text=True, env=env, timeout=600,
    )


def try_script(tmp_path: Path, env, hook_repo: Path, script: str):
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(script, encoding="utf-8")
    for args in (["init", "-q"], ["add", "train.py"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, env=env)
    return run_hook(project, env, hook_repo)


@pytest.mark.slow
def test_hook_fails_on_a_bad_training_script_and_shows_the_codes(tmp_path, env, hook_repo):
    done = try_script(tmp_path, env, hook_repo, BAD)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gradlint" in done.stdout and "Failed" in done.stdout
    assert "train.py:5:13: GL202" in done.stdout


@pytest.mark.slow
def test_hook_passes_on_a_clean_training_script(tmp_path, env, hook_repo):
    done = try_script(tmp_path, env, hook_repo, CLEAN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


MODEL = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(32, 64, batch_first=True)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])
"""

LOOP = """\
import torch
from torch import nn

from model import Net

model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for inputs, targets in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
"""


def notebook(*cells: str) -> str:
    import json

    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": cell.splitlines(keepends=True)} for cell in cells],
    }, indent=1)


def test_hook_definition_covers_notebooks_runs_serially_and_forces_exclude():
    import yaml

    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["types_or"] == ["python", "pyi", "jupyter"] and "types" not in hook
    assert hook["require_serial"] is True
    assert hook["entry"].split() == ["gradlint", "--force-exclude"]


@pytest.mark.slow
def test_hook_on_a_notebook_a_two_file_model_and_an_excluded_folder(tmp_path, env, hook_repo):
    """Regression for three surprises of the old hook (`types: [python]`, `require_serial: false`, no
    --force-exclude): the notebook was never linted; the files were split over processes, so the model in
    model.py and its loop in train.py were not seen together (no GL201) and each process printed its own
    summary; and the excluded vendored/ folder was linted because pre-commit names its files explicitly."""
    project = tmp_path / "project"
    files = {
        "analysis.ipynb": notebook("import torch\nfrom torch import nn\n",
                                   "model = nn.Linear(128, 10)\n"
                                   "optimizer = torch.optim.SGD(model.parameters(), lr=10.0)\n"),
        "model.py": MODEL,
        "train.py": LOOP,
        "vendored/legacy.py": BAD,
        "pyproject.toml": '[tool.gradlint]\nextend-exclude = ["vendored/"]\n',
        # Enough other files that pre-commit, were it allowed, would split them over several processes
        # (it puts at least 4 files in each).
        **{f"utils/helper_{i}.py": f"VALUE_{i} = {i}\n" for i in range(10)},
    }
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "project"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, env=env)
    done = run_hook(project, env, hook_repo)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "analysis.ipynb:cell 2:2:13: GL202" in out
    assert "train.py:13:5: GL201" in out and "model Net (model.py)" in out
    assert "vendored" not in out
    summaries = [line for line in out.splitlines() if line.startswith(("Found ", "All checks passed"))]
    assert summaries == ["Found 2 findings (GL201: 1, GL202: 1)."], out
