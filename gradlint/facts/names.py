"""gradlint's own import table: local names → qualified names, scoped, built in the facts pass.

libcst's QualifiedNameProvider answers the same question at several times the cost of the parse;
this table only records imports and is consulted for the handful of nodes that become facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from gradlint.facts.vocab import KNOWN_MEMBERS, canonical


def walk(*nodes: cst.CSTNode):
    """Every node of the given (small) trees, each with its descendants: an `if` test, a loop body."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def module_name(node: cst.BaseExpression | None) -> str:
    """`torch.nn` for the Attribute/Name of an import statement."""
    return dotted(node) if node is not None else ""


@dataclass
class Scope:
    kind: str  # "module" | "class" | "function"
    name: str
    parent: "Scope | None" = None
    imports: dict[str, str] = field(default_factory=dict)
    star_modules: list[str] = field(default_factory=list)
    # Plain `name = value` bindings in this scope, in source order.
    assigns: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    params: dict[str, cst.BaseExpression | None] = field(default_factory=dict)
    # Names bound by unpacking one value (`logits, loss = model(x, y)`): the value and the name's index.
    unpacked: dict[str, list[tuple[cst.BaseExpression, int]]] = field(default_factory=dict)
    # Names bound by a `for name in value:` loop: the value iterated.
    iterated: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    # `name op= value` (each also an unknown binding in `assigns`): the operator and the value.
    augmented: dict[str, list[tuple[cst.BaseAugOp, cst.BaseExpression]]] = field(default_factory=dict)
    # `name[...] = value`: the values written into a name's items.
    stores: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    package: str = ""  # the file's dotted package, for relative imports
    # Every qualified name an import bound each local name to, in order: `imports` keeps the last, and a
    # name imported under if/else (`from model import G` / `from swagan import G`) has several.
    import_sources: dict[str, list[str]] = field(default_factory=dict)

    def add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = module_name(alias.name)
                if alias.asname is not None:
                    self._bind_import(alias.asname.name.value, full)
                else:
                    head = full.split(".")[0]
                    self._bind_import(head, head)
            return
        base = module_name(node.module)
        if node.relative:
            base = _relative_module(self.package, len(node.relative), base)
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(base)
            return
        for alias in node.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else module_name(alias.name)
            local = alias.asname.name.value if alias.asname is not None else name
            self._bind_import(local, f"{base}.{name}" if base else name)

    def _bind_import(self, local: str, full: str) -> None:
        self.imports[local] = full
        sources = self.import_sources.setdefault(local, [])
        if full not in sources:
            sources.append(full)

    def lookup_import_sources(self, name: str) -> list[str]:
        """Every qualified name the nearest scope that imports `name` bound it to (one, unless imported
        under a branch from several modules)."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.imports:
                return list(scope.import_sources.get(name) or [scope.imports[name]])
            if scope.kind != "class" and (name in scope.assigns or name in scope.params):
                return []
            scope = scope.parent
        return []

    def lookup_import(self, name: str) -> str | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.imports:
                return scope.imports[name]
            if scope.kind != "class" and (name in scope.assigns or name in scope.params):
                return None  # a local binding shadows anything a star import could bring
            for module in scope.star_modules:
                if name in KNOWN_MEMBERS.get(module, ()):
                    return f"{module}.{name}"
            scope = scope.parent
        return None

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """The canonical qualified name of a name or attribute chain, if it comes from an import."""
        text = dotted(node)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        base = self.lookup_import(head)
        if base is None:
            return None
        return canonical(f"{base}.{rest}" if rest else base)

    def binding(self, name: str) -> cst.BaseExpression | None:
        """The single value a name is bound to in the nearest scope that binds it (None if rebound)."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.params:
                return None  # a parameter: re-assigning it in the body makes a second binding, not the only one
            values = scope.assigns.get(name)
            if values is not None:
                return values[0] if len(values) == 1 else None
            scope = scope.parent
            while scope is not None and scope.kind == "class":
                scope = scope.parent  # class bodies are not enclosing scopes for functions
        return None

    def function(self) -> "Scope | None":
        scope: Scope | None = self
        while scope is not None and scope.kind != "function":
            scope = scope.parent
        return scope


def _relative_module(package: str, level: int, module: str) -> str:
    parts = package.split(".") if package else []
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    base = ".".join(parts)
    return ".".join(p for p in (base, module) if p)


def option_dest(call) -> tuple[list[str], str] | None:
    """`(["-l", "--lr"], "lr")` for `parser.add_argument("-l", "--lr", ...)`: the option strings and the
    attribute argparse stores it under (`dest=`, else the first long flag, else the first flag)."""
    flags = [a.value.evaluated_value for a in call.node.args
             if a.keyword is None and isinstance(a.value, cst.SimpleString)]
    flags = [f for f in flags if isinstance(f, str)]
    if not flags:
        return None
    dest_node = call.kwarg("dest")
    if isinstance(dest_node, cst.SimpleString) and isinstance(dest_node.evaluated_value, str):
        return flags, dest_node.evaluated_value
    longs = [f for f in flags if f.startswith("--")]
    return flags, (longs[0] if longs else flags[0]).lstrip("-").replace("-", "_")
