"""Training-step events: backward, zero-grad, clip, unscale, optimizer/scaler/scheduler steps, in order.

Events are read from the recorded calls of each function; a helper method or function called from a
loop contributes its own events at the call (a step split across helpers is still one step).
A training loop is the innermost loop whose iteration runs both a backward and an optimizer step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from gradlint.facts import vocab
from gradlint.facts.model import Block, CallInfo, FunctionInfo, ModuleFacts
from gradlint.facts.names import dotted, walk

_INLINE_DEPTH = 3
# Backward passes that do not fill .grad for a local optimizer step (distributed autograd keeps its own).
_NOT_BACKWARD = {"torch.autograd.grad", "torch.distributed.autograd.backward"}


@dataclass(frozen=True, eq=False)
class Event:
    # backward | zero_grad | clip | unscale | step | scaler_step | engine_step | scaler_update | scheduler_step
    kind: str
    node: cst.CSTNode
    blocks: tuple[Block, ...]  # enclosing blocks in the function that owns the loop
    call: CallInfo | None = None
    via: str | None = None  # the helper it came from, e.g. "self.train_step"
    at: cst.CSTNode | None = None  # where it happens in the owning function: the helper call, if inlined

    @property
    def guarded(self) -> bool:
        """Inside an accumulation guard such as `if (i + 1) % k == 0:`."""
        return any(b.kind == "if" and _has_modulo(b.test) for b in self.blocks)

    @property
    def steps_optimizer(self) -> bool:
        return self.kind in ("step", "scaler_step", "engine_step")


def exclusive(a: Event, b: Event) -> bool:
    """The two events sit in the `if` and the `else` of one statement: never in the same iteration."""
    tests_a = {(id(blk.test), blk.kind) for blk in a.blocks if blk.kind in ("if", "else") and blk.test is not None}
    return any((id(blk.test), "else" if blk.kind == "if" else "if") in tests_a
               for blk in b.blocks if blk.kind in ("if", "else") and blk.test is not None)


@dataclass(eq=False)
class TrainingLoop:
    """One iteration of training: a loop body, or a Lightning `training_step` the Trainer loops over."""

    function: FunctionInfo
    loop: Block
    events: list[Event] = field(default_factory=list)

    def where(self, facts: ModuleFacts) -> str:
        if isinstance(self.loop.node, cst.FunctionDef):
            owner = f"{self.function.class_name}." if self.function.class_name else ""
            return f"{owner}{self.function.name} (line {facts.line(self.loop.node)})"
        return f"the loop at line {facts.line(self.loop.node)}"

    def of(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]


def _has_modulo(node: cst.CSTNode | None) -> bool:
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, cst.Modulo) or _has_modulo(node.left) or _has_modulo(node.right)
    if isinstance(node, cst.Comparison):
        return _has_modulo(node.left) or any(_has_modulo(c.comparator) for c in node.comparisons)
    if isinstance(node, cst.BooleanOperation):
        return _has_modulo(node.left) or _has_modulo(node.right)
    if isinstance(node, cst.UnaryOperation):
        return _has_modulo(node.expression)
    return False


class _Roles:
    """What each object name is: optimizer, scheduler or GradScaler, from constructions, else by name."""

    def __init__(self, facts: ModuleFacts):
        self.bound: dict[str, str] = {}
        for call in facts.all_calls:
            if call.target is None or call.qualname is None:
                if call.target and call.method == "optimizers" and call.receiver == "self":
                    self.bound[call.target] = "optimizer"  # Lightning manual optimization
                continue
            if call.qualname in vocab.OPTIMIZERS or call.qualname.startswith("torch.optim.") and call.qualname[12:13].isupper():
                self.bound[call.target] = "optimizer"
            elif vocab.is_scheduler(call.qualname):
                self.bound[call.target] = "scheduler"
            elif call.qualname in vocab.GRAD_SCALERS:
                self.bound[call.target] = "scaler"

    def role(self, receiver: str | None) -> str | None:
        if receiver is None:
            return None
        if receiver in self.bound:
            return self.bound[receiver]
        name = receiver.rsplit(".", 1)[-1].lower()
        if "sched" in name:
            return "scheduler"
        if "scaler" in name:
            return "scaler"
        if "optim" in name or name in ("opt", "opt_g", "opt_d") or name.startswith("opt_") or name.endswith("_opt"):
            return "optimizer"
        if name in ("engine", "model_engine", "ds_engine"):
            return "engine"  # DeepSpeed: engine.step() steps, clips (by config) and zeroes gradients
        return None


# A project's own helper named for what it does (`utils.clip_gradient(optimizer, 5)`, `zero_grad(params)`
# that sets p.grad = None in another module): taking it at its name can only remove a finding.
_ZERO_HELPER = re.compile(r"(?i)(zero_?grads?|zero_gradients?|reset_grads?|clear_grads?)")
_CLIP_HELPER = re.compile(r"(?i)clip_?grad(ient)?s?(_?norm|_?value)?_?")


def classify(call: CallInfo, roles: _Roles) -> str | None:
    method = call.method
    if call.qualname in vocab.CLIP_FUNCTIONS:
        return "clip"
    helper = _project_helper_name(call)
    if helper is not None:
        if _ZERO_HELPER.fullmatch(helper):
            return "zero_grad"
        if _CLIP_HELPER.fullmatch(helper):
            return "clip"
    if method is None:
        return None
    if method in ("backward", "manual_backward") and call.qualname not in _NOT_BACKWARD:
        return "backward"
    if method == "zero_grad":
        return "zero_grad"
    if method == "zero_" and call.receiver and call.receiver.endswith((".grad", ".grad.data")):
        return "zero_grad"
    if method in vocab.CLIP_METHODS and call.receiver not in (None, "torch.nn.utils", "nn.utils"):
        return "clip"
    if method == "unscale_":
        return "unscale"
    role = roles.role(call.receiver)
    if method == "step":
        return {"optimizer": "step", "scaler": "scaler_step", "scheduler": "scheduler_step",
                "engine": "engine_step"}.get(role or "")
    if method == "update" and role == "scaler":
        return "scaler_update"
    return None


def _project_helper_name(call: CallInfo) -> str | None:
    """`clip_gradient` for `clip_gradient(...)` / `utils.clip_gradient(...)` imported from the project.
    torch's own functions are known by name, and a function of this file is inlined instead."""
    if call.qualname is None or call.qualname.startswith(("torch.", "tensorflow.", "keras.")):
        return None
    return call.qualname.rpartition(".")[2]


def function_events(facts: ModuleFacts) -> dict[FunctionInfo, list[Event]]:
    roles = _Roles(facts)
    module_functions = {fn.name: fn for fn in facts.functions if fn.class_name is None and fn.scope.parent is facts.scope}
    cache: dict[FunctionInfo, list[Event]] = {}

    def events(fn: FunctionInfo, depth: int, active: frozenset) -> list[Event]:
        out: list[Event] = []
        resets = sorted(fn.grad_resets, key=lambda r: r[2])
        r = 0
        for index, call in enumerate(fn.calls):
            while r < len(resets) and resets[r][2] <= index:
                out.append(Event("zero_grad", resets[r][0], resets[r][1]))
                r += 1
            kind = classify(call, roles)
            if kind is not None:
                out.append(Event(kind, call.node, call.blocks, call))
                continue
            helper = _helper(call, fn, facts, module_functions)
            if helper is not None and depth < _INLINE_DEPTH and helper not in active:
                label = f"{call.receiver}.{call.method}" if call.receiver else helper.name
                for inner in events(helper, depth + 1, active | {helper}):
                    out.append(Event(inner.kind, inner.node, call.blocks + inner.blocks, inner.call, inner.via or label,
                                     at=call.node))
        out.extend(Event("zero_grad", node, blocks) for node, blocks, _ in resets[r:])
        return out

    for fn in (facts.top, *facts.functions):
        cache[fn] = events(fn, 0, frozenset({fn}))
    return cache


def _helper(call: CallInfo, fn: FunctionInfo, facts: ModuleFacts, module_functions) -> FunctionInfo | None:
    if call.receiver == "self" and fn.class_name is not None:
        cls = facts.classes.get(fn.class_name)
        return cls.methods.get(call.method) if cls is not None else None
    if call.receiver is None and isinstance(call.node.func, cst.Name):
        return module_functions.get(call.node.func.value)
    return None


def find_training_loops(facts: ModuleFacts) -> list[TrainingLoop]:
    loops: dict[int, TrainingLoop] = {}
    for fn, events in facts.events.items():
        for event in events:
            if event.kind != "backward":
                continue
            for block in reversed(event.blocks):
                if block.kind not in ("for", "while"):
                    continue
                inside = [e for e in events if block in e.blocks]
                if any(e.steps_optimizer for e in inside):
                    # The same loop is seen from every caller that inlines its function; it belongs to the
                    # function whose own body holds it (its model, its names and its fixes are there).
                    if any(block in call.blocks for call in fn.calls) or id(block.node) not in loops:
                        loops[id(block.node)] = TrainingLoop(fn, block, inside)
                    break
        if fn.name == "training_step" and fn.class_name is not None and id(fn.node) not in loops:
            # Manual optimization: Lightning calls training_step once per batch, so its body is an iteration.
            if any(e.kind == "backward" for e in events) and any(e.steps_optimizer for e in events):
                outside = [e for e in events if not any(b.kind in ("for", "while") for b in e.blocks)]
                loops[id(fn.node)] = TrainingLoop(fn, Block("for", fn.node), outside)
    return list(loops.values())


def step_functions(facts: ModuleFacts) -> list[TrainingLoop]:
    """Functions that are one training step with no loop of their own (`GAN.step(batch)`, called per batch from
    elsewhere) and zero some gradients themselves: backward, an optimizer step and a zeroing, none in a loop,
    in a function no training loop of the file runs. Only whether each step's optimizer is zeroed is judged
    there (GL203's pairing); whether anything is zeroed at all may be the caller's business."""
    looped = {id(e.call.node) for loop in facts.training_loops for e in loop.events if e.call is not None}
    found = []
    for fn, events in facts.events.items():
        if fn is facts.top or fn.name == "training_step" or any(b.kind in ("for", "while") for e in events
                                                                  for b in e.blocks):
            continue
        kinds = {e.kind for e in events}
        if not {"backward", "zero_grad"} <= kinds or not any(e.steps_optimizer for e in events):
            continue
        if any(e.call is not None and id(e.call.node) in looped for e in events) or _called_in_file(fn, facts):
            continue  # the file runs it itself: judged where it is called, with the caller's zeroing
        found.append(TrainingLoop(fn, Block("for", fn.node), list(events)))
    return found


def _called_in_file(fn: FunctionInfo, facts: ModuleFacts) -> bool:
    """Whether the file calls the function: `train_step(...)` (a module-level def), `self.step(...)` in its
    class, or `gan.step(...)` on a name bound to an instance of its class."""
    if fn.class_name is None:
        return bool(facts.calls_by_name.get(fn.name))
    for call in facts.calls_by_method.get(fn.name, ()):
        if call.receiver == "self":
            return True
        bound = call.scope.binding(call.receiver) if call.receiver and "." not in call.receiver else None
        if isinstance(bound, cst.Call) and isinstance(bound.func, cst.Name) and bound.func.value == fn.class_name:
            return True
    return False


def optimizer_name(event: Event) -> str | None:
    """The optimizer a step event steps: `optimizer` for optimizer.step() and scaler.step(optimizer)."""
    call = event.call
    if call is None:
        return None
    if event.kind == "scaler_step":
        first = call.node.args[0].value if call.node.args else None
        return dotted(first) if first is not None else None
    return call.receiver if event.kind == "step" else None


def unzeroed_steps(loop: TrainingLoop, facts: ModuleFacts) -> list[Event]:
    """Optimizer steps of a loop that zeroes gradients, but not on this step's path or not this optimizer's.

    Each step needs a zeroing in the same iteration that is not in the other branch of an `if/else`
    (`if amp: opt.zero_grad() … else: … opt.step()`) and that covers its optimizer: `opt.zero_grad()` on
    that optimizer, `model.zero_grad()` on the model it was built over (`Adam(model.parameters())`), or a
    zeroing gradlint cannot tie to one optimizer (`self.zero_grad()`, a helper, `p.grad = None`), which
    counts for all. In a GAN loop `opt_G.zero_grad()` does not zero the discriminator's gradients."""
    zeros = loop.of("zero_grad")
    if not zeros:
        return []
    built = {o.call.target: _params_owner(o) for o in facts.optimizers if o.call.target}
    roles = _Roles(facts)
    missing = []
    for step in (e for e in loop.events if e.kind in ("step", "scaler_step")):
        name = optimizer_name(step)
        owners = dict(built)
        if name is not None and name not in owners and step.call is not None:
            owners[name] = _module_optimizer_owner(name, step.call.scope, facts)
        if not any(not exclusive(z, step) and _covers(z, name, owners, roles) for z in zeros):
            missing.append(step)
    return missing


def _module_optimizer_owner(stepped: str, scope, facts: ModuleFacts) -> str | None:
    """`self.discriminator` for `self.discriminator.optimizer.step()` when `self.discriminator` is built from a
    class of the file whose own `self.optimizer` is built over `self.parameters()`: a module owning its optimizer."""
    from gradlint.facts.tensors import class_of, unmoved

    head, _, attr = stepped.rpartition(".")
    if not head.startswith("self.") or head.count(".") != 1:
        return None
    holder = class_of(scope, facts)
    construction = unmoved(holder.attrs.get(head[5:])) if holder is not None else None
    if not isinstance(construction, cst.Call) or not isinstance(construction.func, cst.Name):
        return None
    cls = facts.classes.get(construction.func.value)
    if cls is None or scope.qualify(construction.func) is not None:
        return None
    for opt in facts.optimizers:
        if opt.call.target == f"self.{attr}" and class_of(opt.call.scope, facts) is cls and _params_owner(opt) == "self":
            return head
    return None


def _params_owner(opt) -> str | None:
    """`model` for an optimizer built over `model.parameters()` (or `model.module.parameters()`)."""
    params = opt.call.argument("params", 0)
    if isinstance(params, cst.Call) and isinstance(params.func, cst.Attribute) and params.func.attr.value == "parameters":
        return dotted(params.func.value)
    return None


def _covers(zero: Event, stepped: str | None, built: dict, roles: "_Roles") -> bool:
    receiver = zero.call.receiver if zero.call is not None and zero.call.method == "zero_grad" else None
    if receiver is None or stepped is None or receiver == "self":
        return True  # a helper, `p.grad = None`, a module zeroing all its own parameters: counts for all
    if receiver == stepped:
        return True
    if roles.role(receiver) == "optimizer" and roles.role(stepped) == "optimizer":
        return False  # two optimizers: zeroing one leaves the other's gradients to pile up
    owner = built.get(stepped)
    if owner is None or roles.role(receiver) is not None:
        return True  # which parameters the step updates is unknown: precision first
    return receiver == owner or owner.startswith(receiver + ".") or receiver.startswith(owner + ".")


LIGHTNING_MODULES = frozenset(b for b in vocab.MODULE_BASES if "ightning" in b)


def lightning_clips_before_backward(facts: ModuleFacts) -> list[Event]:
    """Clips in a LightningModule's `training_step` under automatic optimization: Lightning calls backward
    after training_step returns, so the clip sees the previous step's gradients (or none)."""
    found = []
    for cls in facts.classes.values():
        step = cls.methods.get("training_step")
        if step is None or not LIGHTNING_MODULES.intersection(cls.bases) or _manual_optimization(cls):
            continue
        events = facts.events.get(step, [])
        if any(e.kind == "backward" or e.steps_optimizer for e in events):
            continue  # the step drives its own backward: manual optimization by another spelling
        found.extend(e for e in events if e.kind == "clip")
    return found


def _manual_optimization(cls) -> bool:
    value = cls.attrs.get("automatic_optimization")
    return isinstance(value, cst.Name) and value.value == "False"


_DATA_METHODS = ("batch", "sample", "next", "get_", "load", "read", "fetch", "step")


def fixed_batch(loop: TrainingLoop) -> bool:
    """The loop fits one fixed batch: `for epoch in range(n)` whose body draws no data (no `next()`, no
    `get_batch()`/`sample()`, no indexing or slicing by the loop variable, no inner data loop)."""
    node = loop.loop.node
    if not _range_loop(node):
        return False
    names = {n.value for n in _names(node.target)}
    for inner in walk(node.body):
        if isinstance(inner, cst.While) or isinstance(inner, cst.For) and not _range_loop(inner):
            return False  # an inner loop over data (a range loop summing per-sample losses is fine)
        if isinstance(inner, cst.Call):
            func = inner.func
            called = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
            if called in ("next", "iter") or any(part in called.lower() for part in _DATA_METHODS if part != "step"):
                return False
        if isinstance(inner, cst.Subscript) and names & {n.value for n in _names(*inner.slice)}:
            return False
    return True


def _range_loop(node) -> bool:
    return (isinstance(node, cst.For) and isinstance(node.iter, cst.Call) and isinstance(node.iter.func, cst.Name)
            and node.iter.func.value == "range")


def _names(*nodes):
    return [n for n in walk(*nodes) if isinstance(n, cst.Name)]
