"""Hostile input never takes gradlint down: generated and mutated programs, a crashing check, pathological files.

The properties: gradlint never raises; an input that CPython rejects (`ast.parse`) gives exactly
one GL000 and nothing else, one that CPython accepts gives none (or, where libcst cannot parse it,
one internal error); `--fix --unsafe-fixes` never writes a file that does not
parse (and never touches one that did not parse to begin with); a check that raises costs one line
on stderr and exit 2, never the other files' findings. Inputs that could crash the interpreter itself
(a native-parser stack overflow) run in a subprocess, so a failure is a red test, not a dead run.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import libcst
import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from gradlint import config, engine
from gradlint.checks import large_fixed_learning_rate
from gradlint.cli import main

ALL = config.Settings(select=("ALL",))
CODES = ALL.enabled_codes()
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="gradlint-hypothesis-"))  # not .hypothesis/ in the checkout
SOURCES = sorted((FIXTURES / "bad").glob("*.py")) + sorted((FIXTURES / "clean").glob("*.py"))
FUZZ = settings(max_examples=30, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def libcst_parses(data: bytes) -> bool:
    """libcst's verdict with the engine's one documented workaround (a continuation before a final CRLF)."""
    try:
        engine._parse(libcst, engine.decode(data))
    except Exception:
        return False
    return True


def python_parses(data: bytes) -> bool:
    """The running interpreter's verdict, as `ast.parse` gives it."""
    try:
        ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def assert_one_gl000_iff_python_rejects(result: engine.FileResult, data: bytes) -> None:
    """GL000 exactly when CPython rejects the file; a valid file libcst cannot parse is an internal error."""
    if python_parses(data):
        assert [f for f in result.findings if f.code == "GL000"] == []
        assert [e.code for e in result.errors] == ([] if libcst_parses(data) else ["parse"])
    else:
        assert result.errors == []
        assert [f.code for f in result.findings] == ["GL000"]
        assert result.findings[0].span.row >= 1 and result.findings[0].span.column >= 1


# ---------------------------------------------------------------- mutated fixtures

_NUMBER = re.compile(rb"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")


@st.composite
def mutated_fixture(draw) -> bytes:
    data = draw(st.sampled_from(SOURCES)).read_bytes()
    at = draw(st.integers(0, len(data)))
    kind = draw(st.sampled_from(["truncate", "insert", "delete", "nul", "token", "nest", "literal", "encoding"]))
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 200)):]
    if kind == "nul":
        return data[:at] + b"\x00" + data[at:]
    if kind == "token":  # a lone opener or keyword where it breaks the most
        return data[:at] + draw(st.sampled_from([b"(", b"[", b"{", b'"""', b"\\", b"\t", b"def ", b":", b"lambda"])) + data[at:]
    lines = data.split(b"\n")
    row = draw(st.integers(0, len(lines)))
    if kind == "nest":  # valid Python stays under CPython's 200 nested brackets
        depth = draw(st.integers(1, 150))
        statement = b"x = " + b"(" * depth + b"torch.log(torch.softmax(h, -1))" + b")" * depth
        return b"\n".join(lines[:row] + [statement] + lines[row:])
    if kind == "literal":
        # Integers past float range (`9` * 400) are test_an_absurd_learning_rate_...'s business.
        literal = draw(st.sampled_from([b'"' + b"a" * 200_000 + b'"', b"9" * 300, b"1e999", b"0x" + b"f" * 250,
                                        b"[" + b"0, " * 5_000 + b"]", b'"' + "é".encode() * 10_000 + b'"']))
        numbers = list(_NUMBER.finditer(data))
        if numbers:  # in place of a hyper-parameter, where the resolver will evaluate it
            hit = numbers[draw(st.integers(0, len(numbers) - 1))]
            return data[: hit.start()] + literal + data[hit.end():]
        return b"\n".join(lines[:row] + [b"x = " + literal] + lines[row:])
    text = data.decode("utf-8")
    codec = draw(st.sampled_from(["utf-8-sig", "utf-16", "latin-1-cookie", "cp1252-cookie", "bogus-cookie", "cookie-mismatch"]))
    if codec == "utf-8-sig":
        return text.encode("utf-8-sig")
    if codec == "utf-16":  # no cookie: not decodable as UTF-8
        return text.encode("utf-16")
    if codec == "bogus-cookie":
        return b"# -*- coding: klingon -*-\n" + data
    if codec == "cookie-mismatch":  # declares latin-1 but is UTF-8 with a BOM
        return b"\xef\xbb\xbf# -*- coding: latin-1 -*-\n" + data
    name = codec.split("-cookie")[0]
    return f"# -*- coding: {name} -*-\n{text}".encode(name, errors="replace")


@FUZZ
@given(mutated_fixture())
def test_a_mutated_fixture_never_raises_and_is_one_gl000_iff_it_does_not_parse(data):
    assert_one_gl000_iff_python_rejects(engine.lint_source("train.py", data, ALL, CODES), data)


# ---------------------------------------------------------------- generated programs

@pytest.fixture(scope="module")
def programs():
    hypothesmith = pytest.importorskip("hypothesmith")
    return hypothesmith.from_grammar()


@settings(max_examples=25, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_generated_program_never_raises_on_either_path(programs, data):
    source = data.draw(programs)
    encoded = source.encode("utf-8", errors="surrogatepass")
    # Full path: parse, facts, every check (generated names rarely pass the pre-filter, so force it).
    assert_one_gl000_iff_python_rejects(engine.lint_source("gen.py", encoded, ALL, CODES), encoded)
    # Pre-filter path: the same verdict, CPython's, with or without a framework token.
    assert_one_gl000_iff_python_rejects(engine.lint_file(Path("gen.py"), ALL, CODES, data=encoded, prefilter=True),
                                        encoded)


@settings(max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_code_inside_a_training_script_never_raises(programs, data):
    script = (FIXTURES / "bad" / "gl202_argparse_sgd.py").read_text()
    source = script + "\n" + data.draw(programs)
    encoded = source.encode("utf-8", errors="surrogatepass")
    assert_one_gl000_iff_python_rejects(engine.lint_source("train.py", encoded, ALL, CODES), encoded)


# ---------------------------------------------------------------- --fix never writes broken code

FIXABLE = sorted((FIXTURES / "bad").glob("gl20[1345]_*.py")) + sorted((FIXTURES / "bad").glob("gl40[12]_*.py"))


@st.composite
def lightly_mutated(draw) -> bytes:
    """Edits that usually keep the file parsing, so the fixes still have something to do."""
    lines = draw(st.sampled_from(FIXABLE)).read_bytes().split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.integers(0, max(0, len(lines) - 1)))
        kind = draw(st.sampled_from(["drop", "duplicate", "pass", "blank", "indent"]))
        if kind == "drop":
            del lines[row : row + 1]
        elif kind == "duplicate":
            lines[row:row] = lines[row : row + 1]
        elif kind == "pass":
            indent = re.match(rb"\s*", lines[row] if row < len(lines) else b"").group()
            lines.insert(row, indent + b"pass")
        elif kind == "blank":
            lines.insert(row, b"")
        elif row < len(lines):
            lines[row] = b"    " + lines[row]
    return b"\n".join(lines)


@settings(max_examples=12, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(lightly_mutated())
def test_fix_never_writes_a_file_that_does_not_parse(data):
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "train.py"
        script.write_bytes(data)
        result = CliRunner().invoke(main, ["--fix", "--unsafe-fixes", "--exit-zero", "--no-cache", "-q", "--jobs", "1",
                                           str(script)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == 0, result.output
        after = script.read_bytes()
    if libcst_parses(data):
        assert libcst_parses(after) and python_parses(after) == python_parses(data)
    else:
        assert after == data  # a file with a syntax error is never touched


# ---------------------------------------------------------------- a check that raises is isolated

BAD_LR = "import torch\nopt = torch.optim.SGD(params, lr=5.0)\n"
LOG_SOFTMAX = "import torch\ny = torch.log(torch.softmax(x, dim=-1))\n"


def _break_gl202_on(monkeypatch, victim: str) -> None:
    real = large_fixed_learning_rate.check

    def check(facts, settings):
        if facts.path.endswith(victim):
            raise RuntimeError("boom")
        yield from real(facts, settings)

    monkeypatch.setattr(large_fixed_learning_rate, "check", check)


def _isolation_run(tmp_path, monkeypatch, count: int, jobs: int):
    for i in range(count):
        (tmp_path / f"train_{i:02d}.py").write_text(BAD_LR + LOG_SOFTMAX)
    _break_gl202_on(monkeypatch, "train_00.py")
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["--no-cache", "--jobs", str(jobs), "-q", "."])


def _assert_isolated(result, count: int) -> None:
    assert result.exit_code == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1
    assert "GL202" in errors[0] and "train_00.py" in errors[0] and "boom" in errors[0]
    printed = re.findall(r"^(train_\d+\.py):\d+:\d+: (GL\d+)", result.stdout, re.M)
    expected = [(f"train_{i:02d}.py", code) for i in range(count) for code in ("GL202", "GL401")]
    expected.remove(("train_00.py", "GL202"))  # the only finding the broken check could have given
    assert printed == expected


def test_a_check_that_raises_costs_one_line_and_exit_2_not_the_run(tmp_path, monkeypatch):
    _assert_isolated(_isolation_run(tmp_path, monkeypatch, count=3, jobs=1), count=3)


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the patched check reaches the workers by fork")
def test_a_check_that_raises_in_a_pool_worker_is_isolated_too(tmp_path, monkeypatch):
    count = engine.POOL_THRESHOLD + 4
    _assert_isolated(_isolation_run(tmp_path, monkeypatch, count=count, jobs=2), count=count)


# ---------------------------------------------------------------- pathological inputs (bounded time and memory)


# A small intermediate interpreter runs gradlint and reports its peak RSS: measured from the (large) pytest
# process itself, a forked child would be charged the parent's memory before it execs.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:])\n"
    "print(f'\\nPEAK_RSS_KB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\n"
    "print(f'SIGNAL={-r.returncode}' if r.returncode < 0 else '', file=sys.stderr)\n"
    "sys.exit(max(r.returncode, 0))\n"
)


def run_bounded(args: list[str], cwd: Path, seconds: float, mib: float) -> subprocess.CompletedProcess:
    """gradlint in a fresh process: a segfault or a hang is a failed test; wall time and peak RSS are bounded."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "gradlint", "--no-cache", *args]
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"gradlint {' '.join(args)} took more than {seconds} s")
    signal = re.search(r"SIGNAL=(\d+)", done.stderr)
    assert signal is None, f"gradlint died of signal {signal.group(1)}: {done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    peak = int(re.search(r"PEAK_RSS_KB=(\d+)", done.stderr).group(1)) / 1024
    assert peak < mib, f"peak RSS {peak:.0f} MiB"
    done.stderr = done.stderr[: done.stderr.rindex("\nPEAK_RSS_KB=")]  # gradlint's own stderr only
    done.args = args
    return done


def _findings(done) -> list[tuple[str, int]]:
    return [(code, int(row)) for row, code in re.findall(r"^[^:\n]+:(\d+):\d+: (GL\d+)", done.stdout, re.M)]


@pytest.mark.slow
def test_a_50k_line_file(tmp_path):
    block = textwrap.dedent('''
        def step_{i}(model, batch, optimizer):
            optimizer.zero_grad()
            logits = model(batch["x"])
            loss = torch.nn.functional.cross_entropy(logits, batch["y"])
            loss.backward()
            optimizer.step()
            return loss.item()

    ''')
    body = "".join(block.format(i=i) for i in range(50_000 // block.count("\n") + 1))
    source = "import torch\n\n" + body + "opt = torch.optim.SGD(params, lr=5.0)\n"
    (tmp_path / "big.py").write_text(source)
    done = run_bounded(["-q", "big.py"], tmp_path, seconds=180, mib=1024)
    assert source.count("\n") >= 50_000
    assert _findings(done) == [("GL202", source.count("\n"))]


@pytest.mark.slow
def test_a_10k_element_sequential(tmp_path):
    layers = "".join("    nn.Linear(64, 64),\n    nn.Sigmoid(),\n" for _ in range(5_000))
    (tmp_path / "model.py").write_text(f"import torch.nn as nn\n\nmodel = nn.Sequential(\n{layers})\n")
    done = run_bounded(["-q", "--select", "ALL", "model.py"], tmp_path, seconds=120, mib=1024)
    assert _findings(done) == [("GL101", 3), ("GL102", 3)]


def _known(value, why: str):
    """A case that once broke gradlint (`why`): kept as a regression test."""
    return pytest.param(value, id=why[:40])


@pytest.mark.slow
@pytest.mark.parametrize("expression", [
    "(" * 150 + "torch.log(torch.softmax(h, -1))" + ")" * 150,  # CPython's limit is 200 nested brackets
    _known("[" * 150 + "torch.log(torch.softmax(h, -1))" + "]" * 150, "RecursionError in GL401"),
    _known("not " * 2_000 + "torch.log(torch.softmax(h, -1))", "RecursionError in the facts builder"),
    _known("-" * 2_000 + "torch.log(torch.softmax(h, -1))", "RecursionError in the facts builder"),
    _known("h" + ".a" * 2_000, "RecursionError in the facts builder"),
    # A long sum is a left-deep tree, 1,000 levels down (libcst itself needs seconds for it: 1,500 calls take 20 s).
    _known(" + ".join(["torch.log(torch.softmax(h, -1))"] * 1_000), "RecursionError in the facts builder"),
    _known(" + ".join(['"chunk"'] * 2_000), "RecursionError in the facts builder"),
], ids=["parens", "lists", "not", "minus", "attributes", "sum-of-calls", "string-concat"])
def test_deeply_nested_valid_expressions(tmp_path, expression):
    (tmp_path / "deep.py").write_text(f"import torch\n\nx = {expression}\n")
    done = run_bounded(["-q", "--select", "ALL", "deep.py"], tmp_path, seconds=120, mib=1024)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "GL000" not in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("expression", [
    _known("(" * 5_000 + "1" + ")" * 5_000, "libcst's native parser overflows its stack: a segfault"),
    _known("f(" * 400 + "1" + ")" * 400, "libcst accepts what CPython refuses; then RecursionError in two checks"),
    # CPython's AST construction gives up near 3,000 levels (python itself cannot run this file).
    _known(" + ".join(['"chunk"'] * 3_000), "was linted, although CPython refuses it"),
], ids=["5000-parens", "400-calls", "3000-term-sum"])
def test_nesting_beyond_what_python_accepts_is_one_gl000(tmp_path, expression):
    (tmp_path / "deep.py").write_text(f"import torch\n\nx = {expression}\n")
    done = run_bounded(["-q", "--select", "ALL", "deep.py"], tmp_path, seconds=120, mib=1024)
    assert [code for code, _ in _findings(done)] == ["GL000"]
    assert done.returncode == 1


@pytest.mark.slow
@pytest.mark.parametrize("value", [
    _known("10 ** 10 ** 10", "hangs in the value resolver"),
    _known("9" * 5_000, "internal error: a literal past int_max_str_digits"),
    _known("9" * 400, "internal error: int too large to convert to float"),
    "1e400",
], ids=["power-tower", "5000-digits", "400-digits", "1e400"])
def test_an_absurd_learning_rate_is_bounded_work_not_a_hang_or_an_internal_error(tmp_path, value):
    (tmp_path / "train.py").write_text(f"import torch\n\nLR = {value}\nopt = torch.optim.SGD(params, lr=LR)\n")
    done = run_bounded(["-q", "train.py"], tmp_path, seconds=30, mib=1024)
    assert done.returncode in (0, 1) and done.stderr == "", done.stderr[-2000:]


@pytest.mark.slow
def test_a_symlink_loop(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "pkg" / "self.py").symlink_to(tmp_path / "pkg" / "self.py")
    (tmp_path / "pkg" / "a.py").symlink_to(tmp_path / "pkg" / "b.py")
    (tmp_path / "pkg" / "b.py").symlink_to(tmp_path / "pkg" / "a.py")
    (tmp_path / "pkg" / "train.py").write_text(BAD_LR)
    done = run_bounded(["-q", "pkg"], tmp_path, seconds=30, mib=512)
    assert _findings(done) == [("GL202", 2)]


@pytest.mark.slow
def test_a_directory_of_20k_tiny_files(tmp_path):
    tree = tmp_path / "many"
    for i in range(20_000):
        folder = tree / f"d{i // 1000:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"m{i:05d}.py").write_text("import torch\nx = torch.zeros(1)\n" if i % 10 == 0 else f"VALUE = {i}\n")
    shutil.copy(FIXTURES / "bad" / "gl202_argparse_sgd.py", tree / "d07" / "train.py")
    done = run_bounded(["--exit-zero", "--output-format", "junit", "many"], tmp_path, seconds=300, mib=1024)
    assert done.stdout.count("<testcase ") == 20_001
    assert done.stdout.count("GL202") >= 1 and "GL000" not in done.stdout

