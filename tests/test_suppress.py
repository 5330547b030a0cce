"""Suppression comments: given this script, expect these findings to remain."""

from __future__ import annotations

import pytest
from conftest import codes_and_lines

from gradlint import config

HEADER = '''
    import torch
    import torch.nn as nn
    params = torch.nn.Linear(2, 2).parameters()
'''


def remaining(lint, body: str):
    # Every rule but GL001 (unused-noqa), which would flag the comments these tests leave unused on purpose.
    everything_but_gl001 = config.Settings(select=("ALL",), ignore=("GL001",))
    return codes_and_lines(lint(HEADER + body, settings=everything_but_gl001))


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: GL202",
        "# noqa: GL202,GL101",
        "# noqa: GL101, GL202",
        "# noqa",
        "# NOQA:GL202",
        "#noqa:GL202",
        "# gradlint: ignore[GL202]",
        "# gradlint: ignore[GL101, GL202]",
        "# gradlint: ignore",
        "# type: ignore  # noqa: GL202",
    ],
)
def test_comment_silences_the_finding(lint, comment):
    assert remaining(lint, f'''
    optimizer = torch.optim.SGD(params, lr=5.0)  {comment}
    ''') == []


@pytest.mark.parametrize("comment", ["# noqa: GL101", "# gradlint: ignore[GL101]", "# noqa: E501", "# a note"])
def test_a_comment_for_another_code_does_not_silence(lint, comment):
    assert remaining(lint, f'''
    optimizer = torch.optim.SGD(params, lr=5.0)  {comment}
    ''') == [("GL202", 5)]


def test_only_the_named_code_is_silenced_on_a_line(lint):
    assert remaining(lint, '''
    model = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid()); opt = torch.optim.SGD(params, lr=5.0)  # noqa: GL101
    ''') == [("GL202", 5)]


def test_a_comment_on_another_line_does_not_silence(lint):
    assert remaining(lint, '''
    # noqa: GL202
    optimizer = torch.optim.SGD(params, lr=5.0)
    ''') == [("GL202", 6)]


@pytest.mark.parametrize("where", [5, 6, 7, 8])
def test_any_line_of_a_multi_line_call(lint, where):
    lines = [
        "optimizer = torch.optim.SGD(",
        "    params,",
        "    lr=5.0,",
        ")",
    ]
    lines[where - 5] += "  # noqa: GL202"
    assert remaining(lint, "\n    ".join([""] + lines) + "\n") == []


def test_any_line_of_a_multi_line_sequential(lint):
    assert remaining(lint, '''
    model = nn.Sequential(
        nn.Linear(4, 4),
        nn.Sigmoid(),
        nn.Sigmoid(),  # gradlint: ignore[GL101]
        nn.Sigmoid(),
    )
    ''') == []


def test_forward_chain_silenced_on_one_of_its_activations(lint):
    assert remaining(lint, '''
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)

        def forward(self, x):
            x = torch.sigmoid(self.a(x))
            x = torch.sigmoid(self.b(x))
            return torch.sigmoid(self.c(x))  # noqa: GL101
    ''') == []


@pytest.mark.parametrize("line", ["# gradlint: skip-file", "#gradlint:skip-file", "    # gradlint: skip-file"])
def test_skip_file(lint, line):
    assert lint(f'''
    {line}
    import torch

    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=5.0)
    ''') == []


def test_skip_file_inside_a_string_does_not_skip(lint):
    assert codes_and_lines(lint('''
    import torch

    NOTE = "# gradlint: skip-file"
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=5.0)
    ''')) == [("GL202", 4)]


def test_skip_file_also_skips_syntax_errors(lint):
    assert lint('''
    # gradlint: skip-file
    def broken(:
    ''') == []


SKIP_IN_TEXT = [
    pytest.param('"""Training script.\n\n# gradlint: skip-file\n"""\n', id="module-docstring"),
    pytest.param("def helper():\n    '''Doc.\n\n    # gradlint: skip-file\n    '''\n", id="function-docstring"),
    pytest.param('NOTE = """\n# gradlint: skip-file\n"""\n', id="triple-quoted-string"),
    pytest.param("HELP = (\n    '# gradlint: skip-file'\n)\n", id="string-on-its-own-line"),
    pytest.param("x = 1  # gradlint: skip-file\n", id="trailing-comment"),
]
BAD_LR = "import torch\noptimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=5.0)\n"


def gradlint(tmp_path, *args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "gradlint", "--no-cache", "--select", "GL202", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("prefix", SKIP_IN_TEXT)
def test_skip_file_words_in_a_docstring_or_string_do_not_skip_the_file_cli(tmp_path, prefix):
    # Regression: the words on a line of a docstring or string skipped the whole file.
    (tmp_path / "train.py").write_text(prefix + BAD_LR, encoding="utf-8")
    done = gradlint(tmp_path, "train.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "GL202" in done.stdout


@pytest.mark.parametrize("comment", ["# gradlint: skip-file", "    # gradlint: skip-file",
                                     '"""Doc."""\n# gradlint: skip-file'])
def test_skip_file_comment_skips_the_file_cli(tmp_path, comment):
    (tmp_path / "train.py").write_text(comment + "\n" + BAD_LR, encoding="utf-8")
    done = gradlint(tmp_path, "train.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_skip_file_comment_in_a_notebook_cell_cli(tmp_path):
    import json

    def book(first_cell):
        return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": first_cell},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": BAD_LR}]})

    (tmp_path / "comment.ipynb").write_text(book("# gradlint: skip-file\n"), encoding="utf-8")
    (tmp_path / "string.ipynb").write_text(book('"""\n# gradlint: skip-file\n"""\n'), encoding="utf-8")
    done = gradlint(tmp_path, "comment.ipynb", "string.ipynb")
    assert done.returncode == 1
    assert "string.ipynb:cell 2:2:" in done.stdout and "comment.ipynb" not in done.stdout


@pytest.mark.parametrize("text, skips", [
    ("# gradlint: skip-file\ndef broken(:\n", True),  # a syntax error after the comment
    ("x = '''never closed\n# gradlint: skip-file\n", False),  # inside a string that runs to the end
    ("if x:\n        y\n    z\n# gradlint: skip-file\n", True),  # after a bad dedent tokenize stops at
])
def test_skips_file_on_files_tokenize_gives_up_on(text, skips):
    from gradlint.suppress import skips_file

    assert skips_file(text) is skips


def test_with_every_rule_selected_a_comment_for_another_code_is_an_unused_noqa(lint):
    findings = lint(HEADER + """
    optimizer = torch.optim.SGD(params, lr=5.0)  # noqa: GL202, GL101
    """)
    assert codes_and_lines(findings) == [("GL001", 5)]
    assert "no GL101 finding on this line" in findings[0].message
