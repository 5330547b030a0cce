"""`gradlint server` end to end: a real LSP client (pytest-lsp) drives the real server over stdio."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402

from gradlint import catalog, config, engine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
module_loop = pytest.mark.asyncio(loop_scope="module")
SEQ2SEQ = ROOT / "fixtures" / "projects" / "seq2seq"
SERVER = [sys.executable, "-m", "gradlint", "server"]
# The same server, with one check patched to raise: what a bug in a check looks like to the editor. torch is
# made unimportable too: the server lints without it (an import would fail and be logged).
RAISING = [sys.executable, "-c", textwrap.dedent("""
    import sys
    sys.modules["torch"] = None
    import gradlint.checks.missing_zero_grad as check
    def boom(facts, settings):
        raise RuntimeError("boom in a check")
    check.check = boom
    from gradlint.server import main
    main()
""")]

TRAIN = '''\
"""Fine-tunes a small MLP on tabular features."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=10.0)
args = parser.parse_args()

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

for epoch in range(10):
    for features, labels in loader:
        logits = model(features)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
'''

FIXABLE = '''\
"""A classifier trained with a hand-written log-likelihood."""
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for images, labels in loader:
    optimizer.zero_grad()
    logits = model(images)
    log_probs = torch.log(F.softmax(logits, dim=1))
    aux = torch.log(torch.sigmoid(logits[:, 0]))
    loss = F.nll_loss(log_probs, labels) - aux.mean()
    loss.backward()
    optimizer.step()
'''


async def _start(client: LanguageClient, root: Path) -> None:
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), "workspace")],
    ))


def _client() -> LanguageClient:
    """pytest-lsp's test client, also remembering the document version each diagnostics message is for and
    accepting dynamic registrations (as VS Code does)."""
    client = LanguageClient(converter_factory=default_converter)
    client.versions = {}

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams):
        client.versions[params.uri] = params.version
        client.diagnostics[params.uri] = params.diagnostics

    def register(client: LanguageClient, params: types.RegistrationParams):
        client.registrations.extend(params.registrations)

    client.registrations = []
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
                                   types.CLIENT_REGISTER_CAPABILITY: register})
    return client


# One server for the module (starting one costs its imports); each test gets a project folder of its own
# in the server's workspace, with its own pyproject.toml.
@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER, client_factory=_client))
async def client(lsp_client: LanguageClient, workspace: Path):
    await _start(lsp_client, workspace)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=RAISING, client_factory=_client))
async def raising_client(lsp_client: LanguageClient, workspace: Path):
    await _start(lsp_client, workspace)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture
def project(workspace: Path, request) -> Path:
    """A project folder of this test's own in the servers' workspace."""
    folder = workspace / request.node.name
    folder.mkdir()
    (folder / "pyproject.toml").write_text("[tool.gradlint]\nignore = []\n", encoding="utf-8")
    return folder


# helpers: what an editor does
def open_file(client: LanguageClient, path: Path, text: str, write: bool = True) -> str:
    if write:
        path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


def replace_text(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics(client: LanguageClient, uri: str, version: int | None = None,
                      timeout: float = 15.0) -> list[types.Diagnostic]:
    """The next diagnostics published for `uri` (after the caller cleared the previous ones), for the
    document's `version` if given."""
    async def wait():
        while uri not in client.diagnostics or (version is not None and client.versions.get(uri) != version):
            await asyncio.sleep(0.01)
        return list(client.diagnostics[uri])
    return await asyncio.wait_for(wait(), timeout)


def codes_and_lines(found: list[types.Diagnostic]) -> list[tuple[str, int]]:
    return sorted((d.code, d.range.start.line + 1) for d in found)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII documents: characters are code points) as a client would."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return min(starts[min(p.line, len(lines))] + p.character, len(text))

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def code_actions(client, uri, diagnostic=None, only=None) -> list[types.CodeAction]:
    whole = diagnostic.range if diagnostic else types.Range(types.Position(0, 0), types.Position(10_000, 0))
    return await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), whole,
        types.CodeActionContext(diagnostics=[diagnostic] if diagnostic else [], only=only)))


# tests
@module_loop
async def test_open_reports_the_cli_findings_with_rule_metadata(client: LanguageClient, project):
    uri = open_file(client, project / "train.py", TRAIN)
    found = await diagnostics(client, uri)
    assert codes_and_lines(found) == [("GL202", 13), ("GL203", 20)]
    gl202 = next(d for d in found if d.code == "GL202")
    assert gl202.severity == types.DiagnosticSeverity.Error
    assert gl202.source == "gradlint"
    assert gl202.code_description.href == catalog.get("GL202").url
    assert (gl202.range.start.character, gl202.range.end.character) == (12, 59)
    # the argparse default the lr comes from is a related location
    assert [(r.location.uri, r.location.range.start.line + 1) for r in gl202.related_information] == [(uri, 9)]
    # the same findings as the CLI on the saved file
    cli = engine.run([project / "train.py"], config.load(project / "pyproject.toml")).findings
    assert codes_and_lines(found) == sorted((f.code, f.span.row) for f in cli)


@module_loop
async def test_edit_and_save_update_the_diagnostics(client: LanguageClient, project):
    uri = open_file(client, project / "train.py", TRAIN)
    await diagnostics(client, uri)
    zeroed = TRAIN.replace("        logits = model(features)", "        optimizer.zero_grad()\n        logits = model(features)")
    # three quick keystrokes: the debounce lints the last text
    replace_text(client, uri, TRAIN + "#", 2)
    replace_text(client, uri, TRAIN + "# a", 3)
    replace_text(client, uri, zeroed, 4)
    assert codes_and_lines(await diagnostics(client, uri, version=4)) == [("GL202", 13)]
    scheduled = zeroed.replace("optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)",
                               "optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)  # noqa: GL202")
    (project / "train.py").write_text(scheduled, encoding="utf-8")
    replace_text(client, uri, scheduled, 5)
    assert await diagnostics(client, uri, 5) == []
    # saving lints again (a config or a neighbour may have changed on disk meanwhile)
    (project / "pyproject.toml").write_text('[tool.gradlint]\nignore = ["GL203"]\n', encoding="utf-8")
    replace_text(client, uri, TRAIN, 6)
    assert codes_and_lines(await diagnostics(client, uri, 6)) == [("GL202", 13)]
    client.diagnostics.pop(uri, None)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    assert codes_and_lines(await diagnostics(client, uri, 6)) == [("GL202", 13)]
    # saving the config in the editor re-lints the open documents under it
    (project / "pyproject.toml").write_text('[tool.gradlint]\nignore = ["GL202", "GL203"]\n', encoding="utf-8")
    client.diagnostics.pop(uri, None)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        types.TextDocumentIdentifier((project / "pyproject.toml").as_uri())))
    assert await diagnostics(client, uri, 6) == []


@module_loop
async def test_editing_the_model_file_refreshes_the_training_script(client: LanguageClient, project):
    model_text = (SEQ2SEQ / "model.py").read_text(encoding="utf-8")
    train_text = (SEQ2SEQ / "train.py").read_text(encoding="utf-8")
    (project / "model.py").write_text(model_text, encoding="utf-8")
    # model.py is only on disk: the project index reads it
    train = open_file(client, project / "train.py", train_text)
    found = await diagnostics(client, train)
    assert codes_and_lines(found) == [("GL201", 18)]
    assert "Encoder (model.py) builds nn.GRU" in found[0].message
    related = [(r.location.uri, r.location.range.start.line + 1) for r in found[0].related_information]
    assert (project / "model.py").as_uri() in {u for u, _ in related}
    assert ((project / "model.py").as_uri(), 16) in related  # class Seq2Seq

    model = open_file(client, project / "model.py", model_text, write=False)
    assert await diagnostics(client, model) == []
    # a half-typed model file: one GL000 for it, and train.py keeps its last good diagnostics
    client.diagnostics.pop(train, None)
    replace_text(client, model, model_text.replace("def forward(self, src):", "def forward(self, src", 1), 2)
    broken = await diagnostics(client, model, 2)
    assert [d.code for d in broken] == ["GL000"]
    await asyncio.sleep(0.3)
    assert train not in client.diagnostics or codes_and_lines(client.diagnostics[train]) == [("GL201", 18)]
    # the recurrence goes away in model.py: train.py is re-published without GL201, untouched itself
    client.diagnostics.pop(train, None)
    replace_text(client, model, model_text.replace("nn.GRU(hidden, hidden, batch_first=True)", "nn.Linear(hidden, hidden)"), 3)
    assert await diagnostics(client, model, 3) == []
    assert await diagnostics(client, train) == []


@module_loop
async def test_quick_fix_and_fix_all_leave_the_file_clean(client: LanguageClient, project):
    uri = open_file(client, project / "fixable.py", FIXABLE)
    found = await diagnostics(client, uri)
    assert codes_and_lines(found) == [("GL401", 12), ("GL401", 13)]
    offered = await code_actions(client, uri, found[0], only=[types.CodeActionKind.QuickFix])
    fix = next(a for a in offered if a.title.startswith("GL401: "))
    assert fix.is_preferred and fix.kind == types.CodeActionKind.QuickFix and "(unsafe)" not in fix.title
    fixed = apply_edits(FIXABLE, fix.edit.changes[uri])
    assert "log_probs = F.log_softmax(logits, dim=1)" in fixed
    replace_text(client, uri, fixed, 2)
    assert codes_and_lines(await diagnostics(client, uri, 2)) == [("GL401", 13)]

    everything = await code_actions(client, uri, only=["source.fixAll"])
    assert [a.kind for a in everything] == ["source.fixAll.gradlint"]
    clean = apply_edits(fixed, everything[0].edit.changes[uri])
    assert "aux = F.logsigmoid(logits[:, 0])" in clean
    replace_text(client, uri, clean, 3)
    assert await diagnostics(client, uri, 3) == []


@module_loop
async def test_unsafe_fix_is_marked_and_suppression_adds_or_extends_noqa(client: LanguageClient, project):
    uri = open_file(client, project / "train.py", TRAIN)
    found = await diagnostics(client, uri)
    gl203 = next(d for d in found if d.code == "GL203")
    offered = await code_actions(client, uri, gl203)
    titles = [a.title for a in offered]
    unsafe = next(a for a in offered if a.title.endswith("(unsafe)"))
    assert not unsafe.is_preferred
    assert "Suppress GL203 on this line" in titles

    gl202 = next(d for d in found if d.code == "GL202")
    suppress = next(a for a in await code_actions(client, uri, gl202) if a.title == "Suppress GL202 on this line")
    silenced = apply_edits(TRAIN, suppress.edit.changes[uri])
    assert silenced.splitlines()[12].endswith("lr=args.lr)  # noqa: GL202")
    replace_text(client, uri, silenced, 2)
    assert codes_and_lines(await diagnostics(client, uri, 2)) == [("GL203", 20)]

    # a line that already has a noqa for another code gets the code added to it
    noted = TRAIN.replace("        optimizer.step()", "        optimizer.step()  # noqa: GL201")
    replace_text(client, uri, noted, 3)
    gl203 = next(d for d in await diagnostics(client, uri, 3) if d.code == "GL203")
    suppress = next(a for a in await code_actions(client, uri, gl203) if a.title.startswith("Suppress"))
    extended = apply_edits(noted, suppress.edit.changes[uri])
    assert "optimizer.step()  # noqa: GL201, GL203" in extended
    replace_text(client, uri, extended, 4)
    assert codes_and_lines(await diagnostics(client, uri, 4)) == [("GL202", 13)]


@module_loop
async def test_hover_shows_the_rule_page(client: LanguageClient, project):
    uri = open_file(client, project / "train.py", TRAIN)
    gl203 = next(d for d in await diagnostics(client, uri) if d.code == "GL203")
    shown = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), gl203.range.start))
    assert shown.contents.kind == types.MarkupKind.Markdown
    page = (ROOT / "rules" / "GL203.md").read_text(encoding="utf-8")
    assert catalog.get("GL203").section("Why") in page
    assert catalog.get("GL203").markdown.strip() in shown.contents.value
    nothing = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(1, 0)))
    assert nothing is None


NOTEBOOK_CELLS = [
    (types.NotebookCellKind.Markup, "# Character-level language model"),
    (types.NotebookCellKind.Code, "%matplotlib inline\nimport torch\nimport torch.nn as nn"),
    (types.NotebookCellKind.Code, textwrap.dedent('''\
        class CharRNN(nn.Module):
            def __init__(self, vocab, hidden=256):
                super().__init__()
                self.embed = nn.Embedding(vocab, hidden)
                self.lstm = nn.LSTM(hidden, hidden, num_layers=2, batch_first=True)
                self.head = nn.Linear(hidden, vocab)

            def forward(self, x):
                out, _ = self.lstm(self.embed(x))
                return self.head(out)''')),
    (types.NotebookCellKind.Code, textwrap.dedent('''\
        model = CharRNN(96)
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
        for inputs, targets in batches:
            logits = model(inputs)
            loss = nn.functional.cross_entropy(logits.transpose(1, 2), targets)
            loss.backward()
            optimizer.step()''')),
]


def _ipynb(cells) -> str:
    return json.dumps({"cells": [{"cell_type": "code" if kind == types.NotebookCellKind.Code else "markdown",
                                  "metadata": {}, "source": text, **({"outputs": [], "execution_count": None}
                                                                     if kind == types.NotebookCellKind.Code else {})}
                                 for kind, text in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


@module_loop
async def test_notebook_cells_get_the_cli_cell_mapping(client: LanguageClient, project):
    path = project / "char_rnn.ipynb"
    path.write_text(_ipynb(NOTEBOOK_CELLS), encoding="utf-8")
    uri = path.as_uri()
    cells = [f"vscode-notebook-cell:{path}#cell{i}" for i in range(len(NOTEBOOK_CELLS))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        types.NotebookDocument(uri=uri, notebook_type="jupyter-notebook", version=1,
                               cells=[types.NotebookCell(kind, cell) for (kind, _), cell in zip(NOTEBOOK_CELLS, cells)]),
        [types.TextDocumentItem(cell, "markdown" if kind == types.NotebookCellKind.Markup else "python", 1, text)
         for (kind, text), cell in zip(NOTEBOOK_CELLS, cells)]))
    last = await diagnostics(client, cells[3])
    assert codes_and_lines(last) == [("GL203", 7)]
    for cell in cells[:3]:
        assert await diagnostics(client, cell) == []
    # "the loop at cell 4, line 3 calls backward() (cell 4, line 6)": related locations in that cell
    assert [(r.location.uri, r.location.range.start.line + 1) for r in last[0].related_information] == \
        [(cells[3], 3), (cells[3], 6)]
    # the CLI on the same notebook: the same cells and lines
    cli = engine.run([path], config.load(project / "pyproject.toml")).findings
    assert [(f.code, f.cell, f.span.row) for f in cli] == [("GL203", 4, 7)]

    # editing a cell: zero the gradients and clip
    client.diagnostics.pop(cells[3], None)
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        types.VersionedNotebookDocumentIdentifier(version=2, uri=uri),
        types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cells[3], version=2),
                changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(3, 0), types.Position(3, 0)),
                    text="    optimizer.zero_grad()\n")])]))))
    assert codes_and_lines(await diagnostics(client, cells[3], 2)) == [("GL201", 8)]


@module_loop
async def test_a_syntax_error_is_one_gl000(client: LanguageClient, project):
    broken = TRAIN.replace("for epoch in range(10):", "for epoch in range(10)")
    uri = open_file(client, project / "my train.py", broken)  # a space: the uri is quoted
    found = await diagnostics(client, uri)
    assert codes_and_lines(found) == [("GL000", 15)]
    assert found[0].severity == types.DiagnosticSeverity.Error


@module_loop
async def test_a_check_that_raises_is_logged_and_the_server_lives_on(raising_client: LanguageClient, project):
    client = raising_client
    uri = open_file(client, project / "train.py", TRAIN)
    found = await diagnostics(client, uri)
    assert codes_and_lines(found) == [("GL202", 13)]  # the other checks still report
    errors = [m.message for m in client.log_messages if m.type == types.MessageType.Error]
    assert errors == [f"gradlint: internal error: check GL203 failed on {project / 'train.py'}: "
                      "RuntimeError: boom in a check"]  # sent before the diagnostics, and nothing else failed
    # still serving: another edit is linted, a hover answered
    replace_text(client, uri, TRAIN.replace("default=10.0", "default=0.1"), 2)
    assert await diagnostics(client, uri, 2) == []
    shown = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(0, 0)))
    assert shown is None


def test_without_pygls_the_command_says_how_to_install(tmp_path):
    """An environment where pygls and lsprotocol are not installed: every other installed package is there."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if not entry.name.lower().startswith(("pygls", "lsprotocol", "_", "pytest_lsp")) and entry.suffix != ".pth":
            (tmp_path / entry.name).symlink_to(entry)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    done = subprocess.run([sys.executable, "-S", "-m", "gradlint", "server"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "gradlint: error: gradlint server needs pygls and lsprotocol: pip install 'gradlint-ml[server]'"]


@module_loop
async def test_a_bad_config_is_shown_and_the_defaults_lint(client: LanguageClient, project):
    (project / "pyproject.toml").write_text('[tool.gradlint]\nselct = ["GL2"]\n', encoding="utf-8")
    uri = open_file(client, project / "train.py", TRAIN)
    assert codes_and_lines(await diagnostics(client, uri)) == [("GL202", 13), ("GL203", 20)]
    shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
    with pytest.raises(config.ConfigError) as cli:  # the CLI's own one-line error
        config.load(project / "pyproject.toml")
    assert shown == [f"gradlint: {cli.value}"] and "unknown key tool.gradlint.selct" in shown[0]


@module_loop
async def test_a_file_changed_outside_the_editor_is_seen(client: LanguageClient, project):
    """A git checkout rewrites model.py on disk: the watcher's event re-judges the open train.py."""
    model = project / "model.py"
    model.write_text((SEQ2SEQ / "model.py").read_text(encoding="utf-8"), encoding="utf-8")
    train = open_file(client, project / "train.py", (SEQ2SEQ / "train.py").read_text(encoding="utf-8"))
    assert codes_and_lines(await diagnostics(client, train)) == [("GL201", 18)]
    assert [r.method for r in client.registrations] == [types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    model.write_text(model.read_text(encoding="utf-8").replace("nn.GRU(hidden, hidden, batch_first=True)",
                                                               "nn.Linear(hidden, hidden)"), encoding="utf-8")
    client.diagnostics.pop(train, None)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(model.as_uri(), types.FileChangeType.Changed)]))
    assert await diagnostics(client, train) == []


@module_loop
async def test_a_notebook_cell_gets_its_quick_fix_and_closing_clears_it(client: LanguageClient, project):
    cells = [(types.NotebookCellKind.Code, "import torch\nimport torch.nn.functional as F"),
             (types.NotebookCellKind.Code, "logits = model(batch)\nlog_probs = torch.log(F.softmax(logits, dim=-1))")]
    path = project / "probe.ipynb"
    path.write_text(_ipynb(cells), encoding="utf-8")
    uris = [f"vscode-notebook-cell:{path}#cell{i}" for i in range(len(cells))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        types.NotebookDocument(uri=path.as_uri(), notebook_type="jupyter-notebook", version=1,
                               cells=[types.NotebookCell(kind, uri) for (kind, _), uri in zip(cells, uris)]),
        [types.TextDocumentItem(uri, "python", 1, text) for (_, text), uri in zip(cells, uris)]))
    found = await diagnostics(client, uris[1])
    assert codes_and_lines(found) == [("GL401", 2)]
    fix = next(a for a in await code_actions(client, uris[1], found[0]) if a.is_preferred)
    assert apply_edits(cells[1][1], fix.edit.changes[uris[1]]).endswith("log_probs = F.log_softmax(logits, dim=-1)")
    everything = await code_actions(client, uris[1], only=["source.fixAll.gradlint"])
    assert apply_edits(cells[1][1], everything[0].edit.changes[uris[1]]) == \
        "logits = model(batch)\nlog_probs = F.log_softmax(logits, dim=-1)"
    client.diagnostics.pop(uris[1], None)
    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        types.NotebookDocumentIdentifier(path.as_uri()), [types.TextDocumentIdentifier(uri) for uri in uris]))
    assert await diagnostics(client, uris[1]) == []


PARAM_CALLER = ROOT / "fixtures" / "projects" / "param_caller"


@module_loop
async def test_a_broken_caller_keeps_the_parameter_finding_it_proves(client: LanguageClient, project):
    """loop.fit(model) is bound to Net (a softmax) only by main.py's call: main.py's classes *and* its call
    summaries of its last version that parsed are kept while it has a syntax error."""
    main_text, loop_text = ((PARAM_CALLER / name).read_text(encoding="utf-8") for name in ("main.py", "loop.py"))
    loss_line = next(i for i, line in enumerate(loop_text.splitlines(), 1) if "expect: GL402" in line)
    softmax_line = next(i for i, line in enumerate(main_text.splitlines(), 1) if "F.softmax" in line)
    main = open_file(client, project / "main.py", main_text)
    assert await diagnostics(client, main) == []
    fit = open_file(client, project / "loop.py", loop_text)
    found = await diagnostics(client, fit)
    assert codes_and_lines(found) == [("GL402", loss_line)]
    assert "→ Net.forward returns F.softmax(logits, dim=1) (main.py:17)" in found[0].message  # the path is cut to fit 160
    # the softmax line in the other file is a related location
    assert [(r.location.uri, r.location.range.start.line + 1, r.message) for r in found[0].related_information] == \
        [(main, softmax_line, f"main.py:{softmax_line}")]
    # main.py half-typed: its GL000, and loop.py's finding still stands (re-judged after an edit of its own)
    replace_text(client, main, main_text.replace("loop.fit(Net(), loader)", "loop.fit(Net(), loader"), 2)
    assert [d.code for d in await diagnostics(client, main, 2)] == ["GL000"]
    replace_text(client, fit, loop_text + "# edited\n", 2)
    assert codes_and_lines(await diagnostics(client, fit, 2)) == [("GL402", loss_line)]
    # the call goes away in a version that parses: so does the finding
    replace_text(client, main, main_text.replace("loop.fit(Net(), loader)", "loop.fit(None, loader)"), 3)
    assert await diagnostics(client, main, 3) == []
    assert await diagnostics(client, fit) == []


@module_loop
async def test_each_file_lints_under_its_nearest_config_with_the_rule_severity_and_utf16_columns(
        client: LanguageClient, project):
    """A sub-folder's pyproject.toml governs its files (as `gradlint .` reads them); a warning rule is a
    Warning; a column after a character outside the BMP counts two UTF-16 units, as VS Code counts."""
    sub = project / "experiments"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.gradlint]\nignore = ["GL203"]\n', encoding="utf-8")
    wide = TRAIN.replace("        optimizer.step()", '        tag = "𝔼[loss]"; optimizer.step()')
    top, inner = open_file(client, project / "train.py", wide), open_file(client, sub / "train.py", wide)
    found = await diagnostics(client, top)
    assert codes_and_lines(found) == [("GL202", 13), ("GL203", 20)]
    assert codes_and_lines(await diagnostics(client, inner)) == [("GL202", 13)]
    gl203 = next(d for d in found if d.code == "GL203")
    cli = next(f for f in engine.run([project / "train.py"], config.load(project / "pyproject.toml")).findings
               if f.code == "GL203")
    line = wide.splitlines()[cli.span.row - 1]
    assert line[cli.span.column - 1:].startswith("optimizer.step()")
    assert gl203.range.start.character == len(line[:cli.span.column - 1].encode("utf-16-le")) // 2 == cli.span.column
    seq2seq = project / "seq2seq"
    seq2seq.mkdir()
    (seq2seq / "model.py").write_text((SEQ2SEQ / "model.py").read_text(encoding="utf-8"), encoding="utf-8")
    gl201 = await diagnostics(client, open_file(client, seq2seq / "train.py",
                                                (SEQ2SEQ / "train.py").read_text(encoding="utf-8")))
    assert [(d.code, d.severity) for d in gl201] == [("GL201", types.DiagnosticSeverity.Warning)]
    assert catalog.get("GL201").severity == "warning"


@module_loop
async def test_edits_reparsed_in_part_give_the_findings_of_a_full_parse(client: LanguageClient, project):
    """The server reparses only the statements an edit touched: after each keystroke-sized edit of a real
    training script (inside a statement, a new block, a comment, an indented blank line), its diagnostics
    are the CLI's on the same text."""
    sources = [ROOT / "fixtures" / "bad" / name for name in
               ("gl201_gpt_trainer_class.py", "gl203_zero_grad_per_epoch.py", "gl201_lstm_language_model.py")]
    text = "\n\n".join(p.read_text(encoding="utf-8").rstrip("\n") for p in sources) + "\n"
    path = project / "trainer.py"
    uri = open_file(client, path, text)
    await diagnostics(client, uri)
    settings = config.load(project / "pyproject.toml")
    lines = text.splitlines(keepends=True)
    edits = [(row, piece) for row in range(5, len(lines), len(lines) // 12)
             for piece in ("    \n", "# note\n", lines[row])]
    edits += [(len(lines) // 2, "if __debug__:\n    pass\n"), (3, "")]
    for version, (row, piece) in enumerate(edits, start=2):
        client.diagnostics.pop(uri, None)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(range=types.Range(types.Position(row, 0), types.Position(row, 0)),
                                                    text=piece)]))
        lines[row:row] = [piece]
        text = "".join(lines)
        found = await diagnostics(client, uri, version)
        cli = engine.lint_file(path, settings, settings.enabled_codes(), data=text.encode()).findings
        assert [(d.code, d.range.start.line + 1, d.range.start.character + 1, d.message) for d in found] == \
            [(f.code, f.span.row, f.span.column, f.message) for f in engine.resolve([engine.FileResult(str(path), cli)])]
