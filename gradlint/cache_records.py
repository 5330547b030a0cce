"""FileResult ⇄ plain JSON data for the cache, checked field by field on the way back.

Anything that does not have exactly the expected shape makes `load_result` return None (a cache
miss): a cache folder can come with a cloned repository, so its content is input, not trusted state.
"""

from __future__ import annotations

from gradlint.finding import Edit, Finding, Fix, Span
from gradlint.project import CallSummary, ClassSummary, Output


class _Bad(Exception):
    pass


def dump_result(result) -> dict:
    return {
        "path": result.path,
        "findings": [_dump_finding(f) for f in result.findings],
        "classes": {name: [c.name, c.path, c.evidence, list(c.refs), _dump_output(c.output)]
                    for name, c in result.classes.items()},
        "calls": [[c.callee, c.path, [[key, ref] for key, ref in c.args]] for c in result.calls],
        "digest": result.digest,
        "summarised": result.summarised,
    }


def _dump_finding(f: Finding) -> dict:
    fix = None
    if f.fix is not None:
        fix = [f.fix.applicability, f.fix.message,
               [[e.content, list(e.location), list(e.end_location)] for e in f.fix.edits]]
    s = f.span
    return {"code": f.code, "message": f.message, "path": f.path, "span": [s.row, s.column, s.end_row, s.end_column],
            "fix": fix, "suppress_rows": list(f.suppress_rows), "needs": list(f.needs), "cell": f.cell}


def load_result(data):
    """A FileResult from `dump_result`'s data, or None if the data has any other shape."""
    from gradlint.engine import FileResult

    try:
        _want(isinstance(data, dict) and set(data) == {"path", "findings", "classes", "calls", "digest", "summarised"})
        _want(isinstance(data["summarised"], bool))
        findings = [_load_finding(f) for f in _list(data["findings"])]
        classes = {}
        _want(isinstance(data["classes"], dict))
        for name, row in data["classes"].items():
            row = _list(row)
            _want(len(row) == 5)
            classes[_str(name)] = ClassSummary(_str(row[0]), _str(row[1]), _opt_str(row[2]),
                                               tuple(_str(r) for r in _list(row[3])), _load_output(row[4]))
        calls = []
        for row in _list(data["calls"]):
            row = _list(row)
            _want(len(row) == 3)
            args = []
            for arg in _list(row[2]):
                arg = _list(arg)
                _want(len(arg) == 2)
                args.append((_str(arg[0]), _opt_str(arg[1])))
            calls.append(CallSummary(_str(row[0]), _str(row[1]), tuple(args)))
        return FileResult(_str(data["path"]), findings, [], classes, tuple(calls), _opt_str(data["digest"]),
                          summarised=data["summarised"])
    except (_Bad, TypeError, ValueError, KeyError):
        return None


def _dump_output(output: Output | None) -> list | None:
    if output is None:
        return None
    return [output.kind, output.label, output.line, output.ref, [_dump_output(e) for e in output.elements]]


def _load_output(row, depth: int = 0) -> Output | None:
    if row is None:
        return None
    row = _list(row)
    _want(len(row) == 5 and _is_int(row[2]) and depth < 8)
    elements = tuple(_load_output(e, depth + 1) for e in _list(row[4]))
    return Output(_str(row[0]), _str(row[1]), row[2], _opt_str(row[3]), elements)


def _load_finding(data) -> Finding:
    _want(isinstance(data, dict) and set(data) == {"code", "message", "path", "span", "fix", "suppress_rows",
                                                    "needs", "cell"})
    span = _ints(data["span"], 4)
    fix = None
    if data["fix"] is not None:
        raw = _list(data["fix"])
        _want(len(raw) == 3 and raw[0] in ("safe", "unsafe"))
        edits = []
        for edit in _list(raw[2]):
            edit = _list(edit)
            _want(len(edit) == 3)
            edits.append(Edit(_str(edit[0]), tuple(_ints(edit[1], 2)), tuple(_ints(edit[2], 2))))
        fix = Fix(raw[0], _str(raw[1]), tuple(edits))
    cell = data["cell"]
    _want(cell is None or _is_int(cell))
    return Finding(_str(data["code"]), _str(data["message"]), _str(data["path"]), Span(*span), fix,
                   tuple(_ints(data["suppress_rows"])), tuple(_str(n) for n in _list(data["needs"])), cell)


def _want(condition: bool) -> None:
    if not condition:
        raise _Bad


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(value) -> list:
    _want(isinstance(value, list))
    return value


def _str(value) -> str:
    _want(isinstance(value, str))
    return value


def _opt_str(value):
    _want(value is None or isinstance(value, str))
    return value


def _ints(value, count: int | None = None) -> list[int]:
    _want(isinstance(value, list) and (count is None or len(value) == count) and all(map(_is_int, value)))
    return value
