"""The cache lives in a folder gradlint owns, holds data (never code), and cannot lose a user's file.

Given a hostile or careless setting (cache-dir = "." or a source folder), a planted pickle, a
wrong-shaped JSON entry, a FIFO at the cache path or a failing write, gradlint refuses with one line
(exit 2) or treats the cache as a miss — and every user file is still there afterwards.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

from gradlint import cache, config, discovery, engine

SCRIPT = "import torch\nopt = torch.optim.SGD(model.parameters(), lr=10)\n"


def gradlint(*args, cwd, timeout=60):
    return subprocess.run([sys.executable, "-m", "gradlint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "README.md").write_text("# my project\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text("import torch\n")
    (tmp_path / "notes.txt").write_text("uncommitted work\n")
    return tmp_path


def files_of(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("where", [".", "src"])
def test_clean_refuses_a_folder_gradlint_did_not_create(project, where):
    before = files_of(project)
    done = gradlint("clean", "--cache-dir", where, cwd=project)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert ("did not create" in done.stderr) if where == "src" else ("is the folder" in done.stderr)
    assert files_of(project) == before


def test_a_cache_dir_that_is_the_project_is_refused_before_anything_is_written(project):
    (project / "pyproject.toml").write_text('[tool.gradlint]\ncache-dir = "."\n')
    before = files_of(project)
    done = gradlint("train.py", cwd=project)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cache-dir" in done.stderr
    assert files_of(project) == before  # no .gitignore with "*" hiding new files from git
    done = gradlint("clean", cwd=project)
    assert done.returncode == 2 and files_of(project) == before


def test_a_source_folder_with_other_files_is_refused_as_cache_dir(project):
    done = gradlint("--cache-dir", "src", "train.py", cwd=project)
    assert done.returncode == 2 and "did not create" in done.stderr
    assert files_of(project / "src") == ["model.py"]


def test_the_cache_folder_is_marked_and_clean_removes_only_what_gradlint_wrote(project):
    assert gradlint("train.py", cwd=project).returncode == 1
    folder = project / ".gradlint_cache"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert [p.suffix for p in folder.glob("*.json")] == [".json"]
    (folder / "mine.txt").write_text("a user put this here")
    done = gradlint("clean", cwd=project)
    assert done.returncode == 0
    assert files_of(folder) == ["mine.txt"]
    assert (project / "README.md").exists() and (project / "notes.txt").exists()
    (folder / "mine.txt").unlink()
    assert gradlint("train.py", cwd=project).returncode == 1
    assert gradlint("clean", cwd=project).returncode == 0 and not folder.exists()


def test_an_empty_folder_can_become_the_cache(project):
    (project / "cache").mkdir()
    assert gradlint("--cache-dir", "cache", "train.py", cwd=project).returncode == 1
    assert cache.is_marked(project / "cache")


def _lint(path, cache_dir):
    settings = config.Settings()
    files = discovery.discover([str(path)], settings)
    return engine.run(files, settings, jobs=1, use_cache=True, cache_dir=cache_dir)


def _codes(result):
    return [(f.code, f.span.row) for f in result.findings]


def test_a_planted_pickle_is_never_loaded(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    folder = tmp_path / "cache"
    assert _codes(_lint(script, folder)) == [("GL202", 2)]
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for stored in folder.glob("*.json"):
        stored.with_suffix(".pickle").write_bytes(pickle.dumps(Exploit()))
        stored.write_bytes(pickle.dumps(Exploit()))
    assert _codes(_lint(script, folder)) == [("GL202", 2)]
    assert not marker.exists()


@pytest.mark.parametrize("entry", [42, None, "x", [], ["digest"], {"path": "train.py"},
                                   {"path": "train.py", "findings": 7, "classes": {}, "digest": None},
                                   {"path": "train.py", "findings": [{"code": "GL202"}], "classes": {}, "digest": None},
                                   {"path": "train.py", "findings": [], "classes": {"A": [1, 2]}, "digest": None}])
def test_a_wrong_shaped_entry_is_a_cache_miss(tmp_path, entry):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    folder = tmp_path / "cache"
    _lint(script, folder)
    digest = engine.content_digest(script.read_bytes())
    for stored in folder.glob("*.json"):
        stored.write_text(json.dumps({"format": 2, "files": {str(script.resolve()): [digest, entry]}}))
    assert _codes(_lint(script, folder)) == [("GL202", 2)]


@pytest.mark.parametrize("document", ["42", "null", '"text"', '{"format": 2, "files": 5}', "[" * 100_000])
def test_a_wrong_shaped_cache_file_is_ignored(tmp_path, document):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    folder = tmp_path / "cache"
    _lint(script, folder)
    for stored in folder.glob("*.json"):
        stored.write_text(document)
    assert _codes(_lint(script, folder)) == [("GL202", 2)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_at_the_cache_path_does_not_hang(project):
    assert gradlint("train.py", cwd=project).returncode == 1
    for stored in (project / ".gradlint_cache").glob("*.json"):
        stored.unlink()
        os.mkfifo(stored)
    done = gradlint("train.py", cwd=project, timeout=60)
    assert done.returncode == 1 and "GL202" in done.stdout


def test_a_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    folder = tmp_path / "cache"

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.json, "dump", full_disk)
    assert _codes(_lint(script, folder)) == [("GL202", 2)]
    assert sorted(p.name for p in folder.iterdir()) == [".gitignore", "CACHEDIR.TAG"]


def test_temp_files_of_killed_runs_are_swept(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    folder = tmp_path / "cache"
    _lint(script, folder)
    stale = folder / ".tmp-killed.json"
    stale.write_text("{")
    os.utime(stale, (0, 0))
    script.write_text(SCRIPT + "\n")
    _lint(script, folder)
    assert not stale.exists()
