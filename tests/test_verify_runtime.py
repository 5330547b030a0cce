"""verify's runtime (issue #15): a worker that imports torch once and serves models in parallel, a memory cap
above torch's own footprint, partial numbers when a later step times out, the project's interpreter,
verdicts judged over the steps, and evidence that confirms only a finding of the same direction."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES

from gradlint.cli import main

pytest.importorskip("torch")
pytestmark = pytest.mark.slow
VERIFY = FIXTURES / "verify"



MEMORY_HINT = ("; the cap is 256 MiB above torch's footprint: raise memory-limit-mb (0: no cap) or lower "
               "batch-size in [tool.gradlint.verify]")

def verify(*args):
    result = CliRunner().invoke(main, ["verify", *map(str, args), "--output-format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, {r["model"]: r for r in json.loads(result.stdout)}, result.stderr


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """One run, two models at a time, over eight: a crash, memory hogs, a zero-initialised head, healthy ones.
    The config gives each model 256 MiB above what `import torch` maps (~0.5 GiB on the CPU wheel, ~3 GiB
    with CUDA): an absolute cap that size would fail every model."""
    folder = tmp_path_factory.mktemp("fleet")
    (folder / "pyproject.toml").write_text("[tool.gradlint.verify]\nmemory-limit-mb = 256\n")
    write(folder, "crash.py", """
        import os
        from torch import nn

        class Crasher(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
                os._exit(3)

            def forward(self, x):
                return self.fc(x)
    """)
    write(folder, "nets.py", """
        import torch
        from torch import nn

        class Fits(nn.Module):
            def __init__(self):
                super().__init__()
                self.buffer = torch.zeros(32 * 1024 * 1024)  # 128 MiB
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x)

        class TooBig(nn.Module):
            def __init__(self):
                super().__init__()
                self.buffer = bytearray(1024 ** 3)
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x)
    """)
    write(folder, "agent.py", """
        import torch
        from torch import nn

        class ActorCritic(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
                self.policy = nn.Linear(64, 4)
                nn.init.zeros_(self.policy.weight)  # a common trick: start from a uniform policy
                nn.init.zeros_(self.policy.bias)
                self.value = nn.Linear(64, 1)  # trained by the RL loss, not by verify's

            def forward(self, x):
                return self.policy(self.body(x))

            def v(self, x):
                return self.value(self.body(x))
    """)
    return verify(folder / "crash.py", folder / "nets.py", folder / "agent.py", VERIFY / "healthy_relu_mlp.py",
                  VERIFY / "hostile_raises_in_init.py", VERIFY / "hostile_memory_hog.py", "--jobs", "2", "--steps", "4")


def test_two_models_at_a_time_all_served_and_a_crash_stays_with_its_model(fleet):
    code, found, stderr = fleet
    assert code == 1
    assert {name: r["verdict"] for name, r in found.items()} == {
        "Crasher": "error", "Fits": "healthy", "TooBig": "error", "ActorCritic": "healthy", "ReluMLP": "healthy",
        "BrokenNet": "error", "WorkingNet": "healthy", "HungryNet": "error"}
    assert found["Crasher"]["reason"].startswith("the model's process exited with code 3")
    # Off a terminal: one progress line per model on stderr.
    lines = [line for line in stderr.splitlines() if line.startswith("gradlint verify: [")]
    assert len(lines) == 8 and any("crash.py::Crasher error" in line for line in lines)


def test_the_memory_cap_is_a_budget_above_what_import_torch_maps(fleet):
    _, found, _ = fleet
    assert found["Fits"]["verdict"] == "healthy"  # 128 MiB of 256
    assert found["TooBig"]["reason"] == "building TooBig: MemoryError (in TooBig.__init__)" + MEMORY_HINT
    assert found["HungryNet"]["reason"] == "building HungryNet: MemoryError (in HungryNet.__init__)" + MEMORY_HINT


def test_a_zero_initialised_head_is_not_vanishing_and_an_unreached_value_head_is_named(fleet):
    record = fleet[1]["ActorCritic"]
    assert record["layer_ratio"] == 0.0  # step 1: the zero head blocks every gradient upstream
    assert record["steps"][-1]["layer_ratio"] > 1e-3  # from step 2 the body learns
    assert record["verdict"] == "healthy"
    assert record["unused_parameters"] == ["value.weight", "value.bias"]
    assert record["reason"].endswith("no gradient reached 2 of 8 parameter tensors (value: 2) at any step")


def test_a_later_step_that_times_out_keeps_the_first_backwards_numbers(tmp_path):
    script = write(tmp_path, "slow.py", """
        import time
        from torch import nn

        class SlowLater(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 8)
                self.fc2 = nn.Linear(8, 4)
                self.calls = 0

            def forward(self, x):
                self.calls += 1
                if self.calls > 4:  # the input's probe, the check, the loss's probe, step 1; then it hangs
                    time.sleep(600)
                return self.fc2(self.fc1(x).relu())
    """)
    _, found, _ = verify(script, "--timeout", "5")
    record = found["SlowLater"]
    assert record["verdict"] == "error" and record["partial"] is True
    assert record["reason"] == ("timed out after 5 s (raise --timeout or [tool.gradlint.verify] timeout); "
                                "the numbers are those of the 1 of 20 steps that finished")
    assert [layer["name"] for layer in record["layers"]] == ["fc1", "fc2"] and len(record["steps"]) == 1
    assert record["grad_norm_initial"] > 0


def test_the_projects_interpreter_runs_the_models_without_gradlint_installed_and_names_missing_packages(tmp_path):
    # An interpreter that has torch but not gradlint: the worker runs on the copy of gradlint's package.
    site = Path(importlib.util.find_spec("torch").origin).parents[1]
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nPYTHONPATH={site} exec {sys.base_prefix}/bin/python3 \"$@\"\n")
    python.chmod(0o755)
    probe = os.popen(f"cd {tmp_path} && {python} -c 'import gradlint.verify' 2>&1").read()
    assert "No module named 'gradlint.verify'" in probe
    missing = "torchvision" if importlib.util.find_spec("torchvision") is None else "gradlint_absent_package"
    script = write(tmp_path, "train.py", f"""
        from torch import nn
        import {missing}

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
                self.extra = {missing}.Thing()  # the slice's import binds a stand-in: it fails here, when used

            def forward(self, x):
                return self.fc(x)
    """)
    healthy = VERIFY / "healthy_relu_mlp.py"
    _, found, _ = verify(healthy, script, "--python", python, "--steps", "2")
    assert found["ReluMLP"]["verdict"] == "healthy"
    assert found["Net"]["reason"] == (f"building Net: the script imports {missing}, which is not "
                                      f"installed for {sys.base_prefix}/bin/python3 (install it there, or pass --python)")
    bare = f"{sys.base_prefix}/bin/python3"  # the system's interpreter, without torch
    if os.system(f"{bare} -c 'import torch' 2>/dev/null") != 0:
        result = CliRunner().invoke(main, ["verify", str(healthy), "--python", bare])
        assert (result.exit_code, result.stderr) == (
            2, f"gradlint: error: verify needs PyTorch in {bare} (--python): install torch there, or pass --python\n")


def test_evidence_joins_train_py_to_model_py_and_confirms_only_the_same_direction(tmp_path):
    write(tmp_path, "model.py", """
        from torch import nn

        class DeepSigmoid(nn.Module):
            def __init__(self):
                super().__init__()
                layers = []
                for _ in range(10):
                    layers += [nn.Linear(32, 32), nn.Sigmoid()]
                self.net = nn.Sequential(*layers, nn.Linear(32, 4))

            def forward(self, x):
                return self.net(x)
    """)
    train = write(tmp_path, "train.py", """
        import torch
        from model import DeepSigmoid

        model = DeepSigmoid()
        optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
        for x, y in []:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
    """)
    result = CliRunner().invoke(main, ["--no-cache", "--verify", "--output-format", "json", "--select", "GL202",
                                       str(train), str(tmp_path / "model.py")])
    (gl202,) = [f for f in json.loads(result.stdout) if f["code"] == "GL202"]
    assert gl202["filename"].endswith("train.py")
    assert "[verify: not confirmed: DeepSigmoid measured vanishing, not exploding/non-finite, on cpu" in gl202["message"]
