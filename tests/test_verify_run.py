"""gradlint verify end to end: real torch, real child processes, the fixtures in fixtures/verify/.

The expected verdicts are what torch 2.13 on CPU really does with the default settings (seed 0,
batch 16, 20 steps on one fixed batch); each test says what was observed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from gradlint.cli import main

from conftest import FIXTURES, ROOT

pytest.importorskip("torch")
pytestmark = pytest.mark.slow
VERIFY = FIXTURES / "verify"



MEMORY_HINT = ("; the cap is 4096 MiB above torch's footprint: raise memory-limit-mb (0: no cap) or lower "
               "batch-size in [tool.gradlint.verify]")

def verify(*args: str, cwd=None):
    """(exit code, JSON records) of `gradlint verify ARGS --output-format json`."""
    result = CliRunner().invoke(main, ["verify", *map(str, args), "--output-format", "json"])
    records = json.loads(result.stdout) if result.exit_code in (0, 1) else result.output
    return result.exit_code, records


def by_model(records) -> dict:
    return {r["model"]: r for r in records}


@pytest.fixture(scope="module")
def dynamics():
    files = ["vanishing_sigmoid_mlp.py", "exploding_large_init.py", "healthy_relu_mlp.py", "lstm_large_lr.py",
             "callsite_args.py", "example_input_array.py", "sequential_tanh.py"]
    code, records = verify(*(VERIFY / f for f in files))
    assert code == 1
    return by_model(records)


def test_deep_sigmoid_mlp_vanishes(dynamics):
    record = dynamics["DeepSigmoidMLP"]
    assert record["verdict"] == "vanishing"
    assert record["layer_ratio"] < 1e-6  # observed 7.6e-8: each sigmoid layer shrinks the gradient ~7x
    norms = [layer["grad_norm"] for layer in record["layers"]]
    assert norms == sorted(norms)  # smaller and smaller towards the input


def test_large_normal_init_with_large_sgd_lr_turns_non_finite(dynamics):
    record = dynamics["WideInitMLP"]
    assert record["verdict"] == "non-finite"
    assert record["reason"] == "loss became nan at step 3 of 3"  # after a global norm of 1.7e6 at step 1
    assert record["grad_norm_initial"] > 1e5
    assert (record["optimizer"], record["lr"]) == ("SGD", 0.5)


def test_well_initialised_relu_mlp_with_adam_is_healthy(dynamics):
    record = dynamics["ReluMLP"]
    assert record["verdict"] == "healthy"
    assert record["loss_final"] < record["loss_initial"] / 10
    assert 0.1 < record["layer_ratio"] < 10
    assert record["non_finite"] is False and len(record["steps"]) == 20


def test_lstm_with_sgd_lr_10_and_no_clipping(dynamics):
    # What torch really does over 20 steps on one batch: the loss spikes at step 5 (0.13 -> 1.0) and the
    # gradient norm triples there, but nothing explodes: the LSTM's gates saturate rather than blow up.
    record = dynamics["LSTMLanguageModel"]
    assert (record["optimizer"], record["lr"]) == ("SGD", 10.0)
    assert record["verdict"] == "healthy"
    losses = [s["loss"] for s in record["steps"]]
    assert losses[4] > 5 * losses[3]
    assert record["grad_norm_max"] / record["grad_norm_initial"] < 5
    assert record["input"] == "int64[16, 16] (inferred from Embedding(1000, 64))"


def test_constructor_arguments_and_optimizer_come_from_the_script(dynamics):
    record = dynamics["Classifier"]
    assert record["constructor"] == "Classifier(in_features=32, hidden=48, classes=5)"
    assert (record["optimizer"], record["lr"], record["optimizer_kwargs"]) == ("AdamW", 3e-4, {"weight_decay": "0.01"})
    assert [layer["name"] for layer in record["layers"]] == ["body.0", "head"]
    assert record["verdict"] == "healthy"


def test_example_input_array_is_honoured(dynamics):
    record = dynamics["PatchClassifier"]
    assert record["input"] == "example_input_array"
    assert record["verdict"] == "healthy"


def test_module_level_sequential(dynamics):
    record = dynamics["net"]
    assert record["constructor"] == "nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 1))"
    assert record["loss_function"] == "mse" and record["verdict"] == "healthy"


def test_top_level_training_code_never_runs(tmp_path):
    script = tmp_path / "marker_training.py"
    shutil.copy(VERIFY / "marker_training.py", script)
    result = CliRunner().invoke(main, ["verify", str(script), "--steps", "4"])
    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert lines[0].endswith("marker_training.py::TinyNet  HEALTHY on cpu")
    assert lines[4].startswith("  fc     ") and lines[4].count("█") == 30
    assert lines[5].startswith("  grad norm over 4 steps  ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marker_training.py"]  # no marker_*.txt


def test_hostile_models_fail_alone_with_one_line_reasons():
    code, records = verify(VERIFY / "hostile_raises_in_init.py", VERIFY / "hostile_memory_hog.py")
    found = {r["model"]: (r["verdict"], r["reason"]) for r in records}
    assert code == 1
    assert found == {
        "BrokenNet": ("error", "building BrokenNet: ValueError: checkpoint not found: weights.pt (in BrokenNet.__init__)"),
        "WorkingNet": ("healthy", found["WorkingNet"][1]),
        "HungryNet": ("error", "building HungryNet: MemoryError (in HungryNet.__init__)" + MEMORY_HINT),  # the 4 GiB cap
    }


def test_a_forward_that_never_returns_hits_the_time_limit():
    code, records = verify(VERIFY / "hostile_sleeps_forever.py", "--timeout", "4")
    assert (code, records[0]["verdict"], records[0]["reason"]) == (
        1, "error", "timed out after 4 s (raise --timeout or [tool.gradlint.verify] timeout)")


def test_input_is_inferred_from_the_first_layer(tmp_path):
    (tmp_path / "nets.py").write_text(textwrap.dedent('''
        from torch import nn

        class Conv(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.pool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear(8, 4)

            def forward(self, x):
                return self.fc(self.pool(self.conv(x)).flatten(1))

        class Seq(nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = nn.GRU(12, 16)

            def forward(self, x):
                return self.gru(x)[0]

        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2)

            def forward(self, x):
                return self.enc(x)

        class Mismatch(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(10, 5)
                self.fc2 = nn.Linear(7, 2)

            def forward(self, x):
                return self.fc2(self.fc1(x))
    '''))
    code, records = verify(tmp_path / "nets.py", "--steps", "2", "--batch-size", "4")
    found = by_model(records)
    assert found["Conv"]["input"] == "float32[4, 3, 32, 32] (inferred from Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)))"
    assert found["Seq"]["input"] == "float32[16, 4, 12] (inferred from GRU(12, 16))"
    assert found["Encoder"]["input"] == "float32[4, 16, 32] (inferred from TransformerEncoderLayer(d_model=32, batch_first=True))"
    assert found["Mismatch"]["verdict"] == "error"
    assert found["Mismatch"]["reason"].startswith(
        "forward failed on float32[4, 10] (inferred from Linear(in_features=10, out_features=5, bias=True)): RuntimeError:")
    assert found["Mismatch"]["reason"].endswith(
        "(in Mismatch.forward); set input-shape or inputs in [tool.gradlint.verify.models.Mismatch]")
    assert all(len(r["steps"]) == 2 for r in records if r["verdict"] != "error")


def test_config_table_sets_input_shape_constructor_arguments_and_thresholds(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''
        [tool.gradlint.verify]
        steps = 3
        [tool.gradlint.verify.thresholds]
        vanishing-ratio = 1e-12
        [tool.gradlint.verify.models.Mismatch]
        kwargs = { hidden = 7 }
        input-shape = [2, 10]
    '''))
    (tmp_path / "net.py").write_text(textwrap.dedent('''
        from torch import nn

        class Mismatch(nn.Module):
            def __init__(self, hidden):
                super().__init__()
                self.fc1 = nn.Linear(10, hidden)
                self.fc2 = nn.Linear(hidden, 2)

            def forward(self, x):
                return self.fc2(self.fc1(x))
    '''))
    code, records = verify(tmp_path / "net.py")
    assert code == 0
    assert (records[0]["input"], records[0]["constructor"]) == (
        f"float32[2, 10] (from [tool.gradlint.verify.models.Mismatch])", "Mismatch(hidden=7)")
    assert len(records[0]["steps"]) == 3


def test_bad_config_exits_2_naming_the_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint.verify]\nsteps = -1\n")
    (tmp_path / "net.py").write_text("x = 1\n")
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "net.py")])
    assert result.exit_code == 2
    assert "tool.gradlint.verify.steps must be an integer greater than 0" in result.output


def test_unknown_model_name_exits_2():
    result = CliRunner().invoke(main, ["verify", str(VERIFY / "healthy_relu_mlp.py"), "--model", "Nope"])
    assert result.exit_code == 2
    assert "--model Nope: no such model in the given paths (found: ReluMLP)" in result.output


def test_without_torch_one_line_and_exit_2():
    hide_torch = "import sys; sys.modules['torch'] = None; from gradlint.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", hide_torch, "verify", str(VERIFY)], capture_output=True,
                          text=True, cwd=ROOT)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", "gradlint: error: verify needs PyTorch: pip install 'gradlint-ml[verify]'\n")


def test_the_command_line_stays_torch_and_libcst_free():
    probe = "import sys; import gradlint.cli; print(sorted(m for m in ('torch', 'libcst') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
