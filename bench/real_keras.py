"""gradlint, every rule on, over real Keras/TensorFlow scripts and Jupyter notebooks no one here wrote.

    .venv/bin/python bench/real_keras.py export --git-dir keras=/path/to/keras.git ...   # once
    .venv/bin/python bench/real_keras.py                                                 # lint, counts
    .venv/bin/python bench/real_keras.py --findings --review bench/REAL_KERAS.md

The corpus (SOURCES), each pinned:
  - the classic Keras 2 examples (imdb_lstm.py, cifar10_cnn.py, ...) from keras-team/keras at the
    parent of the commit that deleted them (#14256, October 2020);
  - the keras.io example copies (examples/keras_io/) from keras-team/keras at the parent of the commit
    that removed them (#19042, January 2024);
  - the tf-models-official wheel (`pip download --no-deps`, unpacked, nothing installed);
  - three notebook repositories: fchollet/deep-learning-with-python-notebooks (Keras 2, tf.keras and
    Keras 3 with a PyTorch chapter), ageron/handson-ml3 (tf.keras), rasbt/machine-learning-book (PyTorch).
Each lives in `--src` (default bench/.corpus/keras, gitignored), one folder per source, with a
`.commit` (or `.version`) file naming what it came from. `export` reads the pinned tree from a bare
git directory you already have (a mirror tool's copy), file by file, keeping `.py` and `.ipynb` files;
files the git directory lacks (mirrors omit large blobs) are listed in `.missing` and skipped. On a
plain run, a source not yet in `--src` is fetched: a shallow `git fetch` of the pinned commit from
github.com, or `pip download` for the wheel; where that fails (no network) it is named as missing.
Each source is linted in its own process, as a user would run it:
`gradlint check --select ALL --no-cache --output-format json --exit-zero` with an empty config beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = ROOT / "bench" / ".corpus" / "keras"
GRADLINT = [sys.executable, "-m", "gradlint"]
INTERNAL_ERROR = "gradlint: internal error"
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class GitSource:
    name: str  # folder under --src, and the first path part of every finding
    slug: str  # owner/name on github.com
    commit: str
    prefix: str = ""  # only this folder of the tree, exported without the prefix

    @property
    def pin(self) -> str:
        return self.commit


@dataclass(frozen=True)
class WheelSource:
    name: str
    requirement: str  # "package==version"

    @property
    def pin(self) -> str:
        return self.requirement


KERAS_2_EXAMPLES = "1a3ee8441933fc007be6b2beb47af67998d50737"  # parent of 33c4e162 "Cleanup legacy Keras files"
KERAS_IO_COPIES = "2588a15440a10de8d0cc10b50c21ede333a2bd01"  # parent of e5dad390 "Remove the keras io example copies"
SOURCES = (
    GitSource("keras2-examples", "keras-team/keras", KERAS_2_EXAMPLES, "examples/"),
    GitSource("keras-io", "keras-team/keras", KERAS_IO_COPIES, "examples/keras_io/"),
    WheelSource("tf-models-official", "tf-models-official==2.20.0"),
    # The newest commit of each default branch in the mirror on 2026-11-22.
    GitSource("dlwp-notebooks", "fchollet/deep-learning-with-python-notebooks", "dea84a4e12cc3bb3cb61ce952a0168bca113d315"),
    GitSource("handson-ml3", "ageron/handson-ml3", "e3f3f9e66d58cfa1d068a498433063a1d3fba9ef"),
    GitSource("ml-book", "rasbt/machine-learning-book", "35ab3774e8e249c43a98209d8efd94c060102003"),
)
# Files whose code neither Python nor IPython accepts: GL000 is the right answer there, and only there.
KNOWN_INVALID = {
    "keras-io/nlp/multiple_choice_task_with_transfer_learning.py":
        "line 220: `option_shuffle(text, label, prob=0.5  # ...` never closes its parenthesis",
    "dlwp-notebooks/second_edition/chapter14_conclusions.ipynb":
        "cell 11 spells its spaces as U+00A0 (no-break space), which Python rejects",
}
# The git directory of each repository (several sources may share one).
REPOSITORIES = sorted({s.slug.split("/")[1]: s.slug for s in SOURCES if isinstance(s, GitSource)}.items())


class ExportError(Exception):
    """A source could not be exported, fetched or downloaded at its pin."""


@dataclass
class Run:
    sources: list[str]
    missing: list[str]
    stale: list[str]
    files: Counter = field(default_factory=Counter)  # ".py" / ".ipynb" → count
    findings: list[dict] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    returncodes: dict[str, int] = field(default_factory=dict)
    by_code: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)


def _git(git_dir: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=not binary)


def export(source: GitSource, git_dir: Path, src: Path) -> Path:
    """Write the pinned tree's .py/.ipynb files (under the prefix) into src/<name>, one blob at a time."""
    listing = _git(git_dir, "ls-tree", "-r", "-z", source.commit, *(["--", source.prefix] if source.prefix else []))
    if listing.returncode != 0:
        raise ExportError(f"git ls-tree {source.slug}@{source.commit[:12]} failed: {listing.stderr.strip()[-400:]}")
    target = src / source.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    missing = []
    for entry in filter(None, listing.stdout.split("\0")):
        meta, path = entry.split("\t", 1)
        _mode, kind, blob = meta.split()
        if kind != "blob" or not path.endswith(SUFFIXES):
            continue
        relative = path[len(source.prefix):] if source.prefix else path
        content = _git(git_dir, "cat-file", "blob", blob, binary=True)
        if content.returncode != 0:  # a mirror that omits large files: skip it, say so
            missing.append(relative)
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content.stdout)
    (target / ".missing").write_text("".join(f"{p}\n" for p in missing), encoding="utf-8")
    (target / ".commit").write_text(source.commit + "\n", encoding="utf-8")
    return target


def fetch_git(source: GitSource, src: Path) -> Path:
    """Shallow-fetch the pinned commit from github.com (needs network) and export it."""
    with tempfile.TemporaryDirectory() as tmp:
        git_dir = Path(tmp) / "repo.git"
        steps = (
            ["git", "init", "--bare", "--quiet", str(git_dir)],
            ["git", f"--git-dir={git_dir}", "fetch", "--quiet", "--depth", "1",
             f"https://github.com/{source.slug}.git", source.commit],
        )
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                raise ExportError(f"{' '.join(step[:3])} for {source.slug} failed: {done.stderr.strip()[-400:]}")
        return export(source, git_dir, src)


def fetch_wheel(source: WheelSource, src: Path) -> Path:
    """`pip download --no-deps` the pinned wheel and unpack it into src/<name> (nothing is installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
             "-d", tmp, source.requirement],
            capture_output=True, text=True, timeout=900,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise ExportError(f"pip download {source.requirement} failed: {done.stderr.strip()[-400:]}")
        target = src / source.name
        if target.exists():
            shutil.rmtree(target)
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(target)
    (target / ".version").write_text(source.requirement + "\n", encoding="utf-8")
    return target


def _pinned_as(folder: Path) -> str | None:
    for marker in (folder / ".commit", folder / ".version"):
        if marker.is_file():
            return marker.read_text(encoding="utf-8").strip()
    return None


def prepare(src: Path, allow_fetch: bool = True) -> tuple[list, list[str], list[str]]:
    """The sources ready to lint, the missing ones, and those exported from another pin."""
    ready, missing, stale = [], [], []
    for source in SOURCES:
        folder = src / source.name
        if not folder.is_dir() and allow_fetch:
            try:
                (fetch_git if isinstance(source, GitSource) else fetch_wheel)(source, src)
            except (ExportError, OSError, subprocess.TimeoutExpired, zipfile.BadZipFile) as exc:
                print(f"real_keras: {source.name}: {exc}", file=sys.stderr)
        if not folder.is_dir():
            missing.append(source.name)
            continue
        if _pinned_as(folder) != source.pin:
            stale.append(source.name)
        ready.append(source)
    if ready:
        # An empty config beside the trees: no [tool.gradlint] further up may change what is linted.
        (src / "gradlint.toml").write_text("", encoding="utf-8")
    return ready, missing, stale


def lint(src: Path, sources: list, missing: list[str] = (), stale: list[str] = ()) -> Run:
    """One gradlint process per source (a project index never mixes two of them)."""
    run = Run([s.name for s in sources], list(missing), list(stale))
    for source in sources:
        command = [*GRADLINT, "check", "--select", "ALL", "--no-cache", "--output-format", "json", "--exit-zero",
                   "--no-respect-gitignore", "--config", str(src / "gradlint.toml"), source.name]
        done = subprocess.run(command, cwd=src, capture_output=True, text=True)
        run.returncodes[source.name] = done.returncode
        run.internal_errors += [f"{source.name}: {line}" for line in done.stderr.splitlines() if line.startswith(INTERNAL_ERROR)]
        if done.returncode != 0 or "Traceback (most recent call last)" in done.stderr:
            run.internal_errors.append(f"{source.name}: gradlint exited {done.returncode}: {done.stderr.strip()[-800:]}")
        try:
            findings = json.loads(done.stdout) if done.stdout.strip() else []
        except json.JSONDecodeError:
            findings = []
            run.internal_errors.append(f"{source.name}: output is not JSON: {done.stdout[:200]!r}")
        for item in findings:
            item["filename"] = _relative(Path(item["filename"]), src)
            run.by_code[item["code"]] += 1
            run.by_source[source.name] += 1
        run.findings += findings
        for suffix in SUFFIXES:
            run.files[suffix] += sum(1 for _ in (src / source.name).rglob(f"*{suffix}"))
    run.findings.sort(key=key)
    return run


def _relative(path: Path, src: Path) -> str:
    """'<src>/keras-io/vision/mnist_convnet.py' → 'keras-io/vision/mnist_convnet.py'."""
    try:
        return (src / path).resolve().relative_to(src.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def key(finding: dict) -> tuple[str, int, int, str]:
    """(file, cell or 0, row, code): notebook rows count within their cell."""
    return finding["filename"], finding.get("cell") or 0, finding["location"]["row"], finding["code"]


def where(k: tuple[str, int, int, str]) -> str:
    """'file.py:12' or 'book.ipynb:cell 3:4', the way the review table names a finding."""
    path, cell, row, _ = k
    return f"{path}:cell {cell}:{row}" if cell else f"{path}:{row}"


_REVIEW_ROW = re.compile(
    r"^\|\s*`?(?P<file>[^|`]+?)(?::cell (?P<cell>\d+))?:(?P<row>\d+)`?\s*\|\s*(?P<code>GL\d{3})\s*\|\s*(?P<verdict>[^|]+?)\s*\|"
)


def reviewed(review_md: Path) -> dict[tuple[str, int, int, str], str]:
    """The review table of REAL_KERAS.md: (file, cell or 0, row, code) → verdict ('defend', 'false alarm', ...)."""
    rows = {}
    for line in review_md.read_text(encoding="utf-8").splitlines():
        match = _REVIEW_ROW.match(line)
        if match:
            k = (match["file"].strip(), int(match["cell"] or 0), int(match["row"]), match["code"])
            rows[k] = match["verdict"].strip("* ").lower()
    return rows


def summary(run: Run) -> str:
    lines = [f"sources linted: {', '.join(run.sources) or '(none)'}"]
    if run.missing:
        lines.append(f"missing (not in --src, not fetchable): {', '.join(run.missing)}")
    if run.stale:
        lines.append(f"exported from another pin than SOURCES names: {', '.join(run.stale)}")
    lines += [f"python files: {run.files['.py']}", f"notebooks: {run.files['.ipynb']}",
              f"findings: {len(run.findings)}", f"internal errors: {len(run.internal_errors)}", "", "per code:"]
    lines += [f"  {code}  {count}" for code, count in sorted(run.by_code.items())] or ["  (none)"]
    lines += ["", "per source:"] + [f"  {name:<20} {run.by_source.get(name, 0)}" for name in run.sources]
    lines += [f"  {line}" for line in run.internal_errors]
    return "\n".join(lines) + "\n"


def review_report(run: Run, review: dict) -> tuple[str, bool]:
    """Unreviewed findings (a problem) and reviewed rows no longer produced (fixed, or moved)."""
    produced = {key(f) for f in run.findings}
    unreviewed = [k for k in sorted(produced) if k not in review]
    gone = [k for k in sorted(review) if k not in produced and k[0].split("/", 1)[0] in run.sources]
    lines = [f"\nreview: {len(produced) - len(unreviewed)}/{len(produced)} findings reviewed"]
    verdicts = Counter(review[k] for k in produced if k in review)
    lines += [f"  {verdict}: {n}" for verdict, n in sorted(verdicts.items())]
    lines += [f"  UNREVIEWED {where(k)} {k[3]}" for k in unreviewed]
    lines += [f"  no longer produced {where(k)} {k[3]} (was: {review[k]})" for k in gone]
    return "\n".join(lines) + "\n", not unreviewed


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        return _export_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="folder holding one exported tree per source")
    parser.add_argument("--no-fetch", action="store_true", help="never try github.com or PyPI for a missing source")
    parser.add_argument("--findings", action="store_true", help="also list every finding (where code message)")
    parser.add_argument("--review", type=Path, help="REAL_KERAS.md: list findings that have no review row")
    args = parser.parse_args(argv)
    src = args.src.resolve()
    src.mkdir(parents=True, exist_ok=True)
    sources, missing, stale = prepare(src, allow_fetch=not args.no_fetch)
    if not sources:
        print(f"real_keras: no source under {src} and none could be fetched", file=sys.stderr)
        return 2
    run = lint(src, sources, missing, stale)
    sys.stdout.write(summary(run))
    if args.findings:
        sys.stdout.write("\n" + "".join(f"{where(key(f))}: {f['code']} {f['message']}\n" for f in run.findings))
    complete = True
    if args.review:
        text, complete = review_report(run, reviewed(args.review))
        sys.stdout.write(text)
    return 1 if run.internal_errors or not complete else 0


def _export_main(argv: list[str]) -> int:
    repos = dict(REPOSITORIES)
    parser = argparse.ArgumentParser(prog="real_keras.py export", description="export pinned trees from bare git dirs")
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--git-dir", action="append", default=[], metavar="NAME=DIR",
                        help=f"a bare git directory of one repository; NAME is one of {', '.join(repos)}")
    args = parser.parse_args(argv)
    status = 0
    for item in args.git_dir:
        name, _, git_dir = item.partition("=")
        if name not in repos or not git_dir:
            print(f"real_keras: --git-dir {item!r}: expected NAME=DIR with NAME in {sorted(repos)}", file=sys.stderr)
            status = 2
            continue
        for source in SOURCES:
            if isinstance(source, GitSource) and source.slug == repos[name]:
                try:
                    target = export(source, Path(git_dir), args.src.resolve())
                except ExportError as exc:
                    print(f"real_keras: {exc}", file=sys.stderr)
                    status = 1
                    continue
                skipped = (target / ".missing").read_text(encoding="utf-8").split()
                print(f"{target}" + (f" ({len(skipped)} file(s) absent from the git dir: see .missing)" if skipped else ""))
    return status


if __name__ == "__main__":
    sys.exit(main())
