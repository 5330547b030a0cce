"""gradlint over five real training libraries (bench/real_code.py): it never crashes and parses them all.

Downloads the pinned releases once into bench/.corpus/real (or $GRADLINT_REAL_CODE_CACHE); skips when
`pip download` fails (no registry reachable). The review of each finding is in bench/REAL_CODE.md.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_bench():
    spec = importlib.util.spec_from_file_location("real_code", ROOT / "bench" / "real_code.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


real_code = _load_bench()


@pytest.fixture(scope="module")
def corpus():
    cache = Path(os.environ.get("GRADLINT_REAL_CODE_CACHE", real_code.DEFAULT_CACHE))
    try:
        return real_code.fetch(cache.resolve())
    except real_code.DownloadError as exc:
        pytest.skip(f"registry not reachable: {exc}")


@pytest.fixture(scope="module")
def run(corpus):
    return real_code.lint(corpus)


@pytest.mark.slow
def test_every_pinned_release_is_unpacked_with_python_sources(corpus):
    assert [folder.name for folder in corpus] == [real_code.package_dir(r) for r in real_code.PACKAGES]
    for folder in corpus:
        assert any(folder.glob("**/*.py")), folder


@pytest.mark.slow
def test_no_internal_error_on_real_code(run):
    assert run.internal_errors == []
    assert run.returncode == 0


@pytest.mark.slow
def test_every_real_file_parses(run):
    assert [f for f in run.findings if f["code"] == "GL000"] == []
    assert run.files > 500  # all five packages were read, not an empty folder


@pytest.mark.slow
def test_findings_are_attributed_to_the_package_they_came_from(run, corpus):
    names = {folder.name for folder in corpus}
    assert set(run.by_package) <= names
    assert sum(run.by_package.values()) == sum(run.by_code.values()) == len(run.findings)
