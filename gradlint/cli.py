"""Command line: `gradlint [check] PATH...`, `gradlint rules`, `gradlint rule CODE`.

Imports stay lazy: `gradlint --version` and `gradlint rules` never load libcst (or torch).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from gradlint import __version__

OUTPUT_FORMATS = ("text", "json", "github", "sarif", "gitlab", "junit")


class _DefaultToCheck(click.Group):
    """`gradlint PATH...` means `gradlint check PATH...`, as in ruff's early days."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gradlint", message="%(prog)s %(version)s")
def main() -> None:
    """Find the training-code mistakes that make gradients explode, vanish or turn NaN."""


def _codes(values: tuple[str, ...]) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(c.strip().upper() for v in values for c in v.split(",") if c.strip())


def fail(message: str) -> "NoReturn":  # noqa: F821
    click.echo(f"gradlint: error: {message}", err=True)
    sys.exit(2)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated), replacing the defaults.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the selection.")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default=None, help="How findings are printed.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to a file.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", help="Colour the text output.")
@click.option("--no-respect-gitignore", is_flag=True, help="Lint files that .gitignore excludes.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Processes to use (default: all cores).")
def check(paths, select, ignore, extend_select, output_format, output_file, config_file, exit_zero, quiet,
          statistics, color, no_respect_gitignore, jobs) -> None:
    """Lint PATHS (files or folders; default: the current folder)."""
    from gradlint import config, discovery, engine
    from gradlint.report import ReportContext, render
    from gradlint.report.text_format import statistics as statistics_table
    from gradlint.report.text_format import summary

    paths = paths or (".",)
    try:
        if config_file is not None:
            if not config_file.is_file():
                raise config.ConfigError(f"config file {config_file}: no such file")
            settings = config.load(config_file)
        else:
            settings = config.load(config.find_config(Path(paths[0])))
        cli_codes = {"select": _codes(select), "ignore": _codes(ignore), "extend_select": _codes(extend_select)}
        for flag, codes in cli_codes.items():
            if codes:
                config.check_codes(codes, f"--{flag.replace('_', '-')}")
        settings = config.override(
            settings,
            select=cli_codes["select"],
            ignore=(settings.ignore + cli_codes["ignore"]) if cli_codes["ignore"] else None,
            extend_select=(settings.extend_select + cli_codes["extend_select"]) if cli_codes["extend_select"] else None,
            output_format=output_format,
            respect_gitignore=False if no_respect_gitignore else None,
        )
        files = discovery.discover(list(paths), settings)
    except (config.ConfigError, discovery.DiscoveryError) as exc:
        fail(str(exc))

    result = engine.run(files, settings, jobs=jobs)
    fmt = settings.output_format
    use_color = color == "always" or (color == "auto" and output_file is None and sys.stdout.isatty()
                                      and "NO_COLOR" not in os.environ)
    context = ReportContext(files=tuple(result.files), color=use_color and fmt == "text")
    if fmt == "text" and quiet:
        from gradlint.report.text_format import render_one

        report = "".join(render_one(f, context.color, True) + "\n" for f in result.findings)
    else:
        report = render(fmt, result.findings, context)
    if statistics and fmt == "text":
        report = statistics_table(result.findings) + "\n" + ("" if quiet else summary(result.findings) + "\n")
    if output_file is not None:
        _write_atomically(output_file, report)
    else:
        click.echo(report, nl=False)
    for error in result.errors:
        click.echo(f"gradlint: internal error: check {error.code} failed on {error.path}: {error.message}", err=True)
    if result.errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or not result.findings else 1)


def _write_atomically(path: Path, text: str) -> None:
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(text)
        os.replace(tmp.name, path)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")


@main.command("rules")
def rules_command() -> None:
    """List every rule: code, name, severity, fixable, on by default."""
    from gradlint import catalog

    rows = [("code", "name", "severity", "fixable", "default")]
    for rule in catalog.all_rules().values():
        rows.append((rule.code, rule.name, rule.severity, "yes" if rule.fixable else "no", "on" if rule.default else "off"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Print the documentation of one rule (e.g. GL202)."""
    from gradlint import catalog

    rule = catalog.get(code)
    if rule is None:
        fail(f"unknown rule code {code!r}; `gradlint rules` lists them")
    click.echo(rule.markdown, nl=False)
