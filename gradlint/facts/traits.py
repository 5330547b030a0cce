"""Which models are recurrent or attention-based: per class, per file, and across the files of a run.

A file's classes are summarised as plain data (ClassSummary) so that the project index can be built
from every file of the run, cached or not, and answer for a class defined in model.py and trained
in train.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ClassInfo, ModuleFacts

RISKY = {**{q: "recurrent" for q in vocab.RECURRENT_MODULES}, **{q: "attention" for q in vocab.ATTENTION_MODULES}}


@dataclass(frozen=True)
class ClassSummary:
    name: str
    path: str
    evidence: str | None  # "nn.LSTM" when the class itself builds a recurrent/attention layer
    refs: tuple[str, ...]  # classes it builds or extends: qualified names, or local names


def risky_construction(call: CallInfo) -> str | None:
    """'nn.LSTM' / 'AutoModelForCausalLM' when this call builds a recurrent or attention model."""
    qualname = call.qualname or ""
    if qualname in RISKY:
        return qualname.replace("torch.nn.", "nn.")
    if qualname.startswith(vocab.HF_ATTENTION_PREFIXES) or (
        qualname.startswith("transformers.") and qualname.endswith(("ForCausalLM.from_pretrained", "ForSeq2SeqLM.from_pretrained"))
    ):
        return qualname.split(".")[1]
    return None


def summarise(facts: ModuleFacts) -> dict[str, ClassSummary]:
    summaries = {}
    for cls in facts.classes.values():
        evidence = None
        refs = list(cls.bases)
        for method in cls.methods.values():
            for call in method.calls:
                found = risky_construction(call)
                if found and evidence is None:
                    evidence = found
                ref = class_ref(call, facts)
                if ref:
                    refs.append(ref)
        summaries[cls.name] = ClassSummary(cls.name, facts.path, evidence, tuple(dict.fromkeys(refs)))
    return summaries


def class_ref(call: CallInfo, facts: ModuleFacts) -> str | None:
    """The class a call constructs, if it is a project class: local name or qualified import."""
    func = call.node.func
    if call.receiver is None and hasattr(func, "value") and getattr(func, "value", None) in facts.classes:
        return func.value
    if call.qualname and not call.qualname.startswith(("torch.", "transformers.", "numpy.")):
        last = call.qualname.rsplit(".", 1)[-1]
        if last[:1].isupper():
            return call.qualname
    return None


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
