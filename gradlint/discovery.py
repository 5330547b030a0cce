"""Paths given on the command line → the files to lint (gitignore, exclude, default skips)."""

from __future__ import annotations

import os
from pathlib import Path

import pathspec

from gradlint.config import Settings
from gradlint.fs import is_dir as _is_dir, is_file as _is_file

SOURCE_SUFFIXES = (".py", ".ipynb")
# A folder called env/ is as often an RL package as a virtualenv: real virtualenvs have a pyvenv.cfg.
SKIPPED_DIRS = frozenset({"__pycache__", "build", "dist", "node_modules", "site-packages", "venv"})


class DiscoveryError(Exception):
    pass


def discover(paths: list[str], settings: Settings, force_exclude: bool = False, settings_of=None) -> list[Path]:
    """Files to lint, each once, in sorted order. A missing path raises DiscoveryError.

    exclude/extend-exclude come from each folder's own settings (`settings_of(folder)`, hierarchical
    config), else from `settings` everywhere; each glob is relative to the config file that declares it.
    A path named explicitly is linted even when they match it, unless force_exclude (ruff's
    --force-exclude: what pre-commit passes, file by file, is excluded like a walked file)."""
    rules = _Exclusions(settings, settings_of)
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(path):
            raise DiscoveryError(f"{raw}: no such file or directory")
        if force_exclude and rules.excluded_explicitly(path, is_dir=_is_dir(path)):
            continue
        if not _is_dir(path):
            # Named explicitly: always linted. A symlink loop, a dangling link or a file that cannot be
            # read is that file's own GL000 ("cannot read file"), not the end of the run.
            found[path] = None
            continue
        use_gitignore = (settings_of(path) if settings_of is not None else settings).respect_gitignore
        for file in _walk(path, rules, use_gitignore):
            found[file] = None
    return sorted(found, key=lambda p: p.as_posix())


class _Exclusions:
    """exclude/extend-exclude per folder: the folder's settings' (folder, globs) pairs, compiled once each."""

    def __init__(self, settings: Settings, settings_of=None):
        self.settings, self.settings_of = settings, settings_of
        self._compiled: dict[tuple, list] = {}

    def _specs(self, folder: Path) -> list[tuple[Path, pathspec.PathSpec]]:
        own = self.settings_of(folder) if self.settings_of is not None else self.settings
        key = own.exclusions()
        specs = self._compiled.get(key)
        if specs is None:
            specs = self._compiled[key] = [
                (Path(root).resolve(), pathspec.GitIgnoreSpec.from_lines(globs)) for root, globs in key]
        return specs

    def excluded(self, path: Path, is_dir: bool) -> bool:
        return any(_excluded(path, root, spec, is_dir) for root, spec in self._specs(path.parent))

    def excluded_explicitly(self, path: Path, is_dir: bool) -> bool:
        return any(_excluded_explicitly(path, root, spec, is_dir)
                   for root, spec in self._specs(path if is_dir else path.parent))


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root).as_posix()
    except (ValueError, RuntimeError, OSError):  # RuntimeError: a symlink loop
        return None


def _is_virtualenv(folder: Path) -> bool:
    return _is_file(folder / "pyvenv.cfg")






def _walk(top: Path, rules: _Exclusions, use_gitignore: bool):
    ignores = _GitIgnores(top) if use_gitignore else None
    seen_dirs: set[tuple[int, int]] = set()
    for folder, dirnames, filenames in os.walk(top, followlinks=False, onerror=lambda err: None):
        here = Path(folder)
        try:
            stat = here.stat()
        except OSError:
            dirnames[:] = []
            continue
        if (stat.st_dev, stat.st_ino) in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        if ignores is not None:
            ignores.enter(here)
        kept = []
        for name in sorted(dirnames):
            sub = here / name
            if name.startswith(".") or name in SKIPPED_DIRS or _is_virtualenv(sub):
                continue
            if rules.excluded(sub, is_dir=True) or (ignores and ignores.ignored(sub, is_dir=True)):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith(SOURCE_SUFFIXES) or name.startswith("."):
                continue
            file = here / name
            if rules.excluded(file, is_dir=False) or (ignores and ignores.ignored(file, is_dir=False)):
                continue
            if _is_file(file):  # a dangling symlink is not a file
                yield file


def _excluded(path: Path, root: Path, spec: pathspec.PathSpec, is_dir: bool) -> bool:
    if not spec.patterns:
        return False
    suffix = "/" if is_dir else ""
    rel = _relative(path, root)
    candidates = [path.name + suffix] + ([rel + suffix] if rel else [])
    return any(spec.match_file(c) for c in candidates)


def _excluded_explicitly(path: Path, root: Path, spec: pathspec.PathSpec, is_dir: bool) -> bool:
    """exclude/extend-exclude against a path given on the command line: the path or a folder above it
    (below the root) matches."""
    if not spec.patterns:
        return False
    if _excluded(path, root, spec, is_dir):
        return True
    rel = _relative(path, root)
    parts = rel.split("/") if rel and rel != "." else []
    return any(spec.match_file("/".join(parts[:i]) + "/") for i in range(1, len(parts)))


class _GitIgnores:
    """The .gitignore files that apply below the repository root, each matched relative to its folder."""

    def __init__(self, top: Path):
        self.specs: list[tuple[Path, pathspec.PathSpec]] = []
        start = top.resolve()
        repo = next((p for p in (start, *start.parents) if (p / ".git").exists()), None)
        if repo is not None:
            # .gitignore files between the repository root and the walked folder apply too.
            for folder in reversed([start, *start.parents]):
                if folder == repo or repo in folder.parents:
                    if folder != start:
                        self._load(folder)
            info = repo / ".git" / "info" / "exclude"
            if _is_file(info):
                self._add(repo, info)

    def enter(self, folder: Path) -> None:
        self._load(folder.resolve())

    def _load(self, folder: Path) -> None:
        candidate = folder / ".gitignore"
        if _is_file(candidate):
            self._add(folder, candidate)

    def _add(self, folder: Path, file: Path) -> None:
        try:
            lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self.specs.append((folder, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        resolved = path.resolve() if not path.is_symlink() else path.parent.resolve() / path.name
        verdict = False
        for folder, spec in self.specs:
            try:
                rel = resolved.relative_to(folder).as_posix()
            except ValueError:
                continue
            result = spec.check_file(rel + ("/" if is_dir else ""))
            if result.include is not None:
                verdict = result.include
        return verdict
