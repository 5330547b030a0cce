"""The LSP methods gradlint answers, each a few lines over GradlintServer."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from gradlint import catalog
from gradlint.server import actions, convert
from gradlint.server.app import DEBOUNCE, GradlintServer

server = GradlintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: GradlintServer, params: types.InitializeParams) -> None:
    uris = [f.uri for f in params.workspace_folders or []] or ([params.root_uri] if params.root_uri else [])
    folders = [to_fs_path(uri) for uri in uris if uri and uri.startswith("file:")]
    if not folders and params.root_path:
        folders = [params.root_path]
    ls.index.folders = [Path(f).resolve() for f in folders if f]


@server.feature(types.INITIALIZED)
def initialized(ls: GradlintServer, params: types.InitializedParams) -> None:
    """Ask to hear of files changed outside the editor (a git checkout, a config edit), where the client can."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if watched is None or not watched.dynamic_registration:
        return
    watchers = [types.FileSystemWatcher(glob_pattern=pattern)
                for pattern in ("**/*.py", "**/*.ipynb", "**/pyproject.toml")]
    ls.client_register_capability(types.RegistrationParams([types.Registration(
        id="gradlint-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: GradlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: GradlintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, DEBOUNCE)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: GradlintServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri.endswith(".toml"):  # a config saved in the editor: every open document may lint differently
        relint_open(ls)
    else:
        ls.schedule(ls.target_of(uri))


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: GradlintServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.close(params.text_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_open(ls: GradlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_change(ls: GradlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri, DEBOUNCE)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_save(ls: GradlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_close(ls: GradlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
    ls.close(params.notebook_document.uri, [cell.uri for cell in params.cell_text_documents])


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched_files(ls: GradlintServer, params: types.DidChangeWatchedFilesParams) -> None:
    """A file changed outside the editor (git checkout, a config edit): re-judge what is open."""
    relint_open(ls)


def relint_open(ls: GradlintServer) -> None:
    ls.index.forget_settings()
    for key in {ls.target_of(uri) for uri in ls.published}:
        ls.schedule(key)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL]),
)
async def code_action(ls: GradlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    published = await ls.fresh(uri)
    if published is None:
        return []
    only = params.context.only
    out: list[types.CodeAction] = []
    if actions.wants(only, types.CodeActionKind.QuickFix):
        for finding, diagnostic in zip(published.findings, published.diagnostics):
            if not convert.overlaps(diagnostic.range, params.range):
                continue
            for make in (actions.fix_action, actions.suppress_action):
                action = make(finding, uri, published.lines, ls.units, diagnostic)
                if action is not None:
                    out.append(action)
    if actions.wants(only, actions.FIX_ALL) and any(f.fix for f in published.findings):
        try:
            after = await ls.in_worker(ls.fixed_text, uri, published)
        except Exception as exc:
            ls.log(f"gradlint: internal error while fixing {published.snapshot.path}: {type(exc).__name__}: {exc}")
            after = published.text
        action = actions.fix_all_action(uri, published.text, after, published.lines, ls.units)
        if action is not None:
            out.append(action)
    return out


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: GradlintServer, params: types.HoverParams) -> types.Hover | None:
    published = await ls.fresh(params.text_document.uri)
    if published is None:
        return None
    pages, ranges, seen = [], [], set()
    for finding, diagnostic in zip(published.findings, published.diagnostics):
        rule = catalog.get(finding.code)
        if rule is None or not convert.contains(diagnostic.range, params.position):
            continue
        if rule.code not in seen:
            seen.add(rule.code)
            pages.append(f"**{rule.code} {rule.name}** ({rule.severity}) — [{rule.url}]({rule.url})\n\n{rule.markdown}")
        ranges.append(diagnostic.range)
    if not pages:
        return None
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(pages)), ranges[0])


@server.feature(types.SHUTDOWN)
def shutdown(ls: GradlintServer, *args) -> None:
    ls.worker.shutdown(wait=False, cancel_futures=True)
