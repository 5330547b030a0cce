"""Which models are recurrent or attention-based: per class, per file, and across the files of a run.

A file's classes are summarised as plain data (gradlint.project.ClassSummary) so that the project
index can be built from every file of the run, cached or not, and answer for a class defined in
model.py and trained in train.py.
"""

from __future__ import annotations

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ModuleFacts
from gradlint.project import ClassSummary

RISKY = {**{q: "recurrent" for q in vocab.RECURRENT_MODULES}, **{q: "attention" for q in vocab.ATTENTION_MODULES}}


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
