"""gradlint, every rule on, over real training scripts from five GitHub repositories no one here wrote.

    .venv/bin/python bench/real_scripts.py                                  # lint what is in --src
    .venv/bin/python bench/real_scripts.py --findings --review bench/REAL_SCRIPTS.md
    .venv/bin/python bench/real_scripts.py export --git-dir examples=/path/to/examples.git ...

Each repository is pinned to one commit (REPOS). Its Python files live in `--src` (default
bench/.corpus/scripts, gitignored), one folder per repository, with a `.commit` file naming the
commit they came from. A folder gets there in one of two ways:
  - `export`: `git archive <pinned commit> -- '*.py'` from a bare git directory you already have
    (for example one that a mirror tool fetched), so no network is needed;
  - otherwise, on a plain run, a shallow `git fetch` of the pinned commit from github.com; where
    that fails (no network), the repository is skipped and named as missing.
Each repository is linted on its own, in a fresh process, the way its maintainers would run it:
`gradlint check --select ALL --output-format json --exit-zero --no-respect-gitignore` with an
empty config beside it. `--review FILE` compares the findings with the review table of
bench/REAL_SCRIPTS.md: a finding with no row there is unreviewed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = ROOT / "bench" / ".corpus" / "scripts"
GRADLINT = [sys.executable, "-m", "gradlint"]
INTERNAL_ERROR = "gradlint: internal error"


@dataclass(frozen=True)
class Repo:
    name: str  # folder under --src, and the first path part of every finding
    slug: str  # owner/name on github.com
    commit: str


# The newest commit of each default branch in the mirror on 2026-11-22.
REPOS = (
    Repo("examples", "pytorch/examples", "77f55b912142e11fcfdf5b530231fb9c52f181e8"),
    Repo("nanoGPT", "karpathy/nanoGPT", "3adf61e154c3fe3fca428ad6bc3818b27a3b8291"),
    Repo("minGPT", "karpathy/minGPT", "37baab71b9abea1b76ab957409a1cc2fbfba8a26"),
    Repo("accelerate", "huggingface/accelerate", "16cb6eb80dd9aa8b4df1a63ef57863e455d53b83"),
    Repo("pytorch-image-models", "huggingface/pytorch-image-models", "aa4b5850c1543fa488abf260f18390eda46cf85d"),
)


class ExportError(Exception):
    """A repository could not be exported or fetched at its pinned commit."""


@dataclass
class Run:
    repos: list[str]  # linted, in REPOS order
    missing: list[str]  # not in --src and not fetchable here
    stale: list[str]  # present, but exported from another commit than the pinned one
    files: int = 0
    findings: list[dict] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    returncodes: dict[str, int] = field(default_factory=dict)
    by_code: Counter = field(default_factory=Counter)
    by_repo: Counter = field(default_factory=Counter)


def export(repo: Repo, git_dir: Path, src: Path) -> Path:
    """`git archive` the pinned commit's *.py files from a bare git directory into src/<name>."""
    target = src / repo.name
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "tree.tar"
        # Only Python files: some repositories hold data files (LFS, large corpora) a mirror lacks.
        done = subprocess.run(
            ["git", f"--git-dir={git_dir}", "archive", "--format=tar", "-o", str(archive), repo.commit, "--", "*.py"],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise ExportError(f"git archive {repo.slug}@{repo.commit[:12]} failed: {done.stderr.strip()[-400:]}")
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        with tarfile.open(archive) as bundle:
            bundle.extractall(target, filter="data")
    (target / ".commit").write_text(repo.commit + "\n", encoding="utf-8")
    return target


def fetch(repo: Repo, src: Path) -> Path:
    """Shallow-fetch the pinned commit from github.com (needs network) and export it."""
    with tempfile.TemporaryDirectory() as tmp:
        git_dir = Path(tmp) / "repo.git"
        steps = (
            ["git", "init", "--bare", "--quiet", str(git_dir)],
            ["git", f"--git-dir={git_dir}", "fetch", "--quiet", "--depth", "1",
             f"https://github.com/{repo.slug}.git", repo.commit],
        )
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                raise ExportError(f"{' '.join(step[:3])} for {repo.slug} failed: {done.stderr.strip()[-400:]}")
        return export(repo, git_dir, src)


def prepare(src: Path, allow_fetch: bool = True) -> tuple[list[Repo], list[str], list[str]]:
    """The repositories ready to lint, the missing ones, and those exported from another commit."""
    ready, missing, stale = [], [], []
    for repo in REPOS:
        folder = src / repo.name
        if not folder.is_dir() and allow_fetch:
            try:
                fetch(repo, src)
            except (ExportError, OSError, subprocess.TimeoutExpired) as exc:
                print(f"real_scripts: {repo.name}: {exc}", file=sys.stderr)
        if not folder.is_dir():
            missing.append(repo.name)
            continue
        marker = folder / ".commit"
        if not marker.is_file() or marker.read_text(encoding="utf-8").strip() != repo.commit:
            stale.append(repo.name)
        ready.append(repo)
    if ready:
        # An empty config beside the trees: no [tool.gradlint] further up may change what is linted.
        (src / "gradlint.toml").write_text("", encoding="utf-8")
    return ready, missing, stale


def lint(src: Path, repos: list[Repo], missing: list[str] = (), stale: list[str] = ()) -> Run:
    """One gradlint process per repository (a project index never mixes two repositories)."""
    run = Run([r.name for r in repos], list(missing), list(stale))
    for repo in repos:
        command = [*GRADLINT, "check", "--select", "ALL", "--output-format", "json", "--exit-zero",
                   "--no-respect-gitignore", "--no-cache", "--config", str(src / "gradlint.toml"), repo.name]
        done = subprocess.run(command, cwd=src, capture_output=True, text=True)
        run.returncodes[repo.name] = done.returncode
        run.internal_errors += [f"{repo.name}: {line}" for line in done.stderr.splitlines() if line.startswith(INTERNAL_ERROR)]
        if done.returncode != 0 or "Traceback (most recent call last)" in done.stderr:
            run.internal_errors.append(f"{repo.name}: gradlint exited {done.returncode}: {done.stderr.strip()[-800:]}")
        try:
            findings = json.loads(done.stdout) if done.stdout.strip() else []
        except json.JSONDecodeError:
            findings = []
            run.internal_errors.append(f"{repo.name}: output is not JSON: {done.stdout[:200]!r}")
        for item in findings:
            item["filename"] = _relative(Path(item["filename"]), src)
            run.by_code[item["code"]] += 1
            run.by_repo[repo.name] += 1
        run.findings += findings
        run.files += sum(1 for _ in (src / repo.name).rglob("*.py"))
    run.findings.sort(key=lambda f: (f["filename"], f["location"]["row"], f["code"]))
    return run


def _relative(path: Path, src: Path) -> str:
    """'<src>/examples/mnist/main.py' → 'examples/mnist/main.py'."""
    try:
        return (src / path).resolve().relative_to(src.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def key(finding: dict) -> tuple[str, int, str]:
    return finding["filename"], finding["location"]["row"], finding["code"]


_REVIEW_ROW = re.compile(r"^\|\s*`?(?P<file>[^|`]+?):(?P<row>\d+)`?\s*\|\s*(?P<code>GL\d{3})\s*\|\s*(?P<verdict>[^|]+?)\s*\|")


def reviewed(review_md: Path) -> dict[tuple[str, int, str], str]:
    """The review table of REAL_SCRIPTS.md: (file, row, code) → verdict ('defend', 'false alarm', ...)."""
    rows = {}
    for line in review_md.read_text(encoding="utf-8").splitlines():
        match = _REVIEW_ROW.match(line)
        if match:
            rows[(match["file"].strip(), int(match["row"]), match["code"])] = match["verdict"].strip("* ").lower()
    return rows


def summary(run: Run) -> str:
    lines = [f"repositories linted: {', '.join(run.repos) or '(none)'}"]
    if run.missing:
        lines.append(f"missing (not in --src, not fetchable): {', '.join(run.missing)}")
    if run.stale:
        lines.append(f"exported from another commit than the pinned one: {', '.join(run.stale)}")
    lines += [f"python files: {run.files}", f"findings: {len(run.findings)}",
              f"internal errors: {len(run.internal_errors)}", "", "per code:"]
    lines += [f"  {code}  {count}" for code, count in sorted(run.by_code.items())] or ["  (none)"]
    lines += ["", "per repository:"] + [f"  {name:<24} {run.by_repo.get(name, 0)}" for name in run.repos]
    lines += [f"  {line}" for line in run.internal_errors]
    return "\n".join(lines) + "\n"


def review_report(run: Run, review: dict) -> tuple[str, bool]:
    """Unreviewed findings (a problem) and reviewed rows no longer produced (fixed, or moved)."""
    produced = {key(f) for f in run.findings}
    unreviewed = [k for k in sorted(produced) if k not in review]
    gone = [k for k in sorted(review) if k not in produced and k[0].split("/", 1)[0] in run.repos]
    lines = [f"\nreview: {len(produced) - len(unreviewed)}/{len(produced)} findings reviewed"]
    verdicts = Counter(review[k] for k in produced if k in review)
    lines += [f"  {verdict}: {n}" for verdict, n in sorted(verdicts.items())]
    lines += [f"  UNREVIEWED {f}:{r} {c}" for f, r, c in unreviewed]
    lines += [f"  no longer produced {f}:{r} {c} (was: {review[(f, r, c)]})" for f, r, c in gone]
    return "\n".join(lines) + "\n", not unreviewed


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        return _export_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="folder holding one exported tree per repository")
    parser.add_argument("--no-fetch", action="store_true", help="never try github.com for a missing repository")
    parser.add_argument("--findings", action="store_true", help="also list every finding (file:line code message)")
    parser.add_argument("--review", type=Path, help="REAL_SCRIPTS.md: list findings that have no review row")
    args = parser.parse_args(argv)
    src = args.src.resolve()
    src.mkdir(parents=True, exist_ok=True)
    repos, missing, stale = prepare(src, allow_fetch=not args.no_fetch)
    if not repos:
        print(f"real_scripts: no repository under {src} and none could be fetched", file=sys.stderr)
        return 2
    run = lint(src, repos, missing, stale)
    sys.stdout.write(summary(run))
    if args.findings:
        sys.stdout.write("\n" + "".join(f"{f}:{r}: {c} {m['message']}\n" for m in run.findings for f, r, c in [key(m)]))
    complete = True
    if args.review:
        text, complete = review_report(run, reviewed(args.review))
        sys.stdout.write(text)
    return 1 if run.internal_errors or not complete else 0


def _export_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="real_scripts.py export", description="export pinned trees from bare git dirs")
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--git-dir", action="append", default=[], metavar="NAME=DIR",
                        help=f"a bare git directory for one repository; NAME is one of {', '.join(r.name for r in REPOS)}")
    args = parser.parse_args(argv)
    by_name = {r.name: r for r in REPOS}
    status = 0
    for item in args.git_dir:
        name, _, git_dir = item.partition("=")
        if name not in by_name or not git_dir:
            print(f"real_scripts: --git-dir {item!r}: expected NAME=DIR with NAME in {sorted(by_name)}", file=sys.stderr)
            status = 2
            continue
        try:
            print(export(by_name[name], Path(git_dir), args.src.resolve()))
        except ExportError as exc:
            print(f"real_scripts: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
