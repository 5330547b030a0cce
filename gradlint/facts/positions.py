"""Node positions at a fraction of libcst's PositionProvider cost: the same ranges, counted as offsets.

PositionProvider re-generates the module's code and, for every one of its tokens and nodes, updates a
line/column pair (a regex split per token) and builds CodeRange objects: about six times the bare code
generation. Here the code generation runs with a state that only adds up token lengths and remembers
each node's (start, end) offsets, by the same rules (a node's syntactic range, from
`record_syntactic_position`, wins over its whitespace-inclusive one); the few nodes a finding asks for
are turned into lines and columns from the module's line starts. tests/test_positions.py checks that
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
    def __init__(self, module: cst.Module):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
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


class Positions:
    """node → CodeRange (1-based lines, 0-based columns), as PositionProvider gives them."""

    def __init__(self, module: cst.Module):
        state = _OffsetState(module)
        module._codegen(state)
        self._spans = state.spans
        code = "".join(state.tokens)
        self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(code)]

    def _position(self, offset: int) -> CodePosition:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return CodePosition(line + 1, offset - self._line_starts[line])

    def __getitem__(self, node) -> CodeRange:
        start, end = self._spans[node]
        return CodeRange(self._position(start), self._position(end))
