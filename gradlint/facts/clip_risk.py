"""Training loops that step with no gradient clipping, and the evidence that a blow-up is at risk (GL201, GL210).

The loop's model is looked for where it can come from (`reach`): its function, the callers, the helpers it
calls, its class's set-up and the module's top level. A project class imported from another file is named
in `imported` and resolved once over the run's project index by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradlint.facts import vocab
from gradlint.facts.optim import ADAPTIVE, large_fixed_lr, warmed_up
from gradlint.facts.precision import framework_clipping
from gradlint.facts.steps import fixed_batch
from gradlint.facts.traits import ATTENTION_NAMES, class_ref, risky_construction, summarise
from gradlint.project import ProjectIndex

_GATED = ("nn.LSTM", "nn.GRU")  # also LSTMCell / GRUCell: the evidence text names the layer
# An adaptive optimizer at or below this lr moves each weight by about lr per step whatever the gradient.
MODEST_ADAPTIVE_LR = 1e-3


@dataclass(frozen=True)
class UnclippedStep:
    loop: object  # facts.steps training loop
    step: object  # the event that steps the optimizer
    evidence: str | None  # None: only `imported` classes can tell
    imported: tuple[str, ...]

    @property
    def gated_recurrent_only(self) -> bool:
        return bool(self.evidence) and any(g in self.evidence for g in _GATED) and "large fixed lr" not in self.evidence


def unclipped_steps(facts, settings):
    """Each training loop with no clipping that has evidence of risk (or imported classes that may have it)."""
    loops = [loop for loop in facts.training_loops if not loop.of("clip")]
    if not loops or framework_clipping(facts):
        return
    large_lr = large_fixed_lr_evidence(facts, settings)
    warm = warmed_up(facts)
    for loop in loops:
        if not loop.of("zero_grad", "engine_step"):
            continue  # gradients that are never zeroed are GL203's finding, and clipping is not the fix
        evidence, imported = _local_evidence(facts, reach(facts, loop.function))
        if fixed_batch(loop):
            evidence, imported = None, ()  # a demo fitting one fixed batch: no bad batch to blow up on
        if evidence and warm and any(name in evidence for name in ATTENTION_NAMES):
            evidence = None  # an attention model warmed up: the standard transformer recipe
        evidence = evidence or large_lr
        if evidence is None and not imported:
            continue
        step = next(e for e in loop.events if e.steps_optimizer)
        yield UnclippedStep(loop, step, evidence, () if evidence else imported)


def modest_adaptive_optimizers(facts) -> bool:
    """Every optimizer of the file is adaptive (Adam family) with a resolved lr of at most 1e-3."""
    return bool(facts.optimizers) and all(
        opt.kind in ADAPTIVE and opt.lr_number is not None and opt.lr_number <= MODEST_ADAPTIVE_LR
        for opt in facts.optimizers)


_SET_UP = {"__init__", "setup", "setUp", "setUpClass", "configure_model", "configure_optimizers", "build", "build_model"}


def reach(facts, fn) -> list:
    """The code a loop's model can come from: its function, the functions that call it (transitively),
    the helpers it calls, its class's set-up and the methods it calls, and the module's top level."""
    by_name = {f.name: f for f in facts.functions if f.class_name is None}
    found = {id(facts.top): facts.top, id(fn): fn}
    if fn.class_name and fn.class_name in facts.classes:
        # The class's set-up builds the model a method trains; sibling test methods build their own.
        methods = facts.classes[fn.class_name].methods
        called = {c.method for c in fn.calls if c.receiver == "self"}
        found.update((id(m), m) for name, m in methods.items() if name in _SET_UP or name in called)
    frontier = [fn]
    while frontier:
        current = frontier.pop()
        for other in (facts.top, *facts.functions):
            if id(other) not in found and any(_calls(c, current, other, by_name) for c in other.calls):
                found[id(other)] = other
                frontier.append(other)
    for call in fn.calls:
        helper = by_name.get(getattr(call.node.func, "value", "")) if call.receiver is None else None
        if helper is not None:
            found.setdefault(id(helper), helper)
    return list(found.values())


def _calls(call, callee, caller, by_name) -> bool:
    if call.receiver is None:
        return getattr(call.node.func, "value", None) == callee.name and by_name.get(callee.name) is callee
    return call.receiver == "self" and call.method == callee.name and caller.class_name == callee.class_name


def _local_evidence(facts, functions) -> tuple[str | None, tuple[str, ...]]:
    """Evidence that this code trains a risky model, else the imported project classes to look up."""
    index = ProjectIndex()
    index.add([], summarise(facts))
    imported = []
    models = _model_classes(facts)
    calls = [call for fn in functions if fn.class_name not in models for call in fn.calls]
    # A project class the script builds names the model best; a bare layer is the fallback.
    for call in calls:
        ref = class_ref(call, facts)
        if ref and "." not in ref:
            found = index.evidence(ref, facts.path)
            if found:
                return f"the model {found}", ()
        elif ref:
            imported.append(ref)
    for call in (c for fn in functions for c in fn.calls):
        built = risky_construction(call)
        if built:
            return f"the model uses {built} (line {facts.line(call.node)})", ()
    return None, tuple(dict.fromkeys(imported))


def _model_classes(facts) -> set[str]:
    """Classes that are models: their own methods build layers, they are not the ones training."""
    return {
        cls.name for cls in facts.classes.values()
        if "forward" in cls.methods or any(base in vocab.MODULE_BASES for base in cls.bases)
    }


def large_fixed_lr_evidence(facts, settings) -> str | None:
    if "GL202" in settings.enabled_codes():
        return None  # GL202 reports that lr itself: one finding per defect, and clipping is not its fix
    for opt in facts.optimizers:
        if large_fixed_lr(opt, facts, settings.thresholds.lr_limits) is not None:
            return f"{opt.kind} runs at a large fixed lr={opt.lr_number:g}"
    # float16 alone is not evidence: a GradScaler already skips the steps that overflow (the standard AMP
    # recipe trains without clipping), and without a scaler GL206 names the fix.
    return None


