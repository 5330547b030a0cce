"""The examples in rules/GLxxx.md are specifications: the bad one gives that code, the good one nothing."""

from __future__ import annotations

import pytest

from gradlint import catalog

RULES = sorted(catalog.all_rules().values(), key=lambda r: r.code)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_page_has_the_standard_sections(rule):
    for heading in ("What it does", "Why it breaks gradients", "Example", "Use instead"):
        assert rule.section(heading), f"{rule.code}: missing '## {heading}'"
    assert rule.examples("Example") and rule.examples("Use instead")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_bad_examples_give_exactly_their_code(rule, lint):
    for example in rule.examples("Example"):
        codes = {f.code for f in lint(example)}
        assert codes == {rule.code}, example


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_good_examples_give_nothing(rule, lint):
    for example in rule.examples("Use instead"):
        assert lint(example) == [], example


def test_slugs_are_unique_kebab_case_and_every_rule_has_a_check_module():
    import importlib

    names = [r.name for r in RULES]
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert rule.name == rule.name.lower() and " " not in rule.name
        if rule.code != "GL000":
            module = importlib.import_module(f"gradlint.checks.{rule.name.replace('-', '_')}")
            assert callable(module.check)
