"""Models a run defines, from the static facts: nn.Module / LightningModule subclasses and module-level
`x = nn.Sequential(...)`, with the constructor call and the optimizer the script would use.

No torch and no user code here: only facts. Constructor arguments come from the call site
(`Net(784, HIDDEN)` with HIDDEN a constant or an argparse default; classes, functions, config dicts and
config-class calls of the script as they are written: `ResNet(BasicBlock, [2, 2, 2, 2])`,
`GPT(GPTConfig(**model_args))`), else parameter defaults; a size the script only knows at run time
(`Actor(state_dim, ...)`, `Net(len(vocab))`) is a small placeholder, said in the notes.
[tool.gradlint.verify.models.NAME] args/kwargs merge over the call site. A model that still lacks
arguments is skipped, naming them and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ClassInfo, ModuleFacts
from gradlint.facts.names import dotted
from gradlint.facts.names import walk
from gradlint.verify import context
from gradlint.verify.settings import VerifyConfig
from gradlint.verify.slice import literal_expression, substitute_constants

DEFAULT_OPTIMIZER, DEFAULT_LR = "Adam", 1e-3
_UNKNOWN = object()
_CODE = cst.Module([])


@dataclass
class ModelSpec:
    filename: str  # display path of the file that defines the model
    model: str  # class or variable name
    path: Path  # that file, absolute
    package: str  # its dotted package ("" for a plain script folder)
    build: str | None = None  # expression evaluated in the sliced module: "Net(784, hidden=256)"
    optimizer: str = DEFAULT_OPTIMIZER
    lr: float = DEFAULT_LR
    optimizer_kwargs: dict = field(default_factory=dict)
    optimizer_origin: str = "no optimizer found in the script: the default"
    skipped: str | None = None  # why it is not run
    notes: list[str] = field(default_factory=list)
    twin: dict | None = None  # a Keras model: the layer spec its PyTorch twin is built from (keras_models.py)
    loss: str | None = None  # a measure.py loss kind; None: chosen from the output
    clip: dict | None = None  # gradient clipping the script configures ({"clipnorm": 1.0})
    # What the script says about the input (inputs.py): {"image_size": [28, 28], "call_args": ["tensor", "none"]}
    input_hints: dict = field(default_factory=dict)


def find_models(files: list[tuple[ModuleFacts, Path, str]], config: VerifyConfig) -> list[ModelSpec]:
    """files: (facts, absolute path, display name) for every file of the run."""
    from gradlint.verify.keras_models import find_keras_models

    classes = _model_classes(files)
    specs = []
    for facts, path, display in files:
        for name, cls in facts.classes.items():
            if classes.get((path, name)) is cls:
                specs.append(_class_spec(cls, facts, path, display, classes, files, config))
        specs.extend(_sequential_specs(facts, path, display, config))
        specs.extend(find_keras_models(facts, path, display, config))
    return specs


def _model_classes(files) -> dict[tuple[Path, str], ClassInfo]:
    """Top-level classes whose bases reach nn.Module or LightningModule, also through other model classes."""
    candidates = {
        (path, name): cls for facts, path, _ in files for name, cls in facts.classes.items()
        if cls.scope.parent is not None and cls.scope.parent.kind == "module"
    }
    found: dict[tuple[Path, str], ClassInfo] = {}
    names: set[str] = set()
    changed = True
    while changed:
        changed = False
        for key, cls in candidates.items():
            if key not in found and any(_is_module_base(b, cls) or b.rsplit(".", 1)[-1] in names for b in cls.bases):
                found[key] = cls
                names.add(key[1])
                changed = True
    return found


def _is_module_base(base: str, cls: ClassInfo) -> bool:
    """nn.Module and LightningModule; any torch.nn module class (`class X(nn.Transformer)`); `nn.Module`
    written under a star import that brings `nn` (`from .parts import *`)."""
    if base in vocab.MODULE_BASES or base in ("nn.Module", "torch.nn.Module"):
        return True
    head, _, last = base.rpartition(".")
    if head in ("torch.nn", "torch.nn.modules") and last[:1].isupper() and not last.endswith("Loss"):
        return True
    return head == "nn" and last[:1].isupper() and bool(cls.scope.parent and cls.scope.parent.star_modules)


def _class_spec(cls, facts, path, display, classes, files, config) -> ModelSpec:
    spec = ModelSpec(display, cls.name, path, facts.scope.package)
    sites, owners = _call_sites(cls.name, path, facts.scope.package, classes, files)
    override = config.models.get(cls.name)
    site_facts, site = sites[0] if sites else (facts, None)
    configured = override is not None and (override.args is not None or override.kwargs is not None)
    if not sites and owners and not configured:
        spec.skipped = f"built inside {', '.join(sorted(owners))}; verified as part of it"
        return spec
    elif not sites and not configured and _passed_to(cls.name, facts, classes, path):
        spec.skipped = f"passed to {_passed_to(cls.name, facts, classes, path)} as a class; verified as part of it"
        return spec
    elif not sites and not configured and any(b.rsplit(".", 1)[-1] == cls.name for c in classes.values() for b in c.bases):
        spec.skipped = "a base class of other models, never built by the script"
        return spec
    else:
        sig = _init_params(cls, path, classes)
        attempts = [(f, s, _arguments(s, f, sig, override)) for f, s in sites] or [
            (facts, None, _arguments(None, facts, sig, override))]
        # A site with every argument known beats one that needs placeholders, which beats one that misses some.
        attempts.sort(key=lambda a: (bool(a[2][1]), any("placeholder" in n for n in a[2][2])))
        site_facts, site, (build, missing, notes) = attempts[0]
        if missing:
            spec.skipped = (f"constructor needs {', '.join(missing)}: set args or kwargs in "
                            f"[tool.gradlint.verify.models.{cls.name}]")
            return spec
        spec.build, spec.notes = f"{cls.name}({build})", notes
        if configured:
            spec.notes.append(f"constructor arguments from [tool.gradlint.verify.models.{cls.name}], "
                              "merged over the call site")
    spec.notes += _context_notes(cls, facts)
    spec.input_hints = _input_hints(site_facts, site, files, sig)
    # Every name the script binds this class to in that file (`g, d = Gen(), Disc()` and `gen = Gen()`),
    # the chosen call site's first: the optimizer is the one built on one of their parameters.
    targets = [site.target] if site is not None and site.target else []
    targets += [s.target for f, s in sites if f is site_facts and s is not None and s.target and s.target not in targets]
    _attach_optimizer(spec, site_facts, targets, cls.name)
    if not _has_forward(cls, path, classes):
        methods = [{"name": m} for m in override.methods] if override is not None and override.methods else \
            _called_methods(cls, site_facts, targets)
        training = [m["name"] for m in methods if m["name"] in cls.methods and _trains(cls, cls.methods[m["name"]])]
        if training and override is not None and override.methods:
            spec.skipped = (f"{', '.join(training)} of {cls.name} trains (backward, an optimizer step, a save or a "
                            f"file write): verify runs no training code; set methods in "
                            f"[tool.gradlint.verify.models.{cls.name}] to ones that only compute")
            return spec
        methods = [m for m in methods if m["name"] not in training]
        if not methods:
            spec.skipped = (f"{cls.name} has no forward and the script calls none of its methods: set methods "
                            f"in [tool.gradlint.verify.models.{cls.name}]")
            return spec
        spec.input_hints["methods"] = methods
        spec.loss = spec.loss or "mse"
        named = ", ".join(m["name"] for m in methods)
        spec.notes.append(f"no forward: measured through the methods the script calls ({named}): MSE on "
                          "their outputs that carry gradient, side by side")
    return spec


def _has_forward(cls: ClassInfo, path: Path, classes: dict, depth: int = 0) -> bool:
    """The class (or a model base of the run) defines a forward that does more than raise
    NotImplementedError (an abstract `forward` of an RL policy whose loop calls `act`/`evaluate_actions`)."""
    forward = cls.methods.get("forward")
    if forward is not None:
        body = [s for s in forward.node.body.body
                if not (isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Expr)
                        and isinstance(s.body[0].value, cst.SimpleString))]
        return not (len(body) == 1 and isinstance(body[0], cst.SimpleStatementLine)
                    and isinstance(body[0].body[0], cst.Raise))
    parent_path, parent = _model_base(cls, path, classes)
    if parent is not None and depth < 8:
        return _has_forward(parent, parent_path, classes, depth + 1)
    # A torch.nn base (`class X(nn.Transformer)`) has its own; only nn.Module and Lightning's have none.
    return not all(b in vocab.MODULE_BASES or b in ("nn.Module", "torch.nn.Module") or b.endswith("Module")
                   for b in cls.bases)


_MODULE_METHODS = {"parameters", "named_parameters", "state_dict", "load_state_dict", "to", "cuda", "cpu", "eval",
                   "train", "zero_grad", "modules", "children", "apply", "requires_grad_", "half", "float", "double"}


def _called_methods(cls: ClassInfo, facts: ModuleFacts, targets: list[str]) -> list[dict]:
    """The methods (and submodules) of the model the script calls on one of its names (`ac.pi(obs, act)`,
    `ac.v(obs)`, `actor_critic.act(obs, hxs, masks)`), each once with the kinds of its positional arguments;
    calls where gradients flow first."""
    from gradlint.facts.context import without_gradient

    own = {n for n in cls.methods if not n.startswith("_")} | {a.split(".", 1)[0] for a in cls.attrs}
    found: dict[str, tuple[bool, list[str]]] = {}
    for call in facts.all_calls:
        if call.receiver not in targets or call.method in _MODULE_METHODS or call.method not in own:
            continue
        free = without_gradient(call, facts)
        positional = [a for a in call.node.args if a.keyword is None and not a.star]
        kinds = ["none" if isinstance(a.value, cst.Name) and a.value.value == "None" else "tensor" for a in positional]
        if call.method not in found or found[call.method][0] and not free:
            found[call.method] = (free, kinds)
    useful = {name for name in found if name not in cls.methods or not _gradient_free(cls.methods[name])}
    ordered = sorted(((n, v) for n, v in found.items() if n in useful or not useful), key=lambda item: item[1][0])
    return [{"name": name, "call_args": kinds} for name, (_, kinds) in ordered]


_TRAINING_METHODS = {"backward", "step", "zero_grad", "save", "write", "write_text", "write_bytes", "dump"}
_TRAINING_CALLS = {"open", "torch.save"}


def _trains(cls: ClassInfo, fn, depth: int = 0) -> bool:
    """A method that is training or run-time code, not a computation of the model: it calls backward(), an
    optimizer's step(), saves or writes (also through the class's own methods it calls)."""
    for call in fn.calls:
        name = call.qualname or dotted(call.node.func) or ""
        if call.method in _TRAINING_METHODS or name in _TRAINING_CALLS:
            return True
        if call.receiver == "self" and call.method in cls.methods and depth < 4 and \
                cls.methods[call.method] is not fn and _trains(cls, cls.methods[call.method], depth + 1):
            return True
    return False


def _gradient_free(fn) -> bool:
    """A method that runs without gradients inside (`@torch.no_grad()`, or a body that is one
    `with torch.no_grad():` block, as an actor-critic's `step`/`act`): nothing of it to measure."""
    from gradlint.facts.context import block_mode, decorated_mode

    body = [s for s in fn.node.body.body if not (isinstance(s, cst.SimpleStatementLine)
                                                 and isinstance(s.body[0], cst.Expr))]
    return decorated_mode(fn) is False or (len(body) == 1 and isinstance(body[0], cst.With) and bool(fn.calls)
                                           and all(block_mode(c) is False for c in fn.calls if c.blocks))


def _passed_to(name: str, facts: ModuleFacts, classes, path: Path) -> str | None:
    """The model class a block class is handed to as an argument (`ResNet(BasicBlock, [2, 2, 2, 2])`)."""
    for call in facts.all_calls:
        func = dotted(call.node.func)
        owner = func.rsplit(".", 1)[-1] if func else None
        if owner and owner != name and (path, owner) in classes and any(
                isinstance(a.value, cst.Name) and a.value.value == name for a in call.node.args):
            return owner
    return None


def _call_sites(name: str, path: Path, package: str, classes, files):
    """Where the script builds this class (its own file, or a file that imports it from there);
    and the model classes that build it inside themselves."""
    module = f"{package}.{path.stem}" if package else path.stem
    sites, owners = [], set()
    for facts, call_path, _ in files:
        for call in facts.all_calls:
            text, qualnames = dotted(call.node.func), _qualnames(call)
            through = _parameter_default(call)
            if through is not None:  # `ac = actor_critic(...)`, a parameter whose default is the class
                text, qualnames = through
            if text is None or text.rsplit(".", 1)[-1] != name:
                continue
            if call_path == path:
                if qualnames:
                    continue  # an imported namesake, not this file's class
            elif not any(_imports_from(q, name, module) for q in qualnames):
                continue
            owner = _enclosing_class(call)
            if owner is not None and (call_path, owner) in classes:
                owners.add(owner)
            else:
                sites.append((facts, call))
    sites.sort(key=lambda site: site[1].target is None)  # `model = Net(...)` names the model's optimizer
    return sites, owners


def _qualnames(call: CallInfo) -> list[str]:
    """What the called name may be: every module it is imported from in the call's scope, so a class
    imported under if/else (`from model import G` / `from swagan import G`) matches either file."""
    if call.qualname is None:
        return []
    head, _, rest = (dotted(call.node.func) or "").partition(".")
    sources = call.scope.lookup_import_sources(head) if head else []
    return [f"{s}.{rest}" if rest else s for s in sources] or [call.qualname]


def _parameter_default(call: CallInfo) -> tuple[str, list[str]] | None:
    """`ac = actor_critic(obs_space, act_space)` in `def ppo(env_fn, actor_critic=core.MLPActorCritic)`: the
    default as written and what it is imported as (none: a class of the same file)."""
    if not isinstance(call.node.func, cst.Name):
        return None
    scope = call.scope
    while scope is not None:
        if scope.kind == "function" and call.node.func.value in scope.params:
            default = scope.params[call.node.func.value]
            text = dotted(default) if default is not None else None
            if text is None:
                return None
            qualname = scope.qualify(default)
            return text, [qualname] if qualname else []
        if call.node.func.value in scope.assigns:
            return None
        scope = scope.parent
    return None


def _imports_from(qualname: str, name: str, module: str) -> bool:
    source, _, last = qualname.rpartition(".")
    return last == name and bool(source) and (
        source == module or module.endswith("." + source) or source.endswith("." + module))


def _enclosing_class(call: CallInfo) -> str | None:
    scope = call.scope
    while scope is not None:
        if scope.kind == "class":
            return scope.name
        scope = scope.parent
    return None


@dataclass
class _Signature:
    positional: list[cst.Param]  # after self, positional-only first
    posonly: int  # how many of them are positional-only
    star: str | None  # *args
    keyword_only: list[cst.Param]
    star_kwargs: bool


def _model_base(cls: ClassInfo, path: Path, classes: dict) -> tuple[Path, ClassInfo | None]:
    """The nearest base of the class that is a model class of the run (its own file's first), with its file."""
    for base in cls.bases:
        short = base.rsplit(".", 1)[-1]
        same_file = classes.get((path, short))
        parent_path, parent = (path, same_file) if same_file is not None else next(
            ((p, c) for (p, n), c in classes.items() if n == short), (path, None))
        if parent is not None and parent is not cls:
            return parent_path, parent
    return path, None


def _init_params(cls: ClassInfo, path: Path, classes: dict, depth: int = 0) -> _Signature:
    """The constructor's parameters after self, from the class or its nearest model base in the run."""
    init = cls.methods.get("__init__")
    if init is not None:
        p = init.node.params
        star = p.star_arg.name.value if isinstance(p.star_arg, cst.Param) else None
        posonly = max(0, len(p.posonly_params) - 1)
        return _Signature([*p.posonly_params, *p.params][1:], posonly, star, list(p.kwonly_params),
                          p.star_kwarg is not None)
    parent_path, parent = _model_base(cls, path, classes)
    if parent is not None and depth < 8:
        return _init_params(parent, parent_path, classes, depth + 1)
    return _Signature([], 0, None, [], False)


def _arguments(site: CallInfo | None, facts: ModuleFacts, sig: _Signature,
               override=None) -> tuple[str, list[str], list[str]]:
    """(argument source, missing parameter names, notes) for one call site (or none); the config's
    args/kwargs (`override`) replace the call site's values of the same parameters."""
    given: dict[str, str] = {}
    extra: list[str] = []  # values that land in *args
    notes: list[str] = []
    configured: dict[str, str] = {}
    configured_extra: list[str] = []
    for index, value in enumerate(getattr(override, "args", None) or ()):
        if index < len(sig.positional):
            configured[sig.positional[index].name.value] = repr(value)
        else:
            configured_extra.append(repr(value))
    configured.update({k: repr(v) for k, v in (getattr(override, "kwargs", None) or {}).items()})
    position = 0
    defaults = {p.name.value for p in (*sig.positional, *sig.keyword_only) if p.default is not None}
    for arg in site.node.args if site is not None else ():
        if arg.star and _forwarded(arg.value, facts, site.scope):
            # `ConvNeXt(depths=[3, 3, 9, 3], **kwargs)` in a factory: its callers pass nothing more here
            notes.append(f"`{arg.star}{_CODE.code_for_node(arg.value)}` of the enclosing function: none passed")
            continue
        if arg.star == "**":
            expanded = _static_mapping(arg.value, facts, site.scope, notes=notes)
            if expanded is None and (default := _default_of_parameter(arg.value, site.scope)) is not None:
                expanded = _static_mapping(default, facts, site.scope, notes=notes)
                if expanded is not None:  # `**ac_kwargs` of `def ppo(..., ac_kwargs=dict())`
                    notes.append(f"`**{_CODE.code_for_node(arg.value)}`: the enclosing function's default "
                                 f"`{_CODE.code_for_node(default)}`")
            if expanded is None:
                if configured:
                    continue
                return "", ["the arguments passed as **kwargs at the call site"], notes
            given.update(expanded)
            continue
        if arg.star:
            if configured:
                continue
            return "", ["the arguments passed as *args at the call site"], notes
        if arg.keyword is not None:
            name = arg.keyword.value
        elif position < len(sig.positional):
            name = sig.positional[position].name.value
        else:
            name = None
        position += arg.keyword is None
        if name in configured:
            continue
        value = _static(arg.value, facts, site.scope, notes=notes)
        if value is _UNKNOWN:
            written = _CODE.code_for_node(arg.value)
            given.pop(name, None)
            if name is not None and name in defaults:
                notes.append(f"{name}: `{written}` is not known statically, used the parameter's default")
                continue
            plain = isinstance(arg.value, (cst.Name, cst.Attribute, cst.Subscript))
            space = context.space_source(arg.value, context.gym_library(facts))
            if space is not None:
                value = space
                notes.append(f"{name or 'argument'}: `{written}` comes from the environment at run time: "
                             f"placeholder {_SPACE_NOTE}")
            elif name is not None and plain and context.is_index_name(name):
                value = "0"
                notes.append(f"{name}: `{written}` comes from data at run time: placeholder 0")
            elif name is not None and (plain and context.is_size_name(name) or context.is_data_size(arg.value)) \
                    or name is None and context.is_data_size(arg.value):
                value = str(context.PLACEHOLDER)
                notes.append(f"{name or 'argument'}: `{written}` comes from data or the environment at run time: "
                             f"placeholder {context.PLACEHOLDER}")
            else:
                notes.append(f"{name or 'argument'}: `{written}` is not known statically")
                return "", [name or f"*{sig.star or 'args'}"], notes
        if name is None:
            extra.append(value)
        else:
            given[name] = value
    given.update(configured)
    extra += configured_extra
    missing = [p.name.value for p in (*sig.positional, *sig.keyword_only)
               if p.default is None and p.name.value not in given]
    for name in list(missing):
        if site is not None and context.is_size_name(name):
            given[name] = str(context.PLACEHOLDER)
            missing.remove(name)
            notes.append(f"{name}: not passed where the script builds it: placeholder {context.PLACEHOLDER}")
        elif context.is_space_name(name):  # a gym space the environment would give
            given[name] = f"{context.RUNTIME}.space({context.gym_library(facts)!r})"
            missing.remove(name)
            notes.append(f"{name}: a space the environment gives at run time: placeholder {_SPACE_NOTE}")
    if missing:
        return "", missing, notes
    if sig.star is None and not sig.star_kwargs:
        known = {p.name.value for p in (*sig.positional, *sig.keyword_only)}
        given = {k: v for k, v in given.items() if k in known}  # a **config with keys the class does not take
    if not extra and sig.posonly == 0:
        return ", ".join(f"{k}={v}" for k, v in given.items()), [], notes
    # Positional-only parameters or *args: pass the positional ones in order, defaults filling gaps.
    last = max((i for i, p in enumerate(sig.positional) if p.name.value in given), default=-1)
    if extra:
        last = len(sig.positional) - 1
    parts = [given.pop(p.name.value) if p.name.value in given else _CODE.code_for_node(p.default)
             for p in sig.positional[: last + 1]]
    parts += extra + [f"{k}={v}" for k, v in given.items()]
    return ", ".join(parts), [], notes


def _static(expr: cst.BaseExpression, facts: ModuleFacts, scope, depth: int = 0, notes: list | None = None) -> object:
    """Python source of a statically known argument value, else _UNKNOWN: literals and what resolves to
    one, lists/tuples/dicts of those, the file's own classes and functions and imported names (as
    written: the slice defines them), calls of the file's classes and `dict(...)` with known arguments,
    and names bound once to any of these."""
    if depth > 8:
        return _UNKNOWN
    if isinstance(expr, cst.Name) and expr.value == "None":
        return "None"
    if isinstance(expr, (cst.Tuple, cst.List)):
        items = [_static(e.value, facts, scope, depth + 1, notes) for e in expr.elements]
        if any(i is _UNKNOWN or isinstance(e, cst.StarredElement) for i, e in zip(items, expr.elements)):
            return _UNKNOWN
        return ("(" + ", ".join(items) + ",)") if isinstance(expr, cst.Tuple) else "[" + ", ".join(items) + "]"
    if isinstance(expr, cst.Dict):
        mapping = _static_mapping(expr, facts, scope, depth + 1, notes)
        return _UNKNOWN if mapping is None else "{" + ", ".join(f"{k!r}: {v}" for k, v in mapping.items()) + "}"
    found = facts.resolve(expr, scope)
    if found is None and isinstance(expr, cst.Attribute):
        found = _set_on_namespace(expr, facts, scope)
    literal = literal_expression(found.value) if found is not None else None
    if literal is not None:
        return _CODE.code_for_node(literal)
    if isinstance(expr, (cst.Name, cst.Attribute)) and _is_definition(expr, facts, scope):
        return _CODE.code_for_node(expr)
    if isinstance(expr, cst.Call) and _is_config_call(expr, facts, scope):
        parts = []
        for arg in expr.args:
            if arg.star == "**":
                mapping = _static_mapping(arg.value, facts, scope, depth + 1, notes)
                if mapping is None:
                    return _UNKNOWN
                parts += [f"{k}={v}" for k, v in mapping.items()]
                continue
            value = _static(arg.value, facts, scope, depth + 1, notes)
            if value is _UNKNOWN and notes is not None and not arg.star and context.is_data_size(arg.value):
                value = str(context.PLACEHOLDER)  # Encoder(len(src_vocab), 256) inside Seq2Seq(enc, dec)
                notes.append(f"`{_CODE.code_for_node(arg.value)}` in `{_CODE.code_for_node(expr.func)}(...)` comes "
                             f"from data at run time: placeholder {context.PLACEHOLDER}")
            if value is _UNKNOWN or arg.star:
                return _UNKNOWN
            parts.append(f"{arg.keyword.value}={value}" if arg.keyword is not None else value)
        return f"{_CODE.code_for_node(expr.func)}({', '.join(parts)})"
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        index = expr.slice[0].slice.value
        if isinstance(index, cst.SimpleString):  # cfg['D'] of a dict the file writes out
            mapping = _static_mapping(expr.value, facts, scope, depth + 1)
            key = index.evaluated_value
            if mapping is not None and key in mapping:
                return mapping[key]
    if isinstance(expr, cst.Name):
        bound = scope.binding(expr.value)
        if isinstance(bound, cst.BaseExpression) and context.device_source(bound, facts.scope):
            return context.device_source(bound, facts.scope)  # `device` handed to the model: the verify device
        if isinstance(bound, (cst.Dict, cst.List, cst.Tuple, cst.Call)):
            return _static(bound, facts, scope, depth + 1, notes)
        values = facts.scope.assigns.get(expr.value, [])
        local = scope.function()
        if bound is None and len(values) > 1 and (local is None or expr.value not in local.params):
            # `Vmin = -10` in two sections of a notebook: one value however often it is bound
            known = {_static(v, facts, facts.scope, depth + 1, notes) for v in values}
            if len(known) == 1 and _UNKNOWN not in known:
                return known.pop()
    return _UNKNOWN


_SPACE_NOTE = f"Box of {context.PLACEHOLDER} values in [-1, 1] (also {context.PLACEHOLDER} discrete actions)"


def _default_of_parameter(expr: cst.BaseExpression, scope) -> cst.BaseExpression | None:
    """The default of the enclosing function's parameter `expr` names (`ac_kwargs=dict()`), else None."""
    function = scope.function()
    if not isinstance(expr, cst.Name) or function is None:
        return None
    return function.params.get(expr.value)


def _set_on_namespace(expr: cst.Attribute, facts: ModuleFacts, scope):
    """`args.latent` where the script sets `args.latent = 512` on its parsed arguments, once, to a constant
    (StyleGAN2's train.py): that value, as a reader of the script would take it."""
    if not isinstance(expr.value, cst.Name):
        return None
    bound = scope.binding(expr.value.value)
    if bound is None or not context.is_parse_args(bound, facts):
        return None
    values = [node.value for node in walk(facts.module) if isinstance(node, cst.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0].target, cst.Attribute)
              and isinstance(node.targets[0].target.value, cst.Name)
              and node.targets[0].target.value.value == expr.value.value
              and node.targets[0].target.attr.value == expr.attr.value]
    return facts.resolve(values[0], facts.scope) if len(values) == 1 else None


def _forwarded(expr: cst.BaseExpression, facts: ModuleFacts, scope) -> bool:
    """`*args` / `**kwargs` that are the enclosing function's own star parameters."""
    function = scope.function()
    if not isinstance(expr, cst.Name) or function is None:
        return False
    for fn in facts.functions:
        if fn.scope is function and isinstance(fn.node, cst.FunctionDef):
            stars = (fn.node.params.star_arg, fn.node.params.star_kwarg)
            return any(isinstance(p, cst.Param) and p.name.value == expr.value for p in stars)
    return False


def _static_mapping(expr: cst.BaseExpression, facts: ModuleFacts, scope, depth: int = 0,
                    notes: list | None = None) -> dict[str, str] | None:
    """key → value source of a dict whose string keys and values are all known (`{"emb_dim": 768}`,
    `dict(n_layer=12)`, a name bound once to one of those)."""
    if depth > 8:
        return None
    if isinstance(expr, cst.Name):
        bound = scope.binding(expr.value)
        return _static_mapping(bound, facts, scope, depth + 1, notes) if bound is not None else None
    items: dict[str, str] = {}
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "dict":
        for arg in expr.args:
            if arg.keyword is None or arg.star:
                return None
            value = _static(arg.value, facts, scope, depth + 1, notes)
            if value is _UNKNOWN:
                return None
            items[arg.keyword.value] = value
        return items
    if not isinstance(expr, cst.Dict):
        return None
    for element in expr.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
            return None
        key = element.key.evaluated_value
        value = _static(element.value, facts, scope, depth + 1, notes)
        if not isinstance(key, str) or value is _UNKNOWN:
            return None
        items[key] = value
    return items


def _is_definition(expr: cst.BaseExpression, facts: ModuleFacts, scope) -> bool:
    """A top-level class or function of the file, or a module-level import (`nn.ReLU`, `BasicBlock`)."""
    text = dotted(expr)
    if text is None:
        return False
    head = text.split(".")[0]
    if head in facts.scope.imports:
        return scope.lookup_import(head) == facts.scope.imports[head]  # not shadowed on the way
    if "." in text:
        return False
    top = {fn.name for fn in facts.functions if fn.scope.parent is facts.scope}
    return (head in facts.classes and facts.classes[head].scope.parent is facts.scope) or head in top


def _is_config_call(call: cst.Call, facts: ModuleFacts, scope) -> bool:
    """`GPTConfig(...)` or `Encoder(...)` (a top-level class of the file), a top-level function of the file,
    `dict(...)`, `SimpleNamespace(...)`."""
    if isinstance(call.func, cst.Name) and call.func.value == "dict":
        return True
    if scope.qualify(call.func) in ("types.SimpleNamespace", "argparse.Namespace", "collections.OrderedDict"):
        return True
    if not isinstance(call.func, cst.Name):
        return False
    if any(fn.name == call.func.value and fn.scope.parent is facts.scope for fn in facts.functions):
        return True  # a factory of the file: `VGG(make_layers(cfg["D"]))`, run as part of building the model
    cls = facts.classes.get(call.func.value)
    return cls is not None and cls.scope.parent is facts.scope  # a config class, or a part (`Seq2Seq(Encoder(...))`)


def _context_notes(cls: ClassInfo, facts: ModuleFacts) -> list[str]:
    """Placeholders the slice puts in for module-level sizes the class reads (`n_class = len(word_dict)`)."""
    used = {n.value for n in walk(cls.node) if isinstance(n, cst.Name)}
    notes = [f"{name} = {source} comes from data at run time: placeholder {context.PLACEHOLDER}"
             for name, source in context.data_placeholders(facts).items() if name in used]
    for name in sorted(used & set(facts.scope.assigns)):
        if context.filled_at_run_time(name, facts):
            notes.append(f"{name} is filled by top-level code of the script, which verify does not run: the model "
                         f"sees it as written, `{_CODE.code_for_node(facts.scope.assigns[name][0])}`")
    for name, values in facts.scope.assigns.items():
        if name in used and len(values) >= 1 and context.environment_source(values[0], facts.scope):
            notes.append(f"{name} = {_CODE.code_for_node(values[0])} is a placeholder environment: spaces of "
                         f"{context.PLACEHOLDER} values and {context.PLACEHOLDER} actions")
    return notes


_DATASET_SIZES = {"MNIST": 28, "FashionMNIST": 28, "KMNIST": 28, "EMNIST": 28, "QMNIST": 28, "CIFAR10": 32,
                  "CIFAR100": 32, "SVHN": 32, "STL10": 96, "ImageNet": 224, "CelebA": 64, "LSUN": 64}
_TRANSFORM_SIZES = ("Resize", "RandomResizedCrop", "CenterCrop", "RandomCrop")
_SIZE_KEYWORDS = ("img_size", "image_size", "input_size", "imageSize", "img_shape", "resolution")


def _input_hints(facts: ModuleFacts, site: CallInfo | None, files, sig: _Signature | None = None) -> dict:
    """What the script says about the input: the image size of its dataset or transforms (or `img_size=`
    at the model's call site, also passed by position, and a constructor parameter named `size`), and how
    its training loop calls the model (`model(x, None)`)."""
    hints: dict = {}
    size = None
    if site is not None:
        names = [p.name.value for p in sig.positional] if sig is not None else []
        for keyword in (*_SIZE_KEYWORDS, "size"):
            if keyword == "size" and keyword not in names:
                continue
            index = names.index(keyword) if keyword in names else 10_000
            found = facts.resolve(site.argument(keyword, index), site.scope)
            if found is not None and isinstance(found.value, int) and not isinstance(found.value, bool) \
                    and 8 <= found.value <= 1024:
                size = found.value
                break
    ordered = [facts] + [f for f, _, _ in files if f is not facts]
    for candidate in ordered if size is None else ():
        for call in candidate.all_calls:
            name = (call.qualname or "").rsplit(".", 1)[-1]
            qualname = call.qualname or ""
            if qualname.startswith("torchvision.transforms") and name in _TRANSFORM_SIZES:
                found = candidate.resolve(call.argument("size", 0), call.scope)
                if found is not None and isinstance(found.value, int) and not isinstance(found.value, bool):
                    size = found.value
                    break
            if qualname.startswith("torchvision.datasets") and name in _DATASET_SIZES and size is None:
                size = _DATASET_SIZES[name]
        if size is not None:
            break
    if size is not None:
        hints["image_size"] = [size, size]
    if site is not None and site.target:
        calls = [c for c in facts.all_calls if dotted(c.node.func) == site.target and not c.method
                 and any(b.kind in ("for", "while") for b in c.blocks)]
        positional = [a for a in calls[0].node.args if a.keyword is None and not a.star] if calls else []
        if len(positional) > 1:
            hints["call_args"] = ["none" if isinstance(a.value, cst.Name) and a.value.value == "None" else "tensor"
                                  for a in positional]
    return hints


def _sequential_specs(facts: ModuleFacts, path: Path, display: str, config: VerifyConfig) -> list[ModelSpec]:
    specs, seen = [], set()
    for call in facts.top.calls:
        if call.target is None or "." in call.target or not (
                call.qualname == "torch.nn.Sequential" or _trained_layer(call, facts)):
            continue
        if call.target in seen:
            continue
        seen.add(call.target)
        spec = ModelSpec(display, call.target, path, facts.scope.package)
        spec.build = _CODE.code_for_node(substitute_constants(call.node, facts, call.scope))
        _attach_optimizer(spec, facts, [call.target] if call.target else [], None)
        specs.append(spec)
    return specs


def _trained_layer(call: CallInfo, facts: ModuleFacts) -> bool:
    """`model = nn.Linear(1, 1)` at module level, with an optimizer built on `model.parameters()`."""
    head, _, last = (call.qualname or "").rpartition(".")
    if head != "torch.nn" or not last[:1].isupper() or last.endswith("Loss"):
        return False
    return any(o.call.node.args and re.search(rf"\b{re.escape(call.target)}\b",
                                              _CODE.code_for_node(o.call.node.args[0].value)) for o in facts.optimizers)


def _attach_optimizer(spec: ModelSpec, facts: ModuleFacts, targets: list[str], class_name: str | None) -> None:
    """The optimizer the script builds for this model: inside the class (Lightning), on `target.parameters()`
    for one of its names, else the file's first; none → Adam lr=1e-3."""
    optimizers = facts.optimizers
    if not optimizers:
        return
    own = [o for o in optimizers if class_name and _enclosing_class(o.call) == class_name]
    fed = [o for target in targets for o in optimizers if o.call.node.args
           and re.search(rf"\b{re.escape(target.split('.')[-1])}\b", _CODE.code_for_node(o.call.node.args[0].value))]
    chosen = (own or fed or optimizers)[0]
    spec.optimizer = chosen.kind
    if chosen.lr is not None and isinstance(chosen.lr.value, (int, float)) and not isinstance(chosen.lr.value, bool):
        spec.lr = float(chosen.lr.value)
        origin = f" ({chosen.lr.origin})" if chosen.lr.origin else ""
    else:
        spec.lr = vocab.DEFAULT_LR.get(chosen.kind, DEFAULT_LR)
        origin = " (lr not known statically: the optimizer's default)"
    for arg in chosen.call.node.args:
        if arg.keyword is not None and arg.keyword.value not in ("params", "lr"):
            value = _static(arg.value, facts, chosen.call.scope)
            if value is not _UNKNOWN:
                spec.optimizer_kwargs[arg.keyword.value] = value
    spec.optimizer_origin = f"{chosen.kind} lr={spec.lr:g}{origin}, from the script"
