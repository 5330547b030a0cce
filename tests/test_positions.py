"""facts.positions gives every node exactly the range libcst's PositionProvider gives it."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from gradlint.facts.positions import Positions

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))

EDGES = {
    "empty": "",
    "no final newline": "x = 1",
    "tabs and unicode": "def f(x):\n\tif x:\n\t\treturn 'ü' + \"∑\"  # ✓\n\treturn None\n",
    "continuations": "total = 1 + \\\n    2\nvalues = [\n    1,  # one\n    2,\n]\n",
    "decorators and comments": "# top\n\n@a.b(c)\n# between\nclass A(B, metaclass=M):\n    '''doc'''\n\n    x: int = 1\n",
    "lone carriage returns": "a = 1\rb = 2\r",
    "strings across lines": 's = """one\ntwo"""\nt = f"{s!r:>10}"\n',
}


def _same(text: str) -> None:
    module = cst.parse_module(text)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = Positions(module)
    wrong = [(type(node).__name__, want, ours[node]) for node, want in expected.items() if ours[node] != want]
    assert wrong == []


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_cases(name):
    _same(EDGES[name])


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixtures(path):
    _same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FIXTURES[::12], ids=lambda p: p.name)
def test_fixtures_with_crlf_and_no_final_newline(path):
    text = path.read_text(encoding="utf-8")
    _same(text.replace("\n", "\r\n"))
    _same(text.rstrip("\n"))
