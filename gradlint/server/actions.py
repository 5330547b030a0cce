"""Code actions: a finding's own fix, "suppress GLxxx on this line", and source.fixAll.gradlint.

The edits come from the findings (gradlint/fix builds them) and from suppress.add_noqa; this module
only turns them into LSP workspace edits."""

from __future__ import annotations

from lsprotocol import types

from gradlint import suppress
from gradlint.finding import Finding
from gradlint.server.convert import Units, position, text_range

FIX_ALL = "source.fixAll.gradlint"


def _edit(uri: str, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(changes={uri: edits})


def fix_action(finding: Finding, uri: str, lines: list[str], units: Units,
               diagnostic: types.Diagnostic) -> types.CodeAction | None:
    """The finding's fix as a quick fix: preferred when safe, marked "(unsafe)" otherwise."""
    fix = finding.fix
    if fix is None or not fix.edits:
        return None
    safe = fix.applicability == "safe"
    edits = [types.TextEdit(text_range(lines, e.location, e.end_location, units), e.content) for e in fix.edits]
    return types.CodeAction(
        title=f"{finding.code}: {fix.message}" + ("" if safe else " (unsafe)"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=_edit(uri, edits),
    )


def suppress_action(finding: Finding, uri: str, lines: list[str], units: Units,
                    diagnostic: types.Diagnostic) -> types.CodeAction | None:
    """Add `# noqa: GLxxx` on the finding's line, or extend the noqa comment already there."""
    row = finding.span.row
    if not 1 <= row <= len(lines):
        return None
    line = lines[row - 1]
    new = suppress.add_noqa(line, finding.code)
    if new == line:
        return None
    whole_line = types.Range(position(lines, row, 1, units), position(lines, row, len(line) + 1, units))
    return types.CodeAction(
        title=f"Suppress {finding.code} on this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=_edit(uri, [types.TextEdit(whole_line, new)]),
    )


def fix_all_action(uri: str, before: str, after: str, lines: list[str], units: Units) -> types.CodeAction | None:
    """Every safe fix of the document at once, as one edit of the whole text."""
    if after == before:
        return None
    last = len(lines)
    whole = types.Range(types.Position(0, 0), position(lines, last, len(lines[-1]) + 1 if lines else 1, units))
    return types.CodeAction(
        title="gradlint: fix all safe fixes",
        kind=FIX_ALL,
        edit=_edit(uri, [types.TextEdit(whole, after)]),
    )


def wants(only, kind: str) -> bool:
    """Whether a client that asked for kinds `only` (None: any) wants an action of `kind`."""
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)
