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


def run() -> None:
    """The console script: `main`, with a missing dependency as one line instead of a traceback."""
    try:
        main()
    except ModuleNotFoundError as exc:
        if exc.name not in ("libcst", "pathspec", "tomli"):
            raise
        click.echo(f"gradlint: error: a dependency is missing ({exc.name}): pip install --force-reinstall gradlint-ml",
                   err=True)
        sys.exit(2)


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
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Use this config file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", help="Colour the text output.")
@click.option("--no-respect-gitignore", is_flag=True, help="Lint files that .gitignore excludes.")
@click.option("--force-exclude", is_flag=True,
              help="Apply exclude/extend-exclude to paths passed explicitly too (for pre-commit).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Processes to use (default: all cores).")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, apply the unsafe fixes too.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff and write nothing (exit 1 if there are any).")
@click.option("--diff-since", metavar="REV", help="Report only findings on lines added or changed since a git revision (REV... : since the merge base).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path), help="Hide the findings recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), help="Record today's findings in this file and exit 0.")
@click.option("--verify", "verify_models", is_flag=True,
              help="Also build the models of files with findings and attach measured gradient evidence (needs torch).")
@click.option("--stdin-filename", metavar="PATH", help="With `-` as the path: the name to report stdin's code under.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the cache lives (default: .gradlint_cache).")
def check(paths, select, ignore, extend_select, output_format, output_file, config_file, exit_zero, quiet,
          statistics, color, no_respect_gitignore, jobs, fix, unsafe_fixes, show_diff, diff_since, baseline_file,
          write_baseline, no_cache, cache_dir, verify_models, stdin_filename, force_exclude) -> None:
    """Lint PATHS (files or folders; default: the current folder; `-` reads code from stdin)."""
    from gradlint import baseline, config, discovery, engine, gitdiff
    from gradlint.cache import CacheDirError
    from gradlint.report import ReportContext, render
    from gradlint.report.text_format import statistics as statistics_table
    from gradlint.report.text_format import summary

    paths = paths or (".",)
    try:
        if config_file is not None:
            settings = config.load(config.checked_file(config_file))
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
        from_stdin = paths == ("-",)
        if from_stdin and (fix or show_diff):
            raise config.ConfigError("--fix and --diff need files, not stdin")
        files = [] if from_stdin else discovery.discover(list(paths), settings, force_exclude=force_exclude)
        known = baseline.load(baseline_file) if baseline_file is not None else None
        verify_options = _verify_options(settings) if verify_models else None
        changed = gitdiff.changed_lines(diff_since) if diff_since is not None else None
        if not no_cache and not from_stdin:
            cache_dir = _checked_cache_dir(cache_dir, settings, paths)
    except (config.ConfigError, discovery.DiscoveryError, baseline.BaselineError, gitdiff.GitDiffError,
            CacheDirError) as exc:
        fail(str(exc))

    def reported(findings):
        """What the user asked to see: only changed lines (--diff-since), minus the baseline."""
        if changed is not None:
            findings = gitdiff.on_changed_lines(findings, changed)
        if known is not None:
            findings = baseline.filter_known(findings, known, baseline_file)
        return findings

    if not files and not from_stdin:
        click.echo("gradlint: warning: no Python files or notebooks found under the given paths "
                   "(excluded, gitignored or hidden?)", err=True)

    def lint():
        if from_stdin:
            return engine.run_source(sys.stdin.buffer.read(), stdin_filename or "-", settings)
        return engine.run(files, settings, jobs=jobs, use_cache=not no_cache, cache_dir=cache_dir)

    result = lint()
    for line in result.skipped:
        click.echo(f"gradlint: warning: skipped {line}", err=True)
    findings = reported(result.findings)
    if write_baseline is not None:
        # Recorded before --baseline hides anything, so `--baseline F --write-baseline F` refreshes F.
        recorded = gitdiff.on_changed_lines(result.findings, changed) if changed is not None else result.findings
        try:
            count = baseline.write(write_baseline, recorded)
        except baseline.BaselineError as exc:
            fail(str(exc))
        click.echo(f"gradlint: wrote {count} finding{'s' * (count != 1)} to baseline {write_baseline}", err=True)
        _exit_on_errors(result.errors)
        sys.exit(0)
    if show_diff:
        count, _ = _apply_fixes(findings, settings, unsafe_fixes, write=False)
        _exit_on_errors(result.errors)
        sys.exit(1 if count else 0)
    if fix:
        count, files_fixed = _apply_fixes(findings, settings, unsafe_fixes, write=True)
        if count:
            from gradlint.report.text_format import source_lines

            source_lines.cache_clear()  # the files changed under the cache
            if changed is not None:
                changed = gitdiff.changed_lines(diff_since)
            result = lint()
            findings = reported(result.findings)
        click.echo(f"gradlint: fixed {count} finding{'s' * (count != 1)} in {files_fixed} "
                   f"file{'s' * (files_fixed != 1)}, {len(findings)} remaining", err=True)
    if verify_options is not None:
        from gradlint.verify.evidence import attach

        findings = attach(findings, files, verify_options)
    fmt = settings.output_format
    use_color = color == "always" or (color == "auto" and output_file is None and sys.stdout.isatty()
                                      and "NO_COLOR" not in os.environ)
    context = ReportContext(files=tuple(result.files), color=use_color and fmt == "text", errors=len(result.errors))
    if fmt == "text" and quiet:
        from gradlint.report.text_format import render_one

        report = "".join(render_one(f, context.color, True) + "\n" for f in findings)
    else:
        report = render(fmt, findings, context)
    if statistics and fmt == "text":
        report = statistics_table(findings) + "\n" + ("" if quiet else summary(findings, len(result.errors)) + "\n")
    if output_file is not None:
        _write_atomically(output_file, report)
    else:
        click.echo(report, nl=False, color=context.color)
    _exit_on_errors(result.errors)
    sys.exit(0 if exit_zero or not findings else 1)


def _verify_options(settings):
    import importlib.util

    from gradlint.verify.command import NO_TORCH

    if importlib.util.find_spec("torch") is None:
        fail(NO_TORCH)
    from gradlint.verify import settings as verify_settings

    return verify_settings.parse(settings.verify, "config")


def _apply_fixes(findings, settings, unsafe: bool, write: bool):
    """Fix the files (write) or print the fixes as a diff; returns (findings fixed, files changed)."""
    from gradlint.fix.files import fix_files, unified_diff

    fixed = fix_files(findings, settings, unsafe=unsafe, write=write)
    for item in fixed:
        if item.rejected:
            click.echo(f"gradlint: warning: {item.path}: {item.rejected}", err=True)
    changed = [item for item in fixed if item.changed]
    count = sum(item.fixed for item in changed)
    if not write:
        click.echo("".join(unified_diff(item) for item in changed), nl=False)
        click.echo(f"Would fix {count} finding{'s' * (count != 1)}." if count else "No fixes available.", err=True)
    return count, len(changed)


def _exit_on_errors(errors) -> None:
    for error in errors:
        click.echo(error.describe(), err=True)
    if errors:
        sys.exit(2)


def _write_atomically(path: Path, text: str) -> None:
    from gradlint.fix import write_atomically

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")


def _checked_cache_dir(cache_dir: Path | None, settings, paths) -> Path:
    """The cache folder of this run, refused (CacheDirError) if it is the project, the working folder,
    a linted folder, or a folder with files gradlint did not write."""
    from gradlint import cache

    folder = cache_dir or cache.default_dir(settings)
    linted = [Path(p) for p in paths if p != "-" and Path(p).is_dir()]
    cache.check_dir(folder, Path(settings.root), Path.cwd(), *linted)
    return folder


@main.command("clean")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Use this config file.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="The cache folder to remove.")
def clean_command(config_file, cache_dir) -> None:
    """Remove the cache (.gradlint_cache, or the configured cache-dir)."""
    from gradlint import cache, config

    try:
        settings = config.load(config.checked_file(config_file) if config_file is not None
                               else config.find_config(Path(".")))
    except config.ConfigError as exc:
        fail(str(exc))
    folder = cache_dir or cache.default_dir(settings)
    try:
        removed = cache.clean(folder, Path(settings.root), Path.cwd())
    except cache.CacheDirError as exc:
        fail(str(exc))
    click.echo(f"gradlint: removed {removed} cache file{'s' * (removed != 1)} from {folder}", err=True)


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


@main.command("server")
def server_command() -> None:
    """Run the language server over stdio, for editors (needs the `server` extra)."""
    from gradlint import server

    if not server.available():
        fail(server.INSTALL_HINT)
    server.main()


from gradlint.verify.command import verify as _verify  # noqa: E402
main.add_command(_verify)
