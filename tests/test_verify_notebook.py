"""gradlint verify on Jupyter notebooks: the code cells joined (IPython syntax masked), then the same
slicing as a script: definitions only, never a cell's training code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint.cli import main
from gradlint.verify import settings as verify_settings
from gradlint.verify.command import _parse
from gradlint.verify.discover import find_models
from gradlint.verify.slice import slice_module

from conftest import FIXTURES

NOTEBOOK = FIXTURES / "verify" / "notebook_marker_training.ipynb"


def write_notebook(path: Path, *cells: str) -> Path:
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": cell.splitlines(keepends=True)} for cell in cells],
        "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5,
    }), encoding="utf-8")
    return path


def test_the_slice_of_a_notebook_keeps_definitions_and_drops_every_cell_of_training_code():
    (facts,) = _parse([NOTEBOOK]).values()
    sliced = slice_module(facts)
    assert "class NotebookNet(nn.Module):" in sliced
    assert "IN_FEATURES = 32" in sliced and "import torch" in sliced
    code = [line for line in sliced.splitlines() if not line.lstrip().startswith("#")]  # %%bash cells are comments
    assert [line for line in code if "marker" in line] == []  # the setup cell's write, the training cell
    assert not any("for step" in line or "optimizer" in line or "pip" in line for line in code)


def test_a_notebook_model_takes_its_constructor_arguments_and_optimizer_from_the_cells():
    parsed = _parse([NOTEBOOK])
    (spec,) = find_models([(facts, path, facts.path) for path, facts in parsed.items()], verify_settings.VerifyConfig())
    assert (spec.model, spec.build) == ("NotebookNet", "NotebookNet(in_features=32, hidden=64)")
    assert (spec.optimizer, spec.lr) == ("Adam", 3e-4)


def test_a_keras_model_in_a_notebook_gets_a_twin(tmp_path):
    notebook = write_notebook(
        tmp_path / "keras.ipynb",
        "%load_ext tensorboard\nfrom tensorflow import keras",
        "model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4, activation='tanh')])\n"
        "model.compile(optimizer='sgd', loss='mse')",
        "model.fit(x, y, epochs=3)",
    )
    parsed = _parse([notebook])
    (spec,) = find_models([(facts, path, facts.path) for path, facts in parsed.items()], verify_settings.VerifyConfig())
    assert spec.twin["layers"] == [{"kind": "Dense", "label": "Dense(4, activation='tanh')",
                                    "args": {"units": 4, "activation": "tanh"}}]
    assert (spec.optimizer, spec.lr, spec.loss) == ("SGD", 0.01, "mse")


def test_an_invalid_notebook_gives_a_warning_and_no_models(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    assert _parse([broken]) == {}
    assert "broken.ipynb: invalid notebook: not JSON" in capsys.readouterr().err


@pytest.mark.slow
def test_verify_runs_a_notebook_model_and_never_its_cells(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    monkeypatch.chdir(tmp_path)  # the cells write their markers relative to the working directory
    result = CliRunner().invoke(main, ["verify", NOTEBOOK.name, "--steps", "3", "--output-format", "json"])
    (record,) = json.loads(result.stdout)
    assert (result.exit_code, record["verdict"], record["model"]) == (0, "healthy", "NotebookNet")
    assert record["filename"] == NOTEBOOK.name
    assert record["input"] == "float32[16, 32] (inferred from Linear(in_features=32, out_features=64, bias=True))"
    assert sorted(p.name for p in tmp_path.iterdir()) == [NOTEBOOK.name]  # no marker_*.txt


@pytest.mark.slow
def test_a_notebook_next_to_a_script_of_the_same_name_imports_its_sibling(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    (tmp_path / "layers_lib.py").write_text(
        "from torch import nn\n\nclass Block(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
        "        self.fc = nn.Linear(n, n)\n\n    def forward(self, x):\n        return self.fc(x).relu()\n")
    write_notebook(tmp_path / "layers_lib.ipynb",
                   "from torch import nn\nfrom layers_lib import Block",
                   "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                   "        self.block = Block(6)\n        self.out = nn.Linear(6, 2)\n\n"
                   "    def forward(self, x):\n        return self.out(self.block(x))",
                   "net = Net()\nopen('marker.txt', 'w').write('ran')")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["verify", ".", "--steps", "2", "--output-format", "json"])
    found = {(r["filename"], r["model"]): r["verdict"] for r in json.loads(result.stdout)}
    assert found == {("layers_lib.ipynb", "Net"): "healthy", ("layers_lib.py", "Block"): "skipped"}  # built in Net
    assert not (tmp_path / "marker.txt").exists()
