"""The reviewed real-code corpus (bench/review): every finding has a verdict, no run crashes.

The corpus is exported on demand from public repositories and is absent on a fresh clone (and in CI):
the test is skipped then. A change that adds findings must review them (bench/review/review.py
--skeleton) before this passes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / ".corpus" / "review"


@pytest.mark.slow
def test_every_corpus_finding_is_reviewed_and_no_run_crashes():
    if not CORPUS.is_dir() or not any(CORPUS.glob("*/.commit")):
        pytest.skip("the review corpus is not exported here (bench/review/review.py exports it)")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "review" / "review.py"), "--mirror", "/nonexistent"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "| **total** |" in done.stdout
    total = next(line for line in done.stdout.splitlines() if line.startswith("| **total**"))
    unreviewed = int(total.split("|")[8].strip("* "))
    assert unreviewed == 0, "findings with no verdict: run bench/review/review.py --unreviewed"
