"""Check gradlint verify's numbers against a plain-torch measurement of the same model, batch and loss.

    .venv/bin/python bench/verify_corpus/independent.py [--python /work/venv-scripts/bin/python]

For a few corpus models this script does by hand what verify claims to do, with no gradlint code:
it takes the model's class definitions out of the exported file with `ast` (imports and classes only,
constants it needs given here by a person who read the script), seeds 0, builds the model, draws the
input and the target the way README "Verify" describes (one randn/randint per input, labels after the
first forward), runs three steps of the script's own optimizer and prints the global gradient norm per
step next to the numbers `gradlint verify --output-format json` reports.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / ".corpus" / "review"
STEPS = 3

class Space:
    """What a person reads off verify's placeholder: a Box of 16 values in [-1, 1]."""
    shape, high, low, n = (16,), [1.0] * 16, [-1.0] * 16, 16


# (folder, file (or the files given to verify, the model's last), class, constructor, constants the class reads,
#  inputs, loss, optimizer, lr[, calls])
# `calls`: for a model without forward, the methods the script calls, each with how many of `inputs` it takes;
# the output is their float outputs that carry gradient, flattened side by side (README "Models without forward").
CASES = [
    ("pytorch-beginner/04-Convolutional Neural Network", "convolution_network.py", "Cnn", "Cnn(1, 10)", {},
     [("randn", (16, 1, 28, 28))], "ce", "SGD", 1e-2),
    ("TD3", "TD3.py", "Critic", "Critic(16, 16)", {}, [("randn", (16, 16)), ("randn", (16, 16))], "mse", "Adam", 3e-4),
    ("nlp-tutorial/1-1.NNLM", "NNLM.py", "NNLM", "NNLM()", {"n_step": 2, "n_hidden": 2, "m": 2, "n_class": 16},
     [("randint", (16, 2), 16)], "ce", "Adam", 1e-3),
    ("spinningup/spinup/algos/pytorch/ddpg", ("ddpg.py", "core.py"), "MLPActorCritic", "MLPActorCritic(Space(), Space())",
     {"Space": Space}, [("randn", (16, 16)), ("randn", (16, 16)), ("randn", (16, 16))], "mse", "Adam", 1e-3,
     [("q", 2), ("pi", 1)]),
]


def independent(folder, filename, cls, build, constants, inputs, loss, optimizer, lr, calls=None) -> list[float]:
    import torch
    import torch.nn.functional as F

    filename = _files(filename)[-1]
    tree = ast.parse((CORPUS / folder / filename).read_text(encoding="utf-8"))
    def torch_import(node) -> bool:
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        return all(name.split(".")[0] == "torch" for name in names)

    kept = [n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))
            or isinstance(n, (ast.Import, ast.ImportFrom)) and torch_import(n)]
    namespace = dict(constants)
    exec(compile(ast.Module(kept, []), filename, "exec"), namespace)  # noqa: S102 — definitions only
    torch.manual_seed(0)
    model = eval(build, namespace).train()  # noqa: S307
    xs = [torch.randn(spec[1]) if spec[0] == "randn" else torch.randint(0, spec[2], spec[1]) for spec in inputs]

    def first(out):
        return out if isinstance(out, torch.Tensor) else first(out[0])

    def run(model, *xs):
        if calls is None:
            return first(model(*xs))
        outputs, taken = [], 0
        for name, count in calls:
            out = getattr(model, name)(*xs[taken:taken + count])
            taken += count
            outputs += [t for t in (out if isinstance(out, tuple) else (out,)) if t.requires_grad]
        return torch.cat([t.reshape(-1) for t in outputs])

    out = run(model, *xs)
    if loss == "ce":
        labels = torch.randint(0, out.shape[1], (out.shape[0],))
        loss_fn = lambda o: F.cross_entropy(o, labels)  # noqa: E731
    else:
        target = torch.randn(out.shape)
        loss_fn = lambda o: F.mse_loss(o, target)  # noqa: E731
    opt = getattr(torch.optim, optimizer)(model.parameters(), lr=lr)
    norms = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        value = loss_fn(run(model, *xs))
        value.backward()
        norms.append(math.sqrt(sum(float(p.grad.norm()) ** 2 for p in model.parameters() if p.grad is not None)))
        opt.step()
    return norms


def measured(python: str, folder: str, filename: str, cls: str) -> dict:
    """verify's record, gradlint running here and the model in `python` (as run.py does it)."""
    done = subprocess.run([sys.executable, "-m", "gradlint", "verify", "--output-format", "json", "--python", python,
                           "--steps", str(STEPS), "--model", cls, *_files(filename)], cwd=CORPUS / folder,
                          capture_output=True, text=True)
    return json.loads(done.stdout)[0]


def _files(file) -> list[str]:
    return [file] if isinstance(file, str) else list(file)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    for case in CASES:
        folder, filename, cls = case[:3]
        if not (CORPUS / folder / _files(filename)[-1]).is_file():
            print(f"{folder}/{filename}: not exported (run run.py first)")
            continue
        mine = independent(*case)
        record = measured(args.python, folder, filename, cls)
        theirs = [s["grad_norm"] for s in record.get("steps", [])]
        same = len(theirs) == len(mine) and all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(mine, theirs))
        print(f"{cls:8} {'match' if same else 'DIFFER'}  plain torch {[f'{v:.6g}' for v in mine]}  "
              f"verify {[f'{v:.6g}' for v in theirs]}  ({record.get('optimizer')} lr={record.get('lr')}, "
              f"{record.get('loss_function')}, input {record.get('input')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
