"""[tool.gradlint.verify] → a frozen VerifyConfig. config.py hands the table over raw; every error names the key."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from gradlint.config import ConfigError

DEVICES = ("cpu", "cuda", "auto")
INPUT_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "bool")
PREFIX = "tool.gradlint.verify"


@dataclass(frozen=True)
class Thresholds:
    """When a model's gradients count as broken. Defaults are documented in README "Verify"."""

    exploding_norm: float = 1e3  # global gradient norm at any step at or above this
    growth: float = 1e2  # global norm grows by this factor or more between step 1 and its peak
    vanishing_norm: float = 1e-7  # global gradient norm at step 1 below this: nothing flows
    vanishing_ratio: float = 1e-3  # first/last layer gradient-norm ratio below this
    exploding_ratio: float = 1e3  # first/last layer ratio above this: norms grow towards the input


@dataclass(frozen=True)
class ModelOverride:
    args: tuple | None = None
    kwargs: Mapping[str, Any] | None = None
    input_shape: tuple[int, ...] | None = None  # the whole input tensor, batch included
    input_dtype: str | None = None
    input_high: int | None = None  # exclusive upper bound of integer inputs
    # One entry per forward argument: {"shape": [...], "dtype": ..., "high": ...}; {} passes None.
    inputs: tuple[Mapping[str, Any], ...] | None = None
    # A model without forward (an RL actor-critic): the methods or submodules to measure (`["pi", "v"]`).
    methods: tuple[str, ...] | None = None


@dataclass(frozen=True)
class VerifyConfig:
    device: str = "cpu"
    steps: int = 20
    batch_size: int = 16
    timeout: float = 60.0
    memory_limit_mb: int = 4096  # RLIMIT_AS of each child on CPU; 0: no cap
    seed: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)
    models: Mapping[str, ModelOverride] = field(default_factory=dict)

    def with_cli(self, **flags: Any) -> "VerifyConfig":
        return replace(self, **{k: v for k, v in flags.items() if v is not None})


def _number(value: Any, key: str, where: str, *, integer: bool = False, minimum: float = 0.0,
            strict: bool = True) -> Any:
    ok = not isinstance(value, bool) and isinstance(value, int if integer else (int, float))
    if not ok or (value <= minimum if strict else value < minimum):
        kind = "an integer" if integer else "a number"
        bound = f"greater than {minimum:g}" if strict else f"at least {minimum:g}"
        raise ConfigError(f"{where}: {PREFIX}.{key} must be {kind} {bound}")
    return value if integer else float(value)


def parse(table: Mapping[str, Any], where: str = "config") -> VerifyConfig:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "device":
            if value not in DEVICES:
                raise ConfigError(f"{where}: {PREFIX}.device must be one of {', '.join(DEVICES)}, not {value!r}")
            values["device"] = value
        elif key in ("steps", "batch-size"):
            values[key.replace("-", "_")] = _number(value, key, where, integer=True)
        elif key == "timeout":
            values["timeout"] = _number(value, key, where)
        elif key == "memory-limit-mb":
            values["memory_limit_mb"] = _number(value, key, where, integer=True, strict=False)
        elif key == "seed":
            values["seed"] = _number(value, key, where, integer=True, strict=False)
        elif key == "thresholds":
            values["thresholds"] = _thresholds(value, where)
        elif key == "models":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {PREFIX}.models must be a table of model name = table")
            values["models"] = {name: _override(name, item, where) for name, item in value.items()}
        else:
            raise ConfigError(f"{where}: unknown key {PREFIX}.{key}")
    return VerifyConfig(**values)


def _thresholds(value: Any, where: str) -> Thresholds:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {PREFIX}.thresholds must be a table")
    known = {f.replace("_", "-") for f in Thresholds.__dataclass_fields__}
    fields = {}
    for key, item in value.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key {PREFIX}.thresholds.{key}")
        fields[key.replace("-", "_")] = _number(item, f"thresholds.{key}", where)
    return Thresholds(**fields)


def _override(name: str, table: Any, where: str) -> ModelOverride:
    key = f"models.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {PREFIX}.{key} must be a table")
    fields: dict[str, Any] = {}
    for item, value in table.items():
        full = f"{PREFIX}.{key}.{item}"
        if item == "args":
            if not isinstance(value, list):
                raise ConfigError(f"{where}: {full} must be a list of constructor arguments")
            fields["args"] = tuple(value)
        elif item == "kwargs":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {full} must be a table of keyword arguments")
            fields["kwargs"] = dict(value)
        elif item == "input-shape":
            if not isinstance(value, list) or not value or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
            ):
                raise ConfigError(f"{where}: {full} must be a list of positive integers (batch included)")
            fields["input_shape"] = tuple(value)
        elif item == "input-dtype":
            if value not in INPUT_DTYPES:
                raise ConfigError(f"{where}: {full} must be one of {', '.join(INPUT_DTYPES)}, not {value!r}")
            fields["input_dtype"] = value
        elif item == "input-high":
            fields["input_high"] = _number(value, f"{key}.{item}", where, integer=True)
        elif item == "inputs":
            fields["inputs"] = _inputs(value, full, where)
        elif item == "methods":
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, str) and v.isidentifier() and not v.startswith("_") for v in value):
                raise ConfigError(f"{where}: {full} must be a list of method or submodule names, such as [\"pi\", \"v\"]")
            fields["methods"] = tuple(value)
        else:
            raise ConfigError(f"{where}: unknown key {full}")
    return ModelOverride(**fields)


def _inputs(value: Any, full: str, where: str) -> tuple:
    """`inputs = [{ shape = [16, 8] }, { shape = [16, 4], dtype = "int64", high = 10 }, {}]`; `list = N` makes
    an argument a list of N such tensors (StyleGAN's `forward(styles)`)."""
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: {full} must be a list of tables, one per forward argument "
                          "({{ shape = [...], dtype = ... }}, or {{}} for None)")
    items = []
    for index, item in enumerate(value):
        at = f"{full}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: {at} must be a table such as {{ shape = [16, 10] }} ({{}} for None)")
        unknown = set(item) - {"shape", "dtype", "high", "list"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {at}.{sorted(unknown)[0]}")
        shape = item.get("shape")
        if shape is not None and (not isinstance(shape, list) or not shape or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
            raise ConfigError(f"{where}: {at}.shape must be a list of positive integers (batch included)")
        if "dtype" in item and item["dtype"] not in INPUT_DTYPES:
            raise ConfigError(f"{where}: {at}.dtype must be one of {', '.join(INPUT_DTYPES)}, not {item['dtype']!r}")
        if "high" in item:
            _number(item["high"], f"{at.removeprefix(PREFIX + '.')}.high", where, integer=True)
        if "list" in item:  # forward(styles) takes a list of tensors: `list = 2` passes two of that shape
            _number(item["list"], f"{at.removeprefix(PREFIX + '.')}.list", where, integer=True)
        if shape is None and len(item) > 0:
            raise ConfigError(f"{where}: {at} needs a shape (or is {{}} for None)")
        items.append({"shape": list(shape), "dtype": item.get("dtype"), "high": item.get("high"),
                      "list": item.get("list")} if shape else {})
    return tuple(items)
