"""Every fixture gives exactly the codes its `# expect: GLxxx` comments name, on those lines.

fixtures/bad/ and fixtures/clean/ hold single scripts; fixtures/projects/<name>/ holds multi-file
projects linted together (a model in one file, its training loop in another).
"""

from __future__ import annotations

import pytest

from conftest import FIXTURES, codes_and_lines, expected_markers, lint_paths

SCRIPTS = sorted(p for folder in ("bad", "clean", "seeds") for p in (FIXTURES / folder).glob("**/*.py"))
PROJECTS = sorted(p for p in (FIXTURES / "projects").glob("*") if p.is_dir()) if (FIXTURES / "projects").is_dir() else []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_script_gives_exactly_its_expected_codes(script):
    found = sorted(codes_and_lines(lint_paths([script]).findings), key=lambda item: (item[1], item[0]))
    assert found == expected_markers(script)


def test_clean_fixtures_have_no_expectations_and_bad_ones_do():
    for script in SCRIPTS:
        markers = expected_markers(script)
        if script.parent.name == "clean":
            assert markers == [], script
        elif script.parent.name == "bad":
            assert markers, f"{script} is under bad/ but expects nothing"


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_project_gives_exactly_its_expected_codes(project):
    result = lint_paths([project])
    for file in sorted(project.glob("**/*.py")):
        rel = file.as_posix()
        found = sorted(
            ((f.code, f.span.row) for f in result.findings if (FIXTURES.parent / f.path).resolve() == file.resolve()),
            key=lambda item: (item[1], item[0]),
        )
        assert found == expected_markers(file), rel
