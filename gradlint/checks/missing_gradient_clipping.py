"""GL201 — a training loop with no gradient clipping, where the risk of a blow-up is real."""

from __future__ import annotations

import libcst as cst

from gradlint.checks import finding
from gradlint.facts import vocab
from gradlint.facts.keras_steps import fitted_optimizers, model_risk, risky_layer, tape_steps
from gradlint.facts.names import dotted
from gradlint.facts.optim import large_fixed_lr, warmed_up
from gradlint.facts.precision import framework_clipping
from gradlint.facts.traits import ATTENTION_NAMES, class_ref, risky_construction, summarise
from gradlint.facts.steps import fixed_batch, optimizer_name
from gradlint.finding import Fix
from gradlint.fix.edits import insert_before, source, torch_spelling
from gradlint.project import ProjectIndex

_ADVICE = (
    "one bad batch can blow the update up; add torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) "
    "between backward() and step()"
)


_SET_UP = {"__init__", "setup", "setUp", "setUpClass", "configure_model", "configure_optimizers", "build", "build_model"}


def _reach(facts, fn) -> list:
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


def _large_fixed_lr(facts, settings) -> str | None:
    if "GL202" in settings.enabled_codes():
        return None  # GL202 reports that lr itself: one finding per defect, and clipping is not its fix
    for opt in facts.optimizers:
        if large_fixed_lr(opt, facts, settings.thresholds.lr_limits) is not None:
            return f"{opt.kind} runs at a large fixed lr={opt.lr_number:g}"
    # float16 alone is not evidence: a GradScaler already skips the steps that overflow (the standard AMP
    # recipe trains without clipping), and without a scaler GL206 names the fix.
    return None


def check(facts, settings):
    yield from _keras(facts)
    loops = [loop for loop in facts.training_loops if not loop.of("clip")]
    if not loops or framework_clipping(facts):
        return
    large_lr = _large_fixed_lr(facts, settings)
    warm = warmed_up(facts)
    for loop in loops:
        if not loop.of("zero_grad", "engine_step"):
            continue  # gradients that are never zeroed are GL203's finding, and clipping is not the fix
        evidence, imported = _local_evidence(facts, _reach(facts, loop.function))
        if fixed_batch(loop):
            evidence, imported = None, ()  # a demo fitting one fixed batch: no bad batch to blow up on
        if evidence and warm and any(name in evidence for name in ATTENTION_NAMES):
            evidence = None  # an attention model warmed up: the standard transformer recipe
        evidence = evidence or large_lr
        if evidence is None and not imported:
            continue
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


def _keras(facts):
    """Keras/TF: a GradientTape step or a fit() whose optimizer never clips, on a recurrent/attention model.

    The model is the one whose trainable_variables the tape differentiates, or the one fit() trains; when
    it cannot be tied to its layers, a recurrent/attention layer anywhere in the file is the evidence.
    Only the model's layers count (a large fixed lr is GL202's to report); an optimizer gradlint cannot
    see (a parameter, an import) counts as clipping (precision first).
    """
    layer = risky_layer(facts)
    if layer is None:
        return
    for call, fn, clipped in tape_steps(facts):
        evidence = _evidence(facts, layer, _differentiated(fn, call), call.scope) if clipped is False else None
        if evidence:
            yield finding(
                facts, "GL201", call.node,
                f"apply_gradients with no gradient clipping in {fn.name if fn is not facts.top else 'the script'}, "
                f"while {evidence}: one bad batch can blow the update up; clip between tape.gradient and "
                "apply_gradients (grads, _ = tf.clip_by_global_norm(grads, 1.0)) or pass global_clipnorm=1.0 "
                "to the optimizer",
            )
    for compile_call, given, clipped in fitted_optimizers(facts):
        evidence = None if clipped else _evidence(facts, layer, compile_call.receiver, compile_call.scope)
        if not evidence:
            continue
        shown = "the default optimizer" if given is compile_call.node else f"`{source(facts, given)[:60]}`"
        yield finding(
            facts, "GL201", given,
            f"{shown} trains `{compile_call.receiver}` with fit() and no gradient clipping, while {evidence}: one "
            "bad batch can blow the update up; construct the optimizer with clipnorm=1.0 (or global_clipnorm=1.0), "
            "e.g. keras.optimizers.Adam(learning_rate=1e-3, global_clipnorm=1.0)",
            also=(compile_call.node,),
        )


def _differentiated(fn, step) -> str | None:
    """`model` in tape.gradient(loss, model.trainable_variables) before this apply_gradients."""
    gradients = [c for c in fn.calls if c.method == "gradient" and len(c.node.args) >= 2]
    target = dotted(gradients[-1].node.args[1].value) if gradients else None
    return target.rpartition(".")[0] or None if target and target.endswith(("trainable_variables", "trainable_weights")) else None


def _evidence(facts, layer, model: str | None, scope) -> str | None:
    """The trained model's recurrent/attention layer. When the model cannot be tied to its layers, a layer
    elsewhere in the file is evidence only for a helper's model parameter, or if the file builds one model."""
    known, use = model_risk(model, scope, facts) if model else (False, None)
    if known:
        return f"`{model}` uses keras {use.label} (line {facts.line(use.node)})" if use is not None else None
    # A training helper's parameter (`def run_experiment(model)`) gets the file's model; a name bound to
    # several models (notebooks rebind `model`) could be any of them.
    parameter = model is not None and model in scope.params and model not in scope.assigns
    if not parameter and len({id(chain.node) for chain in facts.chains}) > 1:
        return None
    return f"the model uses keras {layer.qualname.rpartition('.')[2]} (line {facts.line(layer.node)})"
