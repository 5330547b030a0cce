"""A persistent cache like ruff's: per file, keyed by content hash + gradlint version + settings.

The cache lives in a folder gradlint owns: created by it and marked with a CACHEDIR.TAG (the
cross-tool convention that backup and archive tools honour) and its own `.gitignore`. gradlint
never writes into, and `gradlint clean` never deletes from, a folder without that mark, and a
cache-dir that is the project folder or holds other files is refused (`check_dir`).

Entries are data, never code: one JSON document per settings digest, read once and written once
per run through a temporary file and an atomic rename. Every entry is checked field by field when
it is used; a damaged, foreign or hostile entry is a cache miss, never trusted and never a crash.
The file is opened without blocking and read only if it is a regular file of sane size, so a FIFO
or a device planted at the cache path cannot hang a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from gradlint import __version__
from gradlint.fs import read_regular

CACHE_DIR_NAME = ".gradlint_cache"
TAG_NAME = "CACHEDIR.TAG"
TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
       "# This file is a cache directory tag created by gradlint.\n"
       "# For information about cache directory tags see https://bford.info/cachedir/\n")
IGNORE_TEXT = "# Created by gradlint: the cache is never committed.\n*\n"
_FORMAT = 2
_MAX_BYTES = 512 * 1024 * 1024  # a cache file larger than this is not ours to read
_STALE_TMP_SECONDS = 600  # temp files of killed runs older than this are swept on save


class CacheDirError(Exception):
    """A cache-dir gradlint must not write into or delete from (one line for the user)."""


def default_dir(settings) -> Path:
    if settings.cache_dir:
        return Path(settings.root) / settings.cache_dir
    return Path(settings.root) / CACHE_DIR_NAME


def is_marked(folder: Path) -> bool:
    """A folder gradlint created: its CACHEDIR.TAG carries the standard signature."""
    data = _read_small(folder / TAG_NAME, 4096)
    return data is not None and data.startswith(TAG.encode())  # another tool's tag is not ours


def check_dir(folder: Path, *protected: Path) -> None:
    """Refuse a cache-dir that is (or contains) the project or working folder, or that holds files
    gradlint did not put there. A new or empty folder is fine: gradlint marks it on first use."""
    resolved = folder.resolve()
    for place in protected:
        place = place.resolve()
        if resolved == place or resolved in place.parents:
            raise CacheDirError(f"cache-dir {folder} is the folder {place} or one above it: gradlint keeps its "
                                f"cache in a folder of its own (the default is {CACHE_DIR_NAME})")
    if not resolved.exists():
        return
    if not resolved.is_dir():
        raise CacheDirError(f"cache-dir {folder} exists and is not a folder")
    if is_marked(resolved) or _legacy(resolved):
        return
    try:
        empty = next(resolved.iterdir(), None) is None
    except OSError as exc:
        raise CacheDirError(f"cache-dir {folder}: {exc.strerror}") from None
    if not empty:
        raise CacheDirError(f"cache-dir {folder} holds files gradlint did not create (no {TAG_NAME}); "
                            "choose a new or empty folder")


def _legacy(folder: Path) -> bool:
    """A cache folder written by gradlint 0.1 (pickles and a .gitignore it wrote, no tag): still ours."""
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return False
    ignore = _read_small(folder / ".gitignore", 4096) or b""
    return bool(names) and ignore.startswith(b"# Created by gradlint") and all(
        n == ".gitignore" or n.endswith(".pickle") or n.startswith(".tmp-") for n in names)


def settings_digest(settings, codes: frozenset[str]) -> str:
    material = repr((_FORMAT, __version__, _code_fingerprint(), sorted(codes), settings.thresholds,
                     settings.per_file_ignores, settings.ignore_noqa))
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


def _read_small(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes; None for anything else (FIFO, device,
    folder, missing, too big)."""
    try:
        return read_regular(path, limit)
    except OSError:
        return None


class Cache:
    def __init__(self, folder: Path, digest: str):
        self.folder = folder
        self.file = folder / f"{digest}.json"
        self.entries: dict[str, list] = {}
        self.dirty = False
        data = _read_small(self.file, _MAX_BYTES) if is_marked(folder) else None
        try:
            loaded = json.loads(data) if data else None
        except (ValueError, RecursionError):  # truncated, foreign, absurdly deep: start empty
            loaded = None
        if isinstance(loaded, dict) and loaded.get("format") == _FORMAT and isinstance(loaded.get("files"), dict):
            self.entries = loaded["files"]

    def get(self, path: Path, digest: str, display: str):
        """The stored result for this file if its content hash is `digest` (else None)."""
        from gradlint import cache_records

        entry = self.entries.get(str(path.resolve()))
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != digest:
            return None
        result = cache_records.load_result(entry[1])
        if result is None:
            return None
        if result.path != display:
            result = replace(result, path=display, findings=[replace(f, path=display) for f in result.findings])
        return result

    def put(self, path: Path, digest: str, result) -> None:
        from gradlint import cache_records

        if result.errors or result.skipped:
            return  # an internal error or a skipped file is not a result worth remembering
        self.entries[str(path.resolve())] = [digest, cache_records.dump_result(result)]
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        tmp = None
        try:
            if not _own(self.folder):
                return  # a folder gradlint did not create is never written into
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"format": _FORMAT, "files": self.entries}, handle, separators=(",", ":"))
            os.replace(tmp, self.file)
            tmp = None
            _sweep_temp_files(self.folder)
        except (OSError, ValueError, RecursionError):
            pass  # a read-only checkout or a full disk still lints; it just does not remember
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _own(folder: Path) -> bool:
    """Make `folder` a marked gradlint cache if it is new or empty; False if it belongs to someone else."""
    if is_marked(folder):
        return True
    folder.mkdir(parents=True, exist_ok=True)
    if next(folder.iterdir(), None) is not None and not _legacy(folder):
        return False
    for name, text in ((".gitignore", IGNORE_TEXT), (TAG_NAME, TAG)):
        with open(folder / name, "w", encoding="utf-8") as handle:
            handle.write(text)
    return True


def _sweep_temp_files(folder: Path) -> None:
    """Temp files of runs killed between writing and renaming."""
    now = time.time()
    for item in folder.glob(".tmp-*"):
        try:
            if item.is_file() and now - item.lstat().st_mtime > _STALE_TMP_SECONDS:
                item.unlink()
        except OSError:
            pass


def clean(folder: Path, *protected: Path) -> int:
    """Remove a gradlint cache folder: only if it carries gradlint's mark, is none of `protected` (nor
    above one), and only the files gradlint writes there. Returns the number of files removed;
    CacheDirError if the folder is not a cache."""
    if not folder.exists():
        return 0
    check_dir(folder, *protected)
    if not folder.is_dir() or not (is_marked(folder) or _legacy(folder)):
        raise CacheDirError(f"{folder} is not a gradlint cache (no {TAG_NAME} written by gradlint): nothing removed")
    removed = 0
    for item in sorted(folder.iterdir(), key=lambda p: p.name == TAG_NAME):  # the mark goes last
        ours = item.name in (TAG_NAME, ".gitignore") or item.name.startswith(".tmp-") or (
            item.suffix in (".json", ".pickle") and len(item.stem) == 16)
        if ours and (item.is_symlink() or not item.is_dir()):
            item.unlink(missing_ok=True)  # a link is removed, never what it points to
            removed += 1
    try:
        folder.rmdir()
    except OSError:
        pass  # something gradlint did not write is left where it was
    return removed
