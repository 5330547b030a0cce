"""Resource guards (issue #12 §5): a data dump saved as .py is skipped in one line, and --jobs never
forks more processes than there are cores or files."""

from __future__ import annotations

import json
import subprocess
import sys

from gradlint import config, discovery, engine


def gradlint(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gradlint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_a_file_over_the_size_limit_is_skipped_in_one_line_and_the_others_are_linted(tmp_path):
    (tmp_path / "data.py").write_text("import torch\nDATA = [" + ", ".join(["0.5"] * 500_000) + "]\n")
    (tmp_path / "train.py").write_text("import torch\nopt = torch.optim.SGD(m.parameters(), lr=10)\n")
    done = gradlint("--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    assert done.returncode == 1
    assert [f["code"] for f in json.loads(done.stdout)] == ["GL202"]
    (line,) = done.stderr.splitlines()
    assert line.startswith("gradlint: warning: skipped data.py: ") and line.endswith(
        "KiB is above max-file-size-kb = 2048; not linted")


def test_the_size_limit_is_configurable_and_validated(tmp_path):
    (tmp_path / "data.py").write_text("import torch\nDATA = [" + ", ".join(["0.5"] * 3_000) + "]\n")
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\nmax-file-size-kb = 4\n")
    done = gradlint("--no-cache", ".", cwd=tmp_path)
    assert done.returncode == 0 and "skipped data.py" in done.stderr and "max-file-size-kb = 4" in done.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\nmax-file-size-kb = 0\n")
    done = gradlint("--no-cache", ".", cwd=tmp_path)
    assert done.returncode == 2 and "max-file-size-kb" in done.stderr


def test_a_notebook_is_judged_by_its_code_not_its_outputs(tmp_path):
    book = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": 1,
                       "source": ["import torch\n", "opt = torch.optim.SGD(m.parameters(), lr=10)\n"],
                       "outputs": [{"output_type": "stream", "name": "stdout", "text": ["x" * 3_000_000]}]}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "big_outputs.ipynb").write_text(json.dumps(book))
    done = gradlint("--no-cache", ".", cwd=tmp_path)
    assert done.returncode == 1 and "GL202" in done.stdout and "skipped" not in done.stderr


def test_jobs_are_capped_by_cores_and_files(tmp_path, monkeypatch):
    for i in range(3):
        (tmp_path / f"t{i}.py").write_text("import torch\n")
    seen = []
    real = engine._lint_in_pool

    def spy(todo, prefilter, jobs, progress=None):  # todo: (path, its settings, its codes, its bytes or None) per file
        seen.append(jobs)
        return real(todo, prefilter, jobs, progress)

    monkeypatch.setattr(engine, "_lint_in_pool", spy)
    monkeypatch.setattr(engine, "POOL_THRESHOLD", 1)
    settings = config.Settings()
    engine.run(discovery.discover([str(tmp_path)], settings), settings, jobs=1000)
    assert seen and seen[0] <= 3
