"""gradlint against the bare libcst parse and its peers (TorchFix, Fixit, ruff), in one run, same files.

    .venv/bin/python bench/bench_peers.py                        # build the corpus and peers once, time, write RESULTS.md
    .venv/bin/python bench/bench_peers.py --peers-venv /tmp/peers --repeat 3 --repeat-peers 2

The corpus is the pinned wheels of bench_parse.py (five training frameworks) plus `transformers`,
downloaded once with `pip download --no-deps` and unpacked under the cache folder (default
~/.cache/gradlint-bench, or $GRADLINT_BENCH_CACHE; never committed). The peers are installed at pinned
versions into their own virtualenv (<cache>/peers-venv) unless --peers-venv names one.

Every timed command runs as a fresh process under GNU time (`-f %M`): its peak RSS is ru_maxrss, the
largest resident set of that process and of every child it waited for (the pool workers), i.e. the
peak of the biggest single process. Repetitions are interleaved (tool A, tool B,
..., then again) so that a load spike on this shared machine hits every tool alike; tables report the
minimum and the median. Results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_parse  # noqa: E402  (the pinned wheels and the bare-parse timing live there)

EXTRA_WHEELS = ("transformers==5.23.0",)  # the newest release on 2026-11-22: 2,860 .py files
PEERS = ("torchfix==0.7.0", "fixit==2.2.1", "ruff==0.17.6")
TOUCH_EVERY = 100  # "touch 1% of files": every 100th file of the sorted list
GRADLINT = Path(sys.executable).parent / "gradlint"


# ---------------------------------------------------------------- corpus and peers


def build_extra(cache: Path) -> list[Path]:
    """Download and unpack EXTRA_WHEELS beside (not inside) bench_parse's corpus, which stays as it was."""
    wheels, src = cache / "extra-wheels", cache / "extra-src"
    wheels.mkdir(parents=True, exist_ok=True)
    for requirement in EXTRA_WHEELS:
        name, version = requirement.split("==")
        if not any(w.name.lower().startswith(f"{name.replace('-', '_')}-{version}-") for w in wheels.glob("*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            "-d", str(wheels), requirement], check=True)
    folders = []
    for wheel in sorted(wheels.glob("*.whl")):
        target = src / wheel.name[: -len(".whl")]
        if not target.is_dir():
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(target)
        folders.append(target)
    return folders


def peers_venv(cache: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    venv = cache / "peers-venv"
    if not (venv / "bin" / "torchfix").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *PEERS], check=True)
    return venv


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def copy_tree(source: Path, target: Path, hardlink: bool) -> None:
    shutil.copytree(source, target, copy_function=_link_or_copy if hardlink else shutil.copy2)


def touch(files: list[Path], rep: int) -> None:
    """Append a comment line: a real content change (the cache key is the content hash)."""
    for path in files:
        data = path.read_bytes()
        path.write_bytes(data + (b"" if data.endswith(b"\n") or not data else b"\n")
                         + f"# touched by bench_peers.py, repetition {rep}\n".encode())


def discovered(paths: list[Path]) -> list[Path]:
    """The files gradlint itself lints there: the same list feeds the bare parse."""
    from gradlint import config, discovery

    settings = config.Settings(respect_gitignore=False)
    return discovery.discover([str(p) for p in paths], settings)


# ---------------------------------------------------------------- measuring


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    rc: int
    load: float


@dataclass
class Row:
    label: str
    command: str
    files: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(s.seconds for s in self.samples)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.rss_mib for s in self.samples)


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time: forks the command from a small process


def measure(argv: list[str], ok=(0,)) -> tuple[Sample, str, str]:
    """Wall time and peak RSS (largest single process of the tree) of one fresh process.

    The peak comes from GNU time's child, not from our own os.wait4: Linux charges a child the parent's
    high-water RSS when it execs, so a child forked from this (large) process would report our size.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as peak:
        wrapped = [TIME, "-q", "-f", "%M", "-o", peak.name, *argv] if TIME else argv
        load = os.getloadavg()[0]
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        kib = int(Path(peak.name).read_text().split()[-1]) if TIME else usage.ru_maxrss
    if process.returncode not in ok:
        sys.exit(f"{' '.join(argv)[:200]} exited {process.returncode}:\n{stderr[-2000:]}")
    return Sample(seconds, kib / 1024, process.returncode, load), stdout, stderr


class Bench:
    def __init__(self, log):
        self.rows: dict[str, Row] = {}
        self.log = log

    def run(self, key: str, label: str, argv: list[str], files: int, ok=(0,), shown: str | None = None) -> str:
        row = self.rows.setdefault(key, Row(label, shown or " ".join(argv), files))
        sample, stdout, stderr = measure(argv, ok)
        row.samples.append(sample)
        self.log(f"  {label:<46} {sample.seconds:8.2f} s  {sample.rss_mib:6.0f} MiB  load {sample.load:4.1f}")
        return stdout + stderr


def bare_parse_argv(files: list[Path], jobs: int, work: Path, name: str) -> list[str]:
    listing = work / f"{name}.files"
    listing.write_text("\n".join(str(p) for p in files))
    return [sys.executable, str(Path(__file__).resolve()), "--bare-parse", str(listing), "--jobs", str(jobs)]


def bare_parse_main(listing: Path, jobs: int) -> None:
    files = [Path(line) for line in listing.read_text().splitlines()]
    seconds, parsed = bench_parse.time_bare_parse(files, jobs)
    print(json.dumps({"seconds": seconds, "parsed": parsed, "files": len(files)}))


# ---------------------------------------------------------------- the run


def gradlint_argv(paths, jobs: int, *extra: str) -> list[str]:
    return [str(GRADLINT), "--exit-zero", "-q", "--no-respect-gitignore", "--jobs", str(jobs), *extra,
            *(str(p) for p in paths)]


def versions(venv: Path) -> dict[str, str]:
    found = {"python": platform.python_version()}
    found["gradlint"] = subprocess.run([str(GRADLINT), "--version"], capture_output=True, text=True).stdout.split()[-1]
    script = ("import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in "
              "('libcst', 'torchfix', 'fixit', 'ruff') if __import__('importlib.util').util.find_spec(n)}))")
    found["libcst (gradlint)"] = subprocess.run([sys.executable, "-c", "import libcst, importlib.metadata as m; "
                                                 "print(m.version('libcst'))"], capture_output=True, text=True).stdout.strip()
    peers = json.loads(subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True).stdout)
    found.update({f"{k} (peers venv)" if k == "libcst" else k: v for k, v in peers.items()})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=bench_parse.DEFAULT_CACHE, help="wheels, corpus, peers venv, work copies")
    parser.add_argument("--peers-venv", type=Path, help="a virtualenv that already has torchfix, fixit and ruff")
    parser.add_argument("--jobs", type=int, default=2, help="processes for every tool (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the cheap runs")
    parser.add_argument("--repeat-full", type=int, default=2, help="repetitions of the cold runs on the full corpus")
    parser.add_argument("--repeat-peers", type=int, default=2, help="repetitions of TorchFix and Fixit")
    parser.add_argument("--repeat-scale", type=int, default=2, help="repetitions of the x2 / x4 scaling runs")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--bare-parse", type=Path, help=argparse.SUPPRESS)  # internal: one timed bare parse
    args = parser.parse_args()
    if args.bare_parse:
        return bare_parse_main(args.bare_parse, args.jobs)

    started = time.perf_counter()
    load_start = os.getloadavg()
    log = lambda text: print(text, flush=True)  # noqa: E731
    cache = args.cache.resolve()
    base_dirs = sorted(p for p in bench_parse.build_corpus(cache).iterdir() if p.is_dir())
    extra_dirs = build_extra(cache)
    venv = peers_venv(cache, args.peers_venv)
    work = cache / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    base = discovered(base_dirs)
    full = discovered(base_dirs + extra_dirs)
    for path in full:  # every file in the page cache before the first timing
        path.read_bytes()
    copy = work / "copy"  # a real copy (not links): the touched runs write into it, never into the cache
    for folder in base_dirs + extra_dirs:
        copy_tree(folder, copy / folder.name, hardlink=False)
    copy_files = discovered([copy])
    scale_dirs = [work / "scale" / f"copy{i}" for i in range(4)]
    for target in scale_dirs:
        for folder in base_dirs:
            copy_tree(folder, target / folder.name, hardlink=True)
    megabytes = sum(p.stat().st_size for p in full) / 1e6
    log(f"corpus: {len(base)} files (5 pinned wheels), {len(full)} with transformers ({megabytes:.1f} MB); "
        f"jobs {args.jobs}; load {load_start[0]:.2f}")

    bench = Bench(log)
    jobs, tool = args.jobs, lambda name: str(venv / "bin" / name)
    measure([str(GRADLINT), "--version"])  # byte-compile once, untimed

    log("startup")
    for _ in range(max(5, args.repeat)):
        bench.run("version", "gradlint --version", [str(GRADLINT), "--version"], 0)
        bench.run("help", "gradlint --help", [str(GRADLINT), "--help"], 0)
        bench.run("rules", "gradlint rules", [str(GRADLINT), "rules"], 0)

    log(f"the {len(base)}-file corpus: gradlint, the bare parse and every peer on the same files")
    torchfix_output = ""
    for rep in range(max(args.repeat, args.repeat_peers)):
        if rep < args.repeat:
            bench.run("b.bare", "bare libcst parse", bare_parse_argv(base, jobs, work, "base"), len(base),
                      shown=f"bench_parse.time_bare_parse(<{len(base)} files>, jobs={jobs})")
            bench.run("b.cold", "gradlint cold (--no-cache)", gradlint_argv(base_dirs, jobs, "--no-cache"), len(base))
            bench.run("b.cold1", "gradlint cold, 1 process", gradlint_argv(base_dirs, 1, "--no-cache"), len(base))
            bench.run("b.bare1", "bare libcst parse, 1 process", bare_parse_argv(base, 1, work, "base"), len(base),
                      shown=f"bench_parse.time_bare_parse(<{len(base)} files>, jobs=1)")
            bench.run("b.ruff", "ruff check --no-cache", [tool("ruff"), "check", "--no-cache", "--no-respect-gitignore",
                      *map(str, base_dirs)], len(base), ok=(0, 1))
        if rep < args.repeat_peers:
            torchfix_output = bench.run("b.torchfix", "TorchFix", [tool("torchfix"), "--jobs", str(jobs),
                                        *map(str, base_dirs)], len(base), ok=(0, 1))
            bench.run("b.fixit", "Fixit (fixit lint)", [tool("fixit"), "lint", *map(str, base_dirs)], len(base), ok=(0, 1))

    log(f"the full corpus ({len(full)} files, transformers included)")
    cache_dir = work / "gradlint-cache"
    touched_all = copy_files[::TOUCH_EVERY]
    one = copy_files[len(copy_files) // 2 :][:1]
    for rep in range(args.repeat_full):
        bench.run("f.bare", "bare libcst parse", bare_parse_argv(full, jobs, work, "full"), len(full),
                  shown=f"bench_parse.time_bare_parse(<{len(full)} files>, jobs={jobs})")
        bench.run("f.cold", "gradlint cold (--no-cache)", gradlint_argv(base_dirs + extra_dirs, jobs, "--no-cache"), len(full))
        shutil.rmtree(cache_dir, ignore_errors=True)
        cached = gradlint_argv([copy], jobs, "--cache-dir", str(cache_dir))
        bench.run("f.empty", "gradlint cold (empty cache dir)", cached, len(full))
        for _ in range(args.repeat):
            bench.run("f.warm", "gradlint warm (nothing changed)", cached, len(full))
        touch(one, rep)
        bench.run("f.one", "gradlint warm, 1 file changed", cached, len(full))
        touch(touched_all, rep)
        bench.run("f.touched", f"gradlint warm, 1% changed ({len(touched_all)} files)", cached, len(full))
        bench.run("f.ruff", "ruff check --no-cache", [tool("ruff"), "check", "--no-cache", "--no-respect-gitignore",
                  *map(str, base_dirs + extra_dirs)], len(full), ok=(0, 1))
    warm_imports_libcst = imports_libcst([sys.executable, "-X", "importtime", "-m", "gradlint", *cached[1:]])
    checked = {"torchfix": _torchfix_checked(torchfix_output)}

    log(f"scaling: the {len(base)}-file corpus x1, x2, x4 (hard-linked copies)")
    for rep in range(args.repeat_scale):
        for factor in (1, 2, 4):
            paths = [d for target in scale_dirs[:factor] for d in sorted(target.iterdir())]
            bench.run(f"s.{factor}", f"gradlint cold x{factor}", gradlint_argv(paths, jobs, "--no-cache"),
                      len(base) * factor)

    facts = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "cpu": _cpu_name(),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "minutes": (time.perf_counter() - started) / 60,
        "versions": versions(venv),
        "base_files": len(base),
        "full_files": len(full),
        "megabytes": megabytes,
        "jobs": jobs,
        "touched": len(touched_all),
        "warm_imports_libcst": warm_imports_libcst,
        "checked": checked,
        "cache": str(cache),
        "argv": " ".join(sys.argv[1:]),
    }
    args.results.write_text(render(bench.rows, facts) + _kept(args.results))
    log(f"wrote {args.results} after {facts['minutes']:.1f} min; load {facts['load_end'][0]:.2f}")


def imports_libcst(argv: list[str]) -> bool:
    """Whether a run loads libcst at all (`python -X importtime` lists every module imported)."""
    stderr = subprocess.run(argv, capture_output=True, text=True).stderr
    names = (line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:"))
    return any(name == "libcst" or name.startswith("libcst.") for name in names)


def _torchfix_checked(output: str) -> int | None:
    """TorchFix skips files that never mention torch; it prints how many it looked at."""
    match = re.search(r"Finished checking (\d+) files", output)
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------- RESULTS.md

TARGETS = (  # (what, measured by, limit, lower is better)
    ("cold ≤ 2.5× the bare parse, {base} files", lambda r: r["b.cold"].best / r["b.bare"].best, 2.5, "×"),
    ("cold ≤ 2.5× the bare parse, {full} files", lambda r: r["f.cold"].best / r["f.bare"].best, 2.5, "×"),
    ("≥ 8× faster than TorchFix", lambda r: r["b.torchfix"].best / r["b.cold"].best, 8, "× faster"),
    ("≥ 6× faster than Fixit", lambda r: r["b.fixit"].best / r["b.cold"].best, 6, "× faster"),
    ("warm, nothing changed ≤ 1 s ({full} files)", lambda r: r["f.warm"].best, 1.0, "s"),
    ("one changed file ≤ 1.5 s ({full} files)", lambda r: r["f.one"].best, 1.5, "s"),
    ("`--version` ≤ 0.15 s", lambda r: r["version"].best, 0.15, "s"),
    ("`--help` ≤ 0.15 s", lambda r: r["help"].best, 0.15, "s"),
    ("`gradlint rules` ≤ 0.15 s", lambda r: r["rules"].best, 0.15, "s"),
    ("2 processes ≥ 1.85× faster than 1 ({base} files)", lambda r: r["b.cold1"].best / r["b.cold"].best, 1.85, "× faster"),
    ("peak RSS per process ≤ 150 MiB (every gradlint run)",
     lambda r: max(row.rss for key, row in r.items() if "gradlint" in row.label), 150, "MiB"),
)


KEEP = "<!-- kept: the sections below are written by other benchmarks, and bench_peers.py leaves them -->"


def _kept(results: Path) -> str:
    """The part of an existing RESULTS.md from KEEP on (bench_server.py's numbers), to write back after the tables."""
    old = results.read_text(encoding="utf-8") if results.is_file() else ""
    return "\n" + old[old.index(KEEP):] if KEEP in old else ""


def _ratio(value: float) -> str:
    return f"{value:.3f}×" if value < 0.1 else f"{value:.2f}×" if value < 10 else f"{value:.0f}×"


def _table(rows: list[Row], bare: Row | None, peers: list[tuple[str, Row]]) -> list[str]:
    head = ["what", "runs", "min s", "median s", "files/s", "peak RSS MiB"]
    head += ["time ÷ bare parse"] if bare else []
    head += [f"{name} ÷ time" for name, _ in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.label, str(len(row.samples)), f"{row.best:.2f}", f"{row.median:.2f}",
                 f"{row.files / row.best:,.0f}", f"{row.rss:.0f}"]
        if bare:
            cells.append(_ratio(row.best / bare.best))
        cells += [_ratio(peer.best / row.best) for _, peer in peers]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render(rows: dict[str, Row], facts: dict) -> str:
    r, jobs = rows, facts["jobs"]
    load = lambda triple: " / ".join(f"{x:.2f}" for x in triple)  # noqa: E731
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    out = [
        "# Benchmark results",
        "",
        f"Written by `bench/bench_peers.py {facts['argv']}`".rstrip() + f" on {facts['date']}, in {facts['minutes']:.1f} min.",
        "",
        f"- Machine: {facts['cores']} cores ({facts['cpu']}), no GPU; **shared with other jobs while it ran**: "
        f"load average (1 / 5 / 15 min) {load(facts['load_start'])} at the start, {load(facts['load_end'])} at the end. "
        "Every figure is the minimum over the repetitions (the median is beside it); compare figures of one run only.",
        f"- Versions: {versions}.",
        f"- Corpus: the five pinned wheels of `bench_parse.py` ({', '.join(bench_parse.WHEELS)}): "
        f"**{facts['base_files']} files**; with {', '.join(EXTRA_WHEELS)} added: **{facts['full_files']} files** in all, "
        f"{facts['megabytes']:.1f} MB. Every tool gets the same folders, {jobs} processes "
        "(`--jobs`; Fixit has no such flag and uses every core, which is the same here).",
        "- gradlint runs as a user would, default rules: `gradlint --exit-zero -q --no-respect-gitignore --jobs N PATHS` "
        "(plus `--no-cache`, or `--cache-dir`); the bare parse is `bench_parse.time_bare_parse` (read, decode, "
        "`libcst.parse_module`, nothing else) in a fresh process with a pool of the same size. Wall times include "
        "interpreter start-up for every tool. Peak RSS: `ru_maxrss` as GNU time reports it (`-f %M`) — the "
        "largest single process of the tree (main process or one pool worker), not their sum.",
        "",
        f"## Same files: the {facts['base_files']}-file corpus, {jobs} processes, gradlint against its peers",
        "",
        "TorchFix and Fixit take minutes, so they run on this corpus only (not on transformers).",
        "",
    ]
    peers = [("TorchFix", r["b.torchfix"]), ("Fixit", r["b.fixit"]), ("ruff", r["b.ruff"])]
    out += _table([r[k] for k in ("b.bare", "b.cold", "b.torchfix", "b.fixit", "b.ruff")], r["b.bare"], peers)
    if facts["checked"].get("torchfix") is not None:
        out += ["", f"TorchFix reported `Finished checking {facts['checked']['torchfix']} files`: it skips files "
                "that never mention torch (gradlint's byte pre-filter does the same kind of thing)."]
    out += ["", "ruff has no rule about gradients; it is here as the speed of a native linter over the same bytes.", ""]

    out += [f"## The full corpus ({facts['full_files']} files, transformers included), {jobs} processes", "",
            f"The cache runs use a real copy of the corpus; \"1% changed\" appends a comment line to every "
            f"{TOUCH_EVERY}th file ({facts['touched']} files) before the run, \"1 file changed\" to one file. "
            f"Warm runs import libcst: **{'yes' if facts['warm_imports_libcst'] else 'no'}** (`python -X importtime`).", ""]
    out += _table([r[k] for k in ("f.bare", "f.cold", "f.empty", "f.warm", "f.one", "f.touched", "f.ruff")], r["f.bare"],
                  [("ruff", r["f.ruff"])])

    out += ["", f"## 1 process against {jobs} ({facts['base_files']} files, cold)", "",
            "| what | 1 process min s | " + f"{jobs} processes min s | speed-up |", "|---|---|---|---|"]
    for label, one, many in (("gradlint", r["b.cold1"], r["b.cold"]), ("bare libcst parse", r["b.bare1"], r["b.bare"])):
        out.append(f"| {label} | {one.best:.2f} | {many.best:.2f} | {one.best / many.best:.2f}× |")

    out += ["", f"## Scaling: the {facts['base_files']}-file corpus ×1, ×2, ×4 (copies), gradlint cold, {jobs} processes", "",
            "| copies | files | runs | min s | median s | ms per file | time ÷ ×1 |", "|---|---|---|---|---|---|---|"]
    for factor in (1, 2, 4):
        row = r[f"s.{factor}"]
        out.append(f"| ×{factor} | {row.files} | {len(row.samples)} | {row.best:.2f} | {row.median:.2f} | "
                   f"{1000 * row.best / row.files:.2f} | {row.best / r['s.1'].best:.2f}× |")

    out += ["", "## Start-up", "", "| command | runs | min s | median s | peak RSS MiB |", "|---|---|---|---|---|"]
    for key in ("version", "help", "rules"):
        row = r[key]
        out.append(f"| `{row.label}` | {len(row.samples)} | {row.best:.3f} | {row.median:.3f} | {row.rss:.0f} |")

    out += ["", "## Targets (issue 8)", "", "| target | measured (min) | met |", "|---|---|---|"]
    for what, measured, limit, unit in TARGETS:
        value = measured(r)
        met = value >= limit if "faster" in unit else value <= limit
        shown = f"{value:.2f} {unit}" if unit in ("s", "MiB") else f"{value:.2f}{unit}"
        what = what.format(base=facts["base_files"], full=facts["full_files"])
        out.append(f"| {what} | {shown} | {'yes' if met else '**no**'} |")

    out += ["", "## Every sample", "", "Seconds, in the order they ran (load average at the start of each run "
            "in brackets); the command lines with the cache folder written `<cache>`.", ""]
    for row in r.values():
        times = ", ".join(f"{s.seconds:.2f} ({s.load:.1f})" for s in row.samples)
        command = row.command.replace(facts["cache"], "<cache>").replace(str(GRADLINT), "gradlint")
        out.append(f"- **{row.label}**: {times}  \n  `{command[:300]}`")
    return "\n".join(out) + "\n"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
