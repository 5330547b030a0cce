"""Hierarchical config, as ruff does it: each file gets the nearest config file in its folders, `extend`
inherits another one, the command line overrides every file's config (`--select` over a file's `ignore`),
`--config KEY=VALUE`, `--isolated`, `--show-settings`, `--show-files`; every section is validated by
every command, and every error names the key and the file."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradlint import config
from gradlint.cli import main

# GL101 on line 4 (three sigmoids), GL202 on line 6 (Adam lr=0.05 with no schedule).
SCRIPT = '''\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())
optimizer = torch.optim.SGD(model.parameters(), lr=0.6)
adam = torch.optim.Adam(model.parameters(), lr=0.05)
'''


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """tmp/a/train.py and tmp/b/train.py (same script); cwd is tmp."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.py").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    config.clear_cache()
    return tmp_path


def write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def gradlint(*args: str):
    return CliRunner().invoke(main, list(args))


def found(*args: str) -> list[str]:
    result = gradlint("--output-format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return [f"{Path(item['filename']).parent.name}/{Path(item['filename']).name}:{item['code']}:{item['location']['row']}"
            for item in json.loads(result.stdout)]


def error_line(*args: str) -> str:
    result = gradlint(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("gradlint: error: ")
    return lines[0]


# -- each file gets its nearest config -------------------------------------------------------------------


def test_each_folder_uses_its_own_config_whatever_the_order_of_the_paths(tree):
    write(tree / "a" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    write(tree / "b" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL202"]\n')
    expected = ["a/train.py:GL101:4", "b/train.py:GL202:6"]
    # Regression: the first path's config used to apply to every file, so the two orders differed.
    assert found("a", "b") == expected
    assert found("b", "a") == expected
    assert found(".") == expected


def test_a_folder_without_config_uses_the_nearest_one_above(tree):
    write(tree / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    write(tree / "b" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL202"]\n')
    assert found(".") == ["a/train.py:GL101:4", "b/train.py:GL202:6"]


def test_a_pyproject_without_the_table_is_skipped_but_a_gradlint_toml_always_counts(tree):
    write(tree / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    write(tree / "a" / "pyproject.toml", '[project]\nname = "a"\n')
    write(tree / "b" / "gradlint.toml", "# the defaults, on purpose\n")
    assert found(".") == ["a/train.py:GL101:4", "b/train.py:GL101:4", "b/train.py:GL202:6"]


def test_in_one_folder_dot_gradlint_toml_beats_gradlint_toml_beats_pyproject(tree):
    write(tree / "a" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    assert found("a") == ["a/train.py:GL101:4"]
    write(tree / "a" / "gradlint.toml", 'select = ["GL202"]\n')
    assert found("a") == ["a/train.py:GL202:6"]
    write(tree / "a" / ".gradlint.toml", 'select = ["GL000"]\n')
    assert found("a") == []


def test_per_file_ignores_are_relative_to_the_config_that_declares_them(tree):
    write(tree / "b" / "pyproject.toml", '''
        [tool.gradlint.per-file-ignores]
        "train.py" = ["GL101"]
    ''')
    assert found(".") == ["a/train.py:GL101:4", "a/train.py:GL202:6", "b/train.py:GL202:6"]


def test_exclude_is_relative_to_the_config_that_declares_it(tree):
    write(tree / "b" / "legacy" / "old.py", SCRIPT)
    write(tree / "b" / "pyproject.toml", '[tool.gradlint]\nextend-exclude = ["legacy"]\n')
    write(tree / "a" / "legacy" / "old.py", SCRIPT)
    listed = gradlint("--show-files", ".")
    assert listed.exit_code == 0, listed.output
    names = [Path(line).relative_to(tree).as_posix() for line in listed.output.splitlines()]
    assert names == ["a/legacy/old.py", "a/train.py", "b/train.py"]


# -- extend ----------------------------------------------------------------------------------------------


def test_extend_inherits_and_overrides_key_by_key(tree):
    write(tree / "pyproject.toml", '''
        [tool.gradlint]
        ignore = ["GL202"]

        [tool.gradlint.thresholds]
        activation-stack = 4

        [tool.gradlint.per-file-ignores]
        "b/*.py" = ["GL101"]
    ''')
    write(tree / "a" / "pyproject.toml", '''
        [tool.gradlint]
        extend = "../pyproject.toml"

        [tool.gradlint.thresholds]
        clip-norm = 100
    ''')
    # a/ inherits the ignore and the activation-stack threshold (so no GL101 with 3 sigmoids).
    assert found("a") == []
    write(tree / "a" / "pyproject.toml", '''
        [tool.gradlint]
        extend = "../pyproject.toml"
        thresholds = { activation-stack = 3 }
        [tool.gradlint.per-file-ignores]
        "*.py" = []
    ''')
    assert found("a") == ["a/train.py:GL101:4"]
    # The parent's per-file-ignores glob "b/*.py" is relative to the parent's folder.
    write(tree / "b" / "gradlint.toml", 'extend = "../pyproject.toml"\nthresholds = { activation-stack = 3 }\n')
    assert found("b") == []


def test_extend_errors_name_the_key_and_the_file(tree):
    write(tree / "a" / "pyproject.toml", '[tool.gradlint]\nextend = "../missing.toml"\n')
    line = error_line("a")
    assert "tool.gradlint.extend" in line and "a/pyproject.toml" in line and "no such file" in line
    write(tree / "a" / "pyproject.toml", '[tool.gradlint]\nextend = "../b/gradlint.toml"\n')
    write(tree / "b" / "gradlint.toml", 'extend = "../a/pyproject.toml"\n')
    assert "cycle" in error_line("a")


# -- the command line over every file's config -----------------------------------------------------------


def test_cli_select_re_enables_what_the_file_ignores(tree):
    write(tree / "pyproject.toml", '[tool.gradlint]\nignore = ["GL202"]\n')
    assert found("a") == ["a/train.py:GL101:4"]
    # Regression: --select GL202 on the command line did not bring back a rule that the file's ignore drops.
    assert found("--select", "GL202", "a") == ["a/train.py:GL202:6"]


def test_cli_flags_apply_to_every_files_config(tree):
    write(tree / "a" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    write(tree / "b" / "pyproject.toml", '[tool.gradlint]\nselect = ["ALL"]\n')
    assert found("--ignore", "GL101", ".") == ["b/train.py:GL202:6"]
    assert found("--extend-select", "GL202", ".") == [
        "a/train.py:GL101:4", "a/train.py:GL202:6", "b/train.py:GL101:4", "b/train.py:GL202:6"]


def test_a_more_specific_selector_wins_within_one_config(tree):
    write(tree / "pyproject.toml", '[tool.gradlint]\nignore = ["GL2"]\nextend-select = ["GL202"]\n')
    assert found("a") == ["a/train.py:GL101:4", "a/train.py:GL202:6"]


def test_inline_config_overrides_every_config_file(tree):
    write(tree / "a" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    assert found("--config", 'select = ["GL202"]', ".") == ["a/train.py:GL202:6", "b/train.py:GL202:6"]
    assert found("--config", "thresholds.activation-stack = 4", "a") == []
    # With a config file too: the file for every path, the KEY=VALUE over it.
    write(tree / "ci.toml", 'select = ["GL1", "GL2"]\n')
    assert found("--config", "ci.toml", "--config", 'ignore = ["GL101"]', ".") == [
        "a/train.py:GL202:6", "b/train.py:GL202:6"]


def test_bad_inline_config_is_one_line_naming_the_key(tree):
    line = error_line("--config", 'selec = ["GL202"]', "a")
    assert "tool.gradlint.selec" in line and "--config" in line
    assert "GL999" in error_line("--config", 'select = ["GL999"]', "a")
    assert "KEY = VALUE" in error_line("--config", "select = [", "a")


def test_isolated_ignores_every_config_file(tree):
    write(tree / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    write(tree / "b" / "pyproject.toml", '[tool.gradlint]\nnot-a-key = 1\n')
    assert found("--isolated", "a") == ["a/train.py:GL101:4", "a/train.py:GL202:6"]
    assert found("--isolated", "--select", "GL202", ".") == ["a/train.py:GL202:6", "b/train.py:GL202:6"]


def test_stdin_filename_finds_the_config_from_that_name(tree):
    write(tree / "b" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL202"]\n')
    result = CliRunner().invoke(main, ["--output-format", "json", "--stdin-filename", "b/train.py", "-"], input=SCRIPT)
    assert [(f["code"], f["location"]["row"]) for f in json.loads(result.stdout)] == [("GL202", 6)]


# -- every section, every command, every file ------------------------------------------------------------


def test_a_bad_value_in_a_nested_config_names_the_key_and_that_file(tree):
    write(tree / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    write(tree / "b" / "pyproject.toml", '[tool.gradlint.thresholds]\nclip-norm = "big"\n')
    line = error_line(".")
    assert "tool.gradlint.thresholds.clip-norm" in line and "b/pyproject.toml" in line


@pytest.mark.parametrize("command", [(), ("check",), ("clean",)])
def test_a_verify_typo_is_caught_by_every_command(tree, command):
    write(tree / "pyproject.toml", '[tool.gradlint.verify]\ndevce = "cpu"\n')
    # Regression: only `gradlint verify` read [tool.gradlint.verify], so `gradlint check` accepted typos.
    line = error_line(*command, *(("a",) if command != ("clean",) else ()))
    assert "tool.gradlint.verify.devce" in line and "pyproject.toml" in line


def test_show_settings_prints_what_a_file_is_linted_with(tree):
    parent = write(tree / "pyproject.toml", '[tool.gradlint]\nignore = ["GL202"]\n')
    child = write(tree / "b" / "pyproject.toml", '''
        [tool.gradlint]
        extend = "../pyproject.toml"
        [tool.gradlint.thresholds]
        activation-stack = 5
    ''')
    result = gradlint("--show-settings", "--extend-select", "GL102", "b/train.py")
    assert result.exit_code == 0, result.output
    shown = result.output
    assert f'config-file = "{child}"' in shown
    assert f'extends = ["{parent}"]' in shown
    assert "activation-stack = 5" in shown
    enabled = json.loads(next(line for line in shown.splitlines() if line.startswith("enabled = ")).split(" = ", 1)[1])
    assert "GL202" not in enabled and "GL102" in enabled and "GL101" in enabled


def test_settings_for_is_memoised_per_folder(tree):
    write(tree / "a" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL101"]\n')
    resolver = config.Resolver()
    first = resolver.settings_for(tree / "a" / "train.py")
    assert resolver.settings_for(tree / "a" / "other.py") is first
    assert resolver.settings_for(tree / "a") is first
    assert resolver.settings_for(tree / "b" / "train.py") is not first
    assert first.enabled_codes() == {"GL101"}
    assert config.settings_for(tree / "a" / "train.py").config_file == str(tree / "a" / "pyproject.toml")


def test_verbose_says_which_config_each_file_uses(tree):
    write(tree / "b" / "pyproject.toml", '[tool.gradlint]\nselect = ["GL202"]\n')
    result = gradlint("-v", "--no-cache", ".")
    assert "gradlint: 1 file with (defaults: no config file)" in result.stderr
    assert f"gradlint: 1 file with {tree / 'b' / 'pyproject.toml'}" in result.stderr
    assert "gradlint: linted 2 files in " in result.stderr
    assert "gradlint:" not in gradlint("--no-cache", ".").stderr
