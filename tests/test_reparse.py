"""reparse.Reparser (the language server's parse of an edited buffer) gives the full parse's tree, positions
and findings: random edits of the real fixtures, each checked against a parse of the whole new text."""

from __future__ import annotations

import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from gradlint import config, engine
from gradlint.facts.positions import Positions
from gradlint.reparse import Reparser

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))
# what typing inserts, including what moves lines between a block's footer and the next statement
PIECES = ["x", " ", "\n", "(", ")", ":", "# c\n", "    ", "\t", "'", '"""', "\n\n", "    # note\n", "\n    \n",
          "if a:\n    pass\n", "else:\n    y = 1\n", "@d\n", "  ", "\\\n", "\r\n", "def g():\n  return 1\n",
          "match x:\n  case 1:\n    pass\n"]


def _edit(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    op = rng.random()
    if op < 0.4 or not lines:
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(PIECES) + text[at:]
    if op < 0.6:
        at = rng.randrange(len(text) + 1)
        return text[:at] + text[at + rng.randrange(1, 30):]
    i = rng.randrange(len(lines))
    if op < 0.75:
        lines.insert(i, lines[i])  # a duplicated line
    elif op < 0.9:
        lines[i] = rng.choice(["    ", "", "  "]) + lines[i].lstrip(" ")  # indented or dedented
    else:
        del lines[i:i + rng.randrange(1, 5)]
    return "".join(lines)


def _python(text: str) -> bool:
    return engine.python_verdict("edit.py", text) is None


def _round_trips(text: str) -> bool:
    """libcst parses the text and gives it back (it does not on a lone `\`, and refuses a few texts CPython
    accepts: those the engine reports as internal errors, never reparses)."""
    try:
        return cst.parse_module(text).code == text
    except cst.ParserSyntaxError:
        return False


def _edits(seed: int, count: int):
    """(before, after) pairs of valid Python: chains of edits of random fixtures, some re-indented or with
    whitespace on blank lines (libcst gives those lines to a block's footer)."""
    rng = random.Random(seed)
    while count > 0:
        text = rng.choice(FIXTURES).read_text(encoding="utf-8")
        if rng.random() < 0.3:
            text = text.replace("\n", "    \n", 3) if rng.random() < 0.5 else text.replace("    ", "  ")
        for _ in range(6):
            new = _edit(text, rng)
            if not _python(new) or not _round_trips(new):
                continue
            yield text, new
            text, count = new, count - 1


@pytest.mark.parametrize("seed", range(3))
def test_random_edits_give_the_full_parse_tree_and_positions(seed):
    reparser, reused, last = Reparser(), 0, None
    for number, (before, after) in enumerate(_edits(seed, 100)):
        if before is not last:  # a new chain: the reparser has seen its first text
            reparser.parse(before, cst.parse_module)
        got = reparser.parse(after, cst.parse_module)
        full = cst.parse_module(after)
        assert got.deep_equals(full) and (got.default_indent, got.default_newline, got.has_trailing_newline) == \
            (full.default_indent, full.default_newline, full.has_trailing_newline), (before, after)
        reused += reparser.reused > 0
        if number % 10 == 0:
            want = MetadataWrapper(got, unsafe_skip_copy=True).resolve(PositionProvider)
            ours = Positions(got, reparser.layouts)
            assert [node for node, where in want.items() if ours[node] != where] == [], (before, after)
        last = after
    assert reused >= 70  # most edits really were reparsed in part: the check above is not of full parses


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.parent.name == "bad"][::5], ids=lambda p: p.name)
def test_the_findings_of_each_edit_are_those_of_a_full_parse(path):
    settings = config.Settings()
    codes = settings.enabled_codes()
    reparser = Reparser()
    rng = random.Random(path.name)
    text = path.read_text(encoding="utf-8")
    engine.lint_file(path, settings, codes, data=text.encode(), reparser=reparser)
    checked = 0
    for _ in range(40):
        new = _edit(text, rng)
        if not _python(new):
            continue
        ours = engine.lint_file(path, settings, codes, data=new.encode(), reparser=reparser)
        full = engine.lint_file(path, settings, codes, data=new.encode())
        assert (ours.findings, ours.errors, ours.classes.keys(), ours.calls) == \
            (full.findings, full.errors, full.classes.keys(), full.calls), new
        text, checked = new, checked + 1
    assert checked >= 8
