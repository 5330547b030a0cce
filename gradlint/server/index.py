"""The workspace index: per-file engine results for open documents (their editor text) and the project's
other files (from disk), so that a finding that depends on another file's classes is judged as the CLI's
`gradlint .` would judge it. No pygls here: paths and bytes in, FileResults and findings out."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from gradlint import config, engine
from gradlint.config import Settings
from gradlint.engine import FileResult, InternalError
from gradlint.finding import Finding

PROJECT_TTL = 2.0  # seconds a project's file list is trusted before the folders are walked again
# Above this many files, a project is not one (a home folder opened as the workspace): cross-file findings
# are judged against the open documents and the files beside the document only.
MAX_PROJECT_FILES = 5000


def _settings_for(path: Path) -> Settings:
    """The settings that lint `path`, as the CLI finds them: the nearest config file of its folders,
    hierarchical and per file (ConfigError on a bad file). The one place the server reads configuration."""
    return config.settings_for(path)


@dataclass
class Entry:
    digest: str
    settings: Settings
    result: FileResult
    # what the project index reads of this file, from its last version that parsed: a typo keeps the
    # neighbours' cross-file findings (the classes they train, the calls that bind their parameters)
    classes: dict = field(default_factory=dict)
    calls: tuple = ()


class Index:
    def __init__(self, folders: list[Path] = ()):
        self.folders = [Path(f).resolve() for f in folders]
        self.open: dict[Path, bytes] = {}  # path → the editor's text (encoded), while the document is open
        self.reparsers: dict = {}  # open document → its reparse.Reparser (the last tree: an edit reparses its statements)
        self.entries: dict[Path, Entry] = {}
        self.stats: dict[Path, tuple[int, int]] = {}  # files linted from disk: (mtime_ns, size) then
        self._settings: dict[Path, tuple[Settings, str | None]] = {}  # folder → settings, config error
        self._projects: dict[Path, tuple[float, list[Path]]] = {}  # root → (when listed, its files)
        self._caches: list[tuple[Settings, object]] = []  # the CLI's disk cache, per settings (None: refused)

    # documents
    def set_open(self, path: Path, data: bytes) -> None:
        self.open[path] = data
        self.stats.pop(path, None)

    def close(self, path: Path) -> None:
        self.open.pop(path, None)
        self.reparsers.pop(path, None)
        self.entries.pop(path, None)  # read from disk again if the project needs it

    def forget_settings(self) -> None:
        """Config files may have changed: find them again on the next lint."""
        self._settings.clear()
        config.clear_cache()

    def settings(self, path: Path) -> tuple[Settings, str | None]:
        folder = path.parent
        if folder not in self._settings:
            try:
                self._settings[folder] = (_settings_for(path), None)
            except config.ConfigError as exc:
                self._settings[folder] = (Settings(), str(exc))
        return self._settings[folder]

    # linting
    def lint(self, path: Path) -> FileResult:
        """The engine's result for one file: its editor text if open, else its bytes on disk. The same
        content under the same settings is linted once."""
        settings, _ = self.settings(path)
        entry = self.entries.get(path)
        data = self.open.get(path)
        if data is None:
            if entry is not None and entry.settings == settings and self._fresh(path):
                return entry.result  # unchanged on disk since it was read: not even read again
            data = self._read(path)
            if data is None:  # deleted or unreadable: it builds no class any more
                self.entries.pop(path, None)
                return FileResult(str(path))
        digest = engine.content_digest(data)
        if entry is not None and entry.digest == digest and entry.settings == settings:
            return entry.result
        store = self._cache(settings) if path not in self.open else None
        result = store.get(path, digest, engine._display_path(path)) if store is not None else None
        if result is None:
            result = _lint(path, data, settings, self._reparser(path))
            if store is not None:
                store.put(path, digest, result)
        last = entry if entry is not None and _unparsable(result) else result
        self.entries[path] = Entry(digest, settings, result, last.classes, last.calls)
        return result

    def _reparser(self, path: Path):
        """An open document's Reparser (files read from disk are parsed whole, once per content)."""
        if path not in self.open:
            return None
        if path not in self.reparsers:
            from gradlint.reparse import Reparser

            self.reparsers[path] = Reparser()
        return self.reparsers[path]

    def _cache(self, settings: Settings):
        """The CLI's cache (.gradlint_cache or cache-dir) for files read from disk; None where the CLI would
        refuse the folder. Open documents are never written to it: their text is not the file's."""
        from gradlint import cache

        for known, store in self._caches:
            if known == settings:
                return store
        folder = cache.default_dir(settings)
        try:
            cache.check_dir(folder, Path(settings.root), *self.folders)
            store = cache.Cache(folder, cache.settings_digest(settings, settings.enabled_codes()))
        except (cache.CacheDirError, OSError):
            store = None
        self._caches.append((settings, store))
        return store

    def save_caches(self) -> None:
        for _, store in self._caches:
            if store is not None:
                store.save()

    def _read(self, path: Path, record: bool = True) -> bytes | None:
        """A file's bytes; `record`: remember its stat, so that an unchanged file is not read again."""
        from gradlint.fs import read_regular

        try:
            info = os.stat(path)
            data = read_regular(path)
        except OSError:
            return None
        if record:
            self.stats[path] = (info.st_mtime_ns, info.st_size)
        return data

    def text_of(self, path: Path) -> str | None:
        """A file's text as the engine reads it: the editor's if open, else the disk's."""
        data = self.open.get(path)
        if data is None:
            data = self._read(path, record=False)
        try:
            return engine.decode(data) if data is not None else None
        except (UnicodeDecodeError, SyntaxError, LookupError):
            return None

    def lint_text(self, path: Path, text: str) -> list[Finding]:
        """Findings of a version of `path` that is not the document's (a fix being tried), as --fix re-lints:
        cross-file findings wait for the project and are left out."""
        settings, _ = self.settings(path)
        return [f for f in _lint(path, text.encode("utf-8"), settings).findings if not f.needs]

    def findings(self, path: Path, context: bool = True) -> tuple[list[Finding], list[InternalError]]:
        """The findings of one file as the CLI reports them over its whole project (cross-file ones judged
        against the classes of every file of the project; with `context` False, against its own only)."""
        result = self.lint(path)
        context = self.context(path) if context and any(f.needs for f in result.findings) else []
        return engine.resolve([result], context), list(result.errors)

    def unseen(self, path: Path) -> int:
        """How many files of the project judging `path`'s cross-file findings would lint first (0: none
        needed, or all linted already)."""
        if not any(f.needs for f in self.lint(path).findings):
            return 0
        return sum(1 for other in self.project_files(path) if other not in self.entries)

    def context(self, path: Path) -> list[FileResult]:
        """Results of the other files of `path`'s project, open ones from the editor, with each file's
        classes and call summaries of its last version that parsed."""
        out = []
        for other in self.project_files(path):
            if other == path:
                continue
            result = self.lint(other)
            entry = self.entries.get(other)
            if entry is not None and (entry.classes is not result.classes or entry.calls is not result.calls):
                result = FileResult(result.path, classes=entry.classes, calls=entry.calls)
            out.append(result)
        self.save_caches()
        return out

    def _fresh(self, path: Path) -> bool:
        try:
            info = os.stat(path)
        except OSError:
            return False
        return self.stats.get(path) == (info.st_mtime_ns, info.st_size)

    def project_root(self, path: Path) -> Path:
        settings, _ = self.settings(path)
        if settings.root != ".":  # a config file was found: its folder is the project
            return Path(settings.root).resolve()
        for folder in sorted(self.folders, key=lambda f: len(f.parts), reverse=True):
            if folder == path or folder in path.parents:
                return folder
        return path.parent

    def project_files(self, path: Path) -> list[Path]:
        """The files `gradlint ROOT` would lint, plus the open documents under ROOT."""
        from gradlint import discovery

        root = self.project_root(path)
        listed = self._projects.get(root)
        if listed is None or time.monotonic() - listed[0] > PROJECT_TTL:
            settings, _ = self.settings(path)
            try:
                found = [p.resolve() for p in discovery.discover([str(root)], settings)]
            except discovery.DiscoveryError:
                found = []
            listed = self._projects[root] = (time.monotonic(), found)
        found = listed[1]
        if len(found) > MAX_PROJECT_FILES:  # a home folder opened as the workspace: stay near the file
            found = [p for p in found if p.parent == path.parent]
        opened = [p for p in self.open if root in p.parents]
        return list(dict.fromkeys([*found, *opened]))

    def dependents(self, path: Path) -> list[Path]:
        """Open documents of `path`'s project whose findings wait on another file's classes."""
        root = self.project_root(path)
        out = []
        for other in self.open:
            entry = self.entries.get(other)
            if other != path and root in other.parents and entry is not None and \
                    any(f.needs for f in entry.result.findings):
                out.append(other)
        return out


def _lint(path: Path, data: bytes, settings: Settings, reparser=None) -> FileResult:
    """engine.lint_file on in-memory bytes; any failure is an internal error of this file, never the server's."""
    try:
        return engine.lint_file(path, settings, settings.enabled_codes(), data=data, reparser=reparser)
    except Exception as exc:
        return FileResult(str(path), errors=[InternalError(str(path), "engine", f"{type(exc).__name__}: {exc}")])


def _unparsable(result: FileResult) -> bool:
    return any(f.code == "GL000" for f in result.findings)
