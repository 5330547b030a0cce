"""The language server: LSP events in, engine results out as diagnostics, code actions and hovers.

Linting runs on one worker thread (so the index has one writer and the connection stays responsive);
a change after a pause is linted at once, a burst of keystrokes at most once per DEBOUNCE seconds.
Every failure is logged to the client (window/logMessage); none reaches the connection."""

from __future__ import annotations

import asyncio
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from gradlint import __version__
from gradlint.engine import LINE_BREAK
from gradlint.finding import Finding
from gradlint.server import convert
from gradlint.server.index import Index
from gradlint.server.notebooks import PYTHON_LANGUAGES, as_ipynb
from gradlint.server.related import related

DEBOUNCE = 0.2  # seconds after a change before linting: typing does not lint every keystroke
EARLY_PUBLISH = 20  # project files still to lint above which a document's own findings go out first


@dataclass
class Snapshot:
    """One lint target as the editor had it: a file, or a notebook and its cells."""

    key: str  # the document's uri, or the notebook's
    path: Path
    data: bytes
    texts: dict[str, str]  # uri → text: the document, or every cell
    versions: dict[str, int | None] = field(default_factory=dict)  # uri → the editor's version of that text
    cells: list[str] | None = None  # notebooks: the uri of cell N at N - 1
    code: list[bool] | None = None  # notebooks: whether cell N is a Python code cell


@dataclass
class Published:
    """What a document's diagnostics were computed on, for code actions and hovers."""

    snapshot: Snapshot
    text: str
    lines: list[str]
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[types.Diagnostic] = field(default_factory=list)


class GradlintServer(LanguageServer):
    def __init__(self):
        super().__init__(
            "gradlint", __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[types.NotebookDocumentFilterWithCells(
                    notebook="*", cells=[types.NotebookCellLanguage("python")])],
                save=True,
            ),
        )
        self.index = Index()
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="gradlint-lint")
        self.timers: dict[str, asyncio.Task] = {}
        self.started: dict[str, float] = {}  # key → when its last lint started (loop time)
        self.published: dict[str, Published] = {}
        self.snapshots: dict[Path, Snapshot] = {}
        self.shown_config_errors: set[str] = set()
        self.errors: dict[str, list[str]] = {}  # key → the internal errors last logged for it

    # logging
    def log(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        self.window_log_message(types.LogMessageParams(kind, message))

    def _document(self, uri: str):
        """The open text document `uri` (pygls keys them unquoted), or None; never read from disk."""
        return self.workspace.text_documents.get(unquote(uri))

    def units(self, text: str) -> int:
        return self.workspace.position_codec.client_num_units(text)

    # targets
    def snapshot(self, key: str) -> Snapshot | None:
        """The current text of a file document or notebook `key`; None if it is not one gradlint lints."""
        notebook = self.workspace.get_notebook_document(notebook_uri=key)
        if notebook is not None:
            return self._notebook_snapshot(notebook)
        document = self._document(key)
        if document is None or self.workspace.get_notebook_document(cell_uri=key) is not None:
            return None
        path = _path(key, ".py")
        if path.suffix not in (".py", ".pyi") and document.language_id != "python":
            return None
        text = document.source
        return Snapshot(key, path, text.encode("utf-8", "surrogatepass"), {key: text}, {key: document.version})

    def _notebook_snapshot(self, notebook: types.NotebookDocument) -> Snapshot:
        texts, versions, cells, parts = {}, {}, [], []
        for cell in notebook.cells:
            document = self._document(cell.document)
            text = document.source if document is not None else ""
            code = cell.kind == types.NotebookCellKind.Code and \
                (document is None or document.language_id in PYTHON_LANGUAGES)
            texts[cell.document] = text
            versions[cell.document] = document.version if document is not None else None
            cells.append(cell.document)
            parts.append((code, text))
        return Snapshot(notebook.uri, _path(notebook.uri, ".ipynb"), as_ipynb(parts), texts, versions, cells,
                        [code for code, _ in parts])

    def target_of(self, uri: str) -> str:
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        return notebook.uri if notebook is not None else uri

    def close(self, key: str, cells: list[str] = ()) -> None:
        """A document or notebook closed: forget its text (the project reads the file from disk again)
        and clear its diagnostics."""
        pending = self.timers.pop(key, None)
        if pending is not None:
            pending.cancel()
        for uri in (key, *cells):
            if self.published.pop(uri, None) is not None:
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        path = _path(key, ".ipynb" if cells else ".py")
        self.worker.submit(self._forget, path)

    def _forget(self, path: Path) -> None:
        self.index.close(path)
        self.snapshots.pop(path, None)

    async def in_worker(self, function, *args):
        """Run `function` on the lint thread (the one writer of the index)."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, function, *args)

    # scheduling
    def schedule(self, key: str, delay: float = 0.0) -> None:
        """Lint `key` after `delay` seconds, counted from its last lint: a change after a quiet spell is
        linted at once, a burst of keystrokes once per `delay`, and always its last text."""
        pending = self.timers.pop(key, None)
        if pending is not None:
            pending.cancel()
        loop = asyncio.get_running_loop()
        if delay:
            delay = max(0.0, self.started.get(key, -delay) + delay - loop.time())
        self.timers[key] = asyncio.ensure_future(self._lint_later(key, delay))

    async def _lint_later(self, key: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self.timers.pop(key, None)
        self.started[key] = asyncio.get_running_loop().time()
        await self.lint_now(key)

    async def lint_now(self, key: str) -> None:
        snapshot = self.snapshot(key)
        if snapshot is None:
            return
        loop = asyncio.get_running_loop()

        def early(batch) -> None:  # from the worker thread
            loop.call_soon_threadsafe(self._publish, snapshot, [batch])

        try:
            batches = await self.in_worker(self._job, snapshot, early)
        except Exception as exc:  # a bug of the server layer: logged, the server goes on
            self.log(f"gradlint: internal error while linting {snapshot.path}: {_one_line(exc)}\n"
                     f"{traceback.format_exc()}")
            return
        self._publish(snapshot, batches)

    def _publish(self, snapshot: Snapshot, batches) -> None:
        for snap, uri_diagnostics, errors, config_error in batches:
            current = self.snapshot(snap.key)
            if snap is not snapshot and (current is None or current.data != snap.data):
                continue  # a dependent edited since: its own lint publishes
            # what went wrong is sent before the diagnostics, so a client sees it by the time they arrive
            logged = [error.describe() for error in errors]
            if logged != self.errors.get(snap.key):  # a check failing on every keystroke is said once
                self.errors[snap.key] = logged
                for line in logged:
                    self.log(line)
            if config_error and config_error not in self.shown_config_errors:
                self.shown_config_errors.add(config_error)
                self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"gradlint: {config_error}"))
                self.log(f"gradlint: {config_error} (linting with the default settings)")
            for uri, published in uri_diagnostics.items():
                self.published[uri] = published
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=published.diagnostics,
                                                   version=snap.versions.get(uri)))

    async def fresh(self, uri: str) -> Published | None:
        """What `uri`'s diagnostics were computed on, linting it first if its text changed since."""
        key = self.target_of(uri)
        published = self.published.get(uri)
        document = self._document(uri)
        if document is not None and (published is None or published.text != document.source):
            pending = self.timers.pop(key, None)
            if pending is not None:
                pending.cancel()
            await self.lint_now(key)
            published = self.published.get(uri)
        return published

    # the worker thread
    def _job(self, snapshot: Snapshot, early):
        """Lint a target and re-judge the open documents whose cross-file findings it may change.

        Where the cross-file findings wait for many files of the project not linted yet (the first file
        opened in a large workspace), the others are published at once through `early`."""
        index = self.index
        index.forget_settings()
        index.set_open(snapshot.path, snapshot.data)
        self.snapshots[snapshot.path] = snapshot
        if index.unseen(snapshot.path) >= EARLY_PUBLISH:
            early(self._judge(snapshot, context=False))
        batches = [self._judge(snapshot)]
        for other in index.dependents(snapshot.path):
            if other in self.snapshots:
                batches.append(self._judge(self.snapshots[other]))
        return batches

    def _judge(self, snapshot: Snapshot, context: bool = True):
        findings, errors = self.index.findings(snapshot.path, context)
        _, config_error = self.index.settings(snapshot.path)
        by_uri: dict[str, list[Finding]] = {uri: [] for uri in snapshot.texts}
        for finding in findings:
            by_uri.setdefault(self._uri_of(snapshot, finding), []).append(finding)
        out = {}
        for uri, found in by_uri.items():
            text = snapshot.texts.get(uri, "")
            lines = LINE_BREAK.split(text)
            diagnostics = [convert.diagnostic(f, lines, self.units, related(f, uri, snapshot, self.index, self.units))
                           for f in found]
            out[uri] = Published(snapshot, text, lines, found, diagnostics)
        return snapshot, out, errors, config_error

    @staticmethod
    def _uri_of(snapshot: Snapshot, finding: Finding) -> str:
        if snapshot.cells:
            cell = finding.cell if finding.cell and finding.cell <= len(snapshot.cells) else 1
            return snapshot.cells[cell - 1]
        return snapshot.key


    # fixes
    def fixed_text(self, uri: str, published: Published) -> str:
        """The document's text with every safe fix applied (re-linted between rounds, as --fix does)."""
        from gradlint import fix

        snapshot = published.snapshot
        chosen = [f for f in published.findings if fix.wanted(f.fix, unsafe=False)]
        if not chosen:
            return published.text
        if snapshot.cells is None:
            result = fix.fix_text(str(snapshot.path), published.text, chosen,
                                  lambda text: self.index.lint_text(snapshot.path, text), unsafe=False)
            return result.after
        after, _ = fix.apply(published.text, [f.fix for f in chosen])
        parts = [(code, after if cell == uri else snapshot.texts[cell]) for cell, code in zip(snapshot.cells, snapshot.code)]
        from gradlint import notebook

        return after if fix.parses(notebook.load(as_ipynb(parts)).source) else published.text


def _one_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _path(uri: str, suffix: str) -> Path:
    """A document's file path; an unsaved buffer (untitled:) lints as if it were in the working folder."""
    path = to_fs_path(uri)
    if path is None or not uri.startswith("file:"):
        return (Path.cwd() / f"untitled{suffix}").resolve()
    return Path(path).resolve()
