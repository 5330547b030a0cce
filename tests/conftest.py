"""Shared test helpers: lint a snippet or a fixture through the real engine, read `# expect:` markers."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from gradlint import config, discovery, engine

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>GL\d{3}(?:\s*,\s*GL\d{3})*)")


# Under pytest-xdist (pyproject.toml: `--dist loadscope --no-loadscope-reorder`) each module goes whole to
# one worker, in collection order. test_corpus.py lints 3,600 files in a process pool of its own, about
# 90 s of both cores on a 2-core machine: started first, it takes the CPU the other worker leaves idle while
# its tests wait on subprocesses and installs; started last, it ran alone for the last third of the run.
FIRST = ("test_corpus.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in FIRST)  # stable: every other test keeps its order


def lint_paths(paths, settings: config.Settings | None = None, select=("ALL",)):
    settings = settings or config.Settings(select=tuple(select) if select else None)
    files = discovery.discover([str(p) for p in paths], settings)
    return engine.run(files, settings, jobs=1)


@pytest.fixture
def lint(tmp_path):
    """lint(source) → findings for one snippet written to train.py (all rules on, dedented)."""

    def run(source: str, *, select=("ALL",), filename: str = "train.py", settings=None):
        path = tmp_path / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
        return lint_paths([path], settings, select).findings

    return run


def codes_and_lines(findings) -> list[tuple[str, int]]:
    return [(f.code, f.span.row) for f in findings]


def expected_markers(path: Path) -> list[tuple[str, int]]:
    """`# expect: GL101, GL202` comments in a fixture: the codes it must give on that line."""
    expected = []
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            expected.extend((code.strip(), row) for code in match.group("codes").split(","))
    return sorted(expected, key=lambda item: (item[1], item[0]))


def break_facts(monkeypatch, suffix: str) -> None:
    """The facts stage raises KeyError('facts boom') for the files whose path ends with `suffix` (an internal
    error of those files); every other file is linted as usual. In process only (--jobs 1)."""
    from gradlint.facts import builder

    real = builder.build

    def build(module, path, package=""):
        if path.endswith(suffix):
            raise KeyError("facts boom")
        return real(module, path, package)

    monkeypatch.setattr(builder, "build", build)
