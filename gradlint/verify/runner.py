"""Model processes: one worker imports torch once and forks one process per model, `jobs` at a time.

The parent (this module) sends the worker model jobs over a pipe, from one thread per job slot; the worker
forks each model's process (a session of its own, memory capped above torch's import), and this side
enforces the time limit by killing that session. User code can raise, hang, eat memory or call os._exit: whatever happens the parent
gets a result for every model, and the other models still run. At the end every worker, every session
they started and every process left behind (a daemon in a session of its own included) is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gradlint.verify.discover import ModelSpec
from gradlint.verify.settings import VerifyConfig

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # gradlint/, shipped to the child's interpreter
WORKER_START_S = 120.0  # the worker's `import torch`: not part of any model's time limit
@dataclass
class Outcome:
    spec: ModelSpec
    verdict: str  # exploding | vanishing | non-finite | healthy | skipped | error
    reason: str
    device: str | None = None
    numbers: dict = field(default_factory=dict)


def config_key(name: str) -> str:
    return f"[tool.gradlint.verify.models.{name}]"


def make_job(spec: ModelSpec, slice_path: Path | None, root: str | None, config: VerifyConfig, threads: int,
             imports: dict | None = None) -> dict:
    override = config.models.get(spec.model)
    job = {
        "model": spec.model,
        "build": spec.build,
        "slice_path": str(slice_path) if slice_path is not None else None,
        "slice_dir": str(slice_path.parent) if slice_path is not None else None,
        "twin": spec.twin,
        "loss": spec.loss,
        "clip": spec.clip,
        "module": f"{spec.package}.{module_stem(spec.path)}" if spec.package else module_stem(spec.path),
        "package": spec.package,
        "root": root,
        "device": config.device,
        "steps": config.steps,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "memory_limit_mb": config.memory_limit_mb,
        "optimizer": spec.optimizer,
        "lr": spec.lr,
        "optimizer_kwargs": {k: _literal(v) for k, v in spec.optimizer_kwargs.items()},
        "input": {**spec.input_hints, **{k: v for k, v in (asdict(override) if override is not None else {}).items()
                                          if k != "methods"}},  # discover.py put the methods in the hints
        "config_key": config_key(spec.model),
        "threads": threads,
    }
    if imports is not None and slice_path is not None:
        job.update(imports)  # modules / packages / user_roots: the script's own modules import only sliced
    return job


def outcome_of(spec: ModelSpec, status: str, detail: str, result_path: Path, log_path: Path,
               config: VerifyConfig) -> Outcome:
    from gradlint.verify.verdict import judge

    try:
        result = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = None
    if status != "done":
        if result is not None and result.get("status") == "partial":  # a later step timed out or died
            done = len(result["steps"])
            result["partial"] = True
            return Outcome(spec, "error", f"{detail}; the numbers are those of the {done} of {config.steps} "
                                          f"steps that finished", result.get("device"), result)
        return Outcome(spec, "error", detail)
    if result is None:
        return Outcome(spec, "error", f"the model's process exited without a result{_last_line(log_path)}")
    if result.get("status") == "no-torch":
        return Outcome(spec, "error", "verify needs PyTorch: pip install 'gradlint-ml[verify]'")
    if result.get("status") == "skipped":
        return Outcome(spec, "skipped", result["reason"])
    if result.get("status") != "ok":
        reason = result.get("reason", "unknown failure")
        if "[Errno 27]" in reason:  # EFBIG: CPython ignores SIGXFSZ, so the capped write raises instead
            reason = f"the model's process wrote more than {OUTPUT_LIMIT_BYTES >> 20} MiB of output and was stopped"
        elif ("can't allocate memory" in reason or "MemoryError" in reason) and config.memory_limit_mb > 0 \
                and result.get("device", "cpu") == "cpu":
            reason += (f"; the cap is {config.memory_limit_mb} MiB above torch's footprint: raise memory-limit-mb "
                       "(0: no cap) or lower batch-size in [tool.gradlint.verify]")
        elif reason.startswith(f"building {spec.model}:") and any("placeholder" in n for n in spec.notes):
            # Built on a stand-in the script only has at run time (an Atari screen where the placeholder Box is
            # a 16-vector): the numbers to give are the constructor's.
            reason += f"; it was built with placeholders (notes): set args or kwargs in {config_key(spec.model)}"
        return Outcome(spec, "error", reason, result.get("device"))
    verdict, reason = judge(result, config.thresholds)
    return Outcome(spec, verdict, reason, result.get("device"), result)


# The worker starts with a copy of gradlint's package first on sys.path and without the working folder:
# a `json.py` or `torch.py` where the user runs gradlint must not shadow the real module (`python -c`
# would put the working folder first), and the project's interpreter need not have gradlint installed.
_BOOT = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; sys.path.insert(0, sys.argv[1]); "
         "from gradlint.verify.child import serve; sys.exit(serve(int(sys.argv[2]), int(sys.argv[3])))")
# Everything the child writes (its log included) is capped: past this size the kernel stops it (SIGXFSZ).
OUTPUT_LIMIT_BYTES = 64 * 1024 * 1024


def _limit_output() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT_BYTES, OUTPUT_LIMIT_BYTES))


class WorkerError(Exception):
    """The worker could not start (its interpreter lacks torch, or it died): the message says why."""


def ship(folder: Path) -> Path:
    """A copy of gradlint's package (sources only) for the child's interpreter: nothing of gradlint's own
    environment (its site-packages, another torch) comes onto that interpreter's path."""
    target = folder / "ship"
    shutil.copytree(_PACKAGE_DIR, target / "gradlint", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


class Worker:
    """The worker process: `import torch` once, then one forked process per model job, several at a time
    (`--jobs`). Jobs and replies carry an id; a reader thread routes each reply to the job waiting for it."""

    def __init__(self, python: str, shipped: Path, log_path: Path) -> None:
        self.python, self.shipped, self.log_path = python, shipped, log_path
        self.proc: subprocess.Popen | None = None
        self.replies = None
        self.jobs = None
        self._buffer = b""
        self._lock = threading.Lock()
        self._waiting: dict[int, queue.Queue] = {}
        self._next = 0
        self._dead = False

    def start(self) -> None:
        jobs_read, jobs_write = os.pipe()
        replies_read, replies_write = os.pipe()
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        # The worker forks the model processes: it must never initialise CUDA itself. With this, a
        # torch.cuda.is_available() during its imports asks NVML instead of creating a driver context.
        env.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
        _become_subreaper()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.python, "-c", _BOOT, str(self.shipped), str(jobs_read), str(replies_write)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True,
                pass_fds=(jobs_read, replies_write), preexec_fn=_limit_output if os.name == "posix" else None)
        os.close(jobs_read)
        os.close(replies_write)
        self.jobs = os.fdopen(jobs_write, "w", buffering=1, encoding="utf-8")
        self.replies = replies_read
        message = self._read(WORKER_START_S)
        if message is None or "gone" in message or "no_torch" in message:
            self.close()
            os.close(self.replies)
        if message is None or "gone" in message:
            raise WorkerError(f"the model worker ({self.python}) did not start{_last_line(self.log_path)}")
        if "no_torch" in message:
            raise WorkerError(f"verify needs PyTorch in {self.python}: {message['no_torch']}")
        threading.Thread(target=self._route, daemon=True).start()

    def _read(self, timeout: float | None) -> dict | None:
        """The worker's next message; None when it is silent past `timeout`; {"gone": True} at its end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            try:
                ready, _, _ = select.select([self.replies], [], [], left)
            except (OSError, ValueError, TypeError):
                return {"gone": True}
            if not ready:
                return None
            chunk = os.read(self.replies, 65536)
            if not chunk:
                return {"gone": True}
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            return {"gone": True}

    def _route(self) -> None:
        while True:
            message = self._read(None)
            if message is None or "gone" in message:
                with self._lock:
                    self._dead = True
                    for waiting in self._waiting.values():
                        waiting.put({"gone": True})
                os.close(self.replies)
                return
            with self._lock:
                waiting = self._waiting.get(message.get("id"))
            if waiting is not None:
                waiting.put(message)

    @staticmethod
    def _next_message(waiting: queue.Queue, timeout: float) -> dict | None:
        try:
            return waiting.get(timeout=timeout)
        except queue.Empty:
            return None

    def run(self, job_path: Path, result_path: Path, log_path: Path, timeout: float) -> tuple[str, str]:
        """("done", "") or ("timeout" | "crash", one-line reason); the worker survives a model's crash."""
        waiting: queue.Queue = queue.Queue()
        with self._lock:
            if self._dead:
                return "crash", f"the model worker died{_last_line(self.log_path)}"
            ident, self._next = self._next, self._next + 1
            self._waiting[ident] = waiting
            try:
                self.jobs.write(json.dumps({"id": ident, "job": str(job_path), "result": str(result_path),
                                            "log": str(log_path)}) + "\n")
            except (OSError, ValueError, AttributeError):
                self._dead = True
        try:
            started = self._next_message(waiting, 10.0)
            if started is None or "started" not in started:
                self.close()
                return "crash", f"the model worker died{_last_line(self.log_path)}"
            pid = started["started"]
            message = self._next_message(waiting, timeout)
            if message is not None and "gone" in message:
                return "crash", f"the model worker died while the model ran{_last_line(self.log_path)}"
            if message is None:
                _kill_session(pid)
                message = self._next_message(waiting, 10.0)
                if message is None or "gone" in message:
                    self.close()  # a worker that cannot reap its model is not reused
                return "timeout", f"timed out after {timeout:g} s (raise --timeout or [tool.gradlint.verify] timeout)"
        finally:
            with self._lock:
                self._waiting.pop(ident, None)
        code = message.get("exit", 0)
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            if name == "SIGXFSZ":
                return "crash", f"the model's process wrote more than {OUTPUT_LIMIT_BYTES >> 20} MiB of output and was stopped"
            hint = " (out of memory?)" if name == "SIGKILL" else ""
            return "crash", f"the model's process was killed by {name}{hint}"
        if code != 0:
            return "crash", f"the model's process exited with code {code}{_last_line(log_path)}"
        return "done", ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and not self._dead

    def close(self) -> None:
        with self._lock:
            self._dead = True
            jobs, self.jobs = self.jobs, None
            proc, self.proc = self.proc, None
        if jobs is not None:
            try:
                jobs.close()
            except OSError:
                pass
        if proc is not None:
            _kill_session(proc.pid)
            proc.wait()
        # The reply pipe closes with the process; the reader thread sees its end and stops.


def _kill_session(pid: int) -> None:
    """SIGKILL the process group (= session) a worker or a model's process leads, and the process itself."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


_SUBREAPER = {"set": False}


def _become_subreaper() -> None:
    """Linux: orphans of the model's process (a daemon that called setsid) are reparented to gradlint
    instead of init, so _kill_strays can find and end them. Elsewhere the process group kill is all."""
    if _SUBREAPER["set"] or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        _SUBREAPER["set"] = True
    except (OSError, AttributeError):
        pass


def _kill_strays(keep: tuple = ()) -> None:
    """Kill and reap every remaining child of this process but `keep` (run at the end: every child left
    is a worker or a descendant of one), repeating while their own children reparent."""
    if not _SUBREAPER["set"]:
        return
    from gradlint.verify.child import kill_children

    kill_children(keep)


def _last_line(log_path: Path) -> str:
    try:
        lines = [line.strip() for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line]
    return f": {lines[-1][:200]}" if lines else ""


def _literal(source: str):
    import ast

    return ast.literal_eval(source)


def module_stem(path: Path) -> str:
    """The module name a file's slice is imported under: a notebook's never shadows a sibling script's
    (`from train import Net` in train.ipynb must find train.py)."""
    return f"{path.stem}_ipynb" if path.suffix == ".ipynb" else path.stem


def write_slices(facts_by_path: dict, folder: Path) -> tuple[dict[Path, tuple[Path, str]], dict]:
    """Each file's slice, in one folder per source folder (siblings then import each other's slices), and
    the slice of every module of the user's own that they import (transitively: sibling modules, the
    packages they sit in), so that no file of the user's is ever imported whole.

    Returns (source path → (slice path, the folder to put on sys.path), the job keys that route the
    child's imports: `modules` (module name → sliced file), `packages`, `user_roots`)."""
    from gradlint.verify.slice import slice_module

    slices = {}
    folders: dict[Path, Path] = {}
    modules: dict[str, str] = {}
    packages: set[str] = set()
    roots: set[Path] = set()
    named: dict[str, tuple[Path, object]] = {}  # module name → (source, facts) still to slice
    for path, facts in facts_by_path.items():
        target = folders.setdefault(path.parent, folder / f"slice{len(folders)}")
        target.mkdir(exist_ok=True)
        sliced = target / f"{module_stem(path)}.py"
        sliced.write_text(slice_module(facts), encoding="utf-8")
        root = path.parent
        for _ in facts.scope.package.split(".") if facts.scope.package else ():
            root = root.parent
        slices[path] = (sliced, str(root))
        roots.add(root)
        package = facts.scope.package
        name = f"{package}.{module_stem(path)}" if package else module_stem(path)
        modules[name] = str(sliced)
        named[name] = (path, facts)
    pending = list(named.items())
    extra = folder / "modules"
    extra.mkdir(exist_ok=True)
    while pending:
        name, (path, facts) = pending.pop()
        for wanted in [*_local_imports(facts, name, path.name == "__init__.py"), name]:  # and its packages
            for module in _with_parents(wanted):
                if module in modules:
                    continue
                source = _module_file(module, roots)
                if source is None:
                    continue
                sibling = _facts_of(source)
                if sibling is None:
                    continue
                sliced = extra / f"{module}.py"
                sliced.write_text(slice_module(sibling), encoding="utf-8")
                modules[module] = str(sliced)
                if source.name == "__init__.py":
                    packages.add(module)
                pending.append((module, (source, sibling)))
    for name, (path, _) in named.items():
        if path.name == "__init__.py":
            packages.add(name)
    return slices, {"modules": modules, "packages": sorted(packages), "user_roots": sorted(map(str, roots))}


def _local_imports(facts, name: str, is_package: bool) -> list[str]:
    """Absolute names of every module a file imports (`import a.b`, `from .x import y` → also `.x.y`)."""
    import libcst as cst

    from gradlint.facts.names import dotted

    here = name if is_package else name.rpartition(".")[0]
    found = []
    for node in _imports(facts.module):
        if isinstance(node, cst.Import):
            found.extend(dotted(alias.name) for alias in node.names)
            continue
        base = dotted(node.module) if node.module is not None else ""
        dots = len(node.relative)
        if dots:
            anchor = here.split(".") if here else []
            anchor = anchor[:len(anchor) - (dots - 1)] if dots > 1 else anchor
            base = ".".join([*anchor, base] if base else anchor)
        if base:
            found.append(base)
        if not isinstance(node.names, cst.ImportStar):
            found.extend(f"{base}.{alias.name.value}" if base else alias.name.value
                         for alias in node.names if isinstance(alias.name, cst.Name))
    return [f for f in found if f]


def _imports(module):
    import libcst as cst

    class _Collect(cst.CSTVisitor):
        def __init__(self):
            self.found = []

        def visit_Import(self, node):
            self.found.append(node)

        def visit_ImportFrom(self, node):
            self.found.append(node)

    collector = _Collect()
    module.visit(collector)
    return collector.found


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _module_file(name: str, roots: set[Path]) -> Path | None:
    """The user's own file for a module name, under one of the run's script folders."""
    parts = name.split(".")
    for root in sorted(roots):
        for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return candidate
    return None


def _facts_of(path: Path):
    from gradlint.verify.command import _parse

    parsed = _parse([path])
    return next(iter(parsed.values()), None)


def interpreter(python: str | None) -> tuple[str, str]:
    """(the interpreter models run in, where it came from): --python, else the active virtualenv's,
    else gradlint's own."""
    if python:
        return python, "--python"
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        for candidate in (Path(venv) / "bin" / "python", Path(venv) / "Scripts" / "python.exe"):
            if candidate.exists():
                return str(candidate), "VIRTUAL_ENV"
    return sys.executable, "gradlint's own"


def default_threads(jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) // jobs)


def run_all(specs: list[ModelSpec], facts_by_path: dict, config: VerifyConfig, progress=None, jobs: int = 1,
            python: str | None = None) -> list[Outcome]:
    """Outcomes in the order of `specs`, `jobs` models at a time. `progress.started(spec)` and
    `progress.finished(spec, outcome)` are called as models start and end (from worker threads, one at a time)."""
    outcomes: list[Outcome | None] = [None] * len(specs)
    runnable = [i for i, s in enumerate(specs) if s.skipped is None]
    for i, spec in enumerate(specs):
        if spec.skipped is not None:
            outcomes[i] = Outcome(spec, "skipped", spec.skipped)
    if not runnable:
        return outcomes
    python = python or sys.executable
    jobs = max(1, min(jobs, len(runnable), os.cpu_count() or 1))
    threads = default_threads(jobs)
    lock = threading.Lock()
    pending = list(runnable)
    with _terminated_cleanly(), tempfile.TemporaryDirectory(prefix="gradlint-verify-") as tmp:
        folder = Path(tmp)
        slices, imports = write_slices(facts_by_path, folder)
        shipped = ship(folder)
        workers: list[Worker] = []
        starting = threading.Lock()

        def current() -> Worker:
            """The one worker every thread sends its models to; started (again, if it died) by the first
            thread that needs it."""
            with starting:
                if not workers or not workers[-1].alive:
                    worker = Worker(python, shipped, folder / f"worker{len(workers)}.log")
                    workers.append(worker)
                    worker.start()
                return workers[-1]

        def serve() -> None:
            while True:
                with lock:
                    if not pending:
                        break
                    index = pending.pop(0)
                spec = specs[index]
                try:
                    worker = current()
                    if progress is not None:
                        with lock:
                            progress.started(spec)
                    outcome = _run_one(worker, spec, slices, imports, config, threads, folder, index)
                except WorkerError as exc:
                    outcome = Outcome(spec, "error", str(exc))
                outcomes[index] = outcome
                if progress is not None:
                    with lock:
                        progress.finished(spec, outcome)

        try:
            pool = [threading.Thread(target=serve, daemon=True) for _ in range(jobs)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
        finally:
            for worker in workers:
                worker.close()
            _kill_strays()  # anything that escaped the worker's sessions, reparented to us as the subreaper
    return outcomes


@contextlib.contextmanager
def _terminated_cleanly():
    """SIGTERM (a cancelled CI job, `timeout`) ends the run like an exception: the worker and every session
    it started are killed and the temporary folder (the slices) removed, then exit 143."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_one(worker: Worker, spec: ModelSpec, slices: dict, imports: dict, config: VerifyConfig, threads: int,
             folder: Path, index: int) -> Outcome:
    slice_path, root = slices[spec.path] if not spec.twin else (None, None)  # a twin imports nothing
    job = make_job(spec, slice_path, root, config, threads, imports)
    job_path, result_path, log_path = (folder / f"model{index}.{ext}" for ext in ("job.json", "result.json", "log"))
    job_path.write_text(json.dumps(job), encoding="utf-8")
    status, detail = worker.run(job_path, result_path, log_path, config.timeout)
    return outcome_of(spec, status, detail, result_path, log_path, config)
