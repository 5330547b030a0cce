"""What a slice calls at import time, in the model's process: the standard library only (no libcst, and
torch only when asked for the device), so a slice imports wherever the model runs.

The slicer (slice.py) writes calls to these in place of the run-time context it drops: the verify
device for `device = torch.device(...)`, a stand-in for a package the environment lacks.
"""

from __future__ import annotations

import json
import os
import sys

DEVICE_VARIABLE = "GRADLINT_VERIFY_DEVICE"


def device():
    """The device verify runs the model on (cpu | cuda | auto as configured) as a torch.device."""
    import torch

    wanted = os.environ.get(DEVICE_VARIABLE) or _job_device() or "cpu"
    if wanted in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def _job_device() -> str | None:
    """The child runs as `python -c BOOT JOB.json RESULT.json`: the job names the device."""
    path = sys.argv[1] if len(sys.argv) > 1 else ""
    if not path.endswith(".json"):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle).get("device")
    except (OSError, ValueError, AttributeError):
        return None


class Missing:
    """A module the script imports that did not import here. Using it raises one clear error; merely
    importing the script (definitions only) does not."""

    def __init__(self, module: str, why: str) -> None:
        object.__setattr__(self, "_gradlint_module", module)
        object.__setattr__(self, "_gradlint_why", why)
        object.__setattr__(self, "_gradlint_name", "")

    def _fail(self):
        module, why = self._gradlint_module, self._gradlint_why
        if why.startswith("ImportError: the script imports"):  # the child's own one-line reason: as it is
            raise ModuleNotFoundError(why.split(": ", 1)[1], name=module)
        raise ModuleNotFoundError(f"the script needs {module}, which does not import here ({why}); "
                                  f"install it where verify runs", name=module)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        self._fail()

    def __call__(self, *args, **kwargs):
        import inspect

        if len(args) == 1 and not kwargs and (inspect.isfunction(args[0]) or inspect.isclass(args[0])):
            return args[0]  # `@register_model` from a missing registry: the definition stays as written
        self._fail()

    def __mro_entries__(self, bases):
        self._fail()

    def __instancecheck__(self, value) -> bool:
        """`isinstance(space, Box)` with gym absent: true only for verify's own placeholder of that name."""
        name = object.__getattribute__(self, "_gradlint_name")
        return bool(name) and getattr(value, "_gradlint_placeholder", False) and type(value).__name__ == name


def missing(module: str, error: BaseException | None = None, name: str = "") -> Missing:
    why = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ") if error else "absent"
    found = Missing(module, why[:240])
    object.__setattr__(found, "_gradlint_name", name)  # `from gym.spaces import Box`: "Box"
    return found


PLACEHOLDER = 16  # context.PLACEHOLDER: the size a data-derived value stands in with


class Space:
    """A stand-in for a gym space: a vector of PLACEHOLDER values, or PLACEHOLDER discrete actions."""

    def __init__(self) -> None:
        self.shape = (PLACEHOLDER,)
        self.n = PLACEHOLDER
        self.low = [-1.0] * PLACEHOLDER
        self.high = [1.0] * PLACEHOLDER
        self.dtype = "float32"

    def __repr__(self) -> str:
        return f"Space(shape={self.shape}, n={self.n}) (gradlint placeholder)"


class Environment:
    """A stand-in for `env = gym.make(...)`: model code reads its spaces' sizes, nothing else."""

    def __init__(self) -> None:
        self.observation_space = Space()
        self.action_space = Space()

    @property
    def unwrapped(self):
        return self

    def __getattr__(self, name):
        raise AttributeError(f"the environment is a gradlint placeholder (only observation_space and action_space "
                             f"exist); `env.{name}` needs the real one")


def environment() -> Environment:
    return Environment()


def space(library: str = "gym"):
    """A placeholder for a gym space a constructor takes (`MLPActorCritic(env.observation_space,
    env.action_space)`): a Box of PLACEHOLDER values in [-1, 1] that also answers `.n` (PLACEHOLDER
    actions). It is the library's own `spaces.Box` when that imports (isinstance checks hold), else a
    stand-in of that name."""
    try:
        import numpy

        base = __import__(f"{library}.spaces", fromlist=["Box"]).Box
    except Exception:  # noqa: BLE001 — gym absent or broken: the stand-in
        return _StandInBox()
    placeholder = type("Box", (base,), {"n": PLACEHOLDER, "_gradlint_placeholder": True,
                                        "__repr__": lambda self: f"Box(shape={self.shape}) (gradlint placeholder)"})
    return placeholder(low=-1.0, high=1.0, shape=(PLACEHOLDER,), dtype=numpy.float32)


class _StandInBox(Space):
    _gradlint_placeholder = True

    def sample(self):
        return [0.0] * PLACEHOLDER

    def __repr__(self) -> str:
        return f"Box(shape={self.shape}) (gradlint placeholder)"


_StandInBox.__name__ = _StandInBox.__qualname__ = "Box"
