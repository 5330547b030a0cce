"""Command line: `gradlint [check] PATH...`, `gradlint rules`, `gradlint rule CODE`.

Imports stay lazy: `gradlint --version` and `gradlint rules` never load libcst (or torch).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from gradlint import __version__

from gradlint.report import FORMATS as OUTPUT_FORMATS


class _DefaultToCheck(click.Group):
    """`gradlint PATH...` means `gradlint check PATH...`, as in ruff's early days."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version", "-V")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="gradlint", message="%(prog)s %(version)s")
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


@main.command(short_help="Lint files and folders (the default command).")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated), replacing the defaults.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the selection.")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default=None, help="How findings are printed.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to a file.")
@click.option("--config", "config_options", multiple=True, metavar="FILE | KEY=VALUE",
              help="A config file to use for every path instead of each file's nearest one, or a TOML KEY=VALUE "
                   "that overrides one setting of every config (repeatable).")
@click.option("--isolated", is_flag=True, help="Ignore all config files: the defaults and the command line only.")
@click.option("--show-settings", is_flag=True, help="Print the settings the first file would be linted with, then exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be linted, one per line, then exit.")
@click.option("--ignore-noqa", is_flag=True, help="Ignore every # noqa and # gradlint: ignore comment (skip-file still holds).")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: GLxxx` to every line with a reported finding (keeping the codes already there).")
@click.option("--fail-on", type=click.Choice(["warning", "error"]), default="warning",
              help="The least severity that makes the run exit 1: `error` still prints warnings but exits 0 for them.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-v", "--verbose", is_flag=True, help="Say on stderr which config each folder uses, how many files are linted, and how long it took.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings (in any format).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", help="Colour the text output.")
@click.option("--no-respect-gitignore", is_flag=True, help="Lint files that .gitignore excludes.")
@click.option("--force-exclude", is_flag=True,
              help="Apply exclude/extend-exclude to paths passed explicitly too (for pre-commit).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Processes to use (default: all cores).")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what remains.")
@click.option("--fix-only", is_flag=True, help="Apply the fixes (like --fix) and report nothing else; exit 0.")
@click.option("--show-fixes", is_flag=True, help="After --fix, list what was fixed per file and rule.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when --fix changed a file, even with nothing left.")
@click.option("--fixable", multiple=True, help="Rule codes or prefixes whose fixes may be applied (default ALL).")
@click.option("--unfixable", multiple=True, help="Rule codes or prefixes whose fixes are never applied.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, apply the unsafe fixes too.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff and write nothing (exit 1 if there are any).")
@click.option("--diff-since", metavar="REV", help="Report only the findings that are new since a git revision (REV...: since the merge base with HEAD).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path), help="Hide the findings recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), help="Record today's findings in this file and exit 0.")
@click.option("--verify", "verify_models", is_flag=True,
              help="Also build the models of files with findings and attach measured gradient evidence (needs torch).")
@click.option("--stdin-filename", metavar="PATH", help="With `-` as the path: the name to report stdin's code under.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the cache lives (default: .gradlint_cache).")
def check(paths, select, ignore, extend_select, output_format, output_file, config_options, isolated, show_settings,
          show_files, exit_zero, quiet, statistics, color, no_respect_gitignore, jobs, fix, unsafe_fixes, show_diff,
          diff_since, baseline_file, write_baseline, no_cache, cache_dir, verify_models, stdin_filename,
          force_exclude, ignore_noqa, add_noqa, fail_on, fix_only, show_fixes, exit_non_zero_on_fix, fixable,
          unfixable, verbose) -> None:
    """Lint PATHS (files or folders; default: the current folder; `-` reads code from stdin)."""
    from gradlint import baseline, config, discovery, engine, gitdiff
    from gradlint.cache import CacheDirError
    from gradlint.report import ReportContext, render

    paths = paths or (".",)
    fix = fix or fix_only
    try:
        cli_codes = {"select": _codes(select), "ignore": _codes(ignore), "extend_select": _codes(extend_select),
                     "fixable": _codes(fixable), "unfixable": _codes(unfixable)}
        for flag, codes in cli_codes.items():
            if codes:
                config.check_codes(codes, f"--{flag.replace('_', '-')}")
        resolver = _resolver(config_options, isolated, cli_codes, output_format,
                             False if no_respect_gitignore else None, ignore_noqa)
        settings = _run_settings(resolver, paths, stdin_filename)
        settings_of = resolver.settings_for
        from_stdin = paths == ("-",)
        if from_stdin and (fix or show_diff or add_noqa):
            raise config.ConfigError("--fix, --diff and --add-noqa need files, not stdin")
        files = [] if from_stdin else discovery.discover(list(paths), settings, force_exclude=force_exclude,
                                                         settings_of=settings_of)
        if show_settings:
            target = Path(stdin_filename) if from_stdin and stdin_filename else (files[0] if files else Path(paths[0]))
            click.echo(config.describe(settings_of(target), target.as_posix()), nl=False)
            sys.exit(0)
        if show_files:
            for file in files:
                click.echo(Path(os.path.abspath(file)).as_posix())
            sys.exit(0)
        for file in files:
            settings_of(file)  # a bad config below a linted folder is an error now, not a traceback later
        known = baseline.load(baseline_file) if baseline_file is not None else None
        verify_options = _verify_options(settings) if verify_models else None
        revision = gitdiff.revision_sources(diff_since) if diff_since is not None else None
        if not no_cache and not from_stdin:
            cache_dir = _checked_cache_dir(cache_dir, settings, paths)
    except (config.ConfigError, discovery.DiscoveryError, baseline.BaselineError, gitdiff.GitDiffError,
            CacheDirError) as exc:
        fail(str(exc))

    before: list = []  # --diff-since: the findings of the same files as they were at REV

    def reported(findings):
        """What the user asked to see: only findings new since REV (--diff-since), minus the baseline;
        a fix of an `unfixable` rule is dropped (it is neither offered nor applied)."""
        from dataclasses import replace as with_changes

        findings = [f if f.fix is None or settings_of(Path(f.path)).is_fixable(f.code) else with_changes(f, fix=None)
                    for f in findings]
        if revision is not None:
            findings = gitdiff.new_findings(findings, before, revision)
        if known is not None:
            findings = baseline.filter_known(findings, known, baseline_file)
        return findings

    if not files and not from_stdin:
        click.echo("gradlint: warning: no Python files or notebooks found under the given paths "
                   "(excluded, gitignored or hidden?)", err=True)

    def lint():
        if from_stdin:
            own = settings_of(Path(stdin_filename)) if stdin_filename else settings  # config found from that name
            return engine.run_source(sys.stdin.buffer.read(), stdin_filename or "-", own)
        bar = ProgressBar(len(files), sys.stderr) if not quiet and ProgressBar.wanted(len(files), sys.stderr) else None
        try:
            return engine.run(files, settings, jobs=jobs, use_cache=not no_cache, cache_dir=cache_dir,
                              settings_of=settings_of, progress=bar)
        finally:
            if bar is not None:
                bar.close()

    if verbose:
        _say_what_runs(files, settings_of, revision, diff_since)
    started = time.perf_counter()
    result = lint()
    if verbose:
        click.echo(f"gradlint: linted {len(result.files)} file{'s' * (len(result.files) != 1)} in "
                   f"{time.perf_counter() - started:.2f} s", err=True)
    if revision is not None:
        before = _findings_at_revision(files, revision, settings, settings_of, jobs, not no_cache, cache_dir,
                                       stdin_filename if from_stdin else None, result.by_path)
    for line in result.skipped:
        click.echo(f"gradlint: warning: skipped {line}", err=True)
    findings = reported(result.findings)
    if add_noqa:
        from gradlint.fix.noqa import add_noqa as write_noqa

        added = write_noqa(findings)
        for item in added:
            for why in item.skipped:
                click.echo(f"gradlint: warning: {why}", err=True)
        count = sum(item.directives for item in added)
        click.echo(f"gradlint: added {count} noqa directive{'s' * (count != 1)}", err=True)
        _exit_on_errors(result.errors)
        sys.exit(0)
    if write_baseline is not None:
        # Recorded before --baseline hides anything, so `--baseline F --write-baseline F` refreshes F.
        recorded = gitdiff.new_findings(result.findings, before, revision) if revision is not None else result.findings
        try:
            count = baseline.write(write_baseline, recorded)
        except baseline.BaselineError as exc:
            fail(str(exc))
        click.echo(f"gradlint: wrote {count} finding{'s' * (count != 1)} to baseline {write_baseline}", err=True)
        _exit_on_errors(result.errors)
        sys.exit(0)
    if show_diff:
        count, _ = _apply_fixes(findings, settings_of, unsafe_fixes, write=False)
        _exit_on_errors(result.errors)
        sys.exit(1 if count else 0)
    fixed_count = 0
    if fix:
        before_fix = findings
        fixed_count, files_fixed = _apply_fixes(findings, settings_of, unsafe_fixes, write=True)
        if fixed_count:
            from gradlint.report.text_format import source_lines

            source_lines.cache_clear()  # the files changed under the cache
            result = lint()
            findings = reported(result.findings)
        click.echo(f"gradlint: fixed {fixed_count} finding{'s' * (fixed_count != 1)} in {files_fixed} "
                   f"file{'s' * (files_fixed != 1)}, {len(findings)} remaining", err=True)
        if show_fixes and fixed_count:
            click.echo(_fixes_list(before_fix, findings, unsafe_fixes), err=True, nl=False)
        if fix_only:
            _exit_on_errors(result.errors)
            sys.exit(1 if exit_non_zero_on_fix and fixed_count else 0)
    if verify_options is not None:
        from gradlint.verify.evidence import attach

        options, python = verify_options
        findings = attach(findings, files, options, jobs=jobs or 1, python=python)
    fmt = settings.output_format
    use_color = color == "always" or (color == "auto" and output_file is None and sys.stdout.isatty()
                                      and "NO_COLOR" not in os.environ)
    text_like = fmt in ("text", "full", "concise")
    context = ReportContext(files=tuple(result.files), color=use_color and text_like, errors=len(result.errors),
                            failures=tuple(result.errors),
                            unsafe_fixes=unsafe_fixes)
    if statistics:
        report = _statistics_report(fmt, findings, context, quiet)
    elif text_like and quiet:
        from gradlint.report.text_format import head, render_one

        one = (lambda f: head(f, context.color, unsafe_fixes)) if fmt == "concise" else (
            lambda f: render_one(f, context.color, True, unsafe_fixes))
        report = "".join(one(f) + "\n" for f in findings)
    else:
        report = render(fmt, findings, context)
    if output_file is not None:
        _write_atomically(output_file, report)
    else:
        click.echo(report, nl=False, color=context.color)
    _exit_on_errors(result.errors)
    if exit_non_zero_on_fix and fixed_count:
        sys.exit(1)
    sys.exit(0 if exit_zero or not _failing(findings, fail_on) else 1)


class ProgressBar:
    """`gradlint: [#####     ] 1200/3633 files` on stderr, redrawn in place, only on a terminal and for
    runs of many files: never in pipes, CI logs or files (`wanted`), and wiped when the run ends."""

    MIN_FILES = 64
    WIDTH = 30

    def __init__(self, total: int, stream):
        self.total, self.done, self.stream = total, 0, stream

    @classmethod
    def wanted(cls, total: int, stream) -> bool:
        isatty = getattr(stream, "isatty", None)
        return total >= cls.MIN_FILES and callable(isatty) and isatty() and "CI" not in os.environ

    def __call__(self, more: int) -> None:
        self.done = min(self.total, self.done + more)
        filled = self.WIDTH * self.done // max(1, self.total)
        self.stream.write(f"\rgradlint: [{'#' * filled}{' ' * (self.WIDTH - filled)}] {self.done}/{self.total} files")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * (self.WIDTH + 40) + "\r")
        self.stream.flush()


def _say_what_runs(files, settings_of, revision, diff_since) -> None:
    """-v: the config file of each group of files, and what --diff-since compares with."""
    from collections import Counter

    configs = Counter(settings_of(file).config_file or "(defaults: no config file)" for file in files)
    for config_file, count in sorted(configs.items()):
        click.echo(f"gradlint: {count} file{'s' * (count != 1)} with {config_file}", err=True)
    if revision is not None:
        changed = sum(1 for file in files if file.resolve() in revision)
        click.echo(f"gradlint: {changed} of them changed since {diff_since}: linted as they were there too", err=True)


def _fixes_list(before, after, unsafe: bool) -> str:
    """--show-fixes: per file, how many findings of each rule --fix made go away."""
    from collections import Counter

    from gradlint import catalog
    from gradlint.report import applicable

    fixable = {(f.path, f.code) for f in before if applicable(f.fix, unsafe)}
    had, left = Counter((f.path, f.code) for f in before), Counter((f.path, f.code) for f in after)
    gone = {key: had[key] - left[key] for key in fixable if had[key] > left[key]}
    lines = [f"Fixed {sum(gone.values())} finding{'s' * (sum(gone.values()) != 1)}:"]
    for path in sorted({p for p, _ in gone}):
        lines.append(f"- {path}:")
        for (where, code), n in sorted(gone.items()):
            if where == path:
                rule = catalog.get(code)
                lines.append(f"    {n} × {code} ({rule.name if rule else code})")
    return "\n".join(lines) + "\n"


def _failing(findings, fail_on: str) -> bool:
    """Whether a finding is at least `fail_on` severe (--fail-on error: warnings are printed, not failed on)."""
    if fail_on == "warning":
        return bool(findings)
    from gradlint import catalog

    return any((catalog.get(f.code).severity if catalog.get(f.code) else "error") == "error" for f in findings)


def _statistics_report(fmt: str, findings, context, quiet: bool) -> str:
    """--statistics in every format: the count per rule instead of the findings. json: an array of
    {code, name, count, fixable}; json-lines: one such object a line; every other format: ruff's table."""
    import json

    from gradlint.report.text_format import statistics, statistics_rows, summary

    rows = statistics_rows(findings, context.unsafe_fixes)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "json-lines":
        return "".join(json.dumps(row) + "\n" for row in rows)
    table = statistics(findings, context.unsafe_fixes) + "\n" if rows else ""
    return table + ("" if quiet else summary(findings, context.errors, context.unsafe_fixes) + "\n")


def _resolver(config_options, isolated: bool, cli_codes: dict, output_format, respect_gitignore, ignore_noqa=False):
    """The run's config.Resolver: each file's nearest config, under --config/--isolated and the flags."""
    from gradlint import config

    config_file, inline = config.split_config_options(config_options)
    if config_file is not None:
        config.checked_file(Path(config_file))
    return config.Resolver(config.Overrides(
        select=cli_codes["select"], extend_select=cli_codes["extend_select"] or (), ignore=cli_codes["ignore"] or (),
        output_format=output_format, respect_gitignore=respect_gitignore, config_file=config_file,
        inline=inline, isolated=isolated, ignore_noqa=ignore_noqa,
        fixable=cli_codes.get("fixable"), unfixable=cli_codes.get("unfixable")))


def _run_settings(resolver, paths, stdin_filename=None):
    """Settings of the run as a whole (output format, cache folder): the current folder's config, else
    the first path's (stdin: --stdin-filename's). Rule selection and thresholds are each file's own."""
    if resolver.config_for(Path.cwd()) is not None:
        return resolver.settings_for(Path.cwd())
    first = stdin_filename if paths == ("-",) and stdin_filename else paths[0]
    return resolver.settings_for(Path(first if first != "-" else "."))


def _findings_at_revision(files, revision, settings, settings_of, jobs, use_cache, cache_dir, stdin_filename,
                          now=None):
    """--diff-since: lint the files as they were at REV (bytes from git, in memory, under today's names,
    so a renamed file's findings match). Files REV did not have are left out; the others are taken
    from today's run (`now`: RunResult.by_path), so only the changed files are linted again. Cross-file
    findings see the whole run as it was."""
    from gradlint import engine
    from gradlint.fs import read_regular

    if stdin_filename is not None:
        path = Path(stdin_filename)
        key = path.resolve()
        if key in revision:
            data = revision[key]
        else:
            try:
                data = read_regular(path)  # unchanged since REV: what is on disk is what REV had
            except OSError:
                data = None
        if data is None:
            return []
        return engine.run_source(data, stdin_filename, settings_of(path)).findings
    old_files, sources = [], {}
    for file in files:
        key = file.resolve()
        if key in revision:
            if revision[key] is None:
                continue  # new since REV: every finding in it is new
            sources[file] = revision[key]
        old_files.append(file)
    if not sources:  # nothing changed among the linted files: REV's findings are today's
        return [f for f in engine.run(old_files, settings, reuse=now or {}).findings] if now else []
    return engine.run(old_files, settings, jobs=jobs, use_cache=use_cache, cache_dir=cache_dir,
                      settings_of=settings_of, sources=sources, reuse=now).findings


def _verify_options(settings):
    """The verify settings and the interpreter models run in (the active virtualenv's, else gradlint's own)."""
    from gradlint.verify.command import check_interpreter

    python = check_interpreter(None)
    from gradlint.verify import settings as verify_settings

    return verify_settings.parse(settings.verify, "config"), python


def _apply_fixes(findings, settings, unsafe: bool, write: bool):
    """Fix the files (write) or print the fixes as a diff; returns (findings fixed, files changed)."""
    from gradlint.fix.files import fix_files, unified_diff

    fixed = fix_files(findings, settings, unsafe=unsafe, write=write)  # settings: a Settings or path → Settings
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


@main.command("clean", short_help="Remove the cache folder gradlint wrote.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Use this config file.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="The cache folder to remove.")
def clean_command(config_file, cache_dir) -> None:
    """Remove the cache (.gradlint_cache, or the configured cache-dir)."""
    from gradlint import cache, config

    try:
        if config_file is not None:
            config.checked_file(config_file)
        settings = config.Resolver(config.Overrides(config_file=config_file and str(config_file))).settings_for(Path("."))
    except config.ConfigError as exc:
        fail(str(exc))
    folder = cache_dir or cache.default_dir(settings)
    try:
        removed = cache.clean(folder, Path(settings.root), Path.cwd())
    except cache.CacheDirError as exc:
        fail(str(exc))
    click.echo(f"gradlint: removed {removed} cache file{'s' * (removed != 1)} from {folder}", err=True)


@main.command("version", short_help="Print gradlint's version.")
def version_command() -> None:
    """Print gradlint's version (the same as `gradlint --version`)."""
    click.echo(f"gradlint {__version__}")


def _rule_object(rule) -> dict:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity, "fixable": rule.fixable,
            "default": rule.default, "summary": rule.summary, "url": rule.url}


@main.command("rules", short_help="List every rule with its severity, fix and default.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text",
              help="A table (text) or a JSON array of the rules' metadata.")
def rules_command(output_format: str) -> None:
    """List every rule: code, name, severity, fixable, on by default."""
    from gradlint import catalog

    if output_format == "json":
        import json

        click.echo(json.dumps([_rule_object(r) for r in catalog.all_rules().values()], indent=2))
        return
    rows = [("code", "name", "severity", "fixable", "default")]
    for rule in catalog.all_rules().values():
        rows.append((rule.code, rule.name, rule.severity, "yes" if rule.fixable else "no", "on" if rule.default else "off"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@main.command("rule", short_help="Print one rule's page, or every page with --all.")
@click.argument("code", required=False)
@click.option("--all", "all_rules", is_flag=True, help="Print every rule's page.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text",
              help="The page as Markdown (text), or JSON with the metadata and the page as `explanation`.")
def rule_command(code: str | None, all_rules: bool, output_format: str) -> None:
    """Print the documentation of one rule (e.g. GL202), or of every rule with --all."""
    from gradlint import catalog

    if all_rules == (code is not None):
        fail("give a rule code (`gradlint rule GL202`) or --all, not both")
    if all_rules:
        chosen = list(catalog.all_rules().values())
    else:
        rule = catalog.get(code)
        if rule is None:
            fail(f"unknown rule code {code!r}; `gradlint rules` lists them")
        chosen = [rule]
    if output_format == "json":
        import json

        objects = [{**_rule_object(r), "explanation": r.markdown} for r in chosen]
        click.echo(json.dumps(objects if all_rules else objects[0], indent=2))
        return
    click.echo("\n".join(r.markdown for r in chosen), nl=False)


@main.command("server", short_help="Run the language server for editors, over stdio.")
def server_command() -> None:
    """Run the language server over stdio, for editors (needs the `server` extra)."""
    from gradlint import server

    if not server.available():
        fail(server.INSTALL_HINT)
    server.main()


from gradlint.verify.command import verify as _verify  # noqa: E402
main.add_command(_verify)
