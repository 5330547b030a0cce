"""One model, in its own process: `python -m gradlint.verify.child JOB.json RESULT.json`.

The parent (runner.py) kills this process at its time limit; the memory cap is set here, after
torch is imported, so that torch's own start-up never trips it. Every failure of user code
becomes {"status": "error", "reason": one line}; nothing is printed.
"""

from __future__ import annotations

import json
import sys
import traceback

_OWN_DIR = __file__.rsplit("verify", 1)[0]  # gradlint's package folder
USER_DIRS: list[str] = []  # folders of user code: the innermost frame there names where it failed


def main(argv: list[str]) -> int:
    job_path, result_path = argv
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    try:
        result = run(job)
    except BaseException as exc:  # user code may raise anything, SystemExit and KeyboardInterrupt included
        result = {"status": "error", "reason": one_line(exc, job.get("phase", ""))}
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


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


def run(job: dict) -> dict:
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

    device = _device(torch, job["device"])
    if device.type == "cpu" and job["memory_limit_mb"] > 0:
        # CUDA maps a huge virtual address space, so the cap only applies on CPU.
        cap = job["memory_limit_mb"] * 1024 * 1024
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
        job["phase"] = "making an input"
        try:
            x, described = inputs.make_input(model, job["input"], job["batch_size"], device, job["config_key"])
        except inputs.InputError as exc:
            return {"status": "error", "reason": str(exc), "device": str(device)}
    job["phase"] = f"forward on {described}"
    try:
        measure.forward(model, x)
    except Exception as exc:
        hint = f"; set input-shape in {job['config_key']}" if "inferred" in described else ""
        return {"status": "error", "reason": f"forward failed on {described}: {one_line(exc, '')}{hint}",
                "device": str(device)}
    job["phase"] = "training"
    try:
        numbers = measure.measure(model, x, job["steps"], job["optimizer"], job["lr"], job["optimizer_kwargs"],
                                  job.get("loss"), job.get("clip"))
    except measure.MeasureError as exc:
        return {"status": "error", "reason": str(exc), "device": str(device), "input": described}
    numbers.update(status="ok", device=str(device), input=described,
                   seconds=round(time.perf_counter() - started, 3))
    return numbers


def _import_and_build(job: dict, torch, importlib):
    """Import the sliced script (definitions only) and evaluate the constructor call discover.py wrote."""
    sys.path[:0] = [job["slice_dir"], job["root"]]
    USER_DIRS.extend([job["slice_dir"], job["root"]])
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
