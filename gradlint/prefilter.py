"""A conservative byte pre-filter: a file with no token that any rule could need is never parsed.

The tokens are derived from the framework vocabulary (every package whose names the facts resolve)
plus the method spellings the rules match on objects passed in from elsewhere (`loss.backward()`,
`x.softmax(-1).log()`, `w.data.normal_()`). Such a file is still checked for syntax (GL000) with
CPython's own parser, which costs a fraction of building a concrete tree.
"""

from __future__ import annotations

from functools import lru_cache

METHOD_TOKENS = (
    "backward", "zero_grad", "clip_grad", "unscale_", "GradScaler", "autocast", "optimizer",
    "softmax", "sigmoid", "tanh", "log(", "sqrt(", "norm(", "normal_", "uniform_", "fill_", "constant_",
    "ones_", "Parameter", "half(", "Sequential", "Module", "Dense", "keras", "tensorflow",
)


@lru_cache(maxsize=1)
def tokens() -> tuple[bytes, ...]:
    from gradlint.facts import vocab

    roots = set()
    for value in vars(vocab).values():
        names = value if isinstance(value, (set, frozenset, dict)) else ()
        for name in names:
            if isinstance(name, str) and "." in name:
                roots.add(name.split(".", 1)[0])
    roots -= {"argparse", "collections", "math", "numpy"}  # standard helpers: never a reason on their own
    return tuple(sorted({t.encode() for t in (*roots, *METHOD_TOKENS)}))


def may_matter(data: bytes) -> bool:
    return any(token in data for token in tokens())
