"""Optimizers with their resolved learning rate, and whether a schedule or warm-up drives them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ModuleFacts
from gradlint.facts.names import dotted
from gradlint.facts.values import Value

# A callee named like a scheduler: StepLR from a star import, a project's WarmupScheduler, timm's
# CosineLRScheduler. Treating it as one can only remove a finding (precision first).
_SCHEDULER_NAME = re.compile(r"(?i:sched|warm_?up)|LR$")


@dataclass(frozen=True)
class Optimizer:
    kind: str  # "SGD", "Adam", ...
    call: CallInfo
    lr: Value | None  # None: given but not resolvable
    lr_given: bool
    scheduled: bool  # a scheduler, warm-up or manual param_groups["lr"] update drives it


def find_optimizers(facts: ModuleFacts) -> list[Optimizer]:
    calls = facts.all_calls
    schedulers = [c for c in calls if _is_scheduler(c)]
    # `for g in optimizer.param_groups: g["lr"] = ...` is a hand-written schedule.
    manual_lr_updates = facts.lr_item_assignments > 0
    found = []
    for call in calls:
        kind = vocab.OPTIMIZERS.get(call.qualname or "")
        if kind is None:
            continue
        lr_expr = call.argument("lr", 1)
        if lr_expr is None:
            lr = Value(vocab.DEFAULT_LR[kind], f"{kind}'s default", call.node) if kind in vocab.DEFAULT_LR else None
        else:
            lr = facts.resolve(lr_expr, call.scope)
        scheduled = manual_lr_updates or any(_drives(s, call) for s in schedulers)
        found.append(Optimizer(kind, call, lr, lr_expr is not None, scheduled))
    from gradlint.facts.keras import keras_optimizers

    return found + keras_optimizers(facts, Optimizer)


def _is_scheduler(call: CallInfo) -> bool:
    if call.qualname and vocab.is_scheduler(call.qualname):
        return True
    if call.qualname in vocab.OPTIMIZERS:
        return False
    name = (call.qualname or dotted(call.node.func) or call.method or "").rpartition(".")[2]
    return bool(_SCHEDULER_NAME.search(name))


def _drives(scheduler: CallInfo, optimizer: CallInfo) -> bool:
    """Does this scheduler wrap this optimizer? Unknown wiring counts as yes (precision first)."""
    target = scheduler.argument("optimizer", 0)
    if target is None or optimizer.target is None:
        return True
    if target is optimizer.node:
        return True
    name = dotted(target)
    if name is None:
        return True
    return name == optimizer.target or name.split(".")[-1] == optimizer.target.split(".")[-1]
