"""Which files a run lints: recursion into *.py, .gitignore, exclude, default skips, explicit paths."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from gradlint import config, discovery
from gradlint.cli import main


def make_tree(root, files):
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def discovered(root, *paths, **settings):
    settings.setdefault("root", str(root))
    found = discovery.discover([str(root / p) for p in (paths or (".",))], config.Settings(**settings))
    return sorted(p.resolve().relative_to(root.resolve()).as_posix() for p in found)


@pytest.fixture
def git_repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def test_recurses_into_python_files_only(tmp_path):
    make_tree(tmp_path, ["train.py", "models/net.py", "models/deep/block.py", "README.md", "data.csv", "stub.pyi"])
    assert discovered(tmp_path) == ["models/deep/block.py", "models/net.py", "train.py"]


def test_default_skips(tmp_path):
    make_tree(tmp_path, [
        "train.py", ".hidden/a.py", ".venv/lib/b.py", "venv/c.py", "build/d.py", "dist/e.py",
        "__pycache__/f.py", "myenv/g.py", "pkg/__pycache__/h.py", "node_modules/i.py",
    ])
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert discovered(tmp_path) == ["train.py"]


def test_a_package_called_env_is_linted(tmp_path):
    # RL projects name packages env/ or envs/; only folders with a pyvenv.cfg are virtual environments.
    make_tree(tmp_path, ["env/cartpole.py", "envs/grid.py"])
    assert discovered(tmp_path) == ["env/cartpole.py", "envs/grid.py"]


def test_gitignore_nested_and_negated(git_repo):
    make_tree(git_repo, [
        "train.py", "generated/a.py", "generated/keep.py", "pkg/model.py", "pkg/scratch_tmp.py",
        "pkg/sub/notes.py", "pkg/sub/real.py", "logs/run.py",
    ])
    (git_repo / ".gitignore").write_text("generated/*\n!generated/keep.py\nlogs/\n")
    (git_repo / "pkg" / ".gitignore").write_text("*_tmp.py\n")
    (git_repo / "pkg" / "sub" / ".gitignore").write_text("notes.py\n")
    expected = ["generated/keep.py", "pkg/model.py", "pkg/sub/real.py", "train.py"]
    assert discovered(git_repo) == expected
    # Linting a sub-folder still applies the .gitignore files above it.
    assert discovered(git_repo, "pkg") == ["pkg/model.py", "pkg/sub/real.py"]
    assert discovered(git_repo, "generated") == ["generated/keep.py"]


def test_gitignore_can_be_switched_off(git_repo):
    make_tree(git_repo, ["train.py", "generated/a.py"])
    (git_repo / ".gitignore").write_text("generated/\n")
    assert discovered(git_repo, respect_gitignore=False) == ["generated/a.py", "train.py"]


def test_gitignore_outside_a_repository_is_still_read_below_the_linted_folder(tmp_path):
    make_tree(tmp_path, ["project/train.py", "project/out/a.py"])
    (tmp_path / "project" / ".gitignore").write_text("out/\n")
    assert discovered(tmp_path, "project") == ["project/train.py"]


def test_exclude_and_extend_exclude(tmp_path):
    make_tree(tmp_path, ["train.py", "third_party/lib.py", "experiments/old/x.py", "experiments/new.py"])
    assert discovered(tmp_path, exclude=("third_party",)) == ["experiments/new.py", "experiments/old/x.py", "train.py"]
    assert discovered(tmp_path, exclude=("third_party",), extend_exclude=("experiments/old",)) == [
        "experiments/new.py", "train.py"]
    assert discovered(tmp_path, extend_exclude=("*.py",)) == []


def test_explicit_file_is_linted_even_when_excluded_or_ignored(git_repo):
    make_tree(git_repo, ["generated/a.py", "vendored/b.py", ".hidden/c.py"])
    (git_repo / ".gitignore").write_text("generated/\n")
    assert discovered(git_repo, "generated/a.py") == ["generated/a.py"]
    assert discovered(git_repo, "vendored/b.py", exclude=("vendored",)) == ["vendored/b.py"]
    assert discovered(git_repo, ".hidden/c.py") == [".hidden/c.py"]


def test_force_exclude_applies_exclude_to_explicit_paths(tmp_path):
    make_tree(tmp_path, ["vendored/b.py", "vendored/deep/c.py", "experiments/old/x.py", "train.py", "gen_a.py"])
    settings = {"exclude": ("vendored",), "extend_exclude": ("experiments/old/", "gen_*.py")}
    named = ("vendored/b.py", "vendored/deep/c.py", "experiments/old/x.py", "gen_a.py", "train.py")
    # Without the flag an explicit path is always linted (the old behaviour, kept as the default).
    assert discovered(tmp_path, *named, **settings) == sorted(named)
    found = discovery.discover([str(tmp_path / p) for p in named], config.Settings(root=str(tmp_path), **settings),
                               force_exclude=True)
    assert [p.name for p in found] == ["train.py"]
    folder = discovery.discover([str(tmp_path / "vendored")], config.Settings(root=str(tmp_path), **settings),
                                force_exclude=True)
    assert folder == []


def test_cli_force_exclude_with_relative_paths_as_pre_commit_passes_them(tmp_path, monkeypatch):
    (tmp_path / "vendored").mkdir()
    bad = "import torch\noptimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=10.0)\n"
    (tmp_path / "vendored" / "lib.py").write_text(bad)
    (tmp_path / "train.py").write_text(bad)
    (tmp_path / "pyproject.toml").write_text('[tool.gradlint]\nextend-exclude = ["vendored/"]\n')
    monkeypatch.chdir(tmp_path)
    # Regression: a file pre-commit names explicitly ignored extend-exclude.
    plain = subprocess.run([sys.executable, "-m", "gradlint", "--no-cache", "vendored/lib.py", "train.py"],
                           capture_output=True, text=True, timeout=120)
    assert "vendored/lib.py:2" in plain.stdout
    forced = subprocess.run([sys.executable, "-m", "gradlint", "--no-cache", "--force-exclude", "vendored/lib.py",
                             "train.py"], capture_output=True, text=True, timeout=120)
    assert forced.returncode == 1
    assert "vendored" not in forced.stdout and "train.py:2:" in forced.stdout
    only = subprocess.run([sys.executable, "-m", "gradlint", "--no-cache", "--force-exclude", "vendored/lib.py"],
                          capture_output=True, text=True, timeout=120)
    assert only.returncode == 0, only.stdout + only.stderr


def test_a_file_named_twice_is_linted_once(tmp_path):
    make_tree(tmp_path, ["train.py"])
    assert discovered(tmp_path, "train.py", "train.py", ".") == ["train.py"]


def test_missing_path_raises(tmp_path):
    with pytest.raises(discovery.DiscoveryError, match="no such file or directory"):
        discovered(tmp_path, "missing.py")


def test_symlink_loop_terminates(tmp_path):
    make_tree(tmp_path, ["pkg/model.py"])
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "self")
    os.symlink(tmp_path / "nowhere.py", tmp_path / "dangling.py")
    assert discovered(tmp_path) == ["pkg/model.py"]


def test_unreadable_file_is_a_finding_not_a_crash(tmp_path, monkeypatch):
    make_tree(tmp_path, ["ok.py"])
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("running as a user who can read mode-000 files (root)")
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(main, ["--select", "GL000", "."])
        assert result.exit_code == 1
        assert "secret.py:1:1: GL000 cannot read file" in result.output
    finally:
        secret.chmod(0o644)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    """The same, for any user: reading the file fails with PermissionError."""
    import os
    from pathlib import Path

    make_tree(tmp_path, ["ok.py", "secret.py"])
    real = os.open

    def guarded_open(path, *args, **kwargs):
        if Path(path).name == "secret.py":
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--select", "GL000", "."])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "secret.py:1:1: GL000 cannot read file: Permission denied"


def test_cli_missing_path_among_good_ones(tmp_path, monkeypatch):
    make_tree(tmp_path, ["train.py"])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["train.py", "missing/"])
    assert result.exit_code == 2
    assert result.output.strip() == "gradlint: error: missing/: no such file or directory"
