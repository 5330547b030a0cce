"""GL206 — float16 training (autocast or model.half()) with no GradScaler. bfloat16 is fine."""

from __future__ import annotations

from gradlint.checks import finding
from gradlint.facts.precision import float16_uses, uses_grad_scaler


def _trains_in_float16(facts, use, owner) -> bool:
    """The use is in code that trains: autocast in a function that runs a backward (helpers included);
    `.half()` before that training, or in the set-up of a trainer class (not a half() for export after)."""
    events = facts.events.get(owner, [])
    backwards = [e for e in events if e.kind == "backward"]
    if use.call.qualname is not None:  # autocast
        return bool(backwards)
    if not backwards and owner is not None and owner.name in ("__init__", "setup", "configure_model"):
        cls = facts.classes.get(owner.class_name or "")
        return cls is not None and any(
            e.kind == "backward" for method in cls.methods.values() for e in facts.events.get(method, []))
    line = facts.line(use.call.node)
    return any(line < facts.line(e.at or e.node) for e in backwards)


def check(facts, settings):
    if uses_grad_scaler(facts):
        return
    owners = {id(call.node): fn for fn in (facts.top, *facts.functions) for call in fn.calls}
    for use in float16_uses(facts):
        if not _trains_in_float16(facts, use, owners.get(id(use.call.node))):
            continue  # inference or export in half precision needs no loss scaling
        yield finding(
            facts, "GL206", use.call.node,
            f"{use.how} in a script that trains, with no GradScaler; train through torch.amp.GradScaler "
            "or use dtype=torch.bfloat16",
        )
