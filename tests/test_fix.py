"""--fix, --unsafe-fixes and --diff: the machinery that applies the edits checks attach to findings.

No shipped check is needed here: a small check, swapped in for GL202, rewrites `torch.log(torch.softmax(...))`
into `torch.log_softmax(...)` (a safe fix) and `torch.log(torch.sigmoid(...))` into
`torch.nn.functional.logsigmoid(...)` (marked unsafe, to tell the two switches apart).
"""

from __future__ import annotations

import os
import stat

import libcst as cst
import pytest
from click.testing import CliRunner

from gradlint import checks
from gradlint.checks import finding
from gradlint.cli import main
from gradlint.finding import Edit, Fix
from gradlint.fix import apply

REPLACEMENTS = {
    "torch.softmax": ("torch.log_softmax", "safe"),
    "torch.sigmoid": ("torch.nn.functional.logsigmoid", "unsafe"),
}


def log_of_probability(facts, settings):
    """The stand-in check: log(softmax(x)) / log(sigmoid(x)), each with a fix that replaces the whole call."""
    for call in facts.all_calls:
        inner = call.positional(0)
        if call.qualname != "torch.log" or not isinstance(inner, cst.Call):
            continue
        replacement = REPLACEMENTS.get(call.scope.qualify(inner.func))
        if replacement is None:
            continue
        name, applicability = replacement
        span = facts.span(call.node)
        new_call = inner.with_changes(func=cst.parse_expression(name))
        edit = Edit(facts.module.code_for_node(new_call), (span.row, span.column), (span.end_row, span.end_column))
        yield finding(facts, "GL202", call.node, f"use {name}", fix=Fix(applicability, f"Use {name}", (edit,)))


def broken_fix(facts, settings):
    """A buggy check whose fix would not parse."""
    for call in facts.all_calls:
        if call.qualname == "torch.log":
            span = facts.span(call.node)
            yield finding(facts, "GL202", call.node, "broken", fix=Fix("safe", "oops", (
                Edit("torch.log((", (span.row, span.column), (span.end_row, span.end_column)),)))


@pytest.fixture
def swap_check(monkeypatch):
    original = checks.load

    def use(check):
        monkeypatch.setattr(checks, "load", lambda code: check if code == "GL202" else original(code))

    use(log_of_probability)
    return use


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


SCRIPT = """\
import torch


def train_step(model, batch, targets):
    logits = model(batch)
    log_probs = torch.log(torch.softmax(logits, dim=-1))  # keep this comment
    loss = torch.nn.functional.nll_loss(log_probs, targets)
    gate = torch.log(torch.sigmoid(logits))
    return loss + gate.mean()
"""

SAFE_FIXED = SCRIPT.replace("torch.log(torch.softmax(logits, dim=-1))", "torch.log_softmax(logits, dim=-1)")
ALL_FIXED = SAFE_FIXED.replace("torch.log(torch.sigmoid(logits))", "torch.nn.functional.logsigmoid(logits)")


def write(folder, name: str, text: str):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def gradlint(*args: str):
    return CliRunner().invoke(main, ["--select", "GL202", *args])


def test_fix_applies_safe_fixes_only_and_reports_what_remains(swap_check, workdir):
    train = write(workdir, "train.py", SCRIPT)
    result = gradlint("--fix", "train.py")
    assert train.read_text(encoding="utf-8") == SAFE_FIXED
    assert result.exit_code == 1
    assert result.stdout.startswith("train.py:8:12: GL202 use torch.nn.functional.logsigmoid")
    assert "fixed 1 finding in 1 file, 1 remaining" in result.stderr


def test_unsafe_fixes_applies_the_unsafe_ones_too(swap_check, workdir):
    train = write(workdir, "train.py", SCRIPT)
    result = gradlint("--fix", "--unsafe-fixes", "train.py")
    assert train.read_text(encoding="utf-8") == ALL_FIXED
    assert result.exit_code == 0
    assert "All checks passed!" in result.stdout


def test_running_fix_twice_changes_nothing_the_second_time(swap_check, workdir):
    train = write(workdir, "train.py", SCRIPT)
    gradlint("--fix", "--unsafe-fixes", "train.py")
    first = train.read_bytes()
    result = gradlint("--fix", "--unsafe-fixes", "train.py")
    assert train.read_bytes() == first
    assert "fixed 0 findings in 0 files, 0 remaining" in result.stderr


def test_diff_prints_a_unified_diff_writes_nothing_and_exits_1(swap_check, workdir):
    train = write(workdir, "train.py", SCRIPT)
    result = gradlint("--diff", "train.py")
    assert train.read_text(encoding="utf-8") == SCRIPT
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "--- a/train.py",
        "+++ b/train.py",
        "@@ -3,7 +3,7 @@",
        " ",
        " def train_step(model, batch, targets):",
        "     logits = model(batch)",
        "-    log_probs = torch.log(torch.softmax(logits, dim=-1))  # keep this comment",
        "+    log_probs = torch.log_softmax(logits, dim=-1)  # keep this comment",
        "     loss = torch.nn.functional.nll_loss(log_probs, targets)",
        "     gate = torch.log(torch.sigmoid(logits))",
        "     return loss + gate.mean()",
    ]
    assert "Would fix 1 finding." in result.stderr


def test_diff_with_nothing_to_fix_prints_nothing_and_exits_0(swap_check, workdir):
    write(workdir, "train.py", SAFE_FIXED)
    result = gradlint("--diff", "train.py")
    assert (result.exit_code, result.stdout) == (0, "")


def test_a_file_with_a_syntax_error_is_left_byte_for_byte_untouched(swap_check, workdir):
    broken = b"import torch\r\nx = torch.log(torch.softmax(y, 1))\r\ndef f(:\r\n"
    path = workdir / "broken.py"
    path.write_bytes(broken)
    result = gradlint("--select", "GL000", "--fix", "--unsafe-fixes", "broken.py")
    assert path.read_bytes() == broken
    assert result.exit_code == 1 and "GL000" in result.stdout


def test_a_fix_that_would_not_parse_is_thrown_away(swap_check, workdir):
    swap_check(broken_fix)
    train = write(workdir, "train.py", SCRIPT)
    result = gradlint("--fix", "train.py")
    assert train.read_text(encoding="utf-8") == SCRIPT
    assert "train.py: the fixed code would not parse; file left unchanged" in result.stderr


def test_fix_keeps_the_file_mode_line_endings_and_leaves_no_temp_files(swap_check, workdir):
    train = workdir / "train.py"
    train.write_bytes(SCRIPT.replace("\n", "\r\n").encode())
    os.chmod(train, 0o750)
    gradlint("--fix", "--no-cache", "train.py")
    assert train.read_bytes() == SAFE_FIXED.replace("\n", "\r\n").encode()
    assert stat.S_IMODE(train.stat().st_mode) == 0o750
    assert sorted(p.name for p in workdir.iterdir()) == ["train.py"]


def test_fix_through_a_symlink_rewrites_the_target_and_keeps_the_link(swap_check, workdir):
    real = write(workdir, "real_train.py", SCRIPT)
    (workdir / "train.py").symlink_to(real)
    gradlint("--fix", "train.py")
    assert (workdir / "train.py").is_symlink()
    assert real.read_text(encoding="utf-8") == SAFE_FIXED


def test_nested_overlapping_fixes_are_applied_over_several_rounds(swap_check, workdir):
    train = write(workdir, "train.py", "import torch\n\ny = torch.log(torch.softmax(torch.log(torch.softmax(x, 1)), 1))\n")
    result = gradlint("--fix", "train.py")
    assert train.read_text(encoding="utf-8") == "import torch\n\ny = torch.log_softmax(torch.log_softmax(x, 1), 1)\n"
    assert "fixed 2 findings in 1 file, 0 remaining" in result.stderr


def test_fix_only_touches_findings_that_are_reported(swap_check, workdir):
    write(workdir, "train.py", SCRIPT)
    assert gradlint("--write-baseline", "baseline.json", "train.py").exit_code == 0
    train = write(workdir, "train.py", SCRIPT + "\nextra = torch.log(torch.softmax(logits, dim=0))\n")
    gradlint("--fix", "--baseline", "baseline.json", "train.py")
    assert train.read_text(encoding="utf-8") == SCRIPT + "\nextra = torch.log_softmax(logits, dim=0)\n"


# --- the edit applier on its own -------------------------------------------------------------------

def test_apply_skips_an_overlapping_fix_and_keeps_each_fix_whole():
    text = "a = f(x)\nb = g(y)\n"
    first = Fix("safe", "", (Edit("F", (1, 5), (1, 6)), Edit("G", (2, 5), (2, 6))))
    clashing = Fix("safe", "", (Edit("H", (2, 1), (2, 9)),))
    separate = Fix("safe", "", (Edit("", (1, 9), (2, 1)),))
    assert apply(text, [first, clashing, separate]) == ("a = F(x)b = G(y)\n", [0, 2])


def test_apply_ignores_a_fix_whose_positions_lie_outside_the_file():
    assert apply("x = 1\n", [Fix("safe", "", (Edit("y", (9, 1), (9, 2)),))]) == ("x = 1\n", [])


# --- end to end on a shipped fix: GL401 log(softmax(x)) → log_softmax(x) -----------------------------

GL401_BEFORE = """\
import torch
import torch.nn.functional as F


def train_step(model, batch, targets, optimizer):
    logits = model(batch)
    log_probs = torch.log(F.softmax(logits, dim=-1))
    loss = F.nll_loss(log_probs, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""

GL401_AFTER = GL401_BEFORE.replace("torch.log(F.softmax(logits, dim=-1))", "F.log_softmax(logits, dim=-1)")


def test_gl401_fix_end_to_end(workdir):
    train = write(workdir, "train.py", GL401_BEFORE)
    diff = CliRunner().invoke(main, ["--select", "GL401", "--diff", "train.py"])
    assert diff.exit_code == 1 and "+    log_probs = F.log_softmax(logits, dim=-1)" in diff.stdout
    assert train.read_text(encoding="utf-8") == GL401_BEFORE
    fixed = CliRunner().invoke(main, ["--select", "GL401", "--fix", "train.py"])
    assert (fixed.exit_code, train.read_text(encoding="utf-8")) == (0, GL401_AFTER)
    again = CliRunner().invoke(main, ["--select", "GL401", "--fix", "train.py"])
    assert (again.exit_code, train.read_text(encoding="utf-8")) == (0, GL401_AFTER)
