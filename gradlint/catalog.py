"""The rule catalog, read from rules/GLxxx.md: the one source of codes, names, severities and prose."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DOCS_URL = "https://github.com/gradlint/gradlint/blob/main/rules/{code}.md"

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_SECTION = re.compile(r"^## (.+)$", re.M)
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # "error" | "warning"
    fixable: bool
    default: bool
    summary: str
    markdown: str

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)

    def section(self, heading: str) -> str:
        """The text under `## heading`, up to the next `## `."""
        parts = _SECTION.split(self.markdown)
        for title, body in zip(parts[1::2], parts[2::2]):
            if title.strip().lower() == heading.lower():
                return body.strip()
        return ""

    def examples(self, heading: str) -> list[str]:
        """Every python code block under a heading (e.g. "Example", "Use instead")."""
        return _CODE_BLOCK.findall(self.section(heading))


def rules_dir() -> Path:
    packaged = Path(__file__).with_name("rules")  # inside the wheel
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "rules"


def _parse(path: Path) -> Rule:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ValueError(f"{path.name}: missing the --- metadata block")
    meta = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    return Rule(
        code=meta["code"],
        name=meta["name"],
        severity=meta.get("severity", "error"),
        fixable=meta.get("fixable", "false") == "true",
        default=meta.get("default", "true") == "true",
        summary=meta.get("summary", ""),
        markdown=text[match.end():].strip() + "\n",
    )


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    rules = (_parse(p) for p in sorted(rules_dir().glob("GL*.md")))
    return {rule.code: rule for rule in rules}


def get(code: str) -> Rule | None:
    return all_rules().get(code.upper())
