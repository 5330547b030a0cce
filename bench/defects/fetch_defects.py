"""Materialise the files of the real-defect recall set (defects.csv) into bench/.corpus/defects/ (gitignored).

    .venv/bin/python bench/defects/fetch_defects.py            # export what is missing, verify every sha256
    .venv/bin/python bench/defects/fetch_defects.py --check    # verify only, export nothing
    .venv/bin/python bench/defects/fetch_defects.py --record   # (maintainer) write the sha256 column from the exports
    .venv/bin/python bench/defects/fetch_defects.py --network  # also try a shallow fetch of the pinned commit from GitHub

Each row names a public repository, a pinned commit and the file that holds the defect. The file is written
to `bench/.corpus/defects/<owner>+<name>/<commit>/<path>`; a row with `lint_root` (a cross-file defect)
also gets every `.py`/`.ipynb` file under that folder of the same commit, because the defect is only
visible with its sibling files. Sources, in order:

1. the file already there (left alone when its sha256 matches the CSV);
2. a bare git mirror under `--mirror` (default /work/.mirror/<owner>+<name>/repo, the layout the
   session tool `fetch` produces): `git show <commit>:<path>`;
3. with `--network` only: a shallow fetch of the pinned commit from github.com.

A file that can be had none of these ways is reported as missing and skipped, never an error: CI has no
network and no mirror, so there the set is simply absent and `recall.py` says so. Files written by hand
(an agent that read the file with a code-search tool) are accepted when their sha256 matches.

`sha256` is the hash of the defect file's bytes; `root_sha256` (cross-file rows) is the hash of the
sorted lines `<relative path> <sha256>` of every exported file under `lint_root`. Nothing of theirs is
committed here: only this table and these scripts.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CSV_PATH = HERE / "defects.csv"
CORPUS = ROOT / "bench" / ".corpus" / "defects"
COLUMNS = ("repo", "commit", "path", "line_start", "line_end", "code", "kind", "source", "why",
           "lint_root", "cell", "sha256", "root_sha256")
SUFFIXES = (".py", ".ipynb")


def load_rows(path: Path = CSV_PATH) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for column in COLUMNS:
            row.setdefault(column, "")
            row[column] = row[column] or ""
    return rows


def save_rows(rows: list[dict], path: Path = CSV_PATH) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS})


def checkout_dir(row: dict) -> Path:
    return CORPUS / row["repo"].replace("/", "+") / row["commit"]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def root_files(row: dict) -> list[Path]:
    """The exported files under the row's lint_root, relative to the checkout."""
    base = checkout_dir(row)
    folder = base / row["lint_root"]
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(base) for p in folder.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def root_digest(row: dict) -> str:
    base = checkout_dir(row)
    lines = [f"{rel.as_posix()} {sha256_file(base / rel)}\n" for rel in root_files(row)]
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


class Git:
    def __init__(self, git_dir: Path):
        self.git = ["git", f"--git-dir={git_dir}"]

    def has_commit(self, commit: str) -> bool:
        done = subprocess.run([*self.git, "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
        return done.returncode == 0

    def show(self, commit: str, path: str) -> bytes | None:
        done = subprocess.run([*self.git, "show", f"{commit}:{path}"], capture_output=True)
        return done.stdout if done.returncode == 0 else None

    def listing(self, commit: str, folder: str) -> list[str]:
        spec = [] if folder in ("", ".") else ["--", folder]
        done = subprocess.run([*self.git, "ls-tree", "-r", "-z", "--name-only", commit, *spec],
                              capture_output=True)
        if done.returncode != 0:
            return []
        names = [n.decode("utf-8", "surrogateescape") for n in done.stdout.split(b"\0") if n]
        return [n for n in names if n.endswith(SUFFIXES)]


def mirror_git(repo: str, mirror: Path) -> Git | None:
    base = mirror / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "objects").is_dir():
            return Git(candidate)
    return None


def network_git(repo: str, commit: str, scratch: Path) -> Git | None:
    bare = scratch / repo.replace("/", "+")
    if not (bare / "objects").is_dir():
        steps = (["git", "init", "--bare", "--quiet", str(bare)],
                 ["git", f"--git-dir={bare}", "fetch", "--quiet", "--depth", "1",
                  f"https://github.com/{repo}.git", commit])
        for step in steps:
            try:
                if subprocess.run(step, capture_output=True, timeout=300).returncode != 0:
                    return None
            except (OSError, subprocess.SubprocessError):
                return None
    git = Git(bare)
    return git if git.has_commit(commit) else None


def write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def wanted_paths(row: dict, git: Git) -> list[str]:
    paths = [row["path"]]
    if row["lint_root"]:
        paths += [p for p in git.listing(row["commit"], row["lint_root"]) if p != row["path"]]
    return paths


def materialise(row: dict, git: Git) -> bool:
    base = checkout_dir(row)
    ok = True
    for rel in wanted_paths(row, git):
        target = base / PurePosixPath(rel)
        if target.is_file():
            continue
        data = git.show(row["commit"], rel)
        if data is None:
            ok = ok and rel != row["path"]
            continue
        write(target, data)
    return ok


def status(row: dict) -> str:
    """ok | missing | sha-mismatch | root-mismatch | unrecorded"""
    target = checkout_dir(row) / PurePosixPath(row["path"])
    if not target.is_file():
        return "missing"
    if not row["sha256"]:
        return "unrecorded"
    if sha256_file(target) != row["sha256"]:
        return "sha-mismatch"
    if row["lint_root"] and row["root_sha256"] and root_digest(row) != row["root_sha256"]:
        return "root-mismatch"
    return "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--check", action="store_true", help="verify only")
    parser.add_argument("--record", action="store_true", help="write sha256/root_sha256 from the exports")
    parser.add_argument("--network", action="store_true", help="allow a shallow fetch from github.com")
    args = parser.parse_args(argv)

    rows = load_rows()
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for row in rows:
            if not args.check and (status(row) != "ok" or (row["lint_root"] and not row["root_sha256"])):
                git = mirror_git(row["repo"], args.mirror)
                if git is not None and not git.has_commit(row["commit"]):
                    git = None
                if git is None and args.network:
                    git = network_git(row["repo"], row["commit"], Path(tmp))
                if git is not None:
                    materialise(row, git)
            if args.record and (checkout_dir(row) / row["path"]).is_file():
                row["sha256"] = sha256_file(checkout_dir(row) / row["path"])
                row["root_sha256"] = root_digest(row) if row["lint_root"] else ""
            state = status(row)
            counts[state] = counts.get(state, 0) + 1
            if state != "ok":
                print(f"{state:13} {row['repo']}@{row['commit'][:10]} {row['path']}", file=sys.stderr)
    if args.record:
        save_rows(rows)
    print("fetch_defects: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f" of {len(rows)}")
    return 1 if counts.get("sha-mismatch") or counts.get("root-mismatch") else 0


if __name__ == "__main__":
    sys.exit(main())
