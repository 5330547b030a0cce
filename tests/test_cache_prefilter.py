"""The cache and the byte pre-filter change how much work a run does, never what it reports."""

from __future__ import annotations

import json

from conftest import FIXTURES, codes_and_lines

from gradlint import config, discovery, engine

SETTINGS = config.Settings(select=("ALL",))


def _run(paths, **options):
    files = discovery.discover([str(p) for p in paths], SETTINGS)
    return engine.run(files, SETTINGS, jobs=1, **options)


def _report(result):
    return [(f.path, f.code, f.span, f.message) for f in result.findings]


def test_prefilter_loses_nothing_on_the_fixtures():
    assert _report(_run([FIXTURES], prefilter=True)) == _report(_run([FIXTURES], prefilter=False))


def test_a_file_without_ml_tokens_is_not_parsed_but_its_syntax_errors_still_count(tmp_path, monkeypatch):
    (tmp_path / "util.py").write_text("def helper(:\n    return 1\n")
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    parsed = []
    real = engine.lint_source
    monkeypatch.setattr(engine, "lint_source", lambda path, *a, **k: parsed.append(path) or real(path, *a, **k))
    result = _run([tmp_path])
    assert parsed == []
    assert codes_and_lines(result.findings) == [("GL000", 1)]
    assert result.findings[0].path.endswith("util.py")


def test_warm_run_reuses_cached_results_and_a_changed_file_is_relinted(tmp_path, monkeypatch):
    script = tmp_path / "train.py"
    script.write_text("import torch\nopt = torch.optim.SGD(params, lr=5.0)\n")
    cache_dir = tmp_path / "cache"
    cold = _run([script], use_cache=True, cache_dir=cache_dir)
    assert codes_and_lines(cold.findings) == [("GL202", 2)]
    assert (cache_dir / ".gitignore").read_text().strip().endswith("*")

    calls = []
    real = engine.lint_file
    monkeypatch.setattr(engine, "lint_file", lambda path, *a, **k: calls.append(path) or real(path, *a, **k))
    warm = _run([script], use_cache=True, cache_dir=cache_dir)
    assert calls == [] and _report(warm) == _report(cold)

    script.write_text("import torch\nopt = torch.optim.SGD(params, lr=0.5)\n")
    changed = _run([script], use_cache=True, cache_dir=cache_dir)
    assert calls == [script] and changed.findings == []


def test_a_corrupt_cache_is_ignored_not_trusted(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import torch\nopt = torch.optim.Adam(params, lr=0.5)\n")
    cache_dir = tmp_path / "cache"
    _run([script], use_cache=True, cache_dir=cache_dir)
    for stored in cache_dir.glob("*.json"):
        stored.write_bytes(b'{"format": 2, "files": {')
    assert codes_and_lines(_run([script], use_cache=True, cache_dir=cache_dir).findings) == [("GL202", 2)]
    for stored in cache_dir.glob("*.json"):
        stored.write_text(json.dumps({"format": 2, "files": {str(script.resolve()): ["not-the-hash", "junk"]}}))
    assert codes_and_lines(_run([script], use_cache=True, cache_dir=cache_dir).findings) == [("GL202", 2)]


def test_cross_file_findings_survive_a_warm_run(tmp_path):
    project = FIXTURES / "projects" / "seq2seq"
    cache_dir = tmp_path / "cache"
    cold = _run([project], use_cache=True, cache_dir=cache_dir)
    warm = _run([project], use_cache=True, cache_dir=cache_dir)
    assert [f.code for f in cold.findings] == ["GL201"]
    assert _report(warm) == _report(cold)


MODEL_PY = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return {output}


class Logits(Net):
    def forward(self, x):
        return self.fc(x)
"""
TRAIN_PY = """import torch.nn as nn


def fit(model, loader, opt):
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
"""
# No framework token: the pre-filter spares it its parse, yet it is where `fit`'s parameter is bound.
MAIN_PY = """import data
import model
import train

net = model.{cls}()
train.fit(net, data.loader(), data.make_opt(net))
"""


def test_a_parameter_bound_in_a_file_the_prefilter_skips_is_still_followed(tmp_path, monkeypatch):
    (tmp_path / "model.py").write_text(MODEL_PY.format(output="torch.softmax(self.fc(x), dim=1)"))
    (tmp_path / "train.py").write_text(TRAIN_PY)
    (tmp_path / "main.py").write_text(MAIN_PY.format(cls="Net"))
    parsed = []
    real = engine.lint_source
    monkeypatch.setattr(engine, "lint_source", lambda path, *a, **k: parsed.append(path) or real(path, *a, **k))
    filtered = _run([tmp_path])
    assert not any(p.endswith("main.py") for p in parsed)  # still not linted: only summarised, for the finding
    assert [(f.path.rpartition("/")[2], f.code, f.span.row) for f in filtered.findings] == [("train.py", "GL402", 8)]
    assert "→ Net.forward returns torch.softmax(self.fc(x), dim=1) (model.py:11)" in filtered.findings[0].message
    assert _report(filtered) == _report(_run([tmp_path], prefilter=False))
    cache_dir = tmp_path.parent / f"{tmp_path.name}-cache"
    cold = _run([tmp_path], use_cache=True, cache_dir=cache_dir)
    warm = _run([tmp_path], use_cache=True, cache_dir=cache_dir)
    assert _report(cold) == _report(warm) == _report(filtered)


def test_a_parameter_bound_in_a_skipped_file_to_a_logits_model_is_clean(tmp_path):
    (tmp_path / "model.py").write_text(MODEL_PY.format(output="torch.softmax(self.fc(x), dim=1)"))
    (tmp_path / "train.py").write_text(TRAIN_PY)
    (tmp_path / "main.py").write_text(MAIN_PY.format(cls="Logits"))
    assert _run([tmp_path]).findings == [] == _run([tmp_path], prefilter=False).findings
