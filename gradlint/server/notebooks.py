"""LSP notebook documents → the .ipynb the CLI reads, so cells are joined, masked and mapped back by
gradlint/notebook.py exactly as `gradlint notebook.ipynb` does; findings come back with their cell."""

from __future__ import annotations

import json

PYTHON_LANGUAGES = ("python", "ipython", "")


def as_ipynb(cells: list[tuple[bool, str]]) -> bytes:
    """(is a Python code cell, text) per cell, in order → notebook JSON; other cells keep their place
    (findings count cells among all of them, as Jupyter does)."""
    document = {
        "cells": [{"cell_type": "code" if code else "markdown", "metadata": {}, "source": text}
                  for code, text in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
