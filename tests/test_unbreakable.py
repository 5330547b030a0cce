"""Issue #12, "Unbreakable": one bad input never kills the run, GL000 is CPython's verdict, --fix keeps
the file as it was in every other respect, and a config that cannot be read says so.

Every case that once broke gradlint is a named test here, run through the real CLI (or the engine where
the property is about the engine). A run always ends with an exit code its summary line agrees with:
0 "All checks passed!", 1 "Found N findings", 2 an error or internal error said on stderr.
"""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
import re
import shutil
import signal
import stat
import tempfile
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from gradlint import config, engine
from gradlint.cli import main

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="gradlint-hypothesis-"))
ALL = config.Settings(select=("ALL",))
CODES = ALL.enabled_codes()
BAD_LR = "import torch\nopt = torch.optim.SGD(params, lr=5.0)\n"  # GL202 on line 2
NUMBER_OF_SOURCES = sorted((FIXTURES / "bad").glob("*.py")) + sorted((FIXTURES / "clean").glob("*.py"))


def python_rejects(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return False


def gradlint(folder: Path, *args: str):
    """The CLI in process, from `folder`, without the cache; stdout and stderr apart."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, ["--no-cache", "--jobs", "1", *args], catch_exceptions=False)
    finally:
        os.chdir(cwd)


def codes(result, path: str | None = None) -> list[str]:
    return [code for file, code in re.findall(r"^([^:\n]+)(?::cell \d+)?:\d+:\d+: (GL\d+)", result.stdout, re.M)
            if path is None or file == path]


def assert_agrees(result) -> None:
    """The exit code and the last line of the text report say the same thing."""
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert last == "All checks passed!"
    elif result.exit_code == 1:
        assert last.startswith("Found ") and "internal error" not in last
    else:
        assert result.exit_code == 2
        assert "gradlint: error:" in result.stderr or "internal error" in last, result.output


def with_good_neighbour(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.py").write_text(BAD_LR)
    return tmp_path


# ---------------------------------------------------------------- 3. GL000 exactly when CPython rejects the file

REJECTED = {
    "nul-in-comment": b"# a \x00 in a comment\nx = 1\n",
    "nul-in-string": b"x = 'a\x00b'\n",
    "bad-named-escape": b"x = '\\N{NO SUCH NAME}'\n",
    "short-hex-escape": b"x = '\\x4'\n",
    "short-unicode-escape": b"x = '\\u12'\n",
    "non-ascii-bytes": "x = b'\u00e9'\n".encode(),
    "dict-unpacking-in-comprehension": b"x = {**a for a in b}\n",
    "int-over-4300-digits": b"x = " + b"9" * 4_301 + b"\n",
    "feff-mid-file": "x = 1\n\ufeffy = 2\n".encode(),
    "str-bytes-concatenation": b'x = "a" b"b"\n',
    "unassigned-code-point": "\u0378x = 1\n".encode(),
    "type-statement": b"type X = int\n",  # Python 3.12 syntax: rejected on 3.11, accepted on 3.12
    "generic-function": b"def f[T](x: T):\n    return x\n",
}
ACCEPTED = {
    "cr-only-with-a-later-encoding-comment": b"x = 1\r# encoding: klingon\ry = 2\r",
    "cr-only-utf8-with-a-later-latin1-comment": "# header\rx = 1\r# encoding: latin-1\ry = '\u00e9'\r".encode(),
    "backslash-crlf-at-end-of-file": b"x = 1\r\ny = 2 \\\r\n",
    "4000-adjacent-string-literals": b"x = " + b" ".join([b'"a"'] * 4_000) + b"\n",
    "5000-for-comprehension": b"x = [a " + b" ".join([b"for a in b"] * 5_000) + b"]\n",
}


@pytest.mark.parametrize("framework", [False, True], ids=["no-framework-token", "imports-torch"])
@pytest.mark.parametrize("source", [*REJECTED.values(), *ACCEPTED.values()], ids=[*REJECTED, *ACCEPTED])
def test_gl000_exactly_when_cpython_rejects_the_file(tmp_path, source, framework):
    data = (b"import torch\n" + source) if framework else source
    (tmp_path / "x.py").write_bytes(data)
    done = gradlint(tmp_path, "--select", "ALL", "--output-format", "text", "x.py")
    assert ("GL000" in codes(done)) == python_rejects(data), done.output
    assert_agrees(done)
    if python_rejects(data):
        assert codes(done) == ["GL000"] and done.exit_code == 1


@pytest.mark.parametrize("source", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_a_valid_file_is_never_gl000_and_what_gradlint_cannot_analyse_is_an_internal_error(tmp_path, source):
    (tmp_path / "x.py").write_bytes(b"import torch\n" + source)
    done = gradlint(tmp_path, "x.py")
    assert "GL000" not in done.stdout
    assert_agrees(done)
    if done.exit_code == 2:  # libcst cannot parse it: said once, never as the user's syntax error
        assert re.fullmatch(r"gradlint: internal error: x\.py: parse: not analysed: .*\n", done.stderr)


def test_a_cr_only_file_is_decoded_as_cpython_decodes_it():
    data = "# header\rx = 1\r# -*- coding: latin-1 -*-\ry = '\u00e9'\r".encode()  # the cookie is on line 3
    assert engine.decode(data) == data.decode("utf-8")
    honoured = b"# header\r# -*- coding: latin-1 -*-\ry = '\xe9'\r"  # on line 2: honoured, as by CPython
    assert engine.decode(honoured) == honoured.decode("latin-1")
    assert not python_rejects(honoured)


def test_gl000_is_the_same_verdict_in_a_notebook(tmp_path):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["import torch\n", "x = {**a for a in b}\n"]}
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    done = gradlint(tmp_path, "nb.ipynb")
    assert codes(done) == ["GL000"] and done.exit_code == 1


def test_fix_never_rewrites_a_file_cpython_rejects(tmp_path):
    from gradlint.fix.files import fix_file

    fixable = (FIXTURES / "bad" / "gl205_amp_clip_scaled.py").read_bytes()
    valid = tmp_path / "valid.py"
    valid.write_bytes(fixable)
    chosen = engine.lint_file(valid, config.Settings(), config.Settings().enabled_codes()).findings
    assert any(f.fix for f in chosen)
    broken = fixable + b'\nx = "a" b"b"\n'  # libcst builds a tree for it; CPython refuses it
    valid.write_bytes(broken)
    result, _ = fix_file(str(valid), chosen, config.Settings(), unsafe=True)
    assert not result.changed and "Python rejects" in result.rejected
    done = gradlint(tmp_path, "--fix", "--unsafe-fixes", "valid.py")
    assert valid.read_bytes() == broken and codes(done) == ["GL000"]


def test_a_fix_whose_result_cpython_rejects_is_thrown_away():
    from gradlint.fix import parses

    assert not parses('x = "a" b"b"\n')  # libcst alone would accept it
    assert not parses("x = {**a for a in b}\n")
    assert parses("x = 1\r\ny = 2 \\\r\n")


@st.composite
def hazardous_mutant(draw) -> bytes:
    """A fixture with one of the edits that used to split libcst's verdict from CPython's."""
    data = draw(st.sampled_from(NUMBER_OF_SOURCES)).read_bytes()
    at = draw(st.integers(0, len(data)))
    kind = draw(st.sampled_from(["nul", "escape", "feff", "cr", "crlf", "bigint", "strbytes", "drop-token", "cookie"]))
    if kind == "nul":
        return data[:at] + b"\x00" + data[at:]
    if kind == "escape":
        return data[:at] + draw(st.sampled_from([b"\\x4", b"\\N{NOPE}", b"\\u12", b"\\777", "\u00e9".encode()])) + data[at:]
    if kind == "feff":
        return data[:at] + "\ufeff".encode() + data[at:]
    if kind == "cr":
        return data.replace(b"\n", b"\r") + draw(st.sampled_from([b"", b"# encoding: latin-1\r", b"x = 1 \\\r"]))
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n") + draw(st.sampled_from([b"", b"x = 1 \\\r\n"]))
    if kind == "bigint":
        return data + b"\nx = " + b"9" * draw(st.sampled_from([4_300, 4_301])) + b"\n"
    if kind == "strbytes":
        return data + b'\ny = "a" b"b"\n'
    if kind == "drop-token":  # the same code, without the words that send it to the full path
        return re.sub(rb"torch|keras|tensorflow|backward|optimizer", b"thing", data)
    return b"# -*- coding: latin-1 -*-\n" + data[:at] + b"\xe9" + data[at:]


def _assert_cpython_verdict(data: bytes) -> None:
    for result in (engine.lint_source("m.py", data, ALL, CODES),
                   engine.lint_file(Path("m.py"), ALL, CODES, data=data, prefilter=True)):
        gl000 = [f for f in result.findings if f.code == "GL000"]
        if python_rejects(data):
            assert len(gl000) == 1 and result.findings == gl000 and result.errors == []
        else:
            assert gl000 == [] and all(e.code == "parse" for e in result.errors)


@settings(max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(hazardous_mutant())
def test_property_gl000_iff_cpython_rejects_a_mutated_fixture(data):
    _assert_cpython_verdict(data)


@pytest.fixture(scope="module")
def programs():
    """hypothesmith's strategy, built once: each from_grammar() builds a Lark parser (~1 s)."""
    hypothesmith = pytest.importorskip("hypothesmith")
    return hypothesmith.from_grammar()  # from_node too is ten times slower: kept out of CI


# test_robustness runs 25 more through the same two paths.
@settings(max_examples=12, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_property_gl000_iff_cpython_rejects_a_generated_program(programs, data):
    source = data.draw(programs)
    _assert_cpython_verdict(source.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------- 2. one bad input never kills the run

@pytest.mark.parametrize("flag", [b'"\\N{NO SUCH NAME}"', b'"--lr\\x4"', b'"--lr\x00"', b'"--lr\\x00"'],
                         ids=["bad-named-escape", "short-hex-escape", "nul-byte", "escaped-nul"])
def test_a_bad_string_in_an_argparse_flag(tmp_path, flag):
    source = (b"import argparse\nimport torch\np = argparse.ArgumentParser()\n"
              b"p.add_argument(" + flag + b", type=float, default=5.0)\n"
              b"args = p.parse_args()\nopt = torch.optim.SGD(params, lr=args.lr)\n")
    done = gradlint(with_good_neighbour(tmp_path, "train.py", source), "train.py", "good.py")
    assert codes(done, "good.py") == ["GL202"]
    assert ("GL000" in codes(done, "train.py")) == python_rejects(source)
    assert_agrees(done)
    assert done.exit_code == 1


def _notebook(**changes) -> dict:
    document = {"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
                           "source": ["import torch\n", "opt = torch.optim.SGD(params, lr=5.0)\n"]}],
                "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    document.update(changes)
    return document


def _cell(**changes) -> list:
    cell = dict(_notebook()["cells"][0])
    cell.update(changes)
    return [cell]


NOTEBOOKS = {
    "metadata-is-a-list": (json.dumps(_notebook(metadata=[1])), "GL202"),
    "language-info-null": (json.dumps(_notebook(metadata={"language_info": None})), "GL202"),
    "non-string-source-item": (json.dumps(_notebook(cells=_cell(source=["import torch\n", 5]))), "GL000"),
    "5000-digit-execution-count": (json.dumps(_notebook()).replace('"execution_count": 1', '"execution_count": ' + "9" * 5_000), "GL202"),
    "lone-surrogate": (json.dumps(_notebook(cells=_cell(source=["import torch\n", "x = '\ud800'\n"]))), "GL000"),
    "100k-deep-json": ("[" * 100_000 + "]" * 100_000, "GL000"),
}


@pytest.mark.parametrize("text, expected", list(NOTEBOOKS.values()), ids=list(NOTEBOOKS))
def test_a_malformed_notebook_is_its_own_finding(tmp_path, text, expected):
    done = gradlint(with_good_neighbour(tmp_path, "nb.ipynb", text.encode("utf-8")), "nb.ipynb", "good.py")
    assert codes(done, "nb.ipynb") == [expected]
    assert codes(done, "good.py") == ["GL202"]
    assert done.exit_code == 1 and done.stderr == ""
    assert_agrees(done)


def test_a_symlink_loop_given_as_an_argument(tmp_path):
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    (tmp_path / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path, "loop.py", "good.py")
    assert codes(done) == ["GL202", "GL000"]  # sorted by path
    assert "loop.py:1:1: GL000 cannot read file: Too many levels of symbolic links" in done.stdout
    assert_agrees(done)


def test_a_fifo_given_as_an_argument_is_its_own_gl000_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path, "pipe.py", "good.py")
    assert codes(done) == ["GL202", "GL000"]
    assert "pipe.py:1:1: GL000 cannot read file: not a regular file" in done.stdout
    assert_agrees(done)


def test_an_unreadable_subfolder_during_discovery(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "good.py").write_text(BAD_LR)
    real = Path.is_file

    def is_file(self):  # what a folder without the x bit gives a non-root user (root reads through chmod 000)
        if "locked" in self.parts:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    (tmp_path / "locked").chmod(0)
    try:
        done = gradlint(tmp_path, ".")
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert codes(done) == ["GL202"]
    assert_agrees(done)


@pytest.mark.parametrize("toml, exit_code", [
    ("tool = 5\n", 1),  # no [tool.gradlint] table: the defaults
    ("[tool]\ngradlint = 5\n", 2),
], ids=["tool-is-an-integer", "tool.gradlint-is-an-integer"])
def test_a_pyproject_whose_tables_are_not_tables(tmp_path, toml, exit_code):
    (tmp_path / "pyproject.toml").write_text(toml)
    (tmp_path / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path, "good.py")
    assert done.exit_code == exit_code
    if exit_code == 2:
        assert done.stderr.count("\n") == 1 and "tool.gradlint must be a table" in done.stderr
    else:
        assert codes(done) == ["GL202"]
    assert_agrees(done)


def test_deep_toml_in_an_unrelated_parent_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path / "project", "good.py")
    assert codes(done) == ["GL202"] and done.exit_code == 1


def test_deep_toml_in_the_config_is_one_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\na = " + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path, "good.py")
    assert done.exit_code == 2 and done.stderr.count("\n") == 1 and "nested too deeply" in done.stderr


def test_a_100k_deep_baseline_file(tmp_path):
    (tmp_path / "baseline.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path, "--baseline", "baseline.json", "good.py")
    assert done.exit_code == 2 and done.stderr.count("\n") == 1 and "nested too deeply" in done.stderr


CHAINS = {
    "5000-lambdas": "f = " + "lambda: " * 5_000 + "1",
    "4000-lambdas": "f = " + "lambda: " * 4_000 + "1",
    "5000-method-chain": "x = y" + ".f()" * 5_000,
    "4000-method-chain": "x = y" + ".f()" * 4_000,
}


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"], ids=["serial", "pool"])
@pytest.mark.parametrize("line", list(CHAINS.values()), ids=list(CHAINS))
def test_a_4000_to_5000_long_chain_is_gl000_in_its_own_file(tmp_path, line, jobs):
    from test_robustness import run_bounded

    (tmp_path / "chain.py").write_text(f"import torch\n{line}\n")
    for i in range(engine.POOL_THRESHOLD + 2):
        (tmp_path / f"good_{i:02d}.py").write_text(BAD_LR)
    done = run_bounded(["--jobs", jobs, "."], tmp_path, seconds=120, mib=2048)
    assert done.returncode == 1, done.stderr[-2000:]
    assert re.findall(r"^chain\.py:\d+:\d+: (GL\d+)", done.stdout, re.M) == ["GL000"]
    assert len(re.findall(r"^good_\d+\.py:2:\d+: GL202", done.stdout, re.M)) == engine.POOL_THRESHOLD + 2


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the patched engine reaches the workers by fork")
def test_a_worker_that_dies_costs_its_file_only(tmp_path, monkeypatch):
    real = engine.lint_file

    def lint_file(path, *args, **kwargs):
        if path.name == "crash.py":
            import faulthandler

            faulthandler.disable()  # pytest's handler would print the dying worker's stack
            os.kill(os.getpid(), signal.SIGSEGV)  # what a native stack overflow does to a worker
        return real(path, *args, **kwargs)

    monkeypatch.setattr(engine, "lint_file", lint_file)
    (tmp_path / "crash.py").write_text(BAD_LR)
    count = engine.POOL_THRESHOLD + 4
    for i in range(count):
        (tmp_path / f"good_{i:02d}.py").write_text(BAD_LR)
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(main, ["--no-cache", "--jobs", "2", "."])
    assert done.exit_code == 2
    assert done.stderr.splitlines() == ["gradlint: internal error: crash.py: worker: the process linting this file "
                                        "crashed (a native stack overflow?)"]
    assert len(re.findall(r"^good_\d+\.py:2:\d+: GL202", done.stdout, re.M)) == count
    assert_agrees(done)


def test_a_stage_that_raises_is_one_internal_error_and_the_other_files_are_reported(tmp_path, monkeypatch):
    from conftest import break_facts

    break_facts(monkeypatch, "broken.py")
    done = gradlint(with_good_neighbour(tmp_path, "broken.py", BAD_LR.encode()), ".")
    assert done.exit_code == 2
    assert done.stderr == "gradlint: internal error: broken.py: facts: KeyError: 'facts boom'\n"
    assert codes(done) == ["GL202"]
    assert done.stdout.strip().splitlines()[-1] == ("Found 1 finding (GL202: 1). And 1 internal error (see stderr): "
                                                    "not every file was fully checked.")


def test_no_findings_and_an_internal_error_is_not_all_checks_passed(tmp_path, monkeypatch):
    from gradlint.facts import builder

    monkeypatch.setattr(builder, "build", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    (tmp_path / "a.py").write_text("import torch\n")
    done = gradlint(tmp_path, "a.py")
    assert done.exit_code == 2
    assert done.stdout.strip().splitlines()[-1].startswith("No findings, but 1 internal error")


# ---------------------------------------------------------------- 7. config honesty

@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "latin-1"])
def test_a_config_that_is_not_utf8_is_an_error_not_ignored(tmp_path, encoding):
    (tmp_path / "pyproject.toml").write_bytes('# caf\u00e9\n[tool.gradlint]\nselect = ["GL1"]\n'.encode(encoding))
    (tmp_path / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path, "good.py")
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "UTF-8" in done.stderr


@pytest.mark.parametrize("table", ["[tool.gradlint.thresholds]\nclip-norm = nan",
                                   "[tool.gradlint.thresholds]\nclip-norm = inf",
                                   "[tool.gradlint.thresholds.lr-limits]\nSGD = nan"],
                         ids=["nan-clip-norm", "inf-clip-norm", "nan-lr-limit"])
def test_a_non_finite_threshold_is_refused(tmp_path, table):
    (tmp_path / "pyproject.toml").write_text(table + "\n")
    (tmp_path / "good.py").write_text(BAD_LR)
    done = gradlint(tmp_path, "good.py")
    assert done.exit_code == 2 and done.stderr.count("\n") == 1 and "number" in done.stderr


@pytest.mark.parametrize("kind", ["dev-null", "fifo", "folder"])
def test_config_that_is_not_a_regular_file_says_what_it_is(tmp_path, kind):
    (tmp_path / "good.py").write_text(BAD_LR)
    if kind == "dev-null":
        target, said = "/dev/null", "is not a regular file"
    elif kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        target, said = "pipe", "is not a regular file"
    else:
        (tmp_path / "conf").mkdir()
        target, said = "conf", "is a folder"
    for command in (["--config", target, "good.py"], ["clean", "--config", target]):
        done = gradlint(tmp_path, *command) if command[0] != "clean" else _clean(tmp_path, command)
        assert done.exit_code == 2
        assert done.stderr.count("\n") == 1 and said in done.stderr and "Usage:" not in done.stderr


def _clean(folder: Path, command: list[str]):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, command, catch_exceptions=False)
    finally:
        os.chdir(cwd)


# ---------------------------------------------------------------- 6. --fix properties

GL205 = FIXTURES / "bad" / "gl205_amp_clip_scaled.py"  # its fix inserts a line (scaler.unscale_(...))


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr-only"])
def test_fix_keeps_the_files_line_ending_on_inserted_lines(tmp_path, newline):
    text = GL205.read_text().replace("\n", newline)
    (tmp_path / "train.py").write_bytes(text.encode())
    done = gradlint(tmp_path, "--fix", "train.py")
    after = (tmp_path / "train.py").read_bytes()
    assert "fixed 1 finding" in done.stderr
    assert b"unscale_(" in after and len(after) > len(text)
    others = {"\r\n": [b"\r", b"\n"], "\r": [b"\n"]}[newline]
    stripped = after.replace(newline.encode(), b"")
    assert all(other not in stripped for other in others), after


def test_fix_refuses_a_read_only_file_with_one_line(tmp_path):
    target = tmp_path / "train.py"
    shutil.copy(GL205, target)
    target.chmod(0o444)
    before = target.read_bytes()
    done = gradlint(tmp_path, "--fix", "train.py")
    assert target.read_bytes() == before and stat.S_IMODE(target.stat().st_mode) == 0o444
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == ["gradlint: warning: train.py: the file is read-only; file left unchanged "
                        "(make it writable to fix it)"]
    assert codes(done) == ["GL205"]


def test_fix_keeps_hard_links(tmp_path):
    target = tmp_path / "train.py"
    shutil.copy(GL205, target)
    os.link(target, tmp_path / "alias.py")
    inode = target.stat().st_ino
    gradlint(tmp_path, "--fix", "train.py")
    assert target.stat().st_ino == inode and target.stat().st_nlink == 2
    assert b"unscale_(" in (tmp_path / "alias.py").read_bytes()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_fix_keeps_owner_and_group(tmp_path):
    target = tmp_path / "train.py"
    shutil.copy(GL205, target)
    os.chown(target, 4321, 8765)
    gradlint(tmp_path, "--fix", "train.py")
    assert b"unscale_(" in target.read_bytes()
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 8765)


NOTEBOOK = FIXTURES / "notebooks" / "bad_char_rnn.ipynb"


def _fixable_notebook() -> str:
    """A notebook in Jupyter's layout with one cell whose GL205 fix inserts a line."""
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": GL205.read_text().splitlines(keepends=True)}
    document = {"cells": [cell], "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("layout", ["crlf", "bom", "no-final-newline"])
def test_fix_keeps_a_notebooks_layout(tmp_path, layout):
    text = _fixable_notebook()
    if layout == "crlf":
        text = text.replace("\n", "\r\n")
    elif layout == "bom":
        text = "\ufeff" + text
    else:
        text = text[:-1]
    target = tmp_path / "nb.ipynb"
    target.write_bytes(text.encode("utf-8"))
    done = gradlint(tmp_path, "--fix", "nb.ipynb")
    assert "warning" not in done.stderr, done.stderr
    after = target.read_bytes().decode("utf-8")
    assert "unscale_(" in after
    if layout == "crlf":
        assert "\n" not in after.replace("\r\n", "")
    elif layout == "bom":
        assert after.startswith("\ufeff{")
    else:
        assert after.endswith("}") and not after.endswith("\n")
