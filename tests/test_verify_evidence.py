"""`gradlint --verify`: the static pass with measured evidence attached to the findings it bears on."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import FIXTURES

from gradlint.cli import main

pytest.importorskip("torch")


@pytest.mark.slow
def test_vanishing_sigmoid_stack_is_confirmed_with_the_measured_ratio():
    result = CliRunner().invoke(main, ["--no-cache", "--verify", "--output-format", "json",
                                       str(FIXTURES / "verify" / "vanishing_sigmoid_mlp.py")])
    findings = json.loads(result.stdout)
    gl101 = next(f for f in findings if f["code"] == "GL101")
    assert "[verify: GL101 confirmed: DeepSigmoidMLP vanishing on cpu (first/last layer gradient-norm ratio" in gl101["message"]


def test_without_torch_verify_is_one_line_and_exit_2(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    (tmp_path / "train.py").write_text("import torch\n")
    result = CliRunner().invoke(main, ["--no-cache", "--verify", str(tmp_path / "train.py")])
    assert result.exit_code == 2
    assert result.stderr.strip() == "gradlint: error: verify needs PyTorch: pip install 'gradlint-ml[verify]'"
