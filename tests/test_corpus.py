"""Every rule on, over the whole benchmark corpus (3,600+ real files): no internal error, and the pre-filter loses nothing.

The corpus is the one bench/bench_peers.py times: the pinned wheels of bench/bench_parse.py plus
transformers, downloaded once with `pip download --no-deps` into ~/.cache/gradlint-bench (or
$GRADLINT_BENCH_CACHE) and unpacked there, never committed. Without a reachable registry the tests
skip. The findings per code are printed on every run, so a change in behaviour shows in the log.

The corpus is linted once in full (with the pre-filter, as a user's run is). The pre-filter only decides
whether a file is parsed at all (engine._lint_bytes: `prefilter and not may_matter(data)`); a file it lets
through goes through the same call either way. So the run without it lints again only the files the
pre-filter skipped (about 340 of 3,600) and takes the others' results from the first run, then resolves
the cross-file findings over all of them as any run does. tests/test_cache_prefilter.py lints the
fixtures both ways in full.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gradlint import config, discovery, engine
from gradlint.prefilter import may_matter

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = config.Settings(select=("ALL",), respect_gitignore=False)


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_peers", ROOT / "bench" / "bench_peers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # puts bench/ on sys.path for its own `import bench_parse`
    return module


@pytest.fixture(scope="module")
def corpus() -> list[Path]:
    bench = _load_bench()
    cache = bench.bench_parse.DEFAULT_CACHE.resolve()
    try:
        folders = sorted(p for p in bench.bench_parse.build_corpus(cache).iterdir() if p.is_dir())
        folders += bench.build_extra(cache)
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"registry not reachable, no corpus: {exc}")
    return discovery.discover([str(p) for p in folders], SETTINGS)


@pytest.fixture(scope="module")
def filtered(corpus) -> engine.RunResult:
    return engine.run(corpus, SETTINGS, jobs=os.cpu_count(), prefilter=True)


def _report(result: engine.RunResult) -> list[tuple]:
    return [(f.path, f.code, f.span, f.message) for f in result.findings]


@pytest.mark.slow
def test_every_rule_on_the_whole_corpus_without_an_internal_error(corpus, filtered, capsys):
    counts = Counter(f.code for f in filtered.findings)
    with capsys.disabled():
        print(f"\ncorpus: {len(corpus)} files, {len(filtered.findings)} findings: "
              + (", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "none"))
    assert len(corpus) > 3_600  # the five frameworks and transformers, not an empty folder
    assert filtered.errors == []
    assert len(filtered.files) == len(corpus)
    assert counts["GL000"] == 0, [f"{f.path}:{f.span.row}: {f.message}" for f in filtered.findings if f.code == "GL000"]


@pytest.mark.slow
def test_the_prefilter_loses_no_finding_on_the_corpus(corpus, filtered):
    let_through = {p: filtered.by_path[p] for p in corpus if p.suffix == ".py" and may_matter(p.read_bytes())}
    skipped = len(corpus) - len(let_through)
    assert 0 < skipped < len(corpus)  # it skips some files, not none and not all
    unfiltered = engine.run(corpus, SETTINGS, jobs=os.cpu_count(), prefilter=False, reuse=let_through)
    assert unfiltered.errors == []
    assert len(unfiltered.files) == len(corpus)
    assert _report(unfiltered) == _report(filtered)
