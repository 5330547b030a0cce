"""Reach of `gradlint verify` on models that public scripts train: how many it measures with no config.

    .venv/bin/python bench/verify_corpus/run.py                     # every entry, gradlint's own interpreter
    .venv/bin/python bench/verify_corpus/run.py --python /work/venv-scripts/bin/python   # the scripts' deps
    .venv/bin/python bench/verify_corpus/run.py --only nlp-tutorial --steps 3 --json out.json
    .venv/bin/python bench/verify_corpus/run.py --with-config      # each entry's `config` keys, where it has one

`corpus.json` pins each repository to one commit and lists the models its scripts train: the paths a
user would hand to `gradlint verify` (the training script and the file that defines the model), the
model's class or variable name, a kind (GAN, CNN, RNN, Transformer, RL, ...) and the outcome we expect
(`measured`, or `skipped` where the model needs data the script only has at run time). The trees are
exported from the mirrors into bench/.corpus/review/ (gitignored) by bench/review/review.py's exporter;
a repository whose mirror is absent (offline) is skipped, never fetched.

Each group of paths is verified once, in a fresh process, as a new user would: an empty config, the
default batch size and timeout, `--model` naming the corpus's models. gradlint itself runs in this
interpreter; the models are built in `--python` (verify's own `--python`). With `--with-config`, an
entry's `config` (the `[tool.gradlint.verify]` keys a user would set after reading verify's reason, as
TOML lines) is written to the config file instead of an empty one. An entry counts as *measured*
when a verdict came from real gradients (healthy, exploding, vanishing, non-finite), *skipped* when
verify said why it did not run it, *failed* on an error verdict or when the model was not found at all.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "bench" / "review"))

import review  # noqa: E402  (the exporter of the reviewed corpus: one copy of the mirror logic)

MEASURED = ("healthy", "exploding", "vanishing", "non-finite")


def load() -> tuple[dict, list[dict]]:
    data = json.loads((HERE / "corpus.json").read_text(encoding="utf-8"))
    return data["repos"], data["models"]


def verify(folder: Path, paths: list[str], models: list[str], python: str, steps: int, timeout: float,
           config_text: str = "") -> dict:
    """model name → the JSON object verify printed for it (or a stand-in saying what went wrong)."""
    config = review.CORPUS / f"verify-config-{os.getpid()}" / "pyproject.toml"  # the keys as a user writes them
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[tool.gradlint]\n" + config_text, encoding="utf-8")
    limit = [] if "\ntimeout =" in "\n" + config_text else ["--timeout", str(timeout)]  # the CLI would win
    command = [sys.executable, "-m", "gradlint", "verify", "--output-format", "json", "--config", str(config),
               "--python", python, "--steps", str(steps), *limit,
               *(a for m in sorted(set(models)) for a in ("--model", m)), *paths]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    try:
        rows = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError:
        rows = []
    found: dict[str, dict] = {}
    for row in rows:
        found.setdefault(row["model"], row)  # a notebook's duplicate names come as model_2, ...: the first
    problem = (done.stderr.strip().splitlines() or [f"exit {done.returncode}, no output"])[-1][:200]
    if "Traceback" in done.stderr:
        problem = "traceback: " + problem
    return {m: found.get(m, {"verdict": "missing", "reason": problem}) for m in models}


def _merged(lines: str) -> str:
    """Config lines of the entries of one group as one TOML document: each table header once."""
    tables: dict[str, list[str]] = defaultdict(list)
    table = "[tool.gradlint.verify]"
    for line in lines.splitlines():
        if line.startswith("["):
            table = line
            tables[table]
        elif line.strip() and line not in tables[table]:
            tables[table].append(line)
    return "".join(f"{header}\n" + "".join(f"{line}\n" for line in body) for header, body in tables.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs gradlint (and the models)")
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--only", action="append", default=[], help="only this repository (repeatable)")
    parser.add_argument("--entry", action="append", default=[], help="only REPO::MODEL (repeatable)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--json", type=Path, help="write every entry's outcome here")
    parser.add_argument("--with-config", action="store_true", help="use each entry's `config` keys")
    args = parser.parse_args(argv)
    repos, entries = load()
    groups: dict[tuple[str, tuple[str, ...]], list[dict]] = defaultdict(list)
    for entry in entries:
        if (not args.only or entry["repo"] in args.only) and (
                not args.entry or f"{entry['repo']}::{entry['model']}" in args.entry):
            groups[(entry["repo"], tuple(entry["paths"]))].append(entry)
    outcomes, absent = [], set()
    started = time.perf_counter()
    for (name, paths), group in groups.items():
        pin = repos[name]
        folder = None if name in absent else review.obtain(review.Repo(name, pin["slug"], pin["commit"]), args.mirror) \
            if (args.mirror / pin["slug"].replace("/", "+") / "repo").is_dir() else None
        if folder is None:
            absent.add(name)
            outcomes += [dict(e, outcome="absent", reason="mirror absent") for e in group]
            continue
        config = "\n".join(line for e in group for line in e.get("config", [])) if args.with_config else ""
        results = verify(folder, list(paths), [e["model"] for e in group], args.python, args.steps, args.timeout,
                         _merged(config))
        for entry in group:
            row = results[entry["model"]]
            kind = "measured" if row["verdict"] in MEASURED else "skipped" if row["verdict"] == "skipped" else "failed"
            outcomes.append(dict(entry, outcome=kind, verdict=row["verdict"], reason=row.get("reason", "")))
            print(f"{kind:8} {name}/{paths[-1]}::{entry['model']}: {row['verdict']} — {row.get('reason', '')[:150]}",
                  flush=True)
    ran = [o for o in outcomes if o["outcome"] != "absent"]
    count = Counter(o["outcome"] for o in ran)
    total = len(ran) or 1
    print(f"\n{len(ran)} models ({len(outcomes) - len(ran)} absent) in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{k} {count[k]} ({100 * count[k] / total:.0f}%)" for k in ("measured", "skipped", "failed")))
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for o in ran:
        by_kind[o["kind"]][o["outcome"]] += 1
    for kind, c in sorted(by_kind.items()):
        print(f"  {kind:12} measured {c['measured']}/{sum(c.values())}")
    unexpected = [o for o in ran if o["expected"] == "measured" and o["outcome"] != "measured"]
    print(f"  expected measured but not: {len(unexpected)}")
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
