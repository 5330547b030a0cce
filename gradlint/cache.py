"""A persistent cache like ruff's: per file, keyed by content hash + gradlint version + settings.

One pickle per settings digest under the cache folder, read once and written once per run, always
through a temporary file and an atomic rename, so concurrent runs can lose each other's updates but
never corrupt the cache. A damaged or foreign entry is ignored, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import replace
from pathlib import Path

from gradlint import __version__

CACHE_DIR_NAME = ".gradlint_cache"
_FORMAT = 1


def default_dir(settings) -> Path:
    if settings.cache_dir:
        return Path(settings.root) / settings.cache_dir
    return Path(settings.root) / CACHE_DIR_NAME


def settings_digest(settings, codes: frozenset[str]) -> str:
    material = repr((_FORMAT, __version__, _code_fingerprint(), sorted(codes), settings.thresholds,
                     settings.per_file_ignores))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _code_fingerprint() -> str:
    """gradlint's own sources and rule pages (name, size, mtime): an editable install that changed since
    the cache was written must not be answered from it. A few dozen stat calls, no reading."""
    package = Path(__file__).resolve().parent
    from gradlint.catalog import rules_dir

    files = sorted([*package.rglob("*.py"), *rules_dir().glob("*.md")])
    stats = []
    for file in files:
        try:
            info = file.stat()
        except OSError:
            continue
        stats.append(f"{file.name}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("|".join(stats).encode()).hexdigest()[:16]


class Cache:
    def __init__(self, folder: Path, digest: str):
        self.folder = folder
        self.file = folder / f"{digest}.pickle"
        self.entries: dict[str, tuple[str, object]] = {}
        self.dirty = False
        try:
            with open(self.file, "rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, dict):
                self.entries = loaded
        except Exception:  # missing, truncated, from another version: start empty
            self.entries = {}

    def get(self, path: Path, digest: str, display: str):
        """The stored result for this file if its content hash is `digest` (else None)."""
        entry = self.entries.get(str(path.resolve()))
        if not isinstance(entry, tuple) or len(entry) != 2 or entry[0] != digest:
            return None
        result = entry[1]
        if getattr(result, "path", None) != display:
            result = replace(result, path=display, findings=[replace(f, path=display) for f in result.findings])
        return result

    def put(self, path: Path, digest: str, result) -> None:
        if result.errors:
            return  # an internal error is not a result worth remembering
        self.entries[str(path.resolve())] = (digest, result)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by gradlint: the cache is never committed.\n*\n", encoding="utf-8")
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".tmp-", delete=False) as tmp:
                pickle.dump(self.entries, tmp, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp.name, self.file)
        except OSError:
            pass  # a read-only checkout still lints; it just does not remember


def clean(folder: Path) -> int:
    """Remove the cache folder's files; the number removed."""
    removed = 0
    if folder.is_dir():
        for item in folder.iterdir():
            if item.is_file():
                item.unlink(missing_ok=True)
                removed += 1
        try:
            folder.rmdir()
        except OSError:
            pass
    return removed
