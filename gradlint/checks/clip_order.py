"""GL204 — clipping after optimizer.step() or before backward(): it clips nothing."""

from __future__ import annotations

from gradlint.checks import finding
from gradlint.checks.ineffective_clip_threshold import never_clips
from gradlint.facts.steps import exclusive, lightning_clips_before_backward
from gradlint.finding import Fix
from gradlint.fix.edits import delete_line, insert_before, source


def check(facts, settings):
    yield from _lightning(facts, settings)
    for loop in facts.training_loops:
        relevant = [e for e in loop.events if e.kind == "backward" or e.steps_optimizer or e.kind == "clip"]
        for clip in relevant:
            if clip.kind != "clip" or (clip.call and never_clips(facts, clip.call, settings)):
                continue
            order = [e for e in relevant if not exclusive(e, clip)]  # what runs in the same iteration as the clip
            i = order.index(clip)
            before = next((e for e in reversed(order[:i]) if e.kind != "clip"), None)
            after = next((e for e in order[i + 1:] if e.kind != "clip"), None)
            if before is not None and before.steps_optimizer and (after is None or after.kind == "backward"):
                problem = f"after the optimizer step (line {facts.line(before.node)})"
            elif before is None and after is not None and after.kind == "backward":
                problem = f"before backward() (line {facts.line(after.node)})"
            else:
                continue
            step = before if before is not None and before.steps_optimizer else next(
                (e for e in order[i + 1:] if e.steps_optimizer), None)
            yield finding(
                facts, "GL204", clip.node,
                f"gradient clipping runs {problem}, so it bounds no update; clip between loss.backward() and "
                "optimizer.step()",
                fix=_move_before_step(facts, clip, step),
            )


def _lightning(facts, settings):
    for clip in lightning_clips_before_backward(facts):
        if clip.call and never_clips(facts, clip.call, settings):
            continue
        yield finding(
            facts, "GL204", clip.node,
            "clipping in training_step runs before Lightning calls backward(), so it clips nothing; "
            "pass Trainer(gradient_clip_val=1.0) or clip in on_before_optimizer_step",
        )


def _move_before_step(facts, clip, step):
    """Unsafe: move the clip statement to just before the optimizer step."""
    movable = (clip.call is not None and clip.call.standalone and clip.via is None and step is not None
               and step.call is not None and step.call.standalone and step.via is None)
    deletion = delete_line(facts, clip.node) if movable else None
    if deletion is None:
        return None
    return Fix("unsafe", "Move the clipping between backward() and the optimizer step",
               (deletion, insert_before(facts, step.node, source(facts, clip.node))))
