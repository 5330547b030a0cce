"""Fingerprints that survive line shifts, and the baseline file built from them.

A finding is identified by its code, its file, a hash of the source text around it (whitespace
stripped, so re-indenting or moving code up and down keeps the hash) and its occurrence index among
findings that look identical. `--write-baseline FILE` records today's fingerprints; `--baseline FILE`
hides exactly those. SARIF's partialFingerprints and GitLab's fingerprint reuse the same idea.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

from gradlint.finding import Finding
from gradlint.engine import lines_of_bytes, read_lines
from gradlint.fs import read_regular
from gradlint.fix import write_atomically

FORMAT_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or is not one; the message names the file."""


def line_hash(lines: tuple[str, ...] | list[str], row: int, neighbours: int) -> str:
    """sha256 of the stripped lines row-neighbours..row+neighbours (missing lines count as empty)."""
    window = [lines[r - 1].strip() if 1 <= r <= len(lines) else "" for r in range(row - neighbours, row + neighbours + 1)]
    return hashlib.sha256("\n".join(window).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def keys(findings: list[Finding], neighbours: int, path_of=lambda f: f.path,
         bytes_of=None) -> list[tuple[str, str, str, int]]:
    """(code, path, line hash, occurrence index) per finding, in the findings' order.

    The occurrence index counts earlier findings with the same code, path and hash, so two identical
    findings in one file get 0 and 1, and a third that appears later is new. `bytes_of(path)` gives a
    file's content when it is not the file on disk (--diff-since: the content at the revision); in a
    notebook the lines hashed are the cell's own, the rows of the finding count in it."""
    seen: Counter = Counter()
    result = []
    files: dict[tuple[str, int | None], tuple[str, ...]] = {}  # read once per call: fresh after --fix
    for finding in findings:
        where = (finding.path, finding.cell)
        if where not in files:
            files[where] = _lines(finding.path, finding.cell, bytes_of)
        base = (finding.code, path_of(finding), line_hash(files[where], finding.span.row, neighbours))
        result.append((*base, seen[base]))
        seen[base] += 1
    return result


def _lines(path: str, cell: int | None, bytes_of) -> tuple[str, ...]:
    data = bytes_of(path) if bytes_of is not None else None
    if cell is None:
        return read_lines(path) if data is None else lines_of_bytes(data)
    from gradlint import notebook

    try:
        if data is None:
            data = read_regular(Path(path))
        book = notebook.load(data)
    except (OSError, notebook.NotebookError):
        return ()
    return tuple(line.rstrip("\r\n") for line in book.cell_sources.get(cell, ()))


def fingerprints(findings: list[Finding], neighbours: int = 0) -> list[str]:
    """One stable hex digest per finding (SARIF partialFingerprints, GitLab fingerprint)."""
    return [
        hashlib.sha256("\0".join(map(str, key)).encode("utf-8", "surrogatepass")).hexdigest()
        for key in keys(findings, neighbours)
    ]


def _relative_to(folder: Path):
    def relative(finding: Finding) -> str:
        path = Path(finding.path).resolve()
        try:
            return Path(os.path.relpath(path, folder)).as_posix()
        except ValueError:  # another drive on Windows
            return path.as_posix()

    return relative


def write(path: Path, findings: list[Finding]) -> int:
    """Record the findings in `path` (paths relative to its folder); returns how many."""
    folder = path.resolve().parent
    records = [
        {"code": code, "path": rel, "hash": digest, "index": index}
        for code, rel, digest, index in keys(findings, neighbours=1, path_of=_relative_to(folder))
    ]
    text = json.dumps({"gradlint-baseline": FORMAT_VERSION, "findings": records}, indent=2) + "\n"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    return len(records)


def load(path: Path) -> frozenset[tuple[str, str, str, int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise BaselineError(f"baseline {path} is not a gradlint baseline: its JSON is nested too deeply") from None
    if not isinstance(data, dict) or data.get("gradlint-baseline") != FORMAT_VERSION:
        raise BaselineError(f"baseline {path} is not a gradlint baseline (written by --write-baseline)")
    records = data.get("findings")
    if not isinstance(records, list):
        raise BaselineError(f"baseline {path}: 'findings' must be a list")
    entries = set()
    for number, record in enumerate(records, start=1):
        try:
            code, rel, digest, index = record["code"], record["path"], record["hash"], record["index"]
        except (TypeError, KeyError) as exc:
            raise BaselineError(f"baseline {path}: finding {number} lacks {exc}") from None
        if not all(isinstance(v, str) for v in (code, rel, digest)) or isinstance(index, bool) or not isinstance(index, int):
            raise BaselineError(f"baseline {path}: finding {number} has a value of the wrong type")
        entries.add((code, rel, digest, index))
    return frozenset(entries)


def filter_known(findings: list[Finding], known: frozenset, baseline_path: Path) -> list[Finding]:
    """The findings that are not among `known` (what `load(baseline_path)` returned)."""
    folder = baseline_path.resolve().parent
    found = keys(findings, neighbours=1, path_of=_relative_to(folder))
    return [f for f, key in zip(findings, found) if key not in known]
