"""A message is one line that says what was found and what to do, in at most MESSAGE_LIMIT (160)
characters; why it breaks gradients is the rule's page (`gradlint rule GLxxx`). Checked with every rule
on, on the fixtures and on the examples of every rule page."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, lint_paths
from gradlint import catalog
from gradlint.checks import MESSAGE_LIMIT

# The fixtures whose message passes the limit only by what it quotes of the user's code, and which part.
QUOTING = {
    ("GL207", "bad/gl207_accumulation_hf_style.py"):
        "the step's guard `(step + 1) % cfg.gradient_accumulation_steps == 0`, quoted whole",
    ("GL402", "bad/gl402_lightning_double_softmax.py"):
        "the path the probability took: `probs` = self(...) → LitTextClassifier.forward returns torch.softmax(...)",
    ("GL402", "seeds/seed1_cnn_softmax_adam.py"):
        "the path the probability took: `outputs` = model(images) → CNNModel.forward returns F.softmax(...)",
    ("GL402", "projects/har_cnn/train.py"):
        "the path across a parameter and a file: `output` = model(sample) → train(model=…) → Network.forward returns F.softmax(...)",
    ("GL402", "projects/param_caller/loop.py"):
        "the path across a parameter bound in another file: model(x) → fit(model=…) in main.py → Net.forward returns F.softmax(...)",
    ("GL402", "bad/keras_text_cnn_sigmoid_from_logits.py"): "the compiled loss and the model's output layer",
    ("GL402", "seeds/keras_seed1_cnn_softmax_from_logits.py"): "the compiled loss and the model's output layer",
}


def _relative(path: str) -> str:
    return Path(path).resolve().relative_to(FIXTURES.resolve()).as_posix()


@pytest.fixture(scope="module")
def fixture_findings():
    return lint_paths([FIXTURES]).findings


def test_every_fixture_message_is_one_short_line(fixture_findings):
    assert fixture_findings
    too_long = [
        f"{f.code} {_relative(f.path)}:{f.span.row} ({len(f.message)}): {f.message}" for f in fixture_findings
        if len(f.message) > MESSAGE_LIMIT and (f.code, _relative(f.path)) not in QUOTING
    ]
    assert too_long == []
    assert [f.message for f in fixture_findings if "\n" in f.message] == []


def test_the_quoting_exceptions_are_still_needed(fixture_findings):
    over = {(f.code, _relative(f.path)) for f in fixture_findings if len(f.message) > MESSAGE_LIMIT}
    assert sorted(set(QUOTING) - over) == []


# The same for the rule pages' bad examples: (code, index of the example on its page) → the part quoted.
PAGE_QUOTING = {
    ("GL402", 2): "the compiled loss and the model's output layer (Classifier.call returns ... → Dense(10, ...))",
}


@pytest.mark.parametrize("rule", sorted(catalog.all_rules().values(), key=lambda r: r.code), ids=lambda r: r.code)
def test_rule_page_example_messages_are_short(rule, lint):
    for i, example in enumerate(rule.examples("Example")):
        messages = [f.message for f in lint(example)]
        assert [m for m in messages if "\n" in m] == []
        if (rule.code, i) in PAGE_QUOTING:
            assert any(len(m) > MESSAGE_LIMIT for m in messages), f"{rule.code} example {i} fits now: drop it"
        else:
            assert [m for m in messages if len(m) > MESSAGE_LIMIT] == [], f"{rule.code} example {i}"
