"""Node positions at a fraction of libcst's PositionProvider cost: the same ranges, counted as offsets.

PositionProvider re-generates the module's code and, for every one of its tokens and nodes, updates a
line/column pair (a regex split per token) and builds CodeRange objects: about six times the bare code
generation. Here the code generation runs with a state that only adds up token lengths and remembers
each node's (start, end) offsets, by the same rules (a node's syntactic range, from
`record_syntactic_position`, wins over its whitespace-inclusive one); the few nodes a finding asks for
are turned into lines and columns from the line starts. Each top-level statement (and header or footer
line) is generated on its own, so an edited file whose other statements were reused from its last tree
(gradlint/reparse.py) only lays out the statements that changed. tests/test_positions.py checks that
every node of the fixtures gets PositionProvider's exact range.
"""

from __future__ import annotations

import bisect
import re

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")  # the line breaks PositionProvider counts


class _Syntactic:
    """`with state.record_syntactic_position(node, ...)`: a plain object, cheaper than a generator."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state, node, start_node, end_node):
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self):
        self.start = self.state.offset

    def __exit__(self, *exc):
        spans = self.state.spans
        start = spans[self.start_node][0] if self.start_node is not None else self.start
        end = spans[self.end_node][1] if self.end_node is not None else self.state.offset
        spans[self.node] = (start, end)
        return False


class _OffsetState(CodegenState):
    def __init__(self, default_indent: str, default_newline: str):
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.offset = 0
        self.spans: dict = {}
        self._starts: list[int] = []

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        """Kept: the offsets already count it, and the line starts are read from these tokens."""

    def before_codegen(self, node) -> None:
        self._starts.append(self.offset)

    def after_codegen(self, node) -> None:
        start = self._starts.pop()
        if node not in self.spans:  # a syntactic range recorded inside the node stays
            self.spans[node] = (start, self.offset)

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Syntactic(self, node, start_node, end_node)


class Layout:
    """One part of a module (a top-level statement, a header or footer line) generated on its own: its nodes'
    offsets from the part's start, its length and its line starts. A part's code does not depend on what
    stands around it (only on the module's indent and newline), so an unchanged statement keeps its layout
    from one version of a file to the next (gradlint/reparse.py)."""

    __slots__ = ("spans", "length", "line_starts", "indent", "newline")

    def __init__(self, part, default_indent: str, default_newline: str):
        state = _OffsetState(default_indent, default_newline)
        part._codegen(state)
        self.spans, self.length = state.spans, state.offset
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer("".join(state.tokens))]
        self.indent, self.newline = default_indent, default_newline


def layout(part, module: cst.Module, known: dict | None = None) -> Layout:
    """`part`'s layout in `module`: the one in `known` when it was generated with the module's indent and newline."""
    found = known.get(part) if known is not None else None
    if found is None or (found.indent, found.newline) != (module.default_indent, module.default_newline):
        found = Layout(part, module.default_indent, module.default_newline)
    return found


def parts(module: cst.Module) -> tuple:
    return (*module.header, *module.body, *module.footer)


class Positions:
    """node → CodeRange (1-based lines, 0-based columns), as PositionProvider gives them.

    Each part of the module is laid out on its own (or its layout is taken from `known`); a node's range
    is its part's offsets moved to where the part starts."""

    def __init__(self, module: cst.Module, known: dict | None = None):
        self._module = module
        self._parts = []  # (layout, offset of its start, line of its start - 1)
        self._hit = 0
        offset = line = 0
        for part in parts(module):
            found = layout(part, module, known)
            self._parts.append((found, offset, line))
            offset += found.length
            line += len(found.line_starts) - 1
        self._end = (offset, line, offset - (self._parts[-1][1] + self._parts[-1][0].line_starts[-1]
                                             if self._parts else 0))

    def __getitem__(self, node) -> CodeRange:
        if node is self._module:
            offset, line, column = self._end
            return CodeRange(CodePosition(1, 0), CodePosition(line + 1, column))
        parts, hit = self._parts, self._hit
        for index in (hit, *range(len(parts))) if parts else ():  # the last hit first: nodes come in runs
            found, offset, line = parts[index]
            span = found.spans.get(node)
            if span is not None:
                self._hit = index
                return CodeRange(_position(found, line, span[0]), _position(found, line, span[1]))
        raise KeyError(node)


def _position(found: Layout, line: int, offset: int) -> CodePosition:
    row = bisect.bisect_right(found.line_starts, offset) - 1
    return CodePosition(line + row + 1, offset - found.line_starts[row])
