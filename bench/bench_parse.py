"""gradlint against the bare libcst parse, on a pinned corpus of real training-framework code.

    .venv/bin/python bench/bench_parse.py            # build (or reuse) the corpus, time both, print the ratio
    .venv/bin/python bench/bench_parse.py --corpus DIR --repeat 5 --jobs 2

The corpus is the unpacked wheels of a few training frameworks (downloaded once with
`pip download --no-deps`, cached, never committed). Both sides use a process pool of the same size:
(a) read + decode + `libcst.parse_module` of every .py file, nothing else;
(b) `gradlint --exit-zero -q <corpus>` as a fresh process (cold: interpreter start-up, imports,
    discovery, parse, facts, checks, output), exactly what a user runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

WHEELS = (
    "pytorch-lightning==2.5.1",
    "stable-baselines3==2.6.0",
    "pytorch-ignite==0.5.2",
    "torchtune==0.6.1",
    "litgpt==0.5.8",
)
DEFAULT_CACHE = Path(os.environ.get("GRADLINT_BENCH_CACHE", Path.home() / ".cache" / "gradlint-bench"))


def build_corpus(cache: Path) -> Path:
    """Download the pinned wheels (once) and unpack each into cache/src/<wheel name>."""
    wheels, src = cache / "wheels", cache / "src"
    wheels.mkdir(parents=True, exist_ok=True)
    for requirement in WHEELS:
        name = requirement.split("==")[0].replace("-", "_").lower()
        version = requirement.split("==")[1]
        if not any(w.name.lower().startswith(f"{name}-{version}-") for w in wheels.glob("*.whl")):
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "-d", str(wheels), requirement],
                check=True,
            )
    for wheel in sorted(wheels.glob("*.whl")):
        target = src / wheel.name[: -len(".whl")]
        if not target.is_dir():
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(target)
    return src


def _parse_chunk(paths: list[str]) -> int:
    import libcst

    from gradlint.engine import decode

    parsed = 0
    for path in paths:
        try:
            libcst.parse_module(decode(Path(path).read_bytes()))
            parsed += 1
        except Exception:  # a file the parser rejects costs what it costs; the count tells
            pass
    return parsed


def time_bare_parse(files: list[Path], jobs: int) -> tuple[float, int]:
    """Wall time of the bare parse, pool start-up included (gradlint pays it too)."""
    chunk = max(1, min(64, len(files) // (jobs * 8)))
    chunks = [[str(p) for p in files[i : i + chunk]] for i in range(0, len(files), chunk)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parsed = sum(pool.map(_parse_chunk, chunks))
    return time.perf_counter() - start, parsed


def time_gradlint(corpus: Path, jobs: int) -> tuple[float, int]:
    exe = shutil.which("gradlint", path=str(Path(sys.executable).parent)) or "gradlint"
    start = time.perf_counter()
    done = subprocess.run([exe, "--exit-zero", "-q", "--no-cache", "--jobs", str(jobs), str(corpus)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"gradlint exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed, sum(1 for line in done.stdout.splitlines() if ": GL" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="an unpacked corpus to use instead of downloading one")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"where wheels are kept (default {DEFAULT_CACHE})")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    corpus = args.corpus or build_corpus(args.cache)
    files = sorted(p for p in corpus.rglob("*.py") if p.is_file())
    print(f"corpus: {corpus} ({len(files)} .py files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB), "
          f"{args.jobs} processes, {args.repeat} repetitions")

    parse_times, lint_times = [], []
    for _ in range(args.repeat):
        seconds, parsed = time_bare_parse(files, args.jobs)
        parse_times.append(seconds)
        seconds, findings = time_gradlint(corpus, args.jobs)
        lint_times.append(seconds)
    for label, times in (("bare libcst parse", parse_times), ("gradlint (cold)", lint_times)):
        print(f"{label:<18} min {min(times):6.2f} s   median {statistics.median(times):6.2f} s")
    print(f"parsed {parsed}/{len(files)} files; gradlint printed {findings} findings")
    print(f"ratio gradlint / parse: min {min(lint_times) / min(parse_times):.2f}x   "
          f"median {statistics.median(lint_times) / statistics.median(parse_times):.2f}x")


if __name__ == "__main__":
    main()
