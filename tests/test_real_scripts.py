"""gradlint over real training scripts from five GitHub repositories (bench/real_scripts.py).

The trees live in bench/.corpus/scripts (or $GRADLINT_REAL_SCRIPTS_SRC), exported from pinned commits
with `bench/real_scripts.py export`; where none is there, the tests skip (set
GRADLINT_REAL_SCRIPTS_FETCH=1 to let them try a shallow fetch from github.com first). The review of
every finding is the table in bench/REAL_SCRIPTS.md.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_bench():
    spec = importlib.util.spec_from_file_location("real_scripts", ROOT / "bench" / "real_scripts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


real_scripts = _load_bench()


@pytest.fixture(scope="module")
def prepared():
    src = Path(os.environ.get("GRADLINT_REAL_SCRIPTS_SRC", real_scripts.DEFAULT_SRC)).resolve()
    src.mkdir(parents=True, exist_ok=True)
    repos, missing, stale = real_scripts.prepare(src, allow_fetch=os.environ.get("GRADLINT_REAL_SCRIPTS_FETCH") == "1")
    if not repos:
        pytest.skip(f"no exported repository under {src} (see bench/REAL_SCRIPTS.md, 'Reproduce')")
    return src, repos, missing, stale


@pytest.fixture(scope="module")
def run(prepared):
    src, repos, missing, stale = prepared
    return real_scripts.lint(src, repos, missing, stale)


@pytest.mark.slow
def test_no_internal_error_and_every_file_parses(run):
    assert run.internal_errors == []
    assert set(run.returncodes.values()) == {0}
    assert [f for f in run.findings if f["code"] == "GL000"] == []
    assert run.files > 0


@pytest.mark.slow
def test_every_finding_of_a_pinned_tree_has_a_review_row(run):
    review = real_scripts.reviewed(ROOT / "bench" / "REAL_SCRIPTS.md")
    pinned = set(run.repos) - set(run.stale)
    if not pinned:
        pytest.skip("the trees present were exported from other commits than the pinned ones")
    produced = {real_scripts.key(f) for f in run.findings if f["filename"].split("/", 1)[0] in pinned}
    unreviewed = sorted(k for k in produced if k not in review)
    assert unreviewed == [], "new findings on real code: review them in bench/REAL_SCRIPTS.md"


@pytest.mark.slow
def test_findings_are_attributed_to_the_repository_they_came_from(run):
    assert set(run.by_repo) <= set(run.repos)
    assert sum(run.by_repo.values()) == sum(run.by_code.values()) == len(run.findings)


def test_review_table_parses_rows_and_verdicts(tmp_path):
    review = tmp_path / "REAL.md"
    review.write_text(
        "| file:line | code | verdict | reason |\n|---|---|---|---|\n"
        "| examples/mnist/main.py:12 | GL203 | defend | no zero_grad |\n"
        "| nanoGPT/bench.py:90 | GL201 | **false alarm** | benchmark |\n",
        encoding="utf-8",
    )
    assert real_scripts.reviewed(review) == {
        ("examples/mnist/main.py", 12, "GL203"): "defend",
        ("nanoGPT/bench.py", 90, "GL201"): "false alarm",
    }


def test_every_row_of_the_committed_review_parses():
    text = (ROOT / "bench" / "REAL_SCRIPTS.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and ".py:" in line.split("|")[1]]
    review = real_scripts.reviewed(ROOT / "bench" / "REAL_SCRIPTS.md")
    assert rows and len(review) == len(rows)
    assert {path.split("/", 1)[0] for path, _, _ in review} <= {r.name for r in real_scripts.REPOS}
