"""Model processes, child side. Only the standard library and torch: this code also runs in the
project's own interpreter (`--python`, VIRTUAL_ENV), where gradlint need not be installed.

`serve` is a worker: it imports torch once, then forks one process per model job it is sent (runner.py
talks to it over two pipes). Each model process starts a session of its own, caps its memory above
the footprint torch's import left, writes its result (and, after the first backward, a partial one),
and exits; the worker kills whatever it left behind. `main` runs one job in the current process.
Every failure of user code becomes {"status": "error", "reason": one line}; nothing is printed.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import traceback

_OWN_DIR = __file__.rsplit("verify", 1)[0]  # gradlint's package folder
LARGE_MODEL = 5_000_000  # parameters from which a model gets its share of the cores (the job's threads)
USER_DIRS: list[str] = []  # folders of user code: the innermost frame there names where it failed


class StubUsed(Exception):
    """User code touched a definition-time expression that the slice replaced by a stub."""


class DefinitionTimeStub:
    """Stands in the slice for a definition-time expression verify does not evaluate (a decorator's
    call, a default argument, a class attribute computed by a call): any use of it says which one."""

    def __init__(self, source: str, where: str) -> None:
        object.__setattr__(self, "_gradlint_what", f"{source} ({where})")

    def _refuse(self, *args, **kwargs):
        raise StubUsed(object.__getattribute__(self, "_gradlint_what"))

    __call__ = __getattr__ = __getitem__ = __iter__ = __len__ = __bool__ = __int__ = __float__ = _refuse
    __index__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __floordiv__ = __neg__ = __contains__ = __enter__ = __mro_entries__ = __setattr__ = _refuse

    def __repr__(self) -> str:
        return f"<not run: {object.__getattribute__(self, '_gradlint_what')}>"


def main(argv: list[str]) -> int:
    """Run one job in this process: `JOB.json RESULT.json`."""
    job_path, result_path = argv
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    job["result_path"] = result_path
    try:
        result = run(job)
    except BaseException as exc:  # user code may raise anything, SystemExit and KeyboardInterrupt included
        result = failure(exc, job)
    _write(result_path, result)
    return 0


def failure(exc: BaseException, job: dict) -> dict:
    stub = _stub_in(exc)
    if stub is not None:
        return {"status": "skipped", "reason": f"{job.get('phase', 'building')}: needs definition-time code "
                                               f"that verify does not run: {stub}"}
    missing = _missing_module(exc)
    if missing is not None:
        return {"status": "error", "reason": f"{job.get('phase', '')}: the script imports {missing}, which is not "
                                             f"installed for {sys.executable} (install it there, or pass --python)"}
    return {"status": "error", "reason": one_line(exc, job.get("phase", ""))}


def _stub_in(exc: BaseException | None) -> str | None:
    """What stub the failure comes from: raised by the stub itself, or a library (torch's argument parser)
    that rejected a stub it was handed without touching it."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, StubUsed):
            return str(exc)
        if "DefinitionTimeStub" in str(exc):
            return _stub_nearby(exc) or "a definition-time expression of the script"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _stub_nearby(exc: BaseException) -> str | None:
    """A stub among the locals (and `self`'s class attributes) of the frames the failure passed through."""
    for frame, _ in reversed(list(traceback.walk_tb(exc.__traceback__))):
        values = list(frame.f_locals.values())
        owner = frame.f_locals.get("self")
        if owner is not None:
            values += [v for klass in type(owner).__mro__ for v in vars(klass).values()]
        for value in values:
            if type(value) is DefinitionTimeStub:
                return object.__getattribute__(value, "_gradlint_what")
    return None


def _missing_module(exc: BaseException) -> str | None:
    """The top-level package a failed import names, when it is not part of the user's code."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    return exc.name.split(".")[0]


def _write(path: str, result: dict) -> None:
    """Atomically: a partial result is replaced whole, never read half-written."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.replace(temporary, path)


def one_line(exc: BaseException, phase: str) -> str:
    """`phase: Type: message (in Net.__init__)`, the innermost frame of user code named."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    where = ""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith(tuple(USER_DIRS)) and not filename.startswith(_OWN_DIR):
            where = f" (in {getattr(frame.f_code, 'co_qualname', frame.f_code.co_name)})"
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    if len(text) > 240:
        text = text[:237] + "..."
    return f"{phase}: {text}{where}" if phase else f"{text}{where}"


def _footprint_bytes() -> int:
    """This process's address space now (VmSize): what `import torch` mapped, a CUDA wheel's ~3 GiB included."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # elsewhere: the peak resident size


def run(job: dict) -> dict:
    import builtins
    import importlib
    import importlib.util
    import resource
    import time
    import warnings

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    try:
        import torch
    except ImportError:
        return {"status": "no-torch"}
    from gradlint.verify import inputs, measure

    builtins.__gradlint_stub__ = DefinitionTimeStub  # what the slice's stubs call
    # One thread for a small model: on a busy machine, intra-op threads of a tiny model spend their time
    # waiting for each other (measured: 20 steps of an MNIST MLP, 0.2 s on one thread, 4-8 s on two).
    torch.set_num_threads(1)
    device = _device(torch, job["device"])
    os.environ["GRADLINT_VERIFY_DEVICE"] = device.type  # the slice's rebuilt `device = ...` (verify/runtime.py)
    if device.type == "cpu" and job["memory_limit_mb"] > 0:
        # Above what the process already maps (torch's import): the cap is the model's own budget.
        # CUDA maps a huge virtual address space, so the cap only applies on CPU.
        cap = _footprint_bytes() + job["memory_limit_mb"] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    torch.manual_seed(job["seed"])
    if job.get("twin"):
        try:
            model, x, described = _twin(job, device)
        except Exception as exc:  # keras_twin.TwinError and whatever torch says about a shape
            reason = f"{job['phase']}: {exc}" if type(exc).__name__ == "TwinError" else one_line(exc, job["phase"])
            return {"status": "error", "reason": reason, "device": str(device)}
    else:
        model = _import_and_build(job, torch, importlib)
        if not isinstance(model, torch.nn.Module):
            return {"status": "error", "reason": f"{job['build']} gives a {type(model).__name__}, not an nn.Module"}
        model = model.to(device).train()
        if job.get("threads", 1) > 1 and sum(p.numel() for p in model.parameters()) >= LARGE_MODEL:
            torch.set_num_threads(job["threads"])
        job["phase"] = "making an input"
        try:
            if job["input"].get("methods"):  # no forward: the methods the script calls (inputs.CalledMethods)
                model, x, described = inputs.method_inputs(model, job["input"]["methods"], job["input"],
                                                           job["batch_size"], device, job["config_key"])
            else:
                x, described = inputs.make_input(model, job["input"], job["batch_size"], device, job["config_key"])
        except inputs.InputError as exc:
            return {"status": "error", "reason": str(exc), "device": str(device)}
    job["phase"] = f"forward on {described}"
    try:
        measure.forward(model, x)
    except Exception as exc:
        if _stub_in(exc) is not None:
            raise
        hint = f"; set input-shape or inputs in {job['config_key']}" if "inferred" in described else ""
        return {"status": "error", "reason": f"forward failed on {described}: {one_line(exc, '')}{hint}",
                "device": str(device)}
    job["phase"] = "training"
    extra = {"device": str(device), "input": described}
    result_path = job.get("result_path")
    last = [0.0]

    def partial(numbers: dict) -> None:  # kept if a later step times out or the process dies
        now = time.perf_counter()
        if result_path and (len(numbers["steps"]) == 1 or now - last[0] >= 1.0):
            _write(result_path, dict(numbers, status="partial", seconds=round(now - started, 3), **extra))
            last[0] = now

    try:
        numbers = measure.measure(model, x, job["steps"], job["optimizer"], job["lr"], job["optimizer_kwargs"],
                                  job.get("loss"), job.get("clip"), on_step=partial)
    except measure.MeasureError as exc:
        return {"status": "error", "reason": str(exc), "device": str(device), "input": described}
    numbers.update(status="ok", seconds=round(time.perf_counter() - started, 3), **extra)
    return numbers


class _SliceFinder:
    """Imports the script's own modules only from their slices: `modules` maps a module name to its
    sliced file. A user module verify did not slice is never imported whole (its top-level code would run)."""

    def __init__(self, modules: dict, packages: set, user_roots: list) -> None:
        self.modules, self.packages = modules, packages
        self.user_roots = [os.path.join(os.path.realpath(r), "") for r in user_roots]

    def find_spec(self, name, path=None, target=None):
        import importlib.util

        sliced = self.modules.get(name)
        if sliced is not None:
            return importlib.util.spec_from_file_location(
                name, sliced, submodule_search_locations=[] if name in self.packages else None)
        if path is not None or not self.user_roots:
            return None  # a submodule: of a sliced package (found above) or of a library
        for root in self.user_roots:
            if os.path.isfile(os.path.join(root, f"{name}.py")) or os.path.isfile(os.path.join(root, name, "__init__.py")):
                raise ImportError(f"{name} is user code verify did not slice; name its file on the command line")
        return None


def _import_and_build(job: dict, torch, importlib):
    """Import the sliced script (definitions only) and evaluate the constructor call discover.py wrote."""
    import importlib.util

    sys.path[:0] = [job["slice_dir"], job["root"]]
    USER_DIRS.extend([job["slice_dir"], job["root"], *job.get("user_roots", [])])
    if "modules" in job:
        USER_DIRS.extend({os.path.dirname(p) for p in job["modules"].values()})
        sys.meta_path.insert(0, _SliceFinder(job["modules"], set(job.get("packages", [])), job.get("user_roots", [])))
    job["phase"] = "importing the sliced script"
    if job["package"]:
        importlib.import_module(job["package"])
    spec = importlib.util.spec_from_file_location(job["module"], job["slice_path"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[job["module"]] = module
    spec.loader.exec_module(module)
    job["phase"] = f"building {job['model']}"
    return eval(job["build"], vars(module))  # noqa: S307 — the expression comes from discover.py


def _twin(job: dict, device):
    """A Keras model's PyTorch twin and its input: built from the layer spec, no user code imported."""
    from gradlint.verify import keras_twin

    job["phase"] = "building the keras twin"
    spec = job["twin"]
    x, described = keras_twin.make_input(spec, job["input"], job["batch_size"], device, job["config_key"])
    sample = x[:2].cpu() if x.shape[0] > 1 else x.cpu().repeat(2, *[1] * (x.dim() - 1))  # BN needs two rows
    model = keras_twin.build(spec, sample).to(device).train()
    return model, x, described


def _device(torch, wanted: str):
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: CUDA is not available on this machine")
    if wanted in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


# --- the worker -----------------------------------------------------------------------------------

def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


def children_of(pid: int) -> list[int]:
    """Linux: the processes whose parent is `pid` (from /proc)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def kill_children(keep: tuple = ()) -> None:
    """Kill and reap every child of this process but `keep`, repeating while their own children (orphans
    reparented to us, the subreaper) turn up."""
    me = os.getpid()
    for _ in range(50):
        strays = [pid for pid in children_of(me) if pid not in keep]
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def serve(jobs_fd: int, replies_fd: int) -> int:
    """The worker: import torch once, then per job line `{"id", "job", "result", "log"}` fork a model
    process and say `{"id", "started": pid}`; as each ends, kill what it left behind and say
    `{"id", "exit": code}`. Several models run at once (as many as gradlint sends: `--jobs`)."""
    import warnings

    warnings.filterwarnings("ignore")
    replies = os.fdopen(replies_fd, "w", buffering=1, encoding="utf-8")
    # No PR_SET_PDEATHSIG here: it follows the thread that started the worker, and gradlint starts it
    # from one of its pool threads. gradlint gone, its end of the job pipe closes: see below.
    try:
        import torch  # noqa: F401 — the point of the worker: paid once, shared by every model it forks

        import gradlint.verify.inputs  # noqa: F401
        import gradlint.verify.measure  # noqa: F401
    except ImportError as exc:
        replies.write(json.dumps({"no_torch": f"{type(exc).__name__}: {exc}"}) + "\n")
        return 0
    try:  # what building the first optimizer would import (torch._dynamo: seconds), once per worker too
        import torch._dynamo  # noqa: F401
        import torch.optim  # noqa: F401
    except Exception:  # noqa: BLE001 — an optimisation only
        pass
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    replies.write(json.dumps({"ready": True, "python": sys.executable}) + "\n")
    active: dict[int, int] = {}  # model process → job id
    buffer = b""
    while True:
        ready, _, _ = select.select([jobs_fd], [], [], 0.05 if active else None)
        if ready:
            chunk = os.read(jobs_fd, 65536)
            if not chunk:  # gradlint closed the pipe, or is gone: so are the models
                for pid in active:
                    _kill_group(pid)
                kill_children()
                return 0
            buffer += chunk
            while b"\n" in buffer:
                line, _, buffer = buffer.partition(b"\n")
                request = json.loads(line)
                pid = _fork_model(request, jobs_fd, replies_fd)
                active[pid] = request["id"]
                replies.write(json.dumps({"id": request["id"], "started": pid}) + "\n")
        while active:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid not in active:
                continue  # an orphan reparented to us that ended on its own
            ident = active.pop(pid)
            _kill_group(pid)  # the model's session: whatever it started in the background
            if subreaper:
                kill_children(keep=tuple(active))  # ... and daemons in sessions of their own, reparented to us
            replies.write(json.dumps({"id": ident, "exit": os.waitstatus_to_exitcode(status)}) + "\n")
    return 0


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _fork_model(request: dict, jobs_fd: int, replies_fd: int) -> int:
    """The model's process: a session of its own, its output to its log, the job run, then _exit."""
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.close(jobs_fd)
        os.close(replies_fd)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        code = main([request["job"], request["result"]])
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
