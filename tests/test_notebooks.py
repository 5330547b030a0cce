"""Notebooks lint like scripts: code cells joined, IPython syntax masked, findings mapped to cells."""

from __future__ import annotations

import json

from conftest import FIXTURES, lint_paths

NOTEBOOKS = FIXTURES / "notebooks"


def _cells_and_rows(findings):
    return [(f.code, f.cell, f.span.row) for f in findings]


def _expected(path):
    """`# expect: GLxxx` comments inside the notebook's code cells, as (code, cell, row in cell)."""
    expected = []
    for index, cell in enumerate(json.loads(path.read_text())["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        for row, line in enumerate("".join(cell["source"]).splitlines(), start=1):
            if "# expect:" in line:
                for code in line.split("# expect:")[1].split(","):
                    expected.append((code.strip(), index, row))
    return expected


def test_findings_point_at_the_cell_and_the_row_within_it():
    notebook = NOTEBOOKS / "bad_char_rnn.ipynb"
    findings = lint_paths([notebook]).findings
    assert _cells_and_rows(findings) == _expected(notebook) == [("GL202", 4, 3), ("GL201", 5, 6)]
    assert findings[0].where.endswith("bad_char_rnn.ipynb:cell 4:3:13")


def test_magics_shell_escapes_and_help_never_cause_gl000():
    assert lint_paths([NOTEBOOKS / "clean_mnist_cnn.ipynb"]).findings == []


def test_suppression_inside_a_cell(tmp_path):
    source = json.loads((NOTEBOOKS / "bad_char_rnn.ipynb").read_text())
    source["cells"][3]["source"][2] = "optimizer = torch.optim.SGD(model.parameters(), lr=4.0)  # noqa: GL202\n"
    path = tmp_path / "suppressed.ipynb"
    path.write_text(json.dumps(source))
    assert [f.code for f in lint_paths([path]).findings] == ["GL201"]


def test_invalid_notebooks_are_one_gl000_each(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "nocells.ipynb").write_text('{"metadata": {}}')
    findings = lint_paths([tmp_path / "broken.ipynb", tmp_path / "nocells.ipynb"]).findings
    assert [(f.code, f.path.rsplit("/", 1)[-1]) for f in findings] == [("GL000", "broken.ipynb"), ("GL000", "nocells.ipynb")]
    assert "not JSON" in findings[0].message and "cells" in findings[1].message


def test_a_syntax_error_in_a_cell_is_located_in_that_cell(tmp_path):
    source = {"cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["import torch\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["x = (1,\n", "y = 2\n"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "syntax.ipynb"
    path.write_text(json.dumps(source))
    findings = lint_paths([path]).findings
    assert [(f.code, f.cell) for f in findings] == [("GL000", 2)]


def test_folders_discover_notebooks_and_the_cli_names_the_cell(tmp_path):
    import shutil

    from click.testing import CliRunner

    from gradlint.cli import main

    shutil.copy(NOTEBOOKS / "bad_char_rnn.ipynb", tmp_path / "train.ipynb")
    runner = CliRunner()
    text = runner.invoke(main, ["--no-cache", str(tmp_path)])
    assert text.exit_code == 1
    assert f"{tmp_path}/train.ipynb:cell 4:3:13: GL202" in text.output
    assert "in the loop at cell 5, line 2" in text.output
    assert " 3 | optimizer = torch.optim.SGD(model.parameters(), lr=4.0)" in text.output
    listed = json.loads(runner.invoke(main, ["--no-cache", "--output-format", "json", str(tmp_path)]).output)
    assert [(item["code"], item["cell"], item["location"]["row"]) for item in listed] == [("GL202", 4, 3), ("GL201", 5, 6)]


def _notebook(cells):
    return {"cells": [
        {"cell_type": "code", "execution_count": 1, "metadata": {"tags": ["keep"]},
         "outputs": [{"name": "stdout", "output_type": "stream", "text": ["loss 0.1\n"]}],
         "source": source} for source in cells],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}


def test_fix_rewrites_only_the_changed_cell_source(tmp_path):
    from click.testing import CliRunner

    from gradlint.cli import main

    cells = [["import torch\n", "import torch.nn.functional as F\n"],
             ["%time\n", "logp = torch.log(F.softmax(logits, dim=-1))\n"],
             ["print('untouched')"]]
    path = tmp_path / "nb.ipynb"
    before = json.dumps(_notebook(cells), indent=1, ensure_ascii=False) + "\n"
    path.write_text(before, encoding="utf-8")
    result = CliRunner().invoke(main, ["--no-cache", "--fix", str(path)])
    assert result.exit_code == 0, result.output
    after = path.read_text(encoding="utf-8")
    fixed = json.loads(after)
    assert fixed["cells"][1]["source"] == ["%time\n", "logp = F.log_softmax(logits, dim=-1)\n"]
    expected = json.loads(before)
    expected["cells"][1]["source"] = fixed["cells"][1]["source"]
    assert after == json.dumps(expected, indent=1, ensure_ascii=False) + "\n"  # every other byte as it was
    old_line = '    "logp = torch.log(F.softmax(logits, dim=-1))\\n"'
    new_line = '    "logp = F.log_softmax(logits, dim=-1)\\n"'
    assert before.replace(old_line, new_line) == after
    assert CliRunner().invoke(main, ["--no-cache", "--fix", str(path)]).exit_code == 0
    assert path.read_text(encoding="utf-8") == after  # idempotent


def test_fix_leaves_a_notebook_in_another_json_layout_alone(tmp_path):
    from click.testing import CliRunner

    from gradlint.cli import main

    path = tmp_path / "nb.ipynb"
    compact = json.dumps(_notebook([["import torch\n", "y = torch.log(torch.softmax(x, -1))\n"]]))
    path.write_text(compact, encoding="utf-8")
    result = CliRunner().invoke(main, ["--no-cache", "--fix", str(path)])
    assert path.read_text(encoding="utf-8") == compact
    assert "not in Jupyter's JSON layout" in result.stderr


def test_ipython_syntax_that_real_notebooks_use_never_causes_gl000(tmp_path):
    cells = [
        [" from IPython.display import Image\n", " Image(filename='fig.png', width=600)\n"],  # indented cell
        ["%%writefile person.proto\n", "syntax = \"proto3\";\n", "message Person {\n", "  string name = 1;\n", "}\n"],
        ["!saved_model_cli show --dir model \\\n", "    --tag_set serve --signature_def serving_default\n",
         "import torch\n"],
        ["files = !ls *.csv\n", "x = 1\n"],
    ]
    path = tmp_path / "ipython.ipynb"
    path.write_text(json.dumps(_notebook(cells)))
    assert lint_paths([path]).findings == []


def test_findings_in_an_indented_cell_point_at_the_written_column(tmp_path):
    cells = [["  import torch\n", "  opt = torch.optim.SGD(params, lr=5.0)\n"]]
    path = tmp_path / "indented.ipynb"
    path.write_text(json.dumps(_notebook(cells)))
    finding, = lint_paths([path]).findings
    assert (finding.code, finding.cell, finding.span.row, finding.span.column) == ("GL202", 1, 2, 9)


def test_percent_and_bang_inside_brackets_or_strings_are_python_not_magics(tmp_path):
    # Real notebooks (rasbt/deeplearning-models) break a %-format over lines: `%(epoch+1, ...)` continues
    # the open call, so IPython leaves it alone; so must we.
    cells = [
        ["import torch\n", "for epoch in range(3):\n",
         "    print ('Epoch: %03d/%03d | Cost: %.4f'\n", "           %(epoch+1, 3, 0.5))\n"],
        ["text = \"\"\"\n", "%not a magic inside a string\n", "!nor this\n", "\"\"\"\n"],
        ["total = (1 +\n", "         2) \\\n", "    %3\n", "%load_ext autoreload\n"],
        ["pip install torchvision\n", "conda install -y numpy\n", "pip = 3\n", "cd = pip + 1\n"],
    ]
    path = tmp_path / "continued.ipynb"
    path.write_text(json.dumps(_notebook(cells)))
    assert lint_paths([path]).findings == []


def test_a_real_syntax_error_after_a_continued_percent_line_is_still_found(tmp_path):
    cells = [["x = (1\n", "     %(2))\n", "def broken(:\n", "    pass\n"]]
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps(_notebook(cells)))
    assert _cells_and_rows(lint_paths([path]).findings) == [("GL000", 1, 3)]


def test_text_output_reads_a_notebook_once_however_many_cells_have_findings(tmp_path, monkeypatch):
    # A 1,000-cell notebook took 24 s in the full format (one notebook parse per cell with a finding).
    from gradlint import notebook
    from gradlint.report import text_format

    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": ["import torch\n", "import torch.nn.functional as F\n"]}]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
               "source": [f"y{i} = torch.log(F.softmax(x, dim=1))\n"]} for i in range(40)]
    path = tmp_path / "many.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    findings = lint_paths([path]).findings
    assert len(findings) == 40 and {f.cell for f in findings} == set(range(2, 42))
    loads = []
    real_load = notebook.load
    monkeypatch.setattr(notebook, "load", lambda data: loads.append(1) or real_load(data))
    text_format._cell_sources.cache_clear()
    rendered = [text_format.render_one(f, color=False, show_source=True) for f in findings]
    assert len(loads) == 1
    assert all("torch.log(F.softmax(x, dim=1))" in r for r in rendered)


_PYTHON2 = {"kernelspec": {"display_name": "IPython (Python 2.7)", "language": "python", "name": "python2"},
            "language_info": {"name": "python", "pygments_lexer": "ipython2", "version": "2.7.8"}}


def _tf1_notebook(metadata, print_line):
    """A TF1 tutorial notebook as the old TensorFlow-Examples shipped them: a Python 2 kernel, `print x`."""
    return {"cells": [
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["import tensorflow as tf\n", "a = tf.constant(2)\n", "b = tf.constant(3)\n"]},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
         "source": ["with tf.Session() as sess:\n", f"    {print_line}\n"]},
    ], "metadata": metadata, "nbformat": 4, "nbformat_minor": 0}


def test_a_python2_notebook_that_python3_cannot_parse_is_skipped_in_one_line_not_gl000(tmp_path):
    from click.testing import CliRunner

    from gradlint.cli import main

    (tmp_path / "basic_operations.ipynb").write_text(json.dumps(_tf1_notebook(_PYTHON2, 'print "a+b=%i" % sess.run(a+b)')))
    result = lint_paths([tmp_path])
    assert result.findings == []
    assert result.skipped == [f"{tmp_path}/basic_operations.ipynb: a Python 2.7.8 notebook that Python 3 cannot parse; not linted"]
    run = CliRunner().invoke(main, ["--no-cache", str(tmp_path)])
    assert run.exit_code == 0
    assert "skipped" in run.output and "Python 2.7.8 notebook" in run.output


def test_a_python2_notebook_that_is_also_python3_is_linted_and_a_python3_one_keeps_its_gl000(tmp_path):
    (tmp_path / "py2_valid.ipynb").write_text(json.dumps(_tf1_notebook(_PYTHON2, "print(sess.run(a+b))")))
    python3 = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
               "language_info": {"name": "python", "version": "3.11.4"}}
    (tmp_path / "py3_broken.ipynb").write_text(json.dumps(_tf1_notebook(python3, 'print "a+b=%i" % sess.run(a+b)')))
    result = lint_paths([tmp_path])
    assert [(f.code, f.path.rsplit("/", 1)[-1], f.cell) for f in result.findings] == [("GL000", "py3_broken.ipynb", 2)]
    assert result.skipped == []


def test_ipython_shell_aliases_are_commands_only_where_the_line_is_not_python(tmp_path):
    # NVIDIA DeepLearningExamples' Tacotron2 notebook: a cell that is `ls -l text.txt` (IPython's alias).
    (tmp_path / "aliases.ipynb").write_text(json.dumps(_notebook([
        ["import torch\n", "ls = [1, 2]\n", "print(ls -1)\n"],
        ["ls -l text.txt\n", "mkdir -p checkpoints/run1\n", "rm -rf /tmp/cache\n"],
        ["cat = torch.cat\n", "x = cat([torch.ones(1), torch.ones(1)])\n"],
    ])))
    assert lint_paths([tmp_path]).findings == []
    (tmp_path / "aliases.ipynb").write_text(json.dumps(_notebook([["ls -l text.txt\n", "x = (1,\n"]])))
    assert [(f.code, f.cell, f.span.row) for f in lint_paths([tmp_path]).findings] == [("GL000", 1, 2)]
