"""`gradlint server`: a language server (LSP 3.17 over stdio) on pygls, a thin layer over the engine, the
fix module and the rule catalog. Needs the `server` extra (pygls, lsprotocol)."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "gradlint server needs pygls and lsprotocol: pip install 'gradlint-ml[server]'"


def available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("pygls", "lsprotocol"))


def main() -> None:
    """Serve one client over stdin/stdout until it exits."""
    from gradlint.server.features import server

    server.start_io()
