"""`--fix` in notebooks: edit only the changed cells' source; outputs, metadata and layout stay as they are.

Jupyter writes notebooks as `json.dumps(nb, indent=1, ensure_ascii=False)` plus a newline. A notebook
in that layout is re-serialised after the edit, so every byte outside the changed cells' `source`
is unchanged; a notebook in another layout is left alone (the edit could not be confined to a cell).
"""

from __future__ import annotations

import json
from pathlib import Path

from gradlint.fix import FileFix, apply, parses, wanted


def _dump(document, newline: str = "\n", bom: str = "", final: bool = True) -> str:
    """Jupyter's layout, with the file's own line breaks, BOM and final newline (or none)."""
    text = json.dumps(document, indent=1, ensure_ascii=False) + ("\n" if final else "")
    return bom + (text if newline == "\n" else text.replace("\n", newline))  # JSON strings escape their breaks


def fix_notebook(path: str, chosen: list, unsafe: bool) -> FileFix:
    from gradlint import notebook

    raw = Path(path).read_bytes().decode("utf-8")  # as written: no newline translation
    bom = "\ufeff" if raw.startswith("\ufeff") else ""
    body = raw[len(bom):]
    newline = "\r\n" if "\r\n" in body else "\n"
    try:
        document = notebook.parse_json(body)
    except notebook.NotebookError:
        return FileFix(path, raw, raw, 0, rejected="not valid notebook JSON; file left unchanged")
    layout = {"newline": newline, "bom": bom, "final": body.endswith(newline)}
    if _dump(document, **layout) != raw:
        return FileFix(path, raw, raw, 0,
                       rejected="the notebook is not in Jupyter's JSON layout (indent=1); file left unchanged")
    by_cell: dict[int, list] = {}
    for finding in chosen:
        if finding.cell is not None and wanted(finding.fix, unsafe):
            by_cell.setdefault(finding.cell, []).append(finding.fix)
    fixed = 0
    for index, fixes in sorted(by_cell.items()):
        cell = document["cells"][index - 1]
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        new, applied = apply(text, fixes)
        fixed += len(applied)
        cell["source"] = new.splitlines(keepends=True) if isinstance(source, list) else new
    after = _dump(document, **layout)
    if after != raw and not parses(notebook.load(after.encode("utf-8")).source):
        return FileFix(path, raw, raw, 0, rejected="the fixed code would not parse; file left unchanged")
    return FileFix(path, raw, after, fixed)
