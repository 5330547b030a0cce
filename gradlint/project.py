"""The project index: class summaries of every file of a run, for cross-file questions.

Plain data and no libcst import, so a warm run can rebuild it from the cache without parsing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassSummary:
    name: str
    path: str
    evidence: str | None  # "nn.LSTM" when the class itself builds a recurrent/attention layer
    refs: tuple[str, ...]  # classes it builds or extends: qualified names, or local names


class ProjectIndex:
    """Class summaries of every file of the run, found by any dotted suffix of their module path."""

    def __init__(self):
        self.by_key: dict[str, ClassSummary] = {}
        self.local: dict[str, dict[str, ClassSummary]] = {}

    def add(self, module_keys: list[str], summaries: dict[str, ClassSummary]) -> None:
        for summary in summaries.values():
            self.local.setdefault(summary.path, {})[summary.name] = summary
            for key in module_keys:
                self.by_key.setdefault(f"{key}.{summary.name}", summary)

    def evidence(self, ref: str, path: str, seen: frozenset = frozenset()) -> str | None:
        """'Seq2Seq (model.py) builds nn.LSTM' if the class (or one it builds or extends) is risky."""
        summary = self.local.get(path, {}).get(ref) if "." not in ref else None
        summary = summary or self.by_key.get(ref)
        if summary is None or (summary.path, summary.name) in seen:
            return None
        if summary.evidence:
            return f"{summary.name} ({_filename(summary.path)}) builds {summary.evidence}"
        for inner in summary.refs:
            found = self.evidence(inner, summary.path, seen | {(summary.path, summary.name)})
            if found:
                return f"{summary.name} ({_filename(summary.path)}) → {found}"
        return None


def _filename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def module_keys(path: str) -> list[str]:
    """model.py → ['model']; src/pkg/model.py → ['model', 'pkg.model', 'src.pkg.model']."""
    parts = path.replace("\\", "/").removesuffix(".py").split("/")
    parts = [p for p in parts if p not in ("", ".", "..")]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return [".".join(parts[i:]) for i in range(len(parts) - 1, -1, -1)] if parts else []
