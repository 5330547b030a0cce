"""GL201 — a training loop with no gradient clipping, where the risk of a blow-up is real."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import finding
from gradlint.facts import vocab
from gradlint.facts.precision import float16_uses, framework_clipping, uses_grad_scaler
from gradlint.facts.traits import class_ref, risky_construction, summarise
from gradlint.facts.steps import optimizer_name
from gradlint.finding import Fix
from gradlint.fix.edits import insert_before, source, torch_spelling
from gradlint.project import ProjectIndex

_ADVICE = (
    "one bad batch can blow the update up; add torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) "
    "between backward() and step()"
)


def _local_evidence(facts) -> tuple[str | None, tuple[str, ...]]:
    """Evidence that this file trains a risky model, else the imported project classes to look up."""
    index = ProjectIndex()
    index.add([], summarise(facts))
    imported = []
    # A project class the script builds names the model best; a bare layer anywhere is the fallback.
    for call in _outside_models(facts):
        ref = class_ref(call, facts)
        if ref and "." not in ref:
            found = index.evidence(ref, facts.path)
            if found:
                return f"the model {found}", ()
        elif ref:
            imported.append(ref)
    for call in facts.all_calls:
        built = risky_construction(call)
        if built:
            return f"the model uses {built} (line {facts.line(call.node)})", ()
    return None, tuple(dict.fromkeys(imported))


def _outside_models(facts):
    """Calls in scripts, functions and trainer classes: not inside a model's own methods."""
    models = {
        cls.name for cls in facts.classes.values()
        if "forward" in cls.methods or any(base in vocab.MODULE_BASES for base in cls.bases)
    }
    for fn in (facts.top, *facts.functions):
        if fn.class_name not in models:
            yield from fn.calls


def _other_risk(facts, settings) -> str | None:
    for opt in facts.optimizers:
        limit = settings.thresholds.lr_limits.get(opt.kind)
        value = opt.lr.value if opt.lr else None
        if limit and isinstance(value, (int, float)) and value >= limit and not opt.scheduled and opt.lr_given:
            return f"{opt.kind} runs at a large fixed lr={value:g}"
    uses = float16_uses(facts)
    if uses and uses_grad_scaler(facts):  # without a scaler GL206 names the more urgent fix
        return f"it trains in float16 ({uses[0].how}, line {facts.line(uses[0].call.node)})"
    return None


def check(facts, settings):
    loops = [loop for loop in facts.training_loops if not loop.of("clip")]
    if not loops or framework_clipping(facts):
        return
    evidence, imported = _local_evidence(facts)
    evidence = evidence or _other_risk(facts, settings)
    if evidence is None and not imported:
        return
    for loop in loops:
        step = next(e for e in loop.events if e.steps_optimizer)
        yield _with_needs(
            finding(
                facts, "GL201", step.node,
                f"optimizer step with no gradient clipping in {loop.where(facts)}, "
                f"while {evidence or '{evidence}'}: {_ADVICE}",
                fix=_clip_before_step(facts, step),
            ),
            () if evidence else imported,
        )


def _clip_before_step(facts, step):
    """Unsafe: clip the parameters the stepped optimizer was built with, just before the step."""
    clip = torch_spelling(facts, "clip_grad_norm_")
    name = optimizer_name(step)
    if clip is None or name is None or step.via is not None or step.call is None or not step.call.standalone:
        return None
    built = next((o for o in facts.optimizers if o.call.target == name), None)
    params = built.call.argument("params", 0) if built is not None else None
    if params is None or not isinstance(params, cst.Call):  # a generator or list variable may be spent
        return None
    statements = [f"{clip}({source(facts, params)}, max_norm=1.0)"]
    if step.kind == "scaler_step":
        statements.insert(0, f"{step.call.receiver}.unscale_({name})")
    return Fix("unsafe", "Clip the gradient norm to 1.0 before the optimizer step",
               tuple(insert_before(facts, step.node, s) for s in statements))


def _with_needs(found, needs):
    from dataclasses import replace

    return replace(found, needs=needs) if needs else found
