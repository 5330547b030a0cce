"""Which models are recurrent or attention-based: per class, per file, and across the files of a run.

A file's classes are summarised as plain data (gradlint.project.ClassSummary) so that the project
index can be built from every file of the run, cached or not, and answer for a class defined in
model.py and trained in train.py.
"""

from __future__ import annotations

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ModuleFacts
from gradlint.project import CallSummary, ClassSummary, Output

# Recurrent models explode through time (Pascanu et al. 2013): clipping is part of their recipe. A
# transformer built from scratch is a risk without warm-up (GL201 asks); a pretrained one fine-tuned at 2e-5
# is the textbook recipe and no evidence at all (a large fixed lr is evidence of its own).
RISKY = {**{q: "recurrent" for q in vocab.RECURRENT_MODULES}, **{q: "attention" for q in vocab.ATTENTION_MODULES}}
ATTENTION_NAMES = tuple(q.rpartition(".")[2] for q in vocab.ATTENTION_MODULES)


def risky_construction(call: CallInfo) -> str | None:
    """'nn.LSTM' / 'nn.TransformerEncoderLayer' when this call builds a recurrent or attention layer."""
    qualname = call.qualname or ""
    if qualname in RISKY:
        return qualname.replace("torch.nn.", "nn.")
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
        summaries[cls.name] = ClassSummary(cls.name, facts.path, evidence, tuple(dict.fromkeys(refs)),
                                           _output(cls, facts))
    return summaries


# What a model's output can be that a rule judges across files (GL402: a loss on a probability).
_OUTPUT_KINDS = frozenset({"softmax", "sigmoid", "log_softmax", "logsigmoid", "project"})


def _output(cls, facts: ModuleFacts) -> Output | None:
    from gradlint.facts.tensors import forward_output

    return _summary_output(forward_output(cls, facts), facts)


def _summary_output(found, facts: ModuleFacts) -> Output | None:
    if found is not None and found.kind == "tuple":
        elements = tuple(_summary_output(e, facts) if e is not None else None for e in found.elements)
        return Output("tuple", found.label, 0, None, elements) if any(elements) else None
    if found is None or found.kind not in _OUTPUT_KINDS:
        return None
    # The line costs a positions pass over the file: only a probability, which a message will name, pays it.
    line = facts.line(found.node) if found.kind != "project" else 0
    return Output(found.kind, found.label, line, found.ref)


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


def summarise_calls(facts: ModuleFacts) -> tuple[CallSummary, ...]:
    """The calls of imported project functions that pass a model (`train.dann(encoder, classifier, …)` with
    `classifier = model.Classifier().cuda()`), for a parameter judged in the function's own file."""
    from gradlint.facts.tensors import LIBRARIES, model_class

    found = []
    for call in facts.all_calls:
        name = call.qualname
        if not name or "." not in name or name.startswith(LIBRARIES) or not name.rpartition(".")[2][:1].islower():
            continue
        args = []
        for position, arg in enumerate(a for a in call.node.args if a.keyword is None):
            if arg.star:
                break
            args.append((str(position), model_class(arg.value, call.scope, facts)))
        args += [(a.keyword.value, model_class(a.value, call.scope, facts)) for a in call.node.args if a.keyword]
        if any(ref is not None for _, ref in args):
            found.append(CallSummary(name, facts.path, tuple(args)))
    return tuple(found)
