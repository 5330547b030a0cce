"""gradlint over real Keras/TensorFlow scripts and notebooks no one here wrote (bench/real_keras.py).

The corpus lives in bench/.corpus/keras (or $GRADLINT_REAL_KERAS_SRC), exported from pinned commits with
`bench/real_keras.py export` and a pinned wheel; where none of it is there, the slow tests skip (set
GRADLINT_REAL_KERAS_FETCH=1 to let them try github.com and PyPI first). The review of every finding is
the table in bench/REAL_KERAS.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_bench():
    spec = importlib.util.spec_from_file_location("real_keras", ROOT / "bench" / "real_keras.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


real_keras = _load_bench()


@pytest.fixture(scope="module")
def prepared():
    src = Path(os.environ.get("GRADLINT_REAL_KERAS_SRC", real_keras.DEFAULT_SRC)).resolve()
    src.mkdir(parents=True, exist_ok=True)
    sources, missing, stale = real_keras.prepare(src, allow_fetch=os.environ.get("GRADLINT_REAL_KERAS_FETCH") == "1")
    if not sources:
        pytest.skip(f"no exported source under {src} (see bench/REAL_KERAS.md, 'Reproduce')")
    return src, sources, missing, stale


@pytest.fixture(scope="module")
def run(prepared):
    src, sources, missing, stale = prepared
    return real_keras.lint(src, sources, missing, stale)


@pytest.mark.slow
def test_no_internal_error_on_any_script_or_notebook(run):
    assert run.internal_errors == []
    assert set(run.returncodes.values()) == {0}
    assert run.files[".py"] + run.files[".ipynb"] > 0


@pytest.mark.slow
def test_syntax_errors_only_where_the_code_really_is_invalid(run):
    """GL000 only on the files whose code Python (and IPython) reject; see KNOWN_INVALID's reasons."""
    flagged = {f["filename"] for f in run.findings if f["code"] == "GL000"}
    assert flagged <= set(real_keras.KNOWN_INVALID), "a valid script or notebook gave GL000 (see REAL_KERAS.md)"


@pytest.mark.slow
def test_every_finding_of_a_pinned_source_has_a_review_row(run):
    review = real_keras.reviewed(ROOT / "bench" / "REAL_KERAS.md")
    pinned = set(run.sources) - set(run.stale)
    if not pinned:
        pytest.skip("the sources present were exported from other pins than SOURCES names")
    produced = {real_keras.key(f) for f in run.findings if f["filename"].split("/", 1)[0] in pinned}
    unreviewed = sorted(real_keras.where(k) + " " + k[3] for k in produced if k not in review)
    assert unreviewed == [], "new findings on real code: review them in bench/REAL_KERAS.md"


@pytest.mark.slow
def test_findings_are_attributed_to_the_source_they_came_from(run):
    assert set(run.by_source) <= set(run.sources)
    assert sum(run.by_source.values()) == sum(run.by_code.values()) == len(run.findings)
    for finding in run.findings:
        assert (finding["cell"] is not None) == finding["filename"].endswith(".ipynb")


def test_review_table_parses_script_rows_and_notebook_cell_rows(tmp_path):
    review = tmp_path / "REAL.md"
    review.write_text(
        "| where | code | verdict | reason |\n|---|---|---|---|\n"
        "| keras2-examples/imdb_lstm.py:49 | GL201 | defend (weak) | LSTM, no clipping |\n"
        "| handson-ml3/11_training_deep_neural_networks.ipynb:cell 32:2 | GL102 | **false alarm** | rebinding |\n",
        encoding="utf-8",
    )
    assert real_keras.reviewed(review) == {
        ("keras2-examples/imdb_lstm.py", 0, 49, "GL201"): "defend (weak)",
        ("handson-ml3/11_training_deep_neural_networks.ipynb", 32, 2, "GL102"): "false alarm",
    }
    assert real_keras.where(("a/b.ipynb", 3, 4, "GL202")) == "a/b.ipynb:cell 3:4"
    assert real_keras.where(("a/b.py", 0, 12, "GL202")) == "a/b.py:12"


def test_every_row_of_the_committed_review_parses_and_names_a_known_source():
    text = (ROOT / "bench" / "REAL_KERAS.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and (".py:" in line.split("|")[1]
                                                                             or ".ipynb:" in line.split("|")[1])]
    review = real_keras.reviewed(ROOT / "bench" / "REAL_KERAS.md")
    assert rows and len(review) == len(rows)
    assert {path.split("/", 1)[0] for path, _, _, _ in review} <= {s.name for s in real_keras.SOURCES}
    assert set(real_keras.KNOWN_INVALID) <= {path for path, _, _, code in review if code == "GL000"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_export_keeps_scripts_and_notebooks_under_the_prefix_and_lists_blobs_the_mirror_lacks(tmp_path):
    repo = tmp_path / "repo"
    (repo / "examples" / "nlp").mkdir(parents=True)
    (repo / "examples" / "imdb_lstm.py").write_text("import keras\n", encoding="utf-8")
    (repo / "examples" / "nlp" / "tour.ipynb").write_text(json.dumps({"cells": []}), encoding="utf-8")
    (repo / "examples" / "README.md").write_text("# examples\n", encoding="utf-8")
    (repo / "examples" / "huge.py").write_text("WEIGHTS = 0\n", encoding="utf-8")
    (repo / "setup.py").write_text("# outside the prefix\n", encoding="utf-8")
    _git(repo, "init", "--quiet")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "tree")
    commit = _git(repo, "rev-parse", "HEAD")
    # A mirror omits large blobs: delete one loose object, as such a mirror would lack it.
    blob = _git(repo, "rev-parse", f"{commit}:examples/huge.py")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()

    source = real_keras.GitSource("toy", "owner/toy", commit, "examples/")
    target = real_keras.export(source, repo / ".git", tmp_path / "src")

    exported = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert exported == [".commit", ".missing", "imdb_lstm.py", "nlp/tour.ipynb"]
    assert (target / ".missing").read_text(encoding="utf-8") == "huge.py\n"
    assert (target / ".commit").read_text(encoding="utf-8").strip() == commit


def test_prepare_without_network_names_every_absent_source_as_missing(tmp_path):
    sources, missing, stale = real_keras.prepare(tmp_path, allow_fetch=False)
    assert sources == [] and stale == []
    assert missing == [s.name for s in real_keras.SOURCES]
