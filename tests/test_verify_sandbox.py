"""verify's sandbox (issue #12 §4): a model's process cannot flood the disk, outlive gradlint, run user
code from a top-level "pure" assignment, or import a stray json.py from the working folder."""

from __future__ import annotations

import json
import os
import textwrap
import time

import libcst as cst
import pytest
from click.testing import CliRunner

from gradlint.cli import main
from gradlint.facts.builder import build
from gradlint.verify.slice import slice_module

MODEL = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        {init}
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)
"""


def _verify(path, cwd):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, ["verify", str(path), "--output-format", "json", "--timeout", "60"])
    finally:
        os.chdir(old)
    return result.exit_code, json.loads(result.stdout) if result.exit_code in (0, 1) else result.output


def test_a_top_level_operation_on_a_class_of_the_file_is_not_kept_in_the_slice(tmp_path):
    source = textwrap.dedent("""
        import torch.nn as nn

        class Meta(type):
            def __getitem__(cls, key):
                open("pwned", "w").close()

        class Token(metaclass=Meta):
            pass

        FIRST = Token[0]
        SHIFTED = Token + 1
        NAME = f"{Token}"
        ATTR = Token.attr
        REGISTRY = {"token": Token}
        HIDDEN = 4 * 16
        ACT = nn.ReLU
    """)
    sliced = slice_module(build(cst.parse_module(source), "model.py"))
    assert "FIRST" not in sliced and "SHIFTED" not in sliced and "NAME =" not in sliced and "ATTR" not in sliced
    assert 'REGISTRY = {"token": Token}' in sliced and "HIDDEN = 4 * 16" in sliced and "ACT = nn.ReLU" in sliced


torch = pytest.importorskip("torch")


@pytest.mark.slow
def test_a_model_that_writes_without_end_is_stopped_and_reported(tmp_path):
    (tmp_path / "model.py").write_text(MODEL.format(init="import sys\n        while True: sys.stdout.write('x' * 65536)"))
    code, records = _verify(tmp_path / "model.py", tmp_path)
    assert code in (0, 1), records
    (record,) = records
    assert record["verdict"] == "error" and "MiB of output" in record["reason"]
    assert not any(f.stat().st_size > 65 * 1024 * 1024 for f in tmp_path.rglob("*") if f.is_file())


@pytest.mark.slow
def test_a_daemon_a_model_starts_in_its_own_session_does_not_outlive_verify(tmp_path):
    pid_file = tmp_path / "daemon.pid"
    init = (f"import subprocess\n        p = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
            f"        open({str(pid_file)!r}, 'w').write(str(p.pid))")
    (tmp_path / "model.py").write_text(MODEL.format(init=init))
    code, records = _verify(tmp_path / "model.py", tmp_path)
    assert code in (0, 1), records
    pid = int(pid_file.read_text())
    for _ in range(50):
        if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        pytest.fail("the model's daemon outlived gradlint verify")


@pytest.mark.slow
def test_a_json_py_in_the_working_folder_does_not_shadow_the_stdlib_in_the_child(tmp_path):
    (tmp_path / "json.py").write_text("open('shadowed', 'w').close()\nraise ImportError('shadowed')\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.py").write_text(MODEL.format(init="pass"))
    code, records = _verify(project / "model.py", tmp_path)
    assert not (tmp_path / "shadowed").exists()
    assert code in (0, 1) and records[0]["verdict"] != "error", records
