"""`gradlint verify PATH...`: the click command. Imports nothing heavy until it runs (no torch, no libcst)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

NO_TORCH = "verify needs PyTorch: pip install 'gradlint-ml[verify]'"
FAILING = ("exploding", "vanishing", "non-finite", "error")


def _fail(message: str):
    click.echo(f"gradlint: error: {message}", err=True)
    sys.exit(2)


@click.command("verify", short_help="Measure the real gradients of the models the scripts define.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default=None,
              help="Where to run the models (default cpu; auto: the GPU when there is one).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Training steps to track (default 20).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Batch size of the synthetic input (default 16).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds each model may take (default 60; the worker's import of torch is not counted).")
@click.option("--model", "names", multiple=True, help="Verify only the models with this class or variable name.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", help="How results are printed.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1,
              help="Models to run at once, each worker importing torch once (default 1).")
@click.option("--python", "python", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="The interpreter to build the models in (default: the active virtualenv's, else gradlint's).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file.")
def verify(paths, device, steps, batch_size, timeout, names, output_format, jobs, python, config_file) -> None:
    """Build the models PATHS define and measure their real gradients (needs PyTorch).

    Only definitions are imported: the scripts' training code never runs. Each model runs in its
    own process with a time limit and a memory cap. Exit 1 when a model explodes, vanishes, turns
    non-finite or fails; 0 when all are healthy or skipped.
    """
    python = check_interpreter(python)
    from gradlint import config, discovery
    from gradlint.verify import settings as verify_settings

    paths = paths or (".",)
    try:
        if config_file is not None:
            config.checked_file(config_file)
        resolver = config.Resolver(config.Overrides(config_file=config_file and str(config_file)))
        settings = resolver.settings_for(Path(paths[0]))
        options = verify_settings.parse(settings.verify, settings.config_file or "config")
        options = options.with_cli(device=device, steps=steps, batch_size=batch_size, timeout=timeout)
        files = discovery.discover(list(paths), settings, settings_of=resolver.settings_for)
    except (config.ConfigError, discovery.DiscoveryError) as exc:
        _fail(str(exc))
    outcomes = _run(files, options, names, jobs, python)
    if output_format == "json":
        from gradlint.verify.report import render_json

        click.echo(render_json(outcomes), nl=False)
    else:
        from gradlint.verify.report import render_text

        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        click.echo(render_text(outcomes, unicode=encoding.lower().replace("-", "") in ("utf8", "utf16")), nl=False)
    sys.exit(1 if any(o.verdict in FAILING for o in outcomes) else 0)


def check_interpreter(python: str | None) -> str:
    """The interpreter models run in (--python, else the active virtualenv's, else gradlint's own), once
    it is known to have torch; else one line and exit 2."""
    import importlib.util
    import subprocess

    from gradlint.verify.runner import interpreter

    chosen, origin = interpreter(python)
    if os.path.abspath(chosen) == os.path.abspath(sys.executable) and origin != "--python":
        if importlib.util.find_spec("torch") is None:
            _fail(NO_TORCH)
        return sys.executable
    probe = ("import importlib.util, sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
             "sys.exit(0 if importlib.util.find_spec('torch') else 3)")  # a stray torch.py here is not torch
    try:
        done = subprocess.run([chosen, "-c", probe], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _fail(f"cannot run {chosen} ({origin}): {getattr(exc, 'strerror', None) or type(exc).__name__}")
    if done.returncode == 3:
        _fail(f"verify needs PyTorch in {chosen} ({origin}): install torch there, or pass --python")
    if done.returncode != 0:
        _fail(f"cannot run {chosen} ({origin}): exit code {done.returncode}")
    return chosen


def _run(files: list[Path], options, names: tuple[str, ...], jobs: int = 1, python: str | None = None):
    from gradlint.verify.discover import find_models
    from gradlint.verify.runner import run_all

    parsed = _parse(files)
    specs = find_models([(facts, path, facts.path) for path, facts in parsed.items()], options)
    if names:
        unknown = sorted(set(names) - {s.model for s in specs})
        if unknown:
            found = ", ".join(sorted({s.model for s in specs})) or "none"
            _fail(f"--model {unknown[0]}: no such model in the given paths (found: {found})")
        specs = [s for s in specs if s.model in names]
    progress = Progress(sum(s.skipped is None for s in specs))
    outcomes = run_all(specs, parsed, options, progress=progress, jobs=jobs, python=python)
    progress.close()
    return outcomes


class Progress:
    """On a terminal, a bar redrawn in place (for more than one model); elsewhere (CI, a pipe), one line
    per model on stderr as it finishes, so a long run is never silent."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.begun = total, 0, {}
        self.tty = sys.stderr.isatty()
        self.drawn = False

    def started(self, spec) -> None:
        import time

        self.begun[id(spec)] = time.monotonic()
        if self.tty and self.total > 1:
            self._bar(spec)

    def finished(self, spec, outcome) -> None:
        import time

        self.done += 1
        seconds = max(0.0, time.monotonic() - self.begun.pop(id(spec), time.monotonic()))
        if self.tty:
            if self.total > 1:
                self._bar(spec)
            return
        click.echo(f"gradlint verify: [{self.done}/{self.total}] {spec.filename}::{spec.model} "
                   f"{outcome.verdict} ({seconds:.1f} s)", err=True)

    def _bar(self, spec) -> None:
        filled = round(20 * self.done / self.total)
        click.echo(f"\r[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} {spec.model[:30]:<30}",
                   err=True, nl=False)
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            click.echo("\r" + " " * 64 + "\r", err=True, nl=False)


def _parse(files: list[Path]) -> dict:
    """path → facts for every file that parses; the others are named on stderr and left out."""
    import libcst as cst

    from gradlint.engine import _display_path, decode, package_of
    from gradlint.facts.builder import build

    from gradlint.notebook import NotebookError, load

    parsed = {}
    for path in files:
        try:
            data = path.read_bytes()
            # A notebook: its code cells joined, IPython syntax masked; slicing then keeps definitions only.
            module = cst.parse_module(load(data).source if path.suffix == ".ipynb" else decode(data))
        except NotebookError as exc:
            click.echo(f"gradlint: warning: {_display_path(path)}: {exc}; no models from it", err=True)
            continue
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError, cst.ParserSyntaxError, RecursionError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            click.echo(f"gradlint: warning: {_display_path(path)}: cannot parse ({reason}); no models from it", err=True)
            continue
        parsed[path.resolve()] = build(module, _display_path(path), package_of(path))
    return parsed
