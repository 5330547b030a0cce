"""Applying fixes: the checks describe edits (Finding.fix), this package applies them to files.

Per file: take the chosen fixes, apply those whose edits do not overlap an earlier one, lint the
result again in memory, and repeat for the fixes that had to wait, until nothing changes. The new
text must still parse (libcst) or the file is left as it was. Writing is atomic and keeps the mode.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gradlint.engine import LINE_BREAK  # rows as the parser counts them
from gradlint.finding import Edit, Finding, Fix

# Round limit: each round lints the file again; fixes that overlap wait for the next round.
MAX_ROUNDS = 10


@dataclass
class FileFix:
    path: str
    before: str
    after: str
    fixed: int  # findings whose fix was applied
    rejected: str = ""  # why the fixed text was thrown away ("" when it was kept)

    @property
    def changed(self) -> bool:
        return not self.rejected and self.after != self.before


def wanted(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and bool(fix.edits) and (fix.applicability == "safe" or unsafe)


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in LINE_BREAK.finditer(text)]


def _offset(starts: list[int], text: str, position: tuple[int, int]) -> int:
    row, column = position
    if not 1 <= row <= len(starts) + 1 or column < 1:
        raise ValueError(f"edit position {position} is outside the file")
    if row == len(starts) + 1:  # one past the last line: the end of the file
        return len(text)
    offset = starts[row - 1] + column - 1
    if offset > len(text):
        raise ValueError(f"edit position {position} is outside the file")
    return offset


def apply(text: str, fixes: list[Fix]) -> tuple[str, list[int]]:
    """Apply every fix whose edits overlap no fix taken before it; returns (new text, indices applied).

    A fix is all or nothing: either every edit of it is applied or none. Inserted line breaks take the
    file's own (its first): a CRLF file gets CRLF lines, a CR-only file CR, never a bare LF."""
    starts = _line_starts(text)
    newline = LINE_BREAK.search(text)
    newline = newline.group() if newline else "\n"
    taken: list[tuple[int, int, Edit]] = []
    applied: list[int] = []
    for index, fix in enumerate(fixes):
        try:
            spans = [(_offset(starts, text, e.location), _offset(starts, text, e.end_location), e) for e in fix.edits]
        except ValueError:
            continue
        if any(end < start for start, end, _ in spans) or _overlaps(spans, spans) or _overlaps(spans, taken):
            continue
        taken.extend(spans)
        applied.append(index)
    pieces = []
    cursor = 0
    for start, end, edit in sorted(taken, key=lambda item: (item[0], item[1])):
        pieces.append(text[cursor:start])
        pieces.append(edit.content if newline == "\n" else LINE_BREAK.sub(newline, edit.content))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), applied


def _overlaps(new: list[tuple[int, int, Edit]], old: list[tuple[int, int, Edit]]) -> bool:
    """Two edits clash when their ranges share a character, or both insert at the same point."""
    for a_start, a_end, a in new:
        for b_start, b_end, b in old:
            if a is b:
                continue
            if a_start < b_end and b_start < a_end:
                return True
            if a_start == a_end == b_start == b_end or (a_start == b_start and (a_start == a_end or b_start == b_end)):
                return True
    return False


def parses(text: str) -> bool:
    """Whether CPython accepts the text and libcst can parse it: a fix must never write anything less."""
    import libcst as cst

    from gradlint import engine

    if engine.python_verdict("<fixed>", text) is not None:
        return False
    try:
        engine._parse(cst, text)
    except Exception:
        return False
    return True


def _identity(finding: Finding, text: str) -> tuple[str, str]:
    """What a finding looks like independent of its row: code and the stripped source line."""
    lines = LINE_BREAK.split(text)
    row = finding.span.row
    return finding.code, lines[row - 1].strip() if 1 <= row <= len(lines) else ""


def fix_text(path: str, text: str, chosen: list[Finding], relint, unsafe: bool) -> FileFix:
    """Apply the fixes of `chosen` (findings in the file `text`), re-linting with `relint(text)`.

    Later rounds only take fixes that were chosen at the start and had to wait because they overlapped
    an earlier edit: matched by code and source line, or, on a line that an earlier fix rewrote, by code
    alone. So `--diff-since` and `--baseline` still limit what gets fixed, and nothing chains further."""
    pending = [_identity(f, text) for f in chosen if wanted(f.fix, unsafe)]
    original_lines = {line.strip() for line in LINE_BREAK.split(text)}
    current, fixed = text, 0
    findings = chosen
    for _ in range(MAX_ROUNDS):
        candidates, matched = _waiting(findings, current, pending, original_lines, unsafe)
        if not candidates:
            break
        new_text, applied = apply(current, [f.fix for f in candidates])
        if not applied or new_text == current:
            break
        for index in applied:
            pending.remove(matched[index])
        fixed += len(applied)
        current = new_text
        if not pending:
            break
        findings = relint(current)
    if current != text and not parses(current):
        return FileFix(path, text, text, 0, rejected="the fixed code would not parse; file left unchanged")
    return FileFix(path, text, current, fixed)


def _waiting(findings, text, pending, original_lines, unsafe):
    """The findings whose fixes are still wanted, each paired with the pending entry it settles.

    Exact matches (code and source line) first; then, on lines an earlier fix rewrote, by code alone."""
    waiting = list(pending)
    chosen: dict[int, tuple[str, str]] = {}
    fixable = [(i, f, _identity(f, text)) for i, f in enumerate(findings) if wanted(f.fix, unsafe)]
    for i, _, identity in fixable:
        if identity in waiting:
            waiting.remove(identity)
            chosen[i] = identity
    for i, finding, identity in fixable:
        if i in chosen or identity[1] in original_lines:
            continue
        entry = next((e for e in waiting if e[0] == finding.code), None)
        if entry is not None:
            waiting.remove(entry)
            chosen[i] = entry
    order = sorted(chosen)
    return [findings[i] for i in order], [chosen[i] for i in order]


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temp file in the same folder and os.replace, keeping the file's mode, owner and group
    (fixes, reports, baselines).

    A symlink is followed: its target is rewritten, the link stays a link. A file with several hard links,
    or one whose owner this process cannot give a new file to, is rewritten in place instead, through the
    same inode (a replace would break the links or hand the file to us)."""
    target = Path(os.path.realpath(path))
    try:
        before = target.stat()
    except FileNotFoundError:  # a new file gets what open() would give it, not mkstemp's 0600
        before = None
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    else:
        if before.st_nlink > 1:
            return _write_in_place(target, data)
        mode = stat.S_IMODE(before.st_mode)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before is not None and (before.st_uid, before.st_gid) != _owner(tmp):
            try:
                os.chown(tmp, before.st_uid, before.st_gid)
            except (PermissionError, AttributeError):
                os.unlink(tmp)
                return _write_in_place(target, data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _owner(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_uid, info.st_gid


def _write_in_place(target: Path, data: bytes) -> None:
    with open(target, "r+b") as handle:
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
