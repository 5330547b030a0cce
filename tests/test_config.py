"""[tool.gradlint] in the nearest pyproject.toml, or --config FILE; every error is one line naming the key."""

from __future__ import annotations

import pickle
import textwrap

import pytest
from click.testing import CliRunner

from gradlint import config
from gradlint.cli import main

SCRIPT = '''\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())
optimizer = torch.optim.SGD(model.parameters(), lr=0.6)
adam = torch.optim.Adam(model.parameters(), lr=0.05)
'''
DEFAULT_FINDINGS = ["GL101:4", "GL202:6"]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """repo/pyproject.toml (written by the test) and repo/src/train.py; cwd is repo."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(folder, body: str, name: str = "pyproject.toml"):
    path = folder / name
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def run(*args: str):
    result = CliRunner().invoke(main, ["--output-format", "json", *args])
    return result


def found(result) -> list[str]:
    import json

    assert result.exit_code in (0, 1), result.output
    return [f"{item['code']}:{item['location']['row']}" for item in json.loads(result.stdout)]


def error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


# -- where the config comes from ------------------------------------------------------------------------


def test_defaults_without_any_config(repo):
    assert found(run("src")) == DEFAULT_FINDINGS


def test_nearest_pyproject_walking_up_from_the_linted_path(repo):
    write_config(repo, '''
        [tool.gradlint]
        select = ["GL1"]
    ''')
    assert found(run("src/train.py")) == ["GL101:4"]
    assert found(run("src")) == ["GL101:4"]


def test_a_nearer_pyproject_wins_and_one_without_the_table_is_skipped(repo):
    write_config(repo, '''
        [tool.gradlint]
        select = ["GL1"]
    ''')
    write_config(repo / "src", '''
        [tool.gradlint]
        select = ["GL202"]
    ''')
    assert found(run("src")) == ["GL202:6"]
    write_config(repo / "src", '''
        [project]
        name = "other"
    ''')
    assert found(run("src")) == ["GL101:4"]


def test_config_flag_names_the_file(repo):
    write_config(repo, '''
        [tool.gradlint]
        select = ["GL1"]
    ''')
    other = write_config(repo / "src", '''
        [tool.gradlint]
        ignore = ["GL101"]
    ''', name="pyproject.toml")
    other.rename(repo / "ci.toml")
    write_config(repo, 'ignore = ["GL101"]\n', name="gradlint.toml")
    assert found(run("--config", "gradlint.toml", "src")) == ["GL202:6"]


def test_missing_config_file_is_exit_2(repo):
    assert "nope.toml" in error_line(run("--config", "nope.toml", "src"))


# -- the keys -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ('select = ["GL202"]', ["GL202:6"]),
        ('ignore = ["GL202"]', ["GL101:4"]),
        ('select = ["GL000"]\nextend-select = ["GL101"]', ["GL101:4"]),
        ('exclude = ["src/train.py"]', []),
        ('extend-exclude = ["src"]', []),
        ('[tool.gradlint.per-file-ignores]\n"src/*.py" = ["GL101"]', ["GL202:6"]),
        ('[tool.gradlint.per-file-ignores]\n"tests/*.py" = ["GL101"]', DEFAULT_FINDINGS),
        ('[tool.gradlint.thresholds]\nactivation-stack = 4', ["GL202:6"]),
        ('[tool.gradlint.thresholds.lr-limits]\nSGD = 0.5', ["GL101:4", "GL202:5", "GL202:6"]),
        ('[tool.gradlint.thresholds.lr-limits]\nAdam = 0.1', ["GL101:4"]),
    ],
)
def test_each_key_changes_what_is_reported(repo, body, expected):
    write_config(repo, "[tool.gradlint]\n" + body + "\n")
    assert found(run("src")) == expected


def test_cli_flags_override_the_file(repo):
    write_config(repo, '''
        [tool.gradlint]
        select = ["GL101"]
    ''')
    assert found(run("--select", "GL202", "src")) == ["GL202:6"]
    assert found(run("--ignore", "GL101", "src")) == []
    assert found(run("--extend-select", "GL202", "src")) == DEFAULT_FINDINGS


@pytest.mark.parametrize(
    "body, key",
    [
        ("colour = true", "tool.gradlint.colour"),
        ('select = "GL202"', "tool.gradlint.select"),
        ("select = [202]", "tool.gradlint.select"),
        ('select = ["GL999"]', "tool.gradlint.select"),
        ('ignore = ["XY1"]', "tool.gradlint.ignore"),
        ('extend-select = ["GL9"]', "tool.gradlint.extend-select"),
        ("exclude = 3", "tool.gradlint.exclude"),
        ("per-file-ignores = 3", "tool.gradlint.per-file-ignores"),
        ('[tool.gradlint.per-file-ignores]\n"a.py" = ["GL777"]', "tool.gradlint.per-file-ignores.a.py"),
        ("thresholds = 3", "tool.gradlint.thresholds"),
        ('[tool.gradlint.thresholds]\nactivation-stack = "three"', "tool.gradlint.thresholds.activation-stack"),
        ("[tool.gradlint.thresholds]\nactivation-stack = 2.5", "tool.gradlint.thresholds.activation-stack"),
        ("[tool.gradlint.thresholds]\nactivation-stack = 0", "tool.gradlint.thresholds.activation-stack"),
        ("[tool.gradlint.thresholds]\nactivation-stack = true", "tool.gradlint.thresholds.activation-stack"),
        ("[tool.gradlint.thresholds]\nstack = 3", "tool.gradlint.thresholds.stack"),
        ("[tool.gradlint.thresholds]\nlr-limits = 1.0", "tool.gradlint.thresholds.lr-limits"),
        ('[tool.gradlint.thresholds.lr-limits]\nSGD = "big"', "tool.gradlint.thresholds.lr-limits.SGD"),
        ("[tool.gradlint.thresholds.lr-limits]\nAdam = -1", "tool.gradlint.thresholds.lr-limits.Adam"),
        ("[tool.gradlint.thresholds.lr-limits]\nSgd = 0.5", "tool.gradlint.thresholds.lr-limits.Sgd"),
        ('output-format = "xml"', "tool.gradlint.output-format"),
        ('respect-gitignore = "yes"', "tool.gradlint.respect-gitignore"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(repo, body, key):
    write_config(repo, "[tool.gradlint]\n" + body + "\n")
    line = error_line(run("src"))
    assert key in line
    assert line.startswith("gradlint: error: ") and "pyproject.toml" in line


def test_invalid_toml_is_exit_2_without_a_traceback(repo):
    write_config(repo, '''
        [tool.gradlint]
        select = ["GL101"
    ''')
    line = error_line(run("src"))
    assert "pyproject.toml" in line and "TOML" in line


def test_invalid_toml_in_a_config_flag_file(repo):
    write_config(repo, "select = = 1\n", name="bad.toml")
    assert "bad.toml" in error_line(run("--config", "bad.toml", "src"))


def test_settings_survive_the_process_pool():
    # Workers receive Settings by pickling; a read-only mapping that cannot pickle broke every large run.
    settings = config.from_table({"thresholds": {"lr-limits": {"SGD": 0.5}}, "verify": {"device": "cpu"}}, root=".")
    copy = pickle.loads(pickle.dumps(settings))
    assert copy == settings
    assert copy.thresholds.lr_limits["SGD"] == 0.5 and copy.thresholds.lr_limits["Adam"] == 0.01
    with pytest.raises(TypeError):
        copy.thresholds.lr_limits["SGD"] = 2.0  # type: ignore[index]
