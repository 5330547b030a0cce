"""The one record every stage passes along: a finding at a 1-based span of a file."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    row: int
    column: int
    end_row: int
    end_column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based positions (end exclusive) with `content`."""

    content: str
    location: tuple[int, int]
    end_location: tuple[int, int]


@dataclass(frozen=True)
class Fix:
    applicability: str  # "safe" | "unsafe"
    message: str
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    span: Span
    fix: Fix | None = None
    # Lines on which a suppression comment silences this finding (a multi-line call: any of its lines).
    suppress_rows: tuple[int, ...] = field(default=(), compare=False)
    # Cross-file findings: project classes, one of which must prove recurrent/attention for the finding
    # to stand; the engine fills "{evidence}" in the message from the project index.
    needs: tuple[str, ...] = field(default=(), compare=False)
    cell: int | None = None  # notebooks: the 1-based cell; span rows are then relative to that cell

    @property
    def where(self) -> str:
        """`path:row:col`, or `path:cell 3:row:col` in a notebook."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.span.row}:{self.span.column}"

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.span.row, self.span.column, self.code)
