"""The GitHub Action: action.yml's run step, executed in bash with a GitHub-like environment, annotates findings.

The step installs gradlint with pip from the action's own folder (GITHUB_ACTION_PATH, here this project)
into a fresh virtual environment; it needs the package registry for the build backend and libcst, and
is skipped only when that cannot be reached.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))

BAD = """\
import torch
from torch import nn

model = nn.Linear(128, 10)
optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
"""


def registry_reachable(tmp: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(tmp), "click"],
        capture_output=True, timeout=120,
    )
    return done.returncode == 0


def test_action_is_composite_with_paths_args_and_version_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"paths", "args", "version"}
    [step] = ACTION["runs"]["steps"]
    assert step["shell"] == "bash"
    assert "${{" not in step["run"], "inputs must reach the script through env, never pasted into it"


def step_environment(inputs: dict[str, str]) -> dict[str, str]:
    """The step's env block with `${{ inputs.X }}` filled in as the runner would (defaults for the rest)."""
    [step] = ACTION["runs"]["steps"]
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()} | inputs
    return {key: re.sub(r"\$\{\{\s*inputs\.(\w+)\s*\}\}", lambda m: values[m.group(1)], value)
            for key, value in step.get("env", {}).items()}


@pytest.mark.slow
def test_run_step_installs_gradlint_and_prints_annotations(tmp_path):
    if not registry_reachable(tmp_path / "pip-probe"):
        pytest.skip("the package registry cannot be reached, so the step cannot pip-install gradlint")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "runner-python")], check=True)
    workspace = tmp_path / "workspace"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "train.py").write_text(BAD, encoding="utf-8")
    (workspace / "notes.py").write_text(BAD, encoding="utf-8")  # not among the paths: must stay silent
    env = {
        **os.environ,
        **step_environment({"paths": "src", "args": "--select GL202"}),
        "PATH": f"{tmp_path / 'runner-python' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
    }
    env.pop("VIRTUAL_ENV", None)
    [step] = ACTION["runs"]["steps"]
    done = subprocess.run(["bash", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith(
        "::error file=src/train.py,line=5,col=13,endLine=5,endColumn=57,title=GL202 (large-fixed-learning-rate)::Adam lr=0.5"
    )
    installed = subprocess.run([str(tmp_path / "runner-python" / "bin" / "gradlint"), "--version"],
                               capture_output=True, text=True)
    assert installed.stdout.startswith("gradlint ")


def test_version_input_installs_gradlint_ml_from_the_index_not_the_other_project(tmp_path):
    """Regression: `version: 0.1.0` installed `gradlint==0.1.0`, an unrelated project on PyPI.

    The step runs for real in bash; `python` and `gradlint` on PATH are stubs that record their arguments.
    """
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    for name in ("python", "gradlint"):
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n', encoding="utf-8")
        stub.chmod(0o755)
    env = {**os.environ, **step_environment({"version": "0.1.0"}),
           "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "GITHUB_ACTION_PATH": str(ROOT)}
    [step] = ACTION["runs"]["steps"]
    done = subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    pip, lint = log.read_text(encoding="utf-8").splitlines()
    assert pip == "python -m pip install --disable-pip-version-check --quiet gradlint-ml==0.1.0"
    assert lint == "gradlint --output-format github ."
