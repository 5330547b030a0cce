"""Successive versions of one file (an editor's buffer) parsed with the top-level statements that an edit
did not touch taken from the last version's tree: only the edited statements go through libcst's parser.

A top-level statement parses the same wherever it stands: its first line starts at column 0 with no
bracket, string or block open, so only two things tie it to its neighbours, and both are checked:
- the comment and blank lines between two statements, which libcst splits between the first one's block
  footers (indented lines) and the second one's `leading_lines`. A boundary is only used where those
  lines have no indentation at all, so they all belong to the statement after it in any parse;
- the module's default indent (its first INDENT) and newline, relative to which libcst records blocks
  and newlines. The edited chunk must agree with the module on both, and a chunk that loses the file's
  first indented block is parsed whole.
Anything else (an edit that does not parse on its own, an `else:` joining the statement before it, a
chunk with no statement left) falls back to a full parse. tests/test_reparse.py checks that the tree is
node for node the full parse's, and the findings the same, on random edits of the fixtures.
"""

from __future__ import annotations

import bisect

import libcst as cst

from gradlint.facts.positions import layout, parts


class Reparser:
    """Parses one file's successive texts; `layouts` are the current tree's parts, laid out (positions)."""

    def __init__(self):
        self.text: str | None = None
        self.module: cst.Module | None = None
        self.layouts: dict = {}
        self.indented: dict = {}  # top-level statement → whether it holds an indented block (an INDENT)
        self.reused = 0  # statements of the last parse taken from the one before (for tests and benchmarks)

    def parse(self, text: str, parse) -> cst.Module:
        """The module of `text`; `parse(text)` is the full parse (it raises on what libcst refuses)."""
        module = self._reuse(text) if self.module is not None else None
        if module is None:
            self.reused = 0
            self.text = self.module = None  # a full parse that raises leaves nothing to reuse
            module = parse(text)
        self._remember(text, module)
        return module

    def _remember(self, text: str, module: cst.Module) -> None:
        known = self.layouts
        self.layouts = {part: layout(part, module, known) for part in parts(module)}
        if not module.has_trailing_newline or sum(found.length for found in self.layouts.values()) != len(text):
            # a text with no final newline, or one the parse added a line to: parsed whole next time
            self.text = self.module = None
            self.layouts, self.indented = {}, {}
            return
        self.indented = {s: self.indented[s] if s in self.indented else _indented(s) for s in module.body}
        self.text, self.module = text, module

    def _reuse(self, text: str) -> cst.Module | None:
        old, module = self.text, self.module
        if text == old:
            self.reused = len(module.body)
            return module
        body = module.body
        starts, offset = [], sum(self.layouts[line].length for line in module.header)
        for statement in body:
            starts.append(offset)
            offset += self.layouts[statement].length
        ends = starts[1:] + [offset]
        same = _common_prefix(old, text)
        tail = _common_prefix(old[::-1], text[::-1], min(len(old), len(text)) - same)
        first = bisect.bisect_right(ends, same)  # statements 0..first-1 end inside the unchanged start
        last = bisect.bisect_left(starts, len(old) - tail, first)  # statements last.. start inside the end
        if first == last and last < len(body):
            last += 1  # text inserted between two statements: parsed with the one after it, as its leading lines
        while last < len(body) and not _clean(body[last].leading_lines):
            last += 1  # its leading lines could go to the edited statement's block footer
        # where the lines before the edited statement could belong to the one before it, that one is parsed too
        for start in dict.fromkeys((first, max(first - 1, 0))):
            if start == 0 and last == len(body):
                return None
            rebuilt = self._rebuild(text, starts, start, last)
            if rebuilt is not None:
                return rebuilt
        return None

    def _rebuild(self, text: str, starts: list[int], first: int, last: int) -> cst.Module | None:
        """The module with statements first..last-1 parsed from `text` and the others reused; None where
        that could differ from the full parse."""
        old, module = self.text, self.module
        body = module.body
        begin = starts[first - 1] + self.layouts[body[first - 1]].length if first else 0  # the header is parsed too
        end_old = starts[last] if last < len(body) else len(old)
        try:
            chunk = cst.parse_module(text[begin:len(text) - (len(old) - end_old)])
        except Exception:  # the edit does not parse on its own: the full parse decides
            return None
        prefix, new, suffix = body[:first], list(chunk.body), body[last:]
        if not new:  # the lines left would join the leading lines (or the header) of a statement reused
            return None
        indents = any(_indented(s) for s in new)
        if chunk.default_newline != module.default_newline or (indents and chunk.default_indent != module.default_indent):
            return None  # its blocks and newlines would be recorded against another default
        if not indents and not any(self.indented[s] for s in prefix) and any(self.indented[s] for s in body[first:last]):
            return None  # the file's first INDENT (its default indent) may now come from the unchanged end
        header = chunk.header if first == 0 else module.header
        if first > 0:
            if not _clean(chunk.header) or not _clean(new[0].leading_lines):
                return None  # those lines could belong to the block footer of the statement before
            new[0] = new[0].with_changes(leading_lines=(*chunk.header, *new[0].leading_lines))
        if suffix:
            if chunk.footer or not chunk.has_trailing_newline:
                return None
            footer, trailing = module.footer, module.has_trailing_newline
        else:
            footer, trailing = chunk.footer, chunk.has_trailing_newline
        self.reused = len(prefix) + len(suffix)
        return module.with_changes(header=header, body=(*prefix, *new, *suffix), footer=footer,
                                   has_trailing_newline=trailing)


def _common_prefix(a: str, b: str, limit: int | None = None) -> int:
    """The length of the longest common prefix of `a` and `b` (at most `limit`), by halving: C-speed slices."""
    high = min(len(a), len(b)) if limit is None else min(len(a), len(b), limit)
    low = 0
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _clean(lines) -> bool:
    """Blank and comment lines with no indentation: no block footer can claim them."""
    return all(not line.whitespace.value and line.indent for line in lines)


def _indented(node) -> bool:
    """Whether a top-level statement holds an indented block, i.e. an INDENT token."""
    if isinstance(node, cst.Match) or isinstance(getattr(node, "body", None), cst.IndentedBlock):
        return True
    clauses = (getattr(node, "orelse", None), getattr(node, "finalbody", None), *getattr(node, "handlers", ()))
    return any(_indented(clause) for clause in clauses if clause is not None)

