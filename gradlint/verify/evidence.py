"""`gradlint --verify PATH`: the static pass, then verify on the models the files with findings define or
train, attaching what torch measured to the findings it bears on ("GL101 confirmed: ... ratio 3e-7").

A measurement confirms a finding only when it goes the way the finding says (a vanishing model does not
confirm GL202's divergence claim); findings in train.py bear on the model it builds from model.py.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

# What each measurable finding claims the gradients do. Other codes are about the script's own training
# step (zero_grad, clip order, fp16, accumulation), which verify's loop does not reproduce: no note.
DIRECTIONS = {
    "GL101": ("vanishing",),
    "GL102": ("vanishing", "exploding", "non-finite"),
    "GL201": ("exploding", "non-finite"),
    "GL202": ("exploding", "non-finite"),
    "GL208": ("exploding", "non-finite"),
    "GL210": ("exploding", "non-finite"),
    "GL301": ("exploding", "non-finite"),
}
MEASURABLE = tuple(DIRECTIONS)


def attach(findings: list, files: list[Path], options, jobs: int = 1, python: str | None = None) -> list:
    """The findings, with a verify note on each measurable one whose file defines or trains a model that ran."""
    from gradlint.verify.command import Progress, _parse
    from gradlint.verify.discover import find_models
    from gradlint.verify.runner import run_all

    wanted = {f.path for f in findings if f.code in DIRECTIONS and f.cell is None}
    if not wanted:
        return findings
    parsed = _parse(files)
    facts_by_file = {facts.path: facts for facts in parsed.values()}
    all_specs = find_models([(facts, path, facts.path) for path, facts in parsed.items()], options)
    # A file's models: the ones it defines, else the ones it builds (model.py's Net, trained in train.py).
    models_of = {name: _models_of(facts_by_file.get(name), all_specs) for name in wanted}
    needed = {id(spec) for specs in models_of.values() for spec in specs}
    specs = [s for s in all_specs if id(s) in needed]
    progress = Progress(sum(s.skipped is None for s in specs))
    outcomes = {id(o.spec): o for o in run_all(specs, parsed, options, progress=progress, jobs=jobs, python=python)}
    progress.close()
    out = []
    for finding in findings:
        candidates = [outcomes[id(s)] for s in models_of.get(finding.path, []) if id(s) in outcomes]
        outcome = _outcome_for(finding, candidates, facts_by_file.get(finding.path))
        if outcome is None or finding.code not in DIRECTIONS:
            out.append(finding)
        else:
            out.append(replace(finding, message=f"{finding.message} [verify: {describe(outcome, finding.code)}]"))
    return out


def _models_of(facts, specs: list) -> list:
    if facts is None:
        return []
    own = [s for s in specs if s.filename == facts.path]
    return own or [s for s in specs if _builds(facts, s)]


def _builds(facts, spec) -> bool:
    """Whether the file calls the model's class, imported from the file that defines it."""
    module = spec.path.stem
    for call in facts.all_calls:
        qualname = call.qualname or ""
        source, _, name = qualname.rpartition(".")
        if name == spec.model and source and (source == module or source.endswith("." + module)):
            return True
    return False


def _outcome_for(finding, outcomes: list, facts):
    """The model whose class encloses the finding; else the file's only model."""
    if facts is not None:
        for outcome in outcomes:
            cls = facts.classes.get(outcome.spec.model) if outcome.spec.filename == facts.path else None
            if cls is not None:
                span = facts.span(cls.node)
                if span.row <= finding.span.row <= span.end_row:
                    return outcome
    return outcomes[0] if len(outcomes) == 1 else None


def _fmt(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.1e}"


def describe(outcome, code: str) -> str:
    model, n = outcome.spec.model, outcome.numbers
    if outcome.spec.twin:
        model += " (keras twin)"
    if outcome.verdict in ("skipped", "error"):
        return f"could not measure {model}: {outcome.reason}"
    ratio = n.get("layer_ratio")
    peak = max((s["grad_norm"] for s in n.get("steps", [])), default=None)
    measured = f"first/last layer gradient-norm ratio {_fmt(ratio)}, peak gradient norm {_fmt(peak)}"
    expected = DIRECTIONS.get(code, ())
    if outcome.verdict == "healthy":
        return f"not confirmed: {model} measured healthy on {outcome.device} ({measured})"
    if outcome.verdict not in expected:
        return (f"not confirmed: {model} measured {outcome.verdict}, not {'/'.join(expected)}, "
                f"on {outcome.device} ({measured})")
    return f"{code} confirmed: {model} {outcome.verdict} on {outcome.device} ({measured})"
