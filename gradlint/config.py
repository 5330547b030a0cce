"""[tool.gradlint] in pyproject.toml (or --config FILE) → a frozen Settings. Every error names the key."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from gradlint.fs import is_dir as _is_dir, is_file as _is_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from gradlint.report import FORMATS as OUTPUT_FORMATS  # the one list of --output-format values

# Learning rates above these are "large" for an optimizer run with no schedule (GL202, GL201); the upper
# half up to them is "high" (GL209, off by default).
DEFAULT_LR_LIMITS = {
    "SGD": 1.0,
    "ASGD": 1.0,
    "Adagrad": 1.0,
    "Adam": 0.01,
    "AdamW": 0.01,
    "Adamax": 0.05,
    "NAdam": 0.01,
    "RAdam": 0.01,
    "RMSprop": 0.01,
    "SparseAdam": 0.01,
}


class ConfigError(Exception):
    """A bad configuration value; the message names the key."""


class FrozenDict(Mapping):
    """A read-only mapping that pickles (MappingProxyType does not): Settings cross the process pool."""

    def __init__(self, data: Mapping | None = None):
        self._data = dict(data or {})

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"


@dataclass(frozen=True)
class Thresholds:
    activation_stack: int = 3  # GL101
    plain_stack: int = 8  # GL102
    clip_norm: float = 1000.0  # GL208
    lr_limits: Mapping[str, float] = field(default_factory=lambda: FrozenDict(dict(DEFAULT_LR_LIMITS)))


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection (a config file, an extended one, `--config K=V`, the command line).

    Layers apply in order, as ruff's do: a layer with `select` starts over from it (so `--select GL202`
    re-enables what a file's `ignore` dropped); a layer without one adds `extend-select` and removes
    `ignore`. Within a layer the more specific selector wins (`ignore = ["GL2"]` with `extend-select =
    ["GL202"]` keeps GL202); at equal specificity `ignore` wins."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.select is not None or bool(self.extend_select or self.ignore)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] | None = None  # None: every rule that is on by default
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    # (glob, codes, folder the glob is relative to; "" for `root`)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]] | tuple[str, tuple[str, ...], str], ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    output_format: str = "text"
    respect_gitignore: bool = True
    cache_dir: str | None = None
    max_file_size_kb: int = 2048  # real training scripts are far below; a 10 MB data dump as .py is not
    verify: Mapping[str, Any] = field(default_factory=lambda: FrozenDict({}))
    root: str = "."  # folder of the config file; relative excludes and per-file-ignores start here
    # Rule-selection layers in the order they apply (empty: the one layer select/extend_select/ignore).
    selections: tuple[Selection, ...] = ()
    # exclude/extend-exclude inherited through `extend`: (folder they are relative to, globs).
    inherited_excludes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    config_file: str | None = None  # the file these settings came from (None: defaults)
    ignore_noqa: bool = False  # --ignore-noqa: suppression comments silence nothing
    fixable: tuple[str, ...] = ("ALL",)  # codes whose fixes --fix may apply (ruff's fixable/unfixable)
    unfixable: tuple[str, ...] = ()
    extended: tuple[str, ...] = ()  # the files it extends, nearest first

    def __post_init__(self):
        if not self.selections:
            object.__setattr__(self, "selections", (Selection(self.select, self.extend_select, self.ignore),))

    def enabled_codes(self) -> frozenset[str]:
        return _enabled(self.selections)

    def is_fixable(self, code: str) -> bool:
        return _matches(code, self.fixable) and not _matches(code, self.unfixable)

    def exclusions(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(folder, globs) pairs: a path is excluded when a glob matches it relative to its folder."""
        own = (str(self.root), (*self.exclude, *self.extend_exclude))
        return tuple(pair for pair in (own, *self.inherited_excludes) if pair[1])

    def ignored_for(self, path: "Path | str") -> tuple[str, ...]:
        """The codes per-file-ignores drop for a file: each glob matches the path relative to the folder
        of the config file that declares it (a str is already relative to `root`)."""
        ignored: list[str] = []
        for entry in self.per_file_ignores:
            pattern, codes = entry[0], entry[1]
            folder = (entry[2] if len(entry) > 2 else "") or str(self.root)
            rel = path if isinstance(path, str) else _relative(path, folder)
            if rel is not None and _glob(pattern).match_file(rel):
                ignored.extend(codes)
        return tuple(ignored)


def _matches(code: str, selectors: tuple[str, ...]) -> bool:
    return any(sel == "ALL" or code.startswith(sel) for sel in selectors)


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


@lru_cache(maxsize=256)
def _enabled(selections: tuple[Selection, ...]) -> frozenset[str]:
    """ruff's rule-selection algorithm over the layers (see Selection)."""
    from gradlint import catalog

    rules = catalog.all_rules()
    chosen = {code for code, rule in rules.items() if rule.default}
    carried_ignores: tuple[str, ...] = ()
    for layer in selections:
        updates: dict[str, bool] = {}
        ignores = (*layer.ignore, *carried_ignores)
        carried_ignores = ()
        for level in sorted({_specificity(s) for s in (*(layer.select or ()), *layer.extend_select, *ignores)}):
            for selector in (*(layer.select or ()), *layer.extend_select):
                if _specificity(selector) == level:
                    updates.update((code, True) for code in rules if _matches(code, (selector,)))
            for selector in ignores:
                if _specificity(selector) == level:
                    updates.update((code, False) for code in rules if _matches(code, (selector,)))
        if layer.select is not None:
            chosen = {code for code, on in updates.items() if on}
            if not layer.select and not layer.extend_select and layer.ignore:
                carried_ignores = layer.ignore  # `select = []` with an ignore: the ignore holds for later layers
        else:
            chosen |= {code for code, on in updates.items() if on}
            chosen -= {code for code, on in updates.items() if not on}
    return frozenset(chosen)


@lru_cache(maxsize=1024)
def _glob(pattern: str):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines([pattern])


def _relative(path: "Path", folder: str) -> str | None:
    try:
        return _resolved(Path(path)).relative_to(_resolved(Path(folder))).as_posix()
    except ValueError:
        return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a symlink loop
        return path.absolute()


# Per folder, in this order of precedence (ruff's: .ruff.toml, ruff.toml, pyproject.toml). A gradlint.toml
# is the [tool.gradlint] table itself and counts even when empty; a pyproject.toml only with the table.
CONFIG_NAMES = (".gradlint.toml", "gradlint.toml", "pyproject.toml")


def find_config(start: Path) -> Path | None:
    """The nearest config file, walking up from `start` (a file or a folder), like ruff."""
    here = _resolved(start)
    if _is_file(here):
        here = here.parent
    for folder in (here, *here.parents):
        found = config_in(folder)
        if found is not None:
            return found
    return None


def config_in(folder: Path) -> Path | None:
    """The config file of this folder itself, if it has one.

    A pyproject.toml that cannot be read as TOML is skipped, unless it mentions gradlint: then linting
    with the defaults would silently ignore the user's settings, and that is a ConfigError."""
    for name in CONFIG_NAMES:
        candidate = folder / name
        if not _is_file(candidate):
            continue
        if name != "pyproject.toml":
            return candidate
        try:
            data = candidate.read_bytes()
        except OSError:
            continue
        problem, table = _parse(data, candidate)
        if problem is not None:
            if _mentions_gradlint(data):
                raise ConfigError(problem)
            continue
        tool = table.get("tool")
        if isinstance(tool, dict) and "gradlint" in tool:
            return candidate
    return None


def _mentions_gradlint(data: bytes) -> bool:
    return any(word in data for word in (b"gradlint", "gradlint".encode("utf-16-le"), "gradlint".encode("utf-16-be")))


def _parse(data: bytes, path: Path) -> tuple[str | None, dict]:
    """(None, table) for a TOML file, or (why not, {}): not UTF-8 (TOML must be), not TOML, nested too deep."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"{path}: not UTF-8 (TOML files must be UTF-8): {exc}", {}
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\0" in text:
        return f"{path}: not UTF-8 text (NUL characters: UTF-16?); TOML files must be UTF-8", {}
    try:
        return None, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"{path}: not valid TOML: {exc}", {}
    except RecursionError:
        return f"{path}: not valid TOML: nested too deeply", {}


def checked_file(path: Path) -> Path:
    """A --config path that is a regular file (not a folder, a FIFO or /dev/null); else a ConfigError saying what it is."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: no such file") from None
    except OSError as exc:  # a symlink loop (ELOOP), a folder we may not enter
        raise ConfigError(f"cannot read config file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"config file {path} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"config file {path} is not a regular file (a device, FIFO or socket)")
    return path


def load(path: Path | None, _chain: tuple[Path, ...] = ()) -> Settings:
    """Settings from a config file (following its `extend`); `path=None` gives the defaults."""
    if path is None:
        return Settings()
    table = read_table(path)
    if table is None:
        return Settings(root=str(path.parent), config_file=str(path))
    base = None
    if "extend" in table:
        base = _extended(table["extend"], path, _chain)
    return from_table(table, root=path.parent, where=str(path), base=base)


def read_table(path: Path) -> dict | None:
    """The [tool.gradlint] table of a pyproject.toml (None if it has none), or a gradlint.toml's document."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    problem, document = _parse(data, path)
    if problem is not None:
        raise ConfigError(problem)
    if path.name != "pyproject.toml":
        return document
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: tool must be a table, not {_kind(tool)}")
    table = tool.get("gradlint")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.gradlint must be a table, not {_kind(table)}")
    return table


def _extended(value: Any, path: Path, chain: tuple[Path, ...]) -> Settings:
    """The settings of the file `extend = "..."` names, relative to the folder of the file that says it."""
    name = "tool.gradlint.extend"
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: {name} must be the path of another config file (a string)")
    import os

    target = Path(os.path.expanduser(value))
    if not target.is_absolute():
        target = path.parent / target
    here = _resolved(path)
    if _resolved(target) in (*chain, here):
        raise ConfigError(f"{path}: {name} = {value!r} extends itself (a cycle through {target})")
    if not _is_file(target):
        raise ConfigError(f"{path}: {name} = {value!r}: no such file ({target})")
    if target.name == "pyproject.toml" and read_table(target) is None:
        raise ConfigError(f"{path}: {name} = {value!r}: {target} has no [tool.gradlint] table")
    return load(_resolved(target), (*chain, here))


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}.get(
        type(value), type(value).__name__)


_LIST_KEYS = {
    "select": "select",
    "ignore": "ignore",
    "extend-select": "extend_select",
    "exclude": "exclude",
    "extend-exclude": "extend_exclude",
    "fixable": "fixable",
    "unfixable": "unfixable",
}
_THRESHOLD_KEYS = {"activation-stack": int, "plain-stack": int, "clip-norm": float, "lr-limits": dict}


def from_table(table: Mapping[str, Any], root: Path | str, where: str = "config",
               base: Settings | None = None, inline: bool = False) -> Settings:
    """A [tool.gradlint] table → Settings, over `base` (the file it extends, or, `inline`, the file that
    `--config KEY=VALUE` overrides), whose values it overrides key by key. `where` names the file."""
    root = str(root)
    base = base or Settings(root=root)
    values: dict[str, Any] = {"root": root}
    if not inline:
        values["config_file"] = where
        if base.config_file is not None:
            values["extended"] = (base.config_file, *base.extended)
    moved = str(base.root) != root  # an extended file elsewhere: its paths stay relative to its own folder
    if moved:
        values["per_file_ignores"] = tuple((p, c, (rest[0] if rest else "") or str(base.root))
                                           for p, c, *rest in base.per_file_ignores)
        values["inherited_excludes"] = base.exclusions()
        values["exclude"] = values["extend_exclude"] = ()
        if base.cache_dir is not None:
            values["cache_dir"] = str(Path(base.root) / base.cache_dir)
    layer: dict[str, Any] = {}
    for key, value in table.items():
        name = f"tool.gradlint.{key}"
        if key in _LIST_KEYS:
            items = _string_list(value, name, where)
            if key in ("fixable", "unfixable"):
                check_codes(items, name, where)
                values[_LIST_KEYS[key]] = tuple(items)
            elif key in ("select", "ignore", "extend-select"):
                check_codes(items, name, where)
                layer[_LIST_KEYS[key]] = tuple(items)
            elif key == "exclude" and moved:  # replaces what was excluded; extend-exclude accumulates
                values["inherited_excludes"] = (*base.inherited_excludes, *(
                    ((str(base.root), base.extend_exclude),) if base.extend_exclude else ()))
                values["exclude"] = tuple(items)
            elif key == "extend-exclude" and not moved:
                values["extend_exclude"] = (*base.extend_exclude, *items)
            else:
                values[_LIST_KEYS[key]] = tuple(items)
        elif key == "extend":
            if inline:
                raise ConfigError(f"{where}: {name} can only be set in a config file")
            if not isinstance(value, str):  # load() follows it (_extended)
                raise ConfigError(f"{where}: {name} must be the path of another config file (a string)")
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {name} must be a table of glob = [codes]")
            pairs = []
            for pattern, codes in value.items():
                items = _string_list(codes, f"{name}.{pattern}", where)
                check_codes(items, f"{name}.{pattern}", where)
                pairs.append((pattern, tuple(items), root))
            values["per_file_ignores"] = tuple(pairs)
        elif key == "thresholds":
            values["thresholds"] = _thresholds(value, name, where, base.thresholds)
        elif key == "output-format":
            if value not in OUTPUT_FORMATS:
                raise ConfigError(f"{where}: {name} must be one of {', '.join(OUTPUT_FORMATS)}, not {value!r}")
            values["output_format"] = value
        elif key == "respect-gitignore":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {name} must be true or false")
            values["respect_gitignore"] = value
        elif key == "cache-dir":
            if not isinstance(value, str):
                raise ConfigError(f"{where}: {name} must be a string")
            values["cache_dir"] = value
        elif key == "max-file-size-kb":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where}: {name} must be a positive integer (KiB)")
            values["max_file_size_kb"] = value
        elif key == "verify":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {name} must be a table")
            merged = _deep_merge(dict(base.verify), value)
            from gradlint.verify import settings as verify_settings  # no torch: validation only

            verify_settings.parse(merged, where)  # every command checks the verify section, not only verify
            values["verify"] = FrozenDict(merged)
        else:
            raise ConfigError(f"{where}: unknown key {name}")
    own = Selection(layer.get("select"), layer.get("extend_select", ()), layer.get("ignore", ()))
    values["selections"] = (*base.selections, own) if own else base.selections
    values.setdefault("select", layer.get("select", base.select))
    values.setdefault("ignore", layer.get("ignore", base.ignore))
    values.setdefault("extend_select", layer.get("extend_select", base.extend_select))
    return replace(base, **values)


def _deep_merge(base: dict, over: Mapping) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _string_list(value: Any, name: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {name} must be a list of strings")
    return value


def check_codes(codes: list[str] | tuple[str, ...], name: str, where: str = "command line") -> None:
    from gradlint import catalog

    known = catalog.all_rules()
    for code in codes:
        if code != "ALL" and not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: {name}: unknown rule code {code!r}")


def _thresholds(value: Any, name: str, where: str, base: Thresholds | None = None) -> Thresholds:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {name} must be a table")
    base = base or Thresholds()
    fields: dict[str, Any] = {}
    for key, item in value.items():
        kind = _THRESHOLD_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{where}: unknown key {name}.{key}")
        if kind is dict:
            if not isinstance(item, dict):
                raise ConfigError(f"{where}: {name}.{key} must be a table of optimizer = lr")
            limits = dict(base.lr_limits)
            known = _optimizer_names()
            for optimizer, limit in item.items():
                if optimizer not in known:
                    raise ConfigError(
                        f"{where}: {name}.{key}.{optimizer}: unknown optimizer (known: {', '.join(sorted(known))})"
                    )
                if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 < limit < math.inf:
                    raise ConfigError(f"{where}: {name}.{key}.{optimizer} must be a positive number")
                limits[optimizer] = float(limit)
            fields["lr_limits"] = FrozenDict(limits)
            continue
        if isinstance(item, bool) or not isinstance(item, (int, float)) or (kind is int and not isinstance(item, int)):
            raise ConfigError(f"{where}: {name}.{key} must be {'an integer' if kind is int else 'a number'}")
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"{where}: {name}.{key} must be a finite number, not {item}")
        if item <= (1 if kind is int else 0):
            raise ConfigError(f"{where}: {name}.{key} must be greater than {1 if kind is int else 0}")
        fields[key.replace("-", "_")] = kind(item)
    return replace(base, **fields)


def _optimizer_names() -> frozenset[str]:
    from gradlint.facts.vocab import OPTIMIZERS

    return frozenset(OPTIMIZERS.values())


def override(settings: Settings, **cli: Any) -> Settings:
    """CLI flags win over the file; None means 'not given'."""
    return replace(settings, **{k: v for k, v in cli.items() if v is not None})


# -- hierarchical resolution: the settings of each file ---------------------------------------------------


@dataclass(frozen=True)
class Overrides:
    """What the command line says about settings; it applies over every file's config, ruff's precedence:
    the file (and what it extends), then `--config KEY=VALUE`, then --select/--ignore/--extend-select and
    the other flags."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    output_format: str | None = None
    respect_gitignore: bool | None = None
    config_file: str | None = None  # --config FILE: this one file for every path, no discovery
    inline: tuple[str, ...] = ()  # --config KEY=VALUE, as typed
    isolated: bool = False  # --isolated: no config file at all
    ignore_noqa: bool = False  # --ignore-noqa
    fixable: tuple[str, ...] | None = None  # --fixable / --unfixable replace the config's
    unfixable: tuple[str, ...] | None = None


def split_config_options(values: tuple[str, ...] | list[str]) -> tuple[str | None, tuple[str, ...]]:
    """`--config` values → (the one config file, the KEY=VALUE overrides), as ruff tells them apart: a value
    that names an existing file (or ends in .toml) is a file; else it must parse as TOML `KEY = VALUE`."""
    file, inline = None, []
    for value in values:
        if _is_file(Path(value)) or "=" not in value:
            if file is not None:
                raise ConfigError(f"--config {value}: only one config file can be given (and {file} was)")
            file = value
        else:
            _inline_table(value)  # a bad one is an error now, not once per file
            inline.append(value)
    return file, tuple(inline)


def _inline_table(value: str) -> dict:
    try:
        table = tomllib.loads(value)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {value!r}: neither a config file nor a TOML KEY = VALUE pair ({exc})") from None
    for prefix in ("tool", "gradlint"):  # `tool.gradlint.select = [...]` means `select = [...]`
        if list(table) == [prefix] and isinstance(table[prefix], dict):
            table = table[prefix]
    return table


class Resolver:
    """The settings of every file of a run: the nearest config file to it (memoised per folder, so a
    tree of thousands of files costs one walk up per folder) with the command line's overrides on top.

    `settings_for(path)` is the one entry point the engine, the CLI and the language server use;
    `clear()` forgets what was read (a config file changed)."""

    def __init__(self, overrides: Overrides | None = None):
        self.overrides = overrides or Overrides()
        self._inline = [(text, _inline_table(text)) for text in self.overrides.inline]
        self._folders: dict[Path, Path | None] = {}
        self._files: dict[Path | None, Settings] = {}
        self._paths: dict[Path | str, Settings] = {}  # as asked: a path asked again costs no stat call
        self._fixed: Settings | None = None
        if self.overrides.config_file is not None:
            self._fixed = self._finish(load(checked_file(Path(self.overrides.config_file))))
        elif self.overrides.isolated:
            self._fixed = self._finish(Settings())

    def clear(self) -> None:
        self._folders.clear()
        self._files.clear()
        self._paths.clear()

    def config_for(self, path: Path | str) -> Path | None:
        """The config file that governs `path` (None: the defaults)."""
        if self._fixed is not None:
            return Path(self._fixed.config_file) if self._fixed.config_file else None
        here = _resolved(Path(path))
        folder = here if _is_dir(here) else here.parent
        walked = []
        found: Path | None = None
        for candidate in (folder, *folder.parents):
            if candidate in self._folders:
                found = self._folders[candidate]
                break
            walked.append(candidate)
            found = config_in(candidate)
            if found is not None:
                break
        for visited in walked:
            self._folders[visited] = found
        return found

    def settings_for(self, path: Path | str) -> Settings:
        if self._fixed is not None:
            return self._fixed
        known = self._paths.get(path)
        if known is not None:
            return known
        config = self.config_for(path)
        settings = self._files.get(config)
        if settings is None:
            settings = self._files[config] = self._finish(load(config))
        self._paths[path] = settings
        return settings

    def _finish(self, settings: Settings) -> Settings:
        for text, table in self._inline:
            settings = from_table(table, settings.root, where=f"--config {text!r}", base=settings, inline=True)
        cli = self.overrides
        layer = Selection(cli.select, cli.extend_select, cli.ignore)
        return replace(
            settings,
            selections=(*settings.selections, layer) if layer else settings.selections,
            output_format=cli.output_format or settings.output_format,
            respect_gitignore=settings.respect_gitignore if cli.respect_gitignore is None else cli.respect_gitignore,
            ignore_noqa=cli.ignore_noqa,
            fixable=cli.fixable if cli.fixable is not None else settings.fixable,
            unfixable=cli.unfixable if cli.unfixable is not None else settings.unfixable,
        )


_RESOLVERS: dict[Overrides, Resolver] = {}


def settings_for(path: Path | str, overrides: Overrides | None = None) -> Settings:
    """The resolved settings of one file (or folder): its nearest config file, then `overrides`.
    Memoised per folder and per config file across calls; `clear_cache()` after a config file changes."""
    overrides = overrides or Overrides()
    resolver = _RESOLVERS.get(overrides)
    if resolver is None:
        resolver = _RESOLVERS[overrides] = Resolver(overrides)
    return resolver.settings_for(path)


def clear_cache() -> None:
    _RESOLVERS.clear()


def describe(settings: Settings, path: Path | str) -> str:
    """`--show-settings`: what a file is linted with, one `key = value` line each (TOML-like)."""
    import json

    def value(v) -> str:
        return json.dumps(v, ensure_ascii=False)

    t = settings.thresholds
    lines = [
        f"# Resolved settings for: {path}",
        f"config-file = {value(settings.config_file)}",
        f"extends = {value(list(settings.extended))}",
        f"root = {value(str(_resolved(Path(settings.root))))}",
        f"enabled = {value(sorted(settings.enabled_codes()))}",
        f"ignored-here = {value(list(settings.ignored_for(Path(path))))}  # per-file-ignores that match this file",
        "selection-layers = [",
        *(f"  {{ select = {value(list(s.select) if s.select is not None else None)}, "
          f"extend-select = {value(list(s.extend_select))}, ignore = {value(list(s.ignore))} }},"
          for s in settings.selections if s),
        "]",
        f"exclude = {value([f'{folder}: {g}' for folder, globs in settings.exclusions() for g in globs])}",
        f"per-file-ignores = {value({e[0]: list(e[1]) for e in settings.per_file_ignores})}",
        f"fixable = {value(list(settings.fixable))}",
        f"unfixable = {value(list(settings.unfixable))}",
        f"output-format = {value(settings.output_format)}",
        f"respect-gitignore = {value(settings.respect_gitignore)}",
        f"cache-dir = {value(settings.cache_dir)}",
        f"max-file-size-kb = {settings.max_file_size_kb}",
        "[thresholds]",
        f"activation-stack = {t.activation_stack}",
        f"plain-stack = {t.plain_stack}",
        f"clip-norm = {t.clip_norm:g}",
        f"lr-limits = {value(dict(t.lr_limits))}",
        "[verify]",
        *(f"{k} = {value(v)}" for k, v in settings.verify.items()),
    ]
    return "\n".join(lines) + "\n"
