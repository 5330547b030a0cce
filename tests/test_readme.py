"""The README's rule table agrees with the catalog (rules/*.md, printed by `gradlint rules`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gradlint import catalog

ROOT = Path(__file__).resolve().parent.parent
HEADER = "| code | name | severity | fixable | default | flags |"


def readme_rule_rows() -> list[list[str]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_readme_rule_table_matches_gradlint_rules():
    done = subprocess.run([sys.executable, "-m", "gradlint", "rules"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = [line.split() for line in done.stdout.splitlines()[1:]]
    assert [row[:5] for row in readme_rule_rows()] == printed


def test_readme_rule_table_matches_the_rule_pages():
    rules = catalog.all_rules()
    rows = readme_rule_rows()
    assert [row[0] for row in rows] == sorted(rules)
    for code, name, severity, fixable, default, flags in rows:
        rule = rules[code]
        assert (name, severity, fixable, default) == (
            rule.name, rule.severity, "yes" if rule.fixable else "no", "on" if rule.default else "off"), code
        # Regression: the flags column said "(fixable)" for two of the six fixable rules.
        assert "fixable" not in flags, code
