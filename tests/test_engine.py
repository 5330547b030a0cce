"""The engine: GL000 for files that do not decode or parse, encodings, isolation, the process pool."""

from __future__ import annotations

import pytest
from conftest import codes_and_lines, lint_paths

from gradlint import config, engine

LARGE_LR = "import torch\noptimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=5.0)\n"


def write(folder, name: str, data: bytes | str):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def findings_for(*paths):
    return [(f.path.rsplit("/", 1)[-1], f.code, f.span.row, f.span.column) for f in lint_paths(paths).findings]


# -- GL000 ------------------------------------------------------------------------------------------


def test_syntax_error_with_line_and_column(tmp_path):
    path = write(tmp_path, "broken.py", "import torch\n\ndef train(model, loader:\n    pass\n")
    (finding,) = lint_paths([path]).findings
    # CPython's own verdict: the parenthesis opened at column 10 is never closed.
    assert (finding.code, finding.span.row, finding.span.column) == ("GL000", 3, 10)
    assert finding.message == "syntax error: '(' was never closed"


def test_syntax_error_in_a_later_line(tmp_path):
    path = write(tmp_path, "broken.py", "x = 1\ny = [1, 2\nz = 3\n")
    (finding,) = lint_paths([path]).findings
    assert finding.code == "GL000" and finding.span.row == 2


def test_undecodable_bytes_are_gl000_at_their_position(tmp_path):
    path = write(tmp_path, "binary.py", b"import torch\n\nx = 1\nname = '\xff\xfe'\n")
    (finding,) = lint_paths([path]).findings
    assert (finding.code, finding.span.row, finding.span.column) == ("GL000", 4, 9)
    assert "decode" in finding.message and "utf-8" in finding.message


def test_undecodable_bytes_in_the_first_lines(tmp_path):
    path = write(tmp_path, "binary.py", b"\x89PNG\r\n\x1a\n\x00\x00")
    (finding,) = lint_paths([path]).findings
    assert (finding.code, finding.span.row) == ("GL000", 1)


def test_undecodable_bytes_in_the_first_two_lines_name_their_column(tmp_path):
    path = write(tmp_path, "binary.py", b"x = '\xff'\n")
    (finding,) = lint_paths([path]).findings
    assert (finding.code, finding.span.row, finding.span.column) == ("GL000", 1, 6)
    assert "utf-8" in finding.message


def test_unknown_coding_cookie_is_gl000(tmp_path):
    path = write(tmp_path, "odd.py", b"# -*- coding: klingon -*-\nx = 1\n")
    assert [f.code for f in lint_paths([path]).findings] == ["GL000"]


def test_pep263_latin1_cookie_is_honoured(tmp_path):
    source = "# -*- coding: latin-1 -*-\n# Modèle: réseau\nimport torch\noptimizer = torch.optim.SGD([], lr=5.0)\n"
    path = write(tmp_path, "latin.py", source.encode("latin-1"))
    assert codes_and_lines(lint_paths([path]).findings) == [("GL202", 4)]


def test_utf8_bom_is_honoured(tmp_path):
    path = write(tmp_path, "bom.py", b"\xef\xbb\xbf" + LARGE_LR.encode())
    assert codes_and_lines(lint_paths([path]).findings) == [("GL202", 2)]


def test_utf8_bom_with_a_syntax_error_reports_the_right_column(tmp_path):
    path = write(tmp_path, "bom.py", b"\xef\xbb\xbfx = (\n")
    (finding,) = lint_paths([path]).findings
    assert finding.code == "GL000" and finding.span.row == 1


def test_text_output_of_a_latin1_file_shows_the_decoded_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gradlint.cli import main

    source = "# -*- coding: latin-1 -*-\nimport torch\nopt = torch.optim.SGD([], lr=5.0)  # é\n"
    write(tmp_path, "latin.py", source.encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--select", "GL202", "latin.py"])
    assert " 3 | opt = torch.optim.SGD([], lr=5.0)  # é" in result.output.splitlines()


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# only a comment\n", b"\xef\xbb\xbf", b'"""docstring only"""'])
def test_empty_and_trivial_files_are_fine(tmp_path, content):
    path = write(tmp_path, "empty.py", content)
    assert lint_paths([path]).findings == []


def test_gl000_can_be_ignored(tmp_path):
    path = write(tmp_path, "broken.py", "def f(:\n")
    settings = config.Settings(select=("ALL",), ignore=("GL000",))
    assert lint_paths([path], settings).findings == []


def test_deeply_nested_expression_is_not_a_crash(tmp_path):
    path = write(tmp_path, "deep.py", "x = " + "(" * 300 + "1" + ")" * 300 + "\n")
    result = lint_paths([path])
    assert result.errors == []
    assert all(f.code == "GL000" for f in result.findings)


# -- isolation: one bad file never hides the others --------------------------------------------------


def test_a_folder_with_one_broken_file_reports_the_others_plus_one_gl000(tmp_path):
    write(tmp_path, "a_train.py", LARGE_LR)
    write(tmp_path, "b_broken.py", "def train(:\n")
    write(tmp_path, "c_binary.py", b"x = '\xff'\n")
    write(tmp_path, "d_train.py", LARGE_LR)
    assert findings_for(tmp_path) == [
        ("a_train.py", "GL202", 2, 13),
        ("b_broken.py", "GL000", 1, 11),
        ("c_binary.py", "GL000", 1, 6),  # the column of the bad byte
        ("d_train.py", "GL202", 2, 13),
    ]


def test_a_check_that_raises_is_an_internal_error_and_the_rest_still_run(tmp_path, monkeypatch):
    from gradlint import checks

    real = checks.load

    def load(code):
        if code == "GL101":
            def explode(facts, settings):
                raise RuntimeError("boom")
                yield  # pragma: no cover
            return explode
        return real(code)

    monkeypatch.setattr(checks, "load", load)
    path = write(tmp_path, "train.py", LARGE_LR)
    result = lint_paths([path])
    assert codes_and_lines(result.findings) == [("GL202", 2)]
    assert [(e.code, e.message) for e in result.errors] == [("GL101", "RuntimeError: boom")]


# -- the process pool ---------------------------------------------------------------------------------


def test_pool_gives_the_same_sorted_findings_as_one_process(tmp_path):
    count = engine.POOL_THRESHOLD + 8
    for i in range(count):
        write(tmp_path, f"script_{i:02d}.py", LARGE_LR if i % 3 else "def broken(:\n")
    settings = config.Settings(
        select=("ALL",),
        thresholds=config.Thresholds(lr_limits=config.FrozenDict({**config.DEFAULT_LR_LIMITS, "SGD": 4.0})),
    )
    from gradlint import discovery

    files = discovery.discover([str(tmp_path)], settings)
    serial = engine.run(files, settings, jobs=1)
    pooled = engine.run(files, settings, jobs=2)
    assert pooled.errors == serial.errors == []
    assert [(f.path, f.code, f.span) for f in pooled.findings] == [(f.path, f.code, f.span) for f in serial.findings]
    assert len(pooled.findings) == count
    assert [f.sort_key for f in pooled.findings] == sorted(f.sort_key for f in pooled.findings)
