"""The run-time context a model needs, rebuilt from the script's definitions — never by running it.

The slice drops a script's top-level run-time code; models still read some of what it made:
`args = parser.parse_args()` (`args.latent_dim` in a constructor), `device = torch.device(...)`, a size
taken from the data (`n_class = len(word_dict)`). This module says, statically, what stands in:
an `argparse.Namespace` of the parser's defaults, the verify device, a small placeholder integer —
and the placeholders are named in the report, since they are not the script's own numbers.
"""

from __future__ import annotations

import re

import libcst as cst

from gradlint.facts.model import ModuleFacts
from gradlint.facts.names import option_dest, walk
from gradlint.facts.values import _is_parse_args

PLACEHOLDER = 16  # a data-derived size (vocabulary, feature or class count): small, and the input's length
RUNTIME = '__import__("gradlint.verify.runtime", fromlist=["runtime"])'
_CODE = cst.Module([])


def namespace_source(facts: ModuleFacts) -> str:
    """`argparse.Namespace(...)` of every option the file's parsers define whose default is known."""
    values: dict[str, str] = {}
    for call in facts.all_calls:
        if call.method != "add_argument":
            continue
        option = option_dest(call)
        if option is None:
            continue
        dest = option[1]
        if not dest.isidentifier() or dest in values:
            continue
        value = _option_value(call, facts)
        if value is not None:
            values[dest] = value
    items = ", ".join(f"{k}={v}" for k, v in values.items())
    return f'__import__("argparse").Namespace({items})'


def _option_value(call, facts: ModuleFacts) -> str | None:
    """What argparse would store with no command line: the default (converted by `type=` when it is a
    string), False/True for store_true/store_false, None when there is no default."""
    action = call.kwarg("action")
    action = action.evaluated_value if isinstance(action, cst.SimpleString) else None
    default = call.kwarg("default")
    if default is None:
        return {"store_true": "False", "store_false": "True"}.get(action, "None" if action in (None, "store") else None)
    found = facts.resolve(default, call.scope)
    if found is None:
        literal = _CODE.code_for_node(default)
        return literal if _is_plain_literal(default) else None
    value = found.value
    kind = call.kwarg("type")
    kind = kind.value if isinstance(kind, cst.Name) else None
    if isinstance(value, str) and kind in ("int", "float"):
        try:
            value = int(value) if kind == "int" else float(value)
        except ValueError:
            return None
    if isinstance(value, float) and value != value:
        return None
    return repr(value) if isinstance(value, (bool, int, float, str)) else None


def _is_plain_literal(expr: cst.BaseExpression) -> bool:
    """Lists, tuples and dicts of literals (`default=[64, 128]`)."""
    for node in walk(expr):
        if isinstance(node, (cst.Call, cst.Name, cst.Attribute, cst.Subscript, cst.Lambda)) and not (
                isinstance(node, cst.Name) and node.value in ("None", "True", "False")):
            return False
    return True


def is_parse_args(value: cst.BaseExpression, facts: ModuleFacts) -> bool:
    return _is_parse_args(value, facts)


def device_source(value: cst.BaseExpression, scope) -> str | None:
    """The verify device for `torch.device(...)`, `"cuda" if torch.cuda.is_available() else "cpu"` and
    `torch.cuda.is_available()` itself (as a bool); None for anything else."""
    names = {scope.qualify(n.func) for n in walk(value) if isinstance(n, cst.Call)}
    if isinstance(value, cst.Call) and scope.qualify(value.func) == "torch.cuda.is_available":
        return f'{RUNTIME}.device().type == "cuda"'
    if isinstance(value, cst.Call) and scope.qualify(value.func) == "torch.device":
        return f"{RUNTIME}.device()"
    if isinstance(value, cst.IfExp) and "torch.cuda.is_available" in names:
        sides = (value.body, value.orelse)
        if all(isinstance(s, cst.SimpleString) or (isinstance(s, cst.Call) and scope.qualify(s.func) == "torch.device")
               for s in sides):
            return f"{RUNTIME}.device()"
    return None


_ENVIRONMENTS = ("gym.make", "gymnasium.make", "gym.vector.make", "gymnasium.vector.make")


def environment_source(value: cst.BaseExpression, scope) -> str | None:
    """A placeholder environment for `env = gym.make(...)` (also wrapped: `Monitor(gym.make(...))`): models
    read `env.observation_space.shape[0]` and `env.action_space.n` in their constructors."""
    calls = [n for n in walk(value) if isinstance(n, cst.Call)]
    if isinstance(value, cst.Call) and any(scope.qualify(c.func) in _ENVIRONMENTS for c in calls):
        return f"{RUNTIME}.environment()"
    return None


_SPACES = ("observation_space", "action_space", "single_observation_space", "single_action_space")


def gym_library(facts: ModuleFacts) -> str:
    """The gym the file imports (`gymnasium` or `gym`): placeholder spaces are its own Box."""
    imported = [*facts.scope.imports.values(), *facts.scope.star_modules]
    return "gymnasium" if any(q.split(".")[0] == "gymnasium" for q in imported) else "gym"


def space_source(value: cst.BaseExpression, library: str = "gym") -> str | None:
    """A placeholder space for `env.observation_space` / `envs.action_space` handed to a constructor (and
    its `.shape` for `env.observation_space.shape`): a Box of PLACEHOLDER values (runtime.space)."""
    suffix = ""
    if isinstance(value, cst.Attribute) and value.attr.value == "shape":
        value, suffix = value.value, ".shape"
    if isinstance(value, cst.Attribute) and value.attr.value in _SPACES:
        return f"{RUNTIME}.space({library!r}){suffix}"
    return None


def is_space_name(name: str) -> bool:
    """A constructor parameter that takes a gym space: `observation_space`, `action_space`, `obs_space`."""
    return bool(re.search(r"(^|_)space$", name.lower()))


_SIZE_METHODS = {"size", "__len__", "get_vocab_size", "vocab_size", "n_vocab", "num_classes"}


def is_data_size(value: cst.BaseExpression) -> bool:
    """A size the script takes from its data: `len(vocab)`, `x.shape[1]`, `env.action_space.n`,
    `dataset.num_classes`, `int(...)`/`+ 1` of those."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in ("int", "max", "min"):
        return any(is_data_size(a.value) for a in value.args)
    if isinstance(value, cst.BinaryOperation):
        return (is_data_size(value.left) or is_data_size(value.right)) and all(
            is_data_size(s) or isinstance(s, (cst.Integer, cst.Name)) for s in (value.left, value.right))
    if isinstance(value, cst.Call):
        if isinstance(value.func, cst.Name) and value.func.value == "len":
            return True
        return isinstance(value.func, cst.Attribute) and value.func.attr.value in _SIZE_METHODS
    if isinstance(value, cst.Subscript):
        return isinstance(value.value, cst.Attribute) and value.value.attr.value in ("shape", "high", "low")
    if isinstance(value, cst.Attribute):
        return value.attr.value in ("n", "num_classes", "vocab_size", "n_vocab", "num_features", "n_features")
    return False


# A parameter whose name says it is a size; objects (configs, spaces, blocks, environments) never are.
_SIZE_NAME = re.compile(r"(dim|size|^num|_num|^n_|^n[a-z]{1,5}$|_n$|len|class|channel|feature|hidden|unit|token|"
                        r"action|state|input|output|^inp|^out|latent|embed|emb|layers|heads|vocab|word|max_|^nz$)")
_OBJECT_NAME = re.compile(r"(space|env|cfg|config|conf|args|opt|block|layer$|model|net$|module|norm$|act$|fn|func|"
                          r"device|dataset|loader|tokenizer|dict|shape|kernel|type|mode|path)")


def is_index_name(name: str) -> bool:
    """A padding or special-token index (`src_pad_idx`, `pad_id`): placeholder 0, inside any vocabulary."""
    return bool(re.search(r"(_idx|_id|_index|^pad)$", name.lower()))


def is_size_name(name: str) -> bool:
    name = name.lower()
    return bool(_SIZE_NAME.search(name)) and not _OBJECT_NAME.search(name)


def data_placeholders(facts: ModuleFacts) -> dict[str, str]:
    """Module-level names bound once to a data-derived size: name → the source it was computed from.
    `len(CLASSES)` of a tuple the file writes out is no placeholder: the slice keeps it as it is."""
    found = {}
    for name, values in facts.scope.assigns.items():
        if len(values) == 1 and is_data_size(values[0]) and not literal_len(values[0], facts):
            found[name] = _CODE.code_for_node(values[0])
    return found


_CONTAINERS = (cst.List, cst.Tuple, cst.Dict, cst.Set, cst.SimpleString)


def literal_len(value: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """`len(classes)` where the file binds `classes` once, at module level, to a literal container."""
    if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "len"
            and len(value.args) == 1 and isinstance(value.args[0].value, cst.Name)):
        return False
    name = value.args[0].value.value
    bound = facts.scope.assigns.get(name, [])
    return len(bound) == 1 and isinstance(bound[0], _CONTAINERS) and _is_plain_literal(bound[0]) \
        and not _mutated(name, facts)


def filled_at_run_time(name: str, facts: ModuleFacts) -> bool:
    """A module-level container the script writes out empty or small and fills in top-level loops
    (`character_to_idx = {}` then `character_to_idx[c] = i`): the slice keeps only what is written."""
    bound = facts.scope.assigns.get(name, [])
    return len(bound) == 1 and isinstance(bound[0], (cst.List, cst.Dict, cst.Set)) and _mutated(name, facts)


_MUTATORS = {"append", "extend", "insert", "update", "add", "pop", "remove", "setdefault", "clear"}


def _mutated(name: str, facts: ModuleFacts) -> bool:
    """`word_dict[w] = i` or `words.append(w)` anywhere: the literal is only where the data starts."""
    if any(c.receiver == name and c.method in _MUTATORS for c in facts.all_calls):
        return True
    for node in walk(facts.module):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else \
            [node.target] if isinstance(node, (cst.AugAssign, cst.AnnAssign)) else []
        if any(isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name) and t.value.value == name
               for t in targets):
            return True
    return False
