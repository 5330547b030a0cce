"""Edits that fixable checks build: insert a statement before another, move a statement.

Positions come from the facts (1-based, end exclusive). A statement is addressed through the call
that makes it up (`CallInfo.standalone`), so its first column is its indentation.
"""

from __future__ import annotations

from gradlint.finding import Edit


def insert_before(facts, node, statement: str) -> Edit:
    """Insert `statement` on its own line before the statement that starts at `node`, same indentation."""
    span = facts.span(node)
    indent = " " * (span.column - 1)
    return Edit(f"{statement}\n{indent}", (span.row, span.column), (span.row, span.column))


def delete_line(facts, node) -> Edit | None:
    """Delete the whole line of a one-line statement (None when it spans several lines)."""
    span = facts.span(node)
    if span.end_row != span.row:
        return None
    return Edit("", (span.row, 1), (span.row + 1, 1))


def source(facts, node) -> str:
    return facts.module.code_for_node(node).strip()


def torch_spelling(facts, name: str) -> str | None:
    """How the file can spell `torch.nn.utils.<name>` with the imports it has (None: it cannot)."""
    for local, qualname in facts.scope.imports.items():
        if qualname == "torch":
            return f"{local}.nn.utils.{name}"
        if qualname == "torch.nn":
            return f"{local}.utils.{name}"
        if qualname == f"torch.nn.utils.{name}":
            return local
    return None
