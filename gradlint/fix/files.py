"""`--fix` / `--diff` on real files: read, fix in memory (re-linting with the same settings), write or diff."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from gradlint.config import Settings
from gradlint.finding import Finding
from gradlint.fix import FileFix, fix_text, wanted, write_atomically


def fix_file(path: str, chosen: list[Finding], settings: Settings, unsafe: bool) -> tuple[FileFix, str]:
    """Fix one file in memory; returns the result and the file's encoding (for writing it back)."""
    from gradlint import engine

    file = Path(path)
    data = file.read_bytes()
    encoding = engine.source_encoding(data)
    text = engine.decode(data)
    if engine.python_verdict(path, data) is not None:  # never rewrite a file CPython rejects
        return FileFix(path, text, text, 0, rejected="Python rejects this file (GL000); file left unchanged"), encoding
    codes = engine.active_codes(file, settings, settings.enabled_codes())
    package = engine.package_of(file)

    def relint(new_text: str) -> list[Finding]:
        found = engine.lint_source(path, new_text.encode(encoding), settings, codes, package).findings
        # Cross-file findings wait for the project index (engine.run); only the chosen ones get fixed anyway.
        return [f for f in found if not getattr(f, "needs", ())]

    result = fix_text(path, text, chosen, relint, unsafe)
    if result.changed:
        try:
            result.after.encode(encoding)
        except UnicodeEncodeError:
            result = FileFix(path, text, text, 0, rejected=f"the fixed code cannot be encoded as {encoding}")
    return result, encoding


def fix_files(findings: list[Finding], settings, unsafe: bool, write: bool) -> list[FileFix]:
    """Fix every file that has a wanted fix; write the changed ones when `write` (atomically, mode kept).

    `settings`: one Settings for every file, or a function path → its Settings (hierarchical config)."""
    settings_of = settings if callable(settings) else (lambda path: settings)
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if wanted(finding.fix, unsafe):
            by_path.setdefault(finding.path, []).append(finding)
    results = []
    for path, chosen in by_path.items():
        try:
            if path.endswith(".ipynb"):
                from gradlint.fix.notebooks import fix_notebook

                result, encoding = fix_notebook(path, chosen, unsafe), "utf-8"
            else:
                result, encoding = fix_file(path, chosen, settings_of(Path(path)), unsafe)
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError, ValueError) as exc:
            results.append(FileFix(path, "", "", 0, rejected=f"cannot read the file: {exc}"))
            continue
        if write and result.changed and _read_only(Path(path)):
            result = FileFix(path, result.before, result.before, 0,
                             rejected="the file is read-only; file left unchanged (make it writable to fix it)")
        if write and result.changed:
            try:
                write_atomically(Path(path), result.after.encode(encoding))
            except OSError as exc:
                result = FileFix(path, result.before, result.before, 0, rejected=f"cannot write: {exc.strerror or exc}")
        results.append(result)
    return results


def _read_only(path: Path) -> bool:
    """No write bit at all (0444), or no write access for this user: refused, as editors do (root too)."""
    import os
    import stat

    try:
        return not stat.S_IMODE(path.stat().st_mode) & 0o222 or not os.access(path, os.W_OK)
    except OSError:
        return False  # the write reports it


def unified_diff(result: FileFix) -> str:
    """A unified diff like git's (a/ and b/ prefixes), marking a last line with no newline."""
    before = _diff_lines(result.before)
    after = _diff_lines(result.after)
    return "".join(difflib.unified_diff(before, after, f"a/{result.path}", f"b/{result.path}"))


def _diff_lines(text: str) -> list[str]:
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)  # the breaks Python counts, not \f or \x1c
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
