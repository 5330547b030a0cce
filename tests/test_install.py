"""The wheel: its distribution name (gradlint-ml), its `gradlint` command, and rules/ inside it.

`gradlint` on PyPI is an unrelated project (a diffusion-MRI tool), so this project is distributed as
gradlint-ml; the command and the import package stay `gradlint`. Every install line the project prints
or documents must name gradlint-ml.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "gradlint-ml"

PROBE = """
import sys
from gradlint import catalog
from gradlint.cli import main
print("MODULE", catalog.__file__)
print("RULES", catalog.rules_dir())
sys.argv = ["gradlint", "rule", "GL202"]
main()
"""

BAD = """\
import torch
from torch import nn

model = nn.Linear(128, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=10.0)
"""


def registry_reachable(tmp: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(tmp), "click"],
        capture_output=True, timeout=120,
    )
    return done.returncode == 0


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    # Built in isolation: pip fetches the build backend (hatchling) from the index.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(wheels)],
                   check=True, capture_output=True, timeout=300)
    (built,) = wheels.glob("*.whl")
    return built


@pytest.mark.slow
def test_rule_command_works_from_an_installed_wheel(tmp_path, wheel):
    target = tmp_path / "site"
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


@pytest.mark.slow
def test_wheel_is_gradlint_ml_and_installs_the_gradlint_command_in_a_fresh_venv(tmp_path, wheel):
    # Regression: the distribution was called "gradlint", the name of another project on PyPI.
    assert wheel.name.startswith("gradlint_ml-0.1.0-"), wheel.name
    if not registry_reachable(tmp_path / "pip-probe"):
        pytest.skip("the package registry cannot be reached, so the fresh venv cannot get libcst and click")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, gradlint = venv / "bin" / "python", venv / "bin" / "gradlint"
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    # The README's form: a name with a direct reference, which pip refuses if the name does not match.
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              f"{DISTRIBUTION} @ {wheel.as_uri()}"],
                             capture_output=True, text=True, env=env, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr

    names = subprocess.run([str(python), "-c", "import importlib.metadata as m, gradlint;"
                            "print(m.distribution('gradlint-ml').metadata['Name']); print(gradlint.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert names.returncode == 0, names.stderr
    name, module = names.stdout.splitlines()
    assert name == DISTRIBUTION
    assert Path(module).is_relative_to(venv)
    gone = subprocess.run([str(python), "-m", "pip", "show", "gradlint"], capture_output=True, text=True, env=env)
    assert gone.returncode != 0, "a distribution named 'gradlint' must not be installed"

    version = subprocess.run([str(gradlint), "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert version.stdout.strip() == "gradlint 0.1.0"
    (tmp_path / "train.py").write_text(BAD, encoding="utf-8")
    lint = subprocess.run([str(gradlint), "--no-cache", "train.py"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=120)
    assert lint.returncode == 1, lint.stdout + lint.stderr
    assert "train.py:5:13: GL202" in lint.stdout
    # No torch in this venv: verify's hint names the distribution to install.
    verify = subprocess.run([str(gradlint), "verify", "train.py"], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=120)
    assert verify.returncode == 2
    assert verify.stderr.strip() == "gradlint: error: verify needs PyTorch: pip install 'gradlint-ml[verify]'"


def test_project_metadata_names_gradlint_ml_and_keeps_the_gradlint_command():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^name = "gradlint-ml"$', text, re.M)
    assert re.search(r'^gradlint = "gradlint.cli:run"$', text, re.M)


# `pip install gradlint`, `gradlint[verify]`, `gradlint==0.1.0`: the other project's name as an install target.
WRONG_TARGET = re.compile(r"""pip install(?:(?!&&|;|\|)[^\n])*?(?<![\w./-])['"]?gradlint(?![\w-])(?!/)""")
INSTALL_TEXTS = ["README.md", "action.yml", ".pre-commit-hooks.yaml", *(
    str(p.relative_to(ROOT)) for p in sorted((ROOT / "gradlint").rglob("*.py")))]


def test_no_install_line_names_the_other_projects_distribution():
    wrong = []
    for name in INSTALL_TEXTS:
        text = (ROOT / name).read_text(encoding="utf-8")
        wrong += [f"{name}: {m.group(0)}" for m in WRONG_TARGET.finditer(text)]
    assert wrong == []
    assert 'spec="gradlint-ml==${GRADLINT_VERSION}"' in (ROOT / "action.yml").read_text(encoding="utf-8")


def test_wrong_target_pattern_catches_the_old_lines():
    for old in ["pip install gradlint", "pip install 'gradlint[verify]'", "pip install --force-reinstall gradlint",
                'pip install "gradlint==0.1.0"', "pip install torch==2.13.0 gradlint"]:
        assert WRONG_TARGET.search(old), old
    for good in ["pip install gradlint-ml", "pip install 'gradlint-ml[verify]'", "pip install -e '.[verify]' && gradlint fixtures/",
                 "pip install 'gradlint-ml @ git+https://github.com/gradlint/gradlint'"]:
        assert not WRONG_TARGET.search(good), good
