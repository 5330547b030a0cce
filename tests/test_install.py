"""The wheel carries rules/: `gradlint rule GL202` works from a non-editable install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
from gradlint import catalog
from gradlint.cli import main
print("MODULE", catalog.__file__)
print("RULES", catalog.rules_dir())
sys.argv = ["gradlint", "rule", "GL202"]
main()
"""


@pytest.mark.slow
def test_rule_command_works_from_an_installed_wheel(tmp_path):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    # Built in isolation: pip fetches the build backend (hatchling) from the index.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(wheels)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("gradlint-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)

    # PYTHONPATH puts the installed copy ahead of the editable one; cwd is not the source tree.
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    module = Path(lines[0].removeprefix("MODULE "))
    rules = Path(lines[1].removeprefix("RULES "))
    assert module.is_relative_to(target) and not module.is_relative_to(ROOT)
    assert rules == target / "gradlint" / "rules"
    assert lines[2] == "# GL202 large-fixed-learning-rate"
    assert "## Use instead" in done.stdout
    shipped = sorted(p.name for p in rules.glob("GL*.md"))
    assert shipped == sorted(p.name for p in (ROOT / "rules").glob("GL*.md"))
