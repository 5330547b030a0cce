"""gradlint, every rule on, over the released sources of five training libraries no one here wrote.

    .venv/bin/python bench/real_code.py                       # download once, lint, print counts
    .venv/bin/python bench/real_code.py --cache DIR --findings --markdown counts.md

Each pinned release is fetched with `pip download --no-deps` (the wheel, nothing installed), unpacked
into the cache (default bench/.corpus/real, gitignored) and linted exactly as a user would:
`gradlint --select ALL --output-format json --exit-zero` in a fresh process. The summary gives the
findings per code and per package, the number of files, and every "gradlint: internal error" line.
The per-finding review of one run lives in bench/REAL_CODE.md; tests/test_real_code.py repeats the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# The newest release of each on PyPI on 2026-11-22.
PACKAGES = (
    "yolov5==7.0.14",
    "litgpt==0.5.13",
    "torchtune==0.6.1",
    "stable-baselines3==2.9.2",
    "pytorch-ignite==0.5.5",
)
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / "bench" / ".corpus" / "real"
GRADLINT = [sys.executable, "-m", "gradlint"]
INTERNAL_ERROR = "gradlint: internal error"


class DownloadError(Exception):
    """`pip download` failed (no network, no such release): the run cannot be reproduced here."""


@dataclass
class Run:
    files: int
    findings: list[dict]
    internal_errors: list[str]
    returncode: int
    by_code: Counter = field(default_factory=Counter)
    by_package: Counter = field(default_factory=Counter)


def package_dir(requirement: str) -> str:
    """'stable-baselines3==2.9.2' → 'stable-baselines3-2.9.2' (one folder per release in the cache)."""
    name, version = requirement.split("==")
    return f"{name}-{version}"


def fetch(cache: Path) -> list[Path]:
    """Download (once) and unpack every pinned release; returns the unpacked folders in PACKAGES order."""
    downloads, unpacked = cache / "downloads", cache / "src"
    folders = []
    for requirement in PACKAGES:
        target = unpacked / package_dir(requirement)
        if not (target / ".complete").is_file():
            archive = _download(requirement, downloads / package_dir(requirement))
            _unpack(archive, target)
            (target / ".complete").write_text(archive.name + "\n", encoding="utf-8")
        folders.append(target)
    # An empty config next to the sources: no [tool.gradlint] further up may change what is linted.
    (unpacked / "gradlint.toml").write_text("", encoding="utf-8")
    return folders


def _download(requirement: str, into: Path) -> Path:
    existing = sorted(p for p in into.glob("*") if p.suffix in (".whl", ".gz", ".zip")) if into.is_dir() else []
    if existing:
        return existing[0]
    into.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(into), requirement]
    done = subprocess.run(command, capture_output=True, text=True)
    archives = sorted(p for p in into.glob("*") if p.suffix in (".whl", ".gz", ".zip"))
    if done.returncode != 0 or not archives:
        raise DownloadError(f"pip download {requirement} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return archives[0]


def _unpack(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(target)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(target, filter="data")


def lint(folders: list[Path], jobs: int | None = None) -> Run:
    """One gradlint process over all the folders; findings come back as ruff-style JSON."""
    unpacked = folders[0].parent
    command = [*GRADLINT, "check", "--select", "ALL", "--output-format", "json", "--exit-zero",
               "--no-respect-gitignore", "--config", str(unpacked / "gradlint.toml")]
    if jobs:
        command += ["--jobs", str(jobs)]
    command += [f.name for f in folders]
    done = subprocess.run(command, cwd=unpacked, capture_output=True, text=True)
    errors = [line for line in done.stderr.splitlines() if line.startswith(INTERNAL_ERROR)]
    try:
        findings = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError:
        findings = []
    if done.returncode not in (0, 2) or "Traceback (most recent call last)" in done.stderr:
        # A crash outside any one check: count it with the internal errors so no run hides it.
        errors.append(f"{INTERNAL_ERROR}: gradlint exited {done.returncode}: {done.stderr.strip()[-800:]}")
    run = Run(files=count_files(folders), findings=findings, internal_errors=errors, returncode=done.returncode)
    for item in findings:
        item["filename"] = _relative(Path(item["filename"]), unpacked)
        run.by_code[item["code"]] += 1
        run.by_package[Path(item["filename"]).parts[0]] += 1
    return run


def _relative(path: Path, unpacked: Path) -> str:
    """'<cache>/src/litgpt-0.5.13/litgpt/model.py' → 'litgpt-0.5.13/litgpt/model.py'."""
    try:
        return (unpacked / path).resolve().relative_to(unpacked.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def count_files(folders: list[Path]) -> int:
    """The files gradlint reads there: its own discovery, with .gitignore off as in the run."""
    from gradlint import config, discovery

    settings = config.Settings(respect_gitignore=False)
    return len(discovery.discover([str(f) for f in folders], settings))


def summary(run: Run, folders: list[Path]) -> str:
    lines = [f"files linted: {run.files}", f"findings: {len(run.findings)}",
             f"internal errors: {len(run.internal_errors)}", "", "per code:"]
    lines += [f"  {code}  {count}" for code, count in sorted(run.by_code.items())] or ["  (none)"]
    lines += ["", "per package:"]
    lines += [f"  {f.name:<28} {run.by_package.get(f.name, 0)}" for f in folders]
    lines += [f"  {line}" for line in run.internal_errors]
    return "\n".join(lines) + "\n"


def finding_lines(run: Run) -> str:
    rows = sorted(run.findings, key=lambda f: (f["filename"], f["location"]["row"], f["code"]))
    return "".join(f"{f['filename']}:{f['location']['row']}: {f['code']} {f['message']}\n" for f in rows)


def markdown(run: Run, folders: list[Path]) -> str:
    out = ["| package | findings |", "|---|---:|"]
    out += [f"| {f.name} | {run.by_package.get(f.name, 0)} |" for f in folders]
    out += ["", "| code | findings |", "|---|---:|"]
    out += [f"| {code} | {count} |" for code, count in sorted(run.by_code.items())]
    out += ["", f"{run.files} files, {len(run.findings)} findings, {len(run.internal_errors)} internal errors."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where releases are downloaded and unpacked")
    parser.add_argument("--jobs", type=int, default=None, help="gradlint --jobs (default: all cores)")
    parser.add_argument("--findings", action="store_true", help="also list every finding (file:line code message)")
    parser.add_argument("--markdown", type=Path, help="also write the count tables as Markdown to this file")
    args = parser.parse_args(argv)
    try:
        folders = fetch(args.cache.resolve())
    except DownloadError as exc:
        print(f"real_code: {exc}", file=sys.stderr)
        return 2
    run = lint(folders, args.jobs)
    sys.stdout.write(summary(run, folders))
    if args.findings:
        sys.stdout.write("\n" + finding_lines(run))
    if args.markdown:
        args.markdown.write_text(markdown(run, folders), encoding="utf-8")
    return 1 if run.internal_errors or run.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
