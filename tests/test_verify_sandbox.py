"""verify's sandbox (issues #12 §4 and #15 §8): a model's process cannot flood the disk, outlive gradlint, run user
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
    if not _gone(int(pid_file.read_text())):
        pytest.fail("the model's daemon outlived gradlint verify")


def _gone(pid: int) -> bool:
    """Whether the process ends (or is a zombie) within 5 s; if not, it is killed and False."""
    for _ in range(50):
        if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            return True
        time.sleep(0.1)
    os.kill(pid, 9)
    return False


@pytest.mark.slow
def test_a_json_py_in_the_working_folder_does_not_shadow_the_stdlib_in_the_child(tmp_path):
    (tmp_path / "json.py").write_text("open('shadowed', 'w').close()\nraise ImportError('shadowed')\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.py").write_text(MODEL.format(init="pass"))
    code, records = _verify(project / "model.py", tmp_path)
    assert not (tmp_path / "shadowed").exists()
    assert code in (0, 1) and records[0]["verdict"] != "error", records


HOSTILE = '''
import torch
from torch import nn

from helpers import Block  # a sibling package not named on the command line: it goes through the slicer too

MARK = {marks!r}


def touch(tag):
    open(MARK + tag, "w").close()
    return 8


def register(cls):
    touch("decorator")
    return cls


class Meta(type):
    def __new__(mcs, name, bases, ns):
        touch("metaclass")
        return super().__new__(mcs, name, bases, ns)


class Plugin(metaclass=Meta):
    pass


class Base(nn.Module):
    def __init_subclass__(cls, **kwargs):
        touch("init_subclass")
        super().__init_subclass__(**kwargs)


@register
class Net(Base):
    width = touch("class_body")
    print(touch("class_statement"))

    def __init__(self, act: touch("annotation") = nn.ReLU(), seed=touch("default")):
        super().__init__()
        self.block = Block(8)
        self.act = act
        self.fc = nn.Linear(8, 2)

    @torch.no_grad()
    def reset(self):
        pass

    def forward(self, x):
        return self.fc(self.act(self.block(x)))


class UsesStub(nn.Module):
    size = touch("attribute")

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(self.size, 2)

    def forward(self, x):
        return self.fc(x)
'''

HELPERS_INIT = '''
open({marks!r} + "package_top_level", "w").close()
from .blocks import Block
'''

HELPERS = '''
from torch import nn

open({marks!r} + "sibling_top_level", "w").close()


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)

    def forward(self, x):
        return self.fc(x)
'''


@pytest.mark.slow
def test_no_top_level_or_definition_time_code_of_the_users_runs(tmp_path):
    marks = str(tmp_path / "marker_")
    (tmp_path / "model.py").write_text(HOSTILE.format(marks=marks))
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text(HELPERS_INIT.format(marks=marks))
    (tmp_path / "helpers" / "blocks.py").write_text(HELPERS.format(marks=marks))
    code, records = _verify(tmp_path / "model.py", tmp_path)
    found = {r["model"]: r for r in records}
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("marker_")]
    assert found["Net"]["verdict"] == "healthy", found["Net"]  # its __init__ and forward ran, Block's too
    assert found["UsesStub"]["verdict"] == "skipped"
    assert found["UsesStub"]["reason"] == ('building UsesStub: needs definition-time code that verify does not run: '
                                           'touch("attribute") (class attribute of UsesStub, model.py:56)')


@pytest.mark.slow
def test_no_process_a_timed_out_model_started_outlives_verify(tmp_path):
    pids = tmp_path / "pids"
    init = (f"import os, subprocess, time\n        daemon = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
            f"        child = os.fork()\n"
            f"        if child == 0:\n            time.sleep(300)\n            os._exit(0)\n"
            f"        open({str(pids)!r}, 'w').write(f'{{daemon.pid}} {{child}}')\n        time.sleep(300)")
    (tmp_path / "model.py").write_text(MODEL.format(init=init))
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["verify", "model.py", "--timeout", "5", "--output-format", "json"])
    finally:
        os.chdir(old)
    assert json.loads(result.stdout)[0]["reason"].startswith("timed out after 5 s")
    alive = []
    for pid in map(int, pids.read_text().split()):
        for _ in range(50):
            if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                break
            time.sleep(0.1)
        else:
            alive.append(pid)
            os.kill(pid, 9)
    assert not alive, "a process the model started outlived gradlint verify"


def test_sigterm_ends_the_run_with_no_process_and_no_temporary_folder_left(tmp_path):
    """A cancelled CI job sends SIGTERM: the worker and the model's process go, the slices are removed."""
    import signal
    import subprocess
    import sys

    pids = tmp_path / "pids"
    (tmp_path / "model.py").write_text(MODEL.format(
        init=f"import os, time\n        open({str(pids)!r}, 'w').write(str(os.getpid()))\n        time.sleep(300)"))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = subprocess.Popen([sys.executable, "-m", "gradlint", "verify", "model.py", "--timeout", "120"], cwd=tmp_path,
                           env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(600):
        if pids.exists() and pids.read_text():
            break
        time.sleep(0.1)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=30) == 143
    assert _gone(int(pids.read_text())), "the model's process outlived a terminated gradlint verify"
    assert [p.name for p in scratch.iterdir() if p.name.startswith("gradlint-verify-")] == []
