"""`gradlint server` through a real LSP client over stdio: diagnostics latency after a change, and memory.

    python bench/bench_server.py [--edits 30] [--files 500] [--only latency|memory]

1. latency: a 1,000-line training script (the bad fixtures, concatenated) is opened; then, after a quiet
   spell each time, one line is edited (`didChange`) and the clock runs until the diagnostics for that
   document version arrive. Target (issue 17): within 150 ms of a change, warm.
2. memory: a workspace of ~500 training files (the fixtures, copied into packages) plus a two-file
   project whose finding needs the project index, so the server lints every file of the workspace; the
   server's resident memory (VmRSS, and its peak VmHWM) is read from /proc.

Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from gradlint import config, engine
from gradlint.reparse import Reparser

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def training_script(lines: int = 1000) -> str:
    """The bad fixtures one after another until the script has `lines` lines (cut at a file's end)."""
    out: list[str] = []
    for path in sorted((FIXTURES / "bad").glob("*.py")):
        out.extend(path.read_text(encoding="utf-8").splitlines())
        if len(out) >= lines:
            break
    return "\n".join(out[:lines]) + "\n"


def workspace(folder: Path, files: int) -> Path:
    """~`files` fixture copies in packages, the seq2seq project beside them; returns its train.py."""
    sources = sorted([*(FIXTURES / "bad").glob("*.py"), *(FIXTURES / "clean").glob("*.py")])
    count, package = 0, 0
    while count < files - 2:
        pkg = folder / f"experiments_{package}"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("", encoding="utf-8")
        for source in sources[: files - 2 - count]:
            shutil.copy(source, pkg / source.name)
            count += 1
        package += 1
    (folder / "pyproject.toml").write_text("[tool.gradlint]\n", encoding="utf-8")
    for name in ("model.py", "train.py"):
        shutil.copy(FIXTURES / "projects" / "seq2seq" / name, folder / name)
    return folder / "train.py"


class Client:
    def __init__(self):
        self.lsp = LanguageClient("gradlint-bench", "1")
        self.seen: dict[str, tuple[int | None, float, int]] = {}

        @self.lsp.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams):
            self.seen[params.uri] = (params.version, time.perf_counter(), len(params.diagnostics))

    async def start(self, folder: Path) -> None:
        await self.lsp.start_io(sys.executable, "-m", "gradlint", "server", cwd=str(folder))
        await self.lsp.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=folder.as_uri(),
            workspace_folders=[types.WorkspaceFolder(folder.as_uri(), folder.name)]))
        self.lsp.initialized(types.InitializedParams())

    async def published(self, uri: str, version: int, timeout: float = 300.0, at_least: int = 0) -> tuple[float, int]:
        deadline = time.perf_counter() + timeout
        while self.seen.get(uri, (None,))[0] != version or self.seen[uri][2] < at_least:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no diagnostics for {uri} version {version}")
            await asyncio.sleep(0.0005)
        return self.seen[uri][1], self.seen[uri][2]

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        self.lsp.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        return uri

    def change(self, uri: str, version: int, line: int, text: str) -> None:
        self.lsp.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, 0), types.Position(line + 1, 0)), text=text)]))

    def pid(self) -> int:
        return self.lsp._server.pid

    async def stop(self) -> None:
        await self.lsp.shutdown_async(None)
        self.lsp.exit(None)
        await self.lsp.stop()


def cpu_ms(pid: int) -> float:
    """CPU time the process has used so far, all its threads, in ms (/proc/PID/task/*/schedstat, in ns)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e6


def memory(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


async def latency(edits: int) -> None:
    text = training_script()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pyproject.toml").write_text("[tool.gradlint]\n", encoding="utf-8")
        path = folder / "train_all.py"
        path.write_text(text, encoding="utf-8")
        client = Client()
        await client.start(folder)
        started = time.perf_counter()
        uri = client.open(path, text)
        arrived, count = await client.published(uri, 1)
        print(f"1,000-line script ({len(text.splitlines())} lines, {count} diagnostics): "
              f"first diagnostics {1000 * (arrived - started):.0f} ms after didOpen (cold: imports, first parse)")
        times, engine_ms, server_cpu, engine_cpu, full_ms, reused = [], [], [], [], [], []
        lines = text.splitlines()
        settings = config.load(config.find_config(path))
        reparser = Reparser()  # the server's: it has seen the text the editor opened
        engine.lint_file(path, settings, settings.enabled_codes(), data=text.encode("utf-8"), reparser=reparser)
        for version in range(2, edits + 2):
            await asyncio.sleep(0.35)  # a pause in typing: the change is linted at once
            row = (version * 37) % len(lines)
            edited = lines[row] + f"  # edit {version}"  # a new text every time: nothing is answered from memory
            sent, cpu = time.perf_counter(), cpu_ms(client.pid())
            client.change(uri, version, row, edited + "\n")
            arrived, count = await client.published(uri, version)
            times.append(1000 * (arrived - sent))
            server_cpu.append(cpu_ms(client.pid()) - cpu)
            # the same text through the engine alone, in this process, right after: the floor of the latency
            # (with the server's reparse of the edited statement), and with a parse of the whole text
            lines[row] = edited
            data = ("\n".join(lines) + "\n").encode("utf-8")
            started, cpu = time.perf_counter(), time.thread_time()
            engine.lint_file(path, settings, settings.enabled_codes(), data=data, reparser=reparser)
            engine_ms.append(1000 * (time.perf_counter() - started))
            engine_cpu.append(1000 * (time.thread_time() - cpu))
            reused.append(reparser.reused)
            started = time.perf_counter()
            engine.lint_file(path, settings, settings.enabled_codes(), data=data)
            full_ms.append(1000 * (time.perf_counter() - started))
        print(f"after a change (warm), {edits} edits: median {statistics.median(times):.0f} ms, "
              f"p95 {percentile(times, 0.95):.0f} ms, min {min(times):.0f} ms, max {max(times):.0f} ms "
              f"(target: <= 150 ms)")
        print(f"the engine alone on each same text, in this process, right after (lint_file: compile, parse, "
              f"facts, checks, positions): median {statistics.median(engine_ms):.0f} ms, min {min(engine_ms):.0f} ms "
              f"with the server's reparse ({statistics.median(reused):.0f} of the top-level statements reused); "
              f"median {statistics.median(full_ms):.0f} ms, min {min(full_ms):.0f} ms parsing the whole text")
        overhead = [t - e for t, e in zip(times, engine_ms)]
        print(f"so the server's own share (LSP, thread hand-off, conversion), paired per edit: median "
              f"{statistics.median(overhead):.0f} ms")
        print(f"CPU time per change (what an idle core would take, whatever the load): the server process "
              f"median {statistics.median(server_cpu):.0f} ms (p95 {percentile(server_cpu, 0.95):.0f} ms), "
              f"the engine alone median {statistics.median(engine_cpu):.0f} ms")
        print(f"server memory after it: {memory(client.pid())['VmRSS']:.0f} MiB RSS")
        await client.stop()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def big_workspace(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train = workspace(folder, files)
        await serve_workspace(folder, train, warm_cache=False)
        print("again, after `gradlint .` filled the disk cache:")
        subprocess.run([sys.executable, "-m", "gradlint", "--exit-zero", "-q", "."], cwd=folder,
                       stdout=subprocess.DEVNULL, check=False)
        await serve_workspace(folder, train, warm_cache=True)


async def serve_workspace(folder: Path, train: Path, warm_cache: bool) -> None:
    total = sum(1 for _ in folder.rglob("*.py"))
    client = Client()
    await client.start(folder)
    idle = memory(client.pid())
    started = time.perf_counter()
    uri = client.open(train, train.read_text(encoding="utf-8"))
    first, _ = await client.published(uri, 1)
    arrived, count = await client.published(uri, 1, at_least=1)
    after = memory(client.pid())
    print(f"workspace of {total} files: train.py's own diagnostics {first - started:.2f} s after didOpen, "
          f"its cross-file one ({count}) after {arrived - started:.2f} s (the project index lints every file "
          f"once{'' if warm_cache else ', no disk cache'})")
    print(f"server memory: {idle['VmRSS']:.0f} MiB idle after initialize, {after['VmRSS']:.0f} MiB RSS "
          f"with the {total}-file index (peak {after['VmHWM']:.0f} MiB)")
    text = train.read_text(encoding="utf-8")
    times = []
    lines = text.splitlines()
    for version in range(2, 12):
        await asyncio.sleep(0.35)
        sent = time.perf_counter()
        client.change(uri, version, 0, lines[0] + f" edit {version}\n")
        arrived, _ = await client.published(uri, version)
        times.append(1000 * (arrived - sent))
    print(f"  a change in train.py re-judged against the {total}-file index: median "
          f"{statistics.median(times):.0f} ms, max {max(times):.0f} ms")
    await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--only", choices=("latency", "memory"))
    options = parser.parse_args()
    print("load average (1 / 5 / 15 min) {:.1f} / {:.1f} / {:.1f} on {} cores{}".format(
        *os.getloadavg(), os.cpu_count(),
        f", this process and the server pinned to CPUs {sorted(os.sched_getaffinity(0))}"
        if len(os.sched_getaffinity(0)) < (os.cpu_count() or 1) else ""))
    if options.only != "memory":
        asyncio.run(latency(options.edits))
    if options.only != "latency":
        asyncio.run(big_workspace(options.files))
    print("load average (1 / 5 / 15 min) at the end {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
