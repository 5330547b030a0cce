"""[tool.gradlint] in pyproject.toml (or --config FILE) → a frozen Settings. Every error names the key."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

from gradlint.fs import is_file as _is_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

OUTPUT_FORMATS = ("text", "json", "github", "sarif", "gitlab", "junit")

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
class Settings:
    select: tuple[str, ...] | None = None  # None: every rule that is on by default
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    output_format: str = "text"
    respect_gitignore: bool = True
    cache_dir: str | None = None
    max_file_size_kb: int = 2048  # real training scripts are far below; a 10 MB data dump as .py is not
    verify: Mapping[str, Any] = field(default_factory=lambda: FrozenDict({}))
    root: str = "."  # folder of the config file; relative excludes and per-file-ignores start here

    def enabled_codes(self) -> frozenset[str]:
        from gradlint import catalog

        rules = catalog.all_rules()
        if self.select is None:
            chosen = {code for code, rule in rules.items() if rule.default}
        else:
            chosen = {code for code in rules if _matches(code, self.select)}
        chosen |= {code for code in rules if _matches(code, self.extend_select)}
        return frozenset(code for code in chosen if not _matches(code, self.ignore))

    def ignored_for(self, relpath: str) -> tuple[str, ...]:
        import pathspec

        ignored: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if pathspec.GitIgnoreSpec.from_lines([pattern]).match_file(relpath):
                ignored.extend(codes)
        return tuple(ignored)


def _matches(code: str, selectors: tuple[str, ...]) -> bool:
    return any(sel == "ALL" or code.startswith(sel) for sel in selectors)


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.gradlint] table, walking up from `start` (like ruff).

    A pyproject.toml that cannot be read as TOML is skipped, unless it mentions gradlint: then linting
    with the defaults would silently ignore the user's settings, and that is a ConfigError."""
    try:
        here = start.resolve()
    except (RuntimeError, OSError):  # a symlink loop
        here = start.absolute()
    if _is_file(here):
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if not _is_file(candidate):
            continue
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


def load(path: Path | None) -> Settings:
    """Settings from a config file; `path=None` gives the defaults."""
    if path is None:
        return Settings()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    problem, document = _parse(data, path)
    if problem is not None:
        raise ConfigError(problem)
    if path.name == "pyproject.toml":
        tool = document.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: tool must be a table, not {_kind(tool)}")
        table = tool.get("gradlint")
    else:
        table = document
    if table is None:
        return Settings(root=str(path.parent))
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.gradlint must be a table, not {_kind(table)}")
    return from_table(table, root=path.parent, where=str(path))


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}.get(
        type(value), type(value).__name__)


_LIST_KEYS = {
    "select": "select",
    "ignore": "ignore",
    "extend-select": "extend_select",
    "exclude": "exclude",
    "extend-exclude": "extend_exclude",
}
_THRESHOLD_KEYS = {"activation-stack": int, "plain-stack": int, "clip-norm": float, "lr-limits": dict}


def from_table(table: Mapping[str, Any], root: Path, where: str = "config") -> Settings:
    values: dict[str, Any] = {"root": str(root)}
    for key, value in table.items():
        name = f"tool.gradlint.{key}"
        if key in _LIST_KEYS:
            items = _string_list(value, name, where)
            if key in ("select", "ignore", "extend-select"):
                check_codes(items, name, where)
            values[_LIST_KEYS[key]] = tuple(items)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {name} must be a table of glob = [codes]")
            pairs = []
            for pattern, codes in value.items():
                items = _string_list(codes, f"{name}.{pattern}", where)
                check_codes(items, f"{name}.{pattern}", where)
                pairs.append((pattern, tuple(items)))
            values["per_file_ignores"] = tuple(pairs)
        elif key == "thresholds":
            values["thresholds"] = _thresholds(value, name, where)
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
            values["verify"] = FrozenDict(dict(value))
        else:
            raise ConfigError(f"{where}: unknown key {name}")
    return Settings(**values)


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


def _thresholds(value: Any, name: str, where: str) -> Thresholds:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {name} must be a table")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        kind = _THRESHOLD_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{where}: unknown key {name}.{key}")
        if kind is dict:
            if not isinstance(item, dict):
                raise ConfigError(f"{where}: {name}.{key} must be a table of optimizer = lr")
            limits = dict(DEFAULT_LR_LIMITS)
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
    return Thresholds(**fields)


def _optimizer_names() -> frozenset[str]:
    from gradlint.facts.vocab import OPTIMIZERS

    return frozenset(OPTIMIZERS.values())


def override(settings: Settings, **cli: Any) -> Settings:
    """CLI flags win over the file; None means 'not given'."""
    return replace(settings, **{k: v for k, v in cli.items() if v is not None})
