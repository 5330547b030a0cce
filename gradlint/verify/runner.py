"""One child process per model: time limit (kill the process group), memory cap, one-line reasons.

User code can raise, hang, eat memory or call os._exit; whatever happens the parent gets a result
for every model and the other models still run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gradlint.verify.discover import ModelSpec
from gradlint.verify.settings import VerifyConfig

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # so `-m gradlint.verify.child` always imports


@dataclass
class Outcome:
    spec: ModelSpec
    verdict: str  # exploding | vanishing | non-finite | healthy | skipped | error
    reason: str
    device: str | None = None
    numbers: dict = field(default_factory=dict)


def config_key(name: str) -> str:
    return f"[tool.gradlint.verify.models.{name}]"


def run_model(spec: ModelSpec, slice_path: Path | None, root: str | None, config: VerifyConfig, workdir: Path) -> Outcome:
    from gradlint.verify.verdict import judge

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
        "input": {**spec.input_hints, **(asdict(override) if override is not None else {})},
        "config_key": config_key(spec.model),
    }
    stem = f"{abs(hash((spec.filename, spec.model))):x}"
    job_path, result_path, log_path = (workdir / f"{stem}.{ext}" for ext in ("job.json", "result.json", "log"))
    job_path.write_text(json.dumps(job), encoding="utf-8")
    status, detail = _spawn([str(job_path), str(result_path)], log_path, config.timeout)
    if status != "done":
        return Outcome(spec, "error", detail)
    try:
        result = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Outcome(spec, "error", f"the model's process exited without a result{_last_line(log_path)}")
    if result.get("status") == "no-torch":
        return Outcome(spec, "error", "verify needs PyTorch: pip install 'gradlint-ml[verify]'")
    if result.get("status") != "ok":
        reason = result.get("reason", "unknown failure")
        if "[Errno 27]" in reason:  # EFBIG: CPython ignores SIGXFSZ, so the capped write raises instead
            reason = f"the model's process wrote more than {OUTPUT_LIMIT_BYTES >> 20} MiB of output and was stopped"
        return Outcome(spec, "error", reason, result.get("device"))
    verdict, reason = judge(result, config.thresholds)
    return Outcome(spec, verdict, reason, result.get("device"), result)


# The child starts with gradlint's own folder on sys.path and without the working folder: a `json.py` or
# `torch.py` where the user runs gradlint must not shadow the real module inside the child (`python -m`
# would put the working folder first). The script folders a slice needs are added by the child itself.
_BOOT = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; sys.path.insert(0, {!r}); "
         "from gradlint.verify.child import main; sys.exit(main(sys.argv[1:]))").format(_PACKAGE_PARENT)
# Everything the child writes (its log included) is capped: past this size the kernel stops it (SIGXFSZ).
OUTPUT_LIMIT_BYTES = 64 * 1024 * 1024


def _limit_output() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT_BYTES, OUTPUT_LIMIT_BYTES))


def _spawn(args: list[str], log_path: Path, timeout: float) -> tuple[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    _become_subreaper()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", _BOOT, *args], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=env, start_new_session=True,
                                preexec_fn=_limit_output if os.name == "posix" else None)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            _kill_strays()
            return "timeout", f"timed out after {timeout:g} s (raise --timeout or [tool.gradlint.verify] timeout)"
    _kill_group(proc)  # anything user code left behind in the background
    _kill_strays()  # ... also in a session of its own (setsid), reparented to us as the subreaper
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        if name == "SIGXFSZ":
            return "crash", f"the model's process wrote more than {OUTPUT_LIMIT_BYTES >> 20} MiB of output and was stopped"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return "crash", f"the model's process was killed by {name}{hint}"
    if code != 0:
        return "crash", f"the model's process exited with code {code}{_last_line(log_path)}"
    return "done", ""


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


def _kill_strays() -> None:
    """Kill and reap every remaining child of this process (verify runs one model process at a time, so
    any child left is a descendant of a finished model), repeating while their own children reparent."""
    if not _SUBREAPER["set"]:
        return
    me = os.getpid()
    for _ in range(50):
        strays = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                strays.append(int(entry))
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


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


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


def write_slices(facts_by_path: dict, folder: Path) -> dict[Path, tuple[Path, str]]:
    """Each file's slice, in one folder per source folder (siblings then import each other's slices).
    Returns source path → (slice path, the folder to put on sys.path)."""
    from gradlint.verify.slice import slice_module, with_siblings

    facts_by_path = with_siblings(facts_by_path)  # sibling modules the run's files import: sliced too
    slices = {}
    folders: dict[Path, Path] = {}
    for path, facts in facts_by_path.items():
        target = folders.setdefault(path.parent, folder / f"slice{len(folders)}")
        target.mkdir(exist_ok=True)
        sliced = target / f"{module_stem(path)}.py"
        sliced.write_text(slice_module(facts), encoding="utf-8")
        root = path.parent
        for _ in facts.scope.package.split(".") if facts.scope.package else ():
            root = root.parent
        slices[path] = (sliced, str(root))
    return slices


def run_all(specs: list[ModelSpec], facts_by_path: dict, config: VerifyConfig, progress=None) -> list[Outcome]:
    """Outcomes in the order of `specs`; `progress(done, total, spec)` is told before each model runs."""
    outcomes = []
    runnable = [s for s in specs if s.skipped is None]
    with tempfile.TemporaryDirectory(prefix="gradlint-verify-") as tmp:
        slices = write_slices(facts_by_path, Path(tmp)) if runnable else {}
        for spec in specs:
            if spec.skipped is not None:
                outcomes.append(Outcome(spec, "skipped", spec.skipped))
                continue
            if progress is not None:
                progress(len(outcomes), len(specs), spec)
            slice_path, root = slices[spec.path] if not spec.twin else (None, None)  # a twin imports nothing
            outcomes.append(run_model(spec, slice_path, root, config, Path(tmp)))
    return outcomes
