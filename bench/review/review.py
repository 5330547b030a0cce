"""The reviewed real-code corpus: lint pinned public repositories and measure precision against verdicts.

    .venv/bin/python bench/review/review.py                      # lint, compare with verdicts.csv, print the table
    .venv/bin/python bench/review/review.py --unreviewed         # ... and list every finding with no verdict yet
    .venv/bin/python bench/review/review.py --skeleton new.csv   # write unreviewed findings as CSV rows to fill in
    .venv/bin/python bench/review/review.py --only TD3 --only swav

`repos.json` pins each repository to one commit (and, for the large ones, the folders that hold training
code). The trees are exported once into `bench/.corpus/review/<name>/` (gitignored): from a bare git
directory under `--mirror` (default /work/.mirror, where a mirror tool puts `owner+name/repo`), else by a
shallow fetch of the pinned commit from github.com; a repository that can be had neither way is named
as missing and skipped. Nothing of theirs is committed here.

Each repository is linted on its own, in a fresh process, as a new user would: default rules, an empty
config, no cache. `verdicts.csv` holds one row per reviewed finding — repo, commit, path, line, code,
verdict (defend | false-alarm | debatable), reason — written by a person who read the code. Precision is
defended findings / all findings outside test code (debatable and unreviewed count against it).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = ROOT / "bench" / ".corpus" / "review"
VERDICTS = HERE / "verdicts.csv"
COLUMNS = ("repo", "commit", "path", "line", "code", "verdict", "reason")
VERDICT_KINDS = ("defend", "false-alarm", "debatable")
TEST_DIRS = {"test", "tests", "testing", "unit_tests", "unittests"}


@dataclass(frozen=True)
class Repo:
    name: str
    slug: str
    commit: str
    paths: tuple[str, ...] = ()


@dataclass
class Outcome:
    repo: Repo
    files: int = 0
    test_files: int = 0
    findings: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # crashes, exit codes that disagree with the findings


def load_repos() -> list[Repo]:
    rows = json.loads((HERE / "repos.json").read_text(encoding="utf-8"))
    return [Repo(r["name"], r["slug"], r["commit"], tuple(r.get("paths", ()))) for r in rows]


def is_test_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    name = parts[-1]
    return (any(p in TEST_DIRS for p in parts[:-1]) or name.startswith("test_") or name.endswith("_test.py")
            or name == "conftest.py")


def export(repo: Repo, git_dir: Path, target: Path) -> None:
    """The pinned commit's .py and .ipynb files (under repo.paths); blobs a partial mirror lacks are skipped."""
    git = ["git", f"--git-dir={git_dir}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", repo.commit], capture_output=True, check=True).stdout
    wanted = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, name = entry.split(b"\t", 1)
        mode, kind, oid = meta.split()
        path = name.decode("utf-8", "surrogateescape")
        if kind != b"blob" or mode == b"120000" or not path.endswith((".py", ".ipynb")):
            continue
        if repo.paths and not any(path.startswith(p + "/") for p in repo.paths):
            continue
        wanted.append((path, oid))
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    batch = subprocess.run([*git, "cat-file", "--batch"], input=b"".join(o + b"\n" for _, o in wanted),
                           capture_output=True, check=True).stdout
    offset = 0
    for path, oid in wanted:
        header_end = batch.index(b"\n", offset)
        header = batch[offset:header_end].split()
        offset = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(batch[offset:offset + size])
        offset += size + 1
    (target / ".commit").write_text(repo.commit + "\n", encoding="utf-8")


def obtain(repo: Repo, mirror: Path) -> Path | None:
    target = CORPUS / repo.name
    marker = target / ".commit"
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == repo.commit:
        return target
    git_dir = mirror / repo.slug.replace("/", "+") / "repo"
    try:
        if git_dir.is_dir():
            export(repo, git_dir, target)
            return target
        with tempfile.TemporaryDirectory() as tmp:
            bare = Path(tmp) / "repo.git"
            for step in (["git", "init", "--bare", "--quiet", str(bare)],
                         ["git", f"--git-dir={bare}", "fetch", "--quiet", "--depth", "1",
                          f"https://github.com/{repo.slug}.git", repo.commit]):
                if subprocess.run(step, capture_output=True, timeout=600).returncode != 0:
                    return None
            export(repo, bare, target)
            return target
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"review: {repo.name}: {exc}", file=sys.stderr)
        return None


def lint(repo: Repo, folder: Path) -> Outcome:
    """Default rules, empty config, no cache; the exit code must agree with the findings."""
    outcome = Outcome(repo)
    config = CORPUS / "gradlint.toml"
    config.write_text("", encoding="utf-8")
    command = [sys.executable, "-m", "gradlint", "check", "--output-format", "json", "--no-cache",
               "--no-respect-gitignore", "--config", str(config), "."]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    try:
        outcome.findings = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError:
        outcome.problems.append(f"output is not JSON: {done.stdout[:200]!r}")
    if "Traceback (most recent call last)" in done.stderr or "internal error" in done.stderr:
        outcome.problems.append(f"exit {done.returncode}: {done.stderr.strip()[-600:]}")
    expected = 1 if outcome.findings else 0
    if done.returncode != expected:
        outcome.problems.append(f"exit code {done.returncode} with {len(outcome.findings)} findings")
    for item in outcome.findings:
        path = Path(item["filename"])
        item["path"] = (path.relative_to(folder) if path.is_absolute() else path).as_posix()
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.suffix in (".py", ".ipynb")]
    outcome.files = len(files)
    outcome.test_files = sum(map(is_test_path, files))
    return outcome


def load_verdicts() -> dict[tuple[str, str, int, str], dict]:
    if not VERDICTS.is_file():
        return {}
    with VERDICTS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {}
    for row in rows:
        if row["verdict"] not in VERDICT_KINDS:
            raise SystemExit(f"verdicts.csv: unknown verdict {row['verdict']!r} in {row}")
        table[(row["repo"], row["path"], int(row["line"]), row["code"])] = row
    return table


def finding_key(repo: Repo, finding: dict) -> tuple[str, str, int, str]:
    """A notebook finding's path names its cell (`nb.ipynb:cell 4`): rows count from the cell's top."""
    path = finding["path"] + (f":cell {finding['cell']}" if finding.get("cell") else "")
    return repo.name, path, finding["location"]["row"], finding["code"]


def lookup(verdicts: dict, repo: Repo, finding: dict) -> dict | None:
    """The verdict row of a finding; rows written before cells were recorded match on the notebook path."""
    key = finding_key(repo, finding)
    return verdicts.get(key) or verdicts.get((repo.name, finding["path"], key[2], key[3]))


def source_line(folder: Path, finding: dict) -> str:
    if finding.get("cell"):
        return ""
    try:
        lines = (folder / finding["path"]).read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[finding["location"]["row"] - 1].strip()[:160]
    except (OSError, IndexError):
        return ""


def table(outcomes: list[Outcome], verdicts: dict) -> tuple[str, dict]:
    head = ("| repository | commit | files | findings | defend | false-alarm | debatable | unreviewed "
            "| test files | in tests |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    rows, total = [head], Counter()
    for outcome in outcomes:
        count = Counter()
        for finding in outcome.findings:
            if is_test_path(finding["path"]):
                count["in tests"] += 1
                continue
            count["findings"] += 1
            row = lookup(verdicts, outcome.repo, finding)
            count[row["verdict"] if row else "unreviewed"] += 1
        count["files"], count["test files"] = outcome.files, outcome.test_files
        total.update(count)
        rows.append(f"| {outcome.repo.slug} | {outcome.repo.commit[:12]} | " + " | ".join(
            str(count[k]) for k in ("files", "findings", "defend", "false-alarm", "debatable", "unreviewed",
                                    "test files", "in tests")) + " |")
    rows.append("| **total** | | " + " | ".join(f"**{total[k]}**" for k in (
        "files", "findings", "defend", "false-alarm", "debatable", "unreviewed", "test files", "in tests")) + " |")
    return "\n".join(rows), total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--only", action="append", default=[], help="lint only this repository (its name)")
    parser.add_argument("--unreviewed", action="store_true", help="list the findings that have no verdict")
    parser.add_argument("--skeleton", type=Path, help="write the unreviewed findings as CSV rows to fill in")
    parser.add_argument("--json", type=Path, help="write every finding with its verdict as JSON")
    args = parser.parse_args(argv)
    verdicts = load_verdicts()
    outcomes, missing = [], []
    for repo in load_repos():
        if args.only and repo.name not in args.only:
            continue
        folder = obtain(repo, args.mirror)
        if folder is None:
            missing.append(repo.slug)
            continue
        outcomes.append(lint(repo, folder))
    text, total = table(outcomes, verdicts)
    print(text)
    outside = total["findings"]
    precision = total["defend"] / outside if outside else 1.0
    print(f"\nprecision outside test code: {total['defend']}/{outside} = {precision:.2f}")
    print(f"findings in test code: {total['in tests']} over {total['test files']} test files "
          f"(budget {total['test files'] // 10})")
    by_code = Counter(f["code"] for o in outcomes for f in o.findings if not is_test_path(f["path"]))
    print("per code (outside tests): " + ", ".join(f"{c} {n}" for c, n in sorted(by_code.items())))
    if missing:
        print("missing (no mirror, no network): " + ", ".join(missing))
    problems = [f"{o.repo.name}: {p}" for o in outcomes for p in o.problems]
    print(f"crashes or exit codes that disagree with the findings: {len(problems)}")
    for problem in problems:
        print("  " + problem)
    unreviewed = [(o, f) for o in outcomes for f in o.findings
                  if not is_test_path(f["path"]) and lookup(verdicts, o.repo, f) is None]
    if args.unreviewed:
        for outcome, finding in unreviewed:
            print(f"{outcome.repo.name}/{finding_key(outcome.repo, finding)[1]}:{finding['location']['row']}: {finding['code']} "
                  f"{finding['message'][:200]}\n    | {source_line(CORPUS / outcome.repo.name, finding)}")
    if args.skeleton:
        with args.skeleton.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for outcome, finding in unreviewed:
                writer.writerow([outcome.repo.name, outcome.repo.commit, finding_key(outcome.repo, finding)[1],
                                 finding["location"]["row"], finding["code"], "", finding["message"][:300]])
    if args.json:
        rows = []
        for outcome in outcomes:
            for finding in outcome.findings:
                row = lookup(verdicts, outcome.repo, finding)
                rows.append({"repo": outcome.repo.name, "path": finding["path"], "line": finding["location"]["row"],
                             "code": finding["code"], "message": finding["message"],
                             "test": is_test_path(finding["path"]), "verdict": row["verdict"] if row else None})
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
