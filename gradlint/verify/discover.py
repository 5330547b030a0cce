"""Models a run defines, from the static facts: nn.Module / LightningModule subclasses and module-level
`x = nn.Sequential(...)`, with the constructor call and the optimizer the script would use.

No torch and no user code here: only facts. Constructor arguments come from the call site
(`Net(784, HIDDEN)` with HIDDEN a constant or an argparse default), else parameter defaults, else
[tool.gradlint.verify.models.NAME]; a model that still lacks arguments is skipped, naming them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from gradlint.facts import vocab
from gradlint.facts.model import CallInfo, ClassInfo, ModuleFacts
from gradlint.facts.names import dotted
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
            if key not in found and any(b in vocab.MODULE_BASES or b.rsplit(".", 1)[-1] in names for b in cls.bases):
                found[key] = cls
                names.add(key[1])
                changed = True
    return found


def _class_spec(cls, facts, path, display, classes, files, config) -> ModelSpec:
    spec = ModelSpec(display, cls.name, path, facts.scope.package)
    sites, owners = _call_sites(cls.name, path, facts.scope.package, classes, files)
    override = config.models.get(cls.name)
    site_facts, site = sites[0] if sites else (facts, None)
    if override is not None and (override.args is not None or override.kwargs is not None):
        spec.build = f"{cls.name}(*{list(override.args or ())!r}, **{dict(override.kwargs or {})!r})"
        spec.notes.append(f"constructor arguments from [tool.gradlint.verify.models.{cls.name}]")
    elif not sites and owners:
        spec.skipped = f"built inside {', '.join(sorted(owners))}; verified as part of it"
        return spec
    elif not sites and any(b.rsplit(".", 1)[-1] == cls.name for c in classes.values() for b in c.bases):
        spec.skipped = "a base class of other models, never built by the script"
        return spec
    else:
        sig = _init_params(cls, path, classes)
        attempts = [(f, s, _arguments(s, f, sig)) for f, s in sites] or [(facts, None, _arguments(None, facts, sig))]
        site_facts, site, (build, missing, notes) = next((a for a in attempts if not a[2][1]), attempts[0])
        if missing:
            spec.skipped = (f"constructor needs {', '.join(missing)}: set args or kwargs in "
                            f"[tool.gradlint.verify.models.{cls.name}]")
            return spec
        spec.build, spec.notes = f"{cls.name}({build})", notes
    # Every name the script binds this class to in that file (`g, d = Gen(), Disc()` and `gen = Gen()`),
    # the chosen call site's first: the optimizer is the one built on one of their parameters.
    targets = [site.target] if site is not None and site.target else []
    targets += [s.target for f, s in sites if f is site_facts and s is not None and s.target and s.target not in targets]
    _attach_optimizer(spec, site_facts, targets, cls.name)
    return spec


def _call_sites(name: str, path: Path, package: str, classes, files):
    """Where the script builds this class (its own file, or a file that imports it from there);
    and the model classes that build it inside themselves."""
    module = f"{package}.{path.stem}" if package else path.stem
    sites, owners = [], set()
    for facts, call_path, _ in files:
        for call in facts.all_calls:
            text = dotted(call.node.func)
            if text is None or text.rsplit(".", 1)[-1] != name:
                continue
            if call_path == path:
                if call.qualname is not None:
                    continue  # an imported namesake, not this file's class
            else:
                source = (call.qualname or "").rpartition(".")[0]
                if call.qualname is None or call.qualname.rsplit(".", 1)[-1] != name or not source or not (
                        source == module or module.endswith("." + source) or source.endswith("." + module)):
                    continue
            owner = _enclosing_class(call)
            if owner is not None and (call_path, owner) in classes:
                owners.add(owner)
            else:
                sites.append((facts, call))
    sites.sort(key=lambda site: site[1].target is None)  # `model = Net(...)` names the model's optimizer
    return sites, owners


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


def _init_params(cls: ClassInfo, path: Path, classes: dict, depth: int = 0) -> _Signature:
    """The constructor's parameters after self, from the class or its nearest model base in the run."""
    init = cls.methods.get("__init__")
    if init is not None:
        p = init.node.params
        star = p.star_arg.name.value if isinstance(p.star_arg, cst.Param) else None
        posonly = max(0, len(p.posonly_params) - 1)
        return _Signature([*p.posonly_params, *p.params][1:], posonly, star, list(p.kwonly_params),
                          p.star_kwarg is not None)
    for base in cls.bases:
        short = base.rsplit(".", 1)[-1]
        same_file = classes.get((path, short))
        parent_path, parent = (path, same_file) if same_file is not None else next(
            ((p, c) for (p, n), c in classes.items() if n == short), (path, None))
        if parent is not None and parent is not cls and depth < 8:
            return _init_params(parent, parent_path, classes, depth + 1)
    return _Signature([], 0, None, [], False)


def _arguments(site: CallInfo | None, facts: ModuleFacts, sig: _Signature) -> tuple[str, list[str], list[str]]:
    """(argument source, missing parameter names, notes) for one call site (or none)."""
    given: dict[str, str] = {}
    extra: list[str] = []  # values that land in *args
    notes: list[str] = []
    position = 0
    for arg in site.node.args if site is not None else ():
        if arg.star:
            return "", ["the arguments passed as *args/**kwargs at the call site"], notes
        if arg.keyword is not None:
            name = arg.keyword.value
        elif position < len(sig.positional):
            name = sig.positional[position].name.value
        else:
            name = None
        position += arg.keyword is None
        value = _static(arg.value, facts, site.scope)
        if value is _UNKNOWN:
            notes.append(f"{name or 'argument'}: `{_CODE.code_for_node(arg.value)}` is not known statically")
            given.pop(name, None)
            if name is None or not any(p.name.value == name and p.default is not None
                                       for p in (*sig.positional, *sig.keyword_only)):
                return "", [name or f"*{sig.star or 'args'}"], notes
            notes[-1] += ", used the parameter's default"
            continue
        if name is None:
            extra.append(value)
        else:
            given[name] = value
    missing = [p.name.value for p in (*sig.positional, *sig.keyword_only)
               if p.default is None and p.name.value not in given]
    if missing:
        return "", missing, notes
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


def _static(expr: cst.BaseExpression, facts: ModuleFacts, scope) -> object:
    """Python source of a statically known argument value, else _UNKNOWN."""
    if isinstance(expr, cst.Name) and expr.value == "None":
        return "None"
    if isinstance(expr, (cst.Tuple, cst.List)):
        items = [_static(e.value, facts, scope) for e in expr.elements]
        if any(i is _UNKNOWN or isinstance(e, cst.StarredElement) for i, e in zip(items, expr.elements)):
            return _UNKNOWN
        return ("(" + ", ".join(items) + ",)") if isinstance(expr, cst.Tuple) else "[" + ", ".join(items) + "]"
    found = facts.resolve(expr, scope)
    literal = literal_expression(found.value) if found is not None else None
    return _CODE.code_for_node(literal) if literal is not None else _UNKNOWN


def _sequential_specs(facts: ModuleFacts, path: Path, display: str, config: VerifyConfig) -> list[ModelSpec]:
    specs, seen = [], set()
    for call in facts.top.calls:
        if call.qualname != "torch.nn.Sequential" or call.target is None or "." in call.target:
            continue
        if call.target in seen:
            continue
        seen.add(call.target)
        spec = ModelSpec(display, call.target, path, facts.scope.package)
        spec.build = _CODE.code_for_node(substitute_constants(call.node, facts, call.scope))
        _attach_optimizer(spec, facts, [call.target] if call.target else [], None)
        specs.append(spec)
    return specs


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
