"""Static linting never imports torch: not for --version, not for a whole run over fixtures/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Runs the CLI in-process, then reports which heavy modules ended up imported.
PROBE = """
import sys
from gradlint.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print()
print("EXIT", code)
print("LOADED", " ".join(sorted(m for m in ("torch", "numpy", "libcst") if m in sys.modules)))
"""


def run_probe(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    exit_line = next(line for line in lines if line.startswith("EXIT "))
    loaded = next(line for line in lines if line.startswith("LOADED"))
    return int(exit_line.split()[1]), set(loaded.split()[1:])


def test_version_loads_neither_torch_nor_libcst():
    code, loaded = run_probe("--version")
    assert code == 0
    assert loaded == set()


def test_rules_listing_loads_neither_torch_nor_libcst():
    code, loaded = run_probe("rules")
    assert code == 0
    assert loaded == set()


def test_linting_the_fixtures_never_imports_torch():
    code, loaded = run_probe("--jobs", "1", "--no-cache", "fixtures/")
    assert code == 1  # the fixtures are bad on purpose
    assert "libcst" in loaded  # the probe can see imports at all
    assert "torch" not in loaded


def test_pool_workers_never_import_torch(tmp_path):
    # Spawned workers re-import gradlint; -X importtime lists every import of every process on stderr.
    for i in range(20):
        (tmp_path / f"s{i}.py").write_text("import torch\nx = torch.nn.Linear(2, 2)\n")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "gradlint", "--jobs", "2", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "libcst" in imported
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}


@pytest.mark.parametrize("module", ["gradlint.cli", "gradlint.engine", "gradlint.facts.builder", "gradlint.checks"])
def test_importing_the_static_path_does_not_import_torch(module):
    done = subprocess.run([sys.executable, "-c", f"import sys, {module}; print('torch' in sys.modules)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
