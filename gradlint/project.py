"""The project index: class summaries of every file of a run, for cross-file questions.

Plain data and no libcst import, so a warm run can rebuild it from the cache without parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Output:
    """What a class's forward() returns, as far as its own file tells: a probability (`kind` softmax,
    sigmoid, …) produced by `label` on `line`, or (kind "project") the output of the project class `ref`."""

    kind: str
    label: str
    line: int
    ref: str | None = None
    elements: tuple["Output | None", ...] = ()  # kind "tuple": what each element of the returned tuple is


@dataclass(frozen=True)
class ClassSummary:
    name: str
    path: str
    evidence: str | None  # "nn.LSTM" when the class itself builds a recurrent/attention layer
    refs: tuple[str, ...]  # classes it builds or extends: qualified names, or local names
    output: Output | None = None  # what forward() returns, when its file can tell


@dataclass(frozen=True)
class CallSummary:
    """A call of an imported function of the project, `train.dann(encoder, classifier, ...)`, with the project
    class each argument is a model of (local or qualified name; None: not known), by position ("0", "1", …)
    and by keyword."""

    callee: str
    path: str
    args: tuple[tuple[str, str | None], ...]


class ProjectIndex:
    """Class summaries of every file of the run, found by any dotted suffix of their module path."""

    def __init__(self):
        self.by_key: dict[str, list[ClassSummary]] = {}
        self.local: dict[str, dict[str, ClassSummary]] = {}
        self.calls: dict[str, list[CallSummary]] = {}  # by the callee's last name

    def add_calls(self, calls) -> None:
        for call in calls:
            self.calls.setdefault(call.callee.rpartition(".")[2], []).append(call)

    def param_output(self, function: str, position: int, name: str, path: str) -> tuple[str, str] | None:
        """(kind, path) when every call of the run of `function` (a module-level def of `path`) passes, for
        its parameter `name`, a model of a class whose output is that kind; None when any call is unknown."""
        keys = {f"{key}.{function}" for key in module_keys(path)}
        found = []
        for call in self.calls.get(function, ()):
            if call.callee not in keys:
                continue
            args = dict(call.args)
            ref = args.get(name, args.get(str(position)))
            output = self.output(ref, call.path) if ref is not None else None
            if output is None:
                return None
            found.append((output, call))
        if not found or len({kind for (kind, _), _ in found}) != 1:
            return None
        (kind, where), call = found[0]
        return kind, f"{function}({name}=…) in {_filename(call.path)} → {where}"

    def add(self, module_keys: list[str], summaries: dict[str, ClassSummary]) -> None:
        for summary in summaries.values():
            self.local.setdefault(summary.path, {})[summary.name] = summary
            for key in module_keys:
                self.by_key.setdefault(f"{key}.{summary.name}", []).append(summary)

    def lookup(self, ref: str, importer: str) -> ClassSummary | None:
        """The class `ref` names from `importer`: its own file's class, else among same-named modules of the
        run (a monorepo has many model.py) the one nearest to the importer."""
        if "." not in ref:
            return self.local.get(importer, {}).get(ref)
        candidates = self.by_key.get(ref, [])
        return max(candidates, key=lambda c: _shared_folders(c.path, importer), default=None)

    def evidence(self, ref: str, path: str, seen: frozenset = frozenset()) -> str | None:
        """'Seq2Seq (model.py) builds nn.LSTM' if the class (or one it builds or extends) is risky."""
        summary = self.lookup(ref, path)
        if summary is None or (summary.path, summary.name) in seen:
            return None
        if summary.evidence:
            return f"{summary.name} ({_filename(summary.path)}) builds {summary.evidence}"
        for inner in summary.refs:
            found = self.evidence(inner, summary.path, seen | {(summary.path, summary.name)})
            if found:
                return f"{summary.name} ({_filename(summary.path)}) → {found}"
        return None

    def output(self, ref: str, path: str, seen: frozenset = frozenset()) -> tuple[str, str] | None:
        """(kind, 'Net.forward returns F.softmax(x) (model.py:41)') for the class `ref` names from `path`,
        following a forward that returns another project class's output. `Net@1` is element 1 of the tuple
        Net.forward returns; `A|B` is a value built from A or from B, proven only if both output the same kind."""
        if "|" in ref:
            found = [self.output(one, path, seen) for one in ref.split("|")]
            if any(f is None for f in found) or len({kind for kind, _ in found}) != 1:
                return None
            return found[0][0], "; ".join(where for _, where in found)
        ref, at, index = ref.partition("@")
        summary = self.lookup(ref, path)
        if summary is None or summary.output is None or (summary.path, summary.name) in seen:
            return None
        out = summary.output
        if at:
            if not index.isdigit():
                return None
            if out.kind == "project":
                out = Output("project", out.label, out.line, f"{out.ref}@{index}" if out.ref else None)
            elif out.kind == "tuple" and int(index) < len(out.elements) and out.elements[int(index)] is not None:
                element = out.elements[int(index)]
                out = replace(element, label=f"{out.label}, [{index}] = {element.label}")
            else:
                return None
        if out.kind != "project":
            return out.kind, f"{out.label} ({_filename(summary.path)}:{out.line})"
        where = f"{out.label} ({_filename(summary.path)})"
        found = self.output(out.ref, summary.path, seen | {(summary.path, summary.name)}) if out.ref else None
        return (found[0], f"{where} → {found[1]}") if found else None


def _shared_folders(a: str, b: str) -> int:
    """How many leading folders two paths share (the nearer module wins an ambiguous import)."""
    left, right = a.replace("\\", "/").split("/")[:-1], b.replace("\\", "/").split("/")[:-1]
    shared = 0
    for x, y in zip(left, right):
        if x != y:
            break
        shared += 1
    return shared


def _filename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def module_keys(path: str) -> list[str]:
    """model.py → ['model']; src/pkg/model.py → ['model', 'pkg.model', 'src.pkg.model']."""
    parts = path.replace("\\", "/").removesuffix(".py").split("/")
    parts = [p for p in parts if p not in ("", ".", "..")]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return [".".join(parts[i:]) for i in range(len(parts) - 1, -1, -1)] if parts else []
