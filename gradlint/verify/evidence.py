"""`gradlint --verify PATH`: the static pass, then verify on the models of the files with findings,
attaching what torch measured to the findings it bears on ("GL101 confirmed: ... ratio 3e-7")."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

# Static findings whose claim a gradient measurement can confirm or not.
MEASURABLE = ("GL1", "GL2", "GL3")


def attach(findings: list, files: list[Path], options) -> list:
    """The findings, with a verify note on each measurable one whose file defines a model that ran."""
    from gradlint.verify.command import _parse
    from gradlint.verify.discover import find_models
    from gradlint.verify.runner import run_all

    wanted = {f.path for f in findings if f.code.startswith(MEASURABLE) and f.cell is None}
    if not wanted:
        return findings
    parsed = _parse(files)
    specs = [s for s in find_models([(facts, path, facts.path) for path, facts in parsed.items()], options)
             if s.filename in wanted]
    outcomes = run_all(specs, parsed, options)
    by_file: dict[str, list] = {}
    for outcome in outcomes:
        by_file.setdefault(outcome.spec.filename, []).append(outcome)
    facts_by_file = {facts.path: facts for facts in parsed.values()}
    out = []
    for finding in findings:
        outcome = _outcome_for(finding, by_file.get(finding.path, []), facts_by_file.get(finding.path))
        if outcome is None or not finding.code.startswith(MEASURABLE):
            out.append(finding)
        else:
            out.append(replace(finding, message=f"{finding.message} [verify: {describe(outcome, finding.code)}]"))
    return out


def _outcome_for(finding, outcomes: list, facts):
    """The model whose class encloses the finding; else the file's only model."""
    if facts is not None:
        for outcome in outcomes:
            cls = facts.classes.get(outcome.spec.model)
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
    expected = "vanishing" if code.startswith("GL1") else None
    if outcome.verdict == "healthy":
        return f"not confirmed: {model} measured healthy on {outcome.device} ({measured})"
    if expected and outcome.verdict != expected:
        return f"{model} measured {outcome.verdict} on {outcome.device} ({measured})"
    return f"{code} confirmed: {model} {outcome.verdict} on {outcome.device} ({measured})"
