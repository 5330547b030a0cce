"""The context model: rules ask where a call runs (gradients on or off, test code) instead of guessing."""

from __future__ import annotations

import textwrap

from conftest import codes_and_lines


def test_a_helper_called_only_from_no_grad_code_runs_without_gradients(lint):
    # diffusers' community pipelines: `rescale_noise_cfg` is only called from the @torch.no_grad() __call__.
    findings = lint("""
        import torch

        def rescale_noise_cfg(noise_cfg, noise_pred_text):
            std_text = noise_pred_text.std(dim=list(range(1, noise_pred_text.ndim)), keepdim=True)
            std_cfg = noise_cfg.std(dim=list(range(1, noise_cfg.ndim)), keepdim=True)
            return noise_cfg * (std_text / std_cfg)

        def normalize(x):
            return x / x.norm(dim=-1, keepdim=True)

        class Pipeline:
            def _encode(self, x):
                return x / x.norm(dim=-1, keepdim=True)

            @torch.no_grad()
            def __call__(self, latents, text):
                text = self._encode(text)
                with torch.enable_grad():
                    guided = normalize(latents)  # gradients are back on here
                return rescale_noise_cfg(latents, text)

        def train_step(model, x, opt):
            loss = normalize(model(x)).sum()
            loss.backward()
            opt.step()
    """, select=("GL403",))
    assert codes_and_lines(findings) == [("GL403", 9)]


def test_set_grad_enabled_false_and_inference_mode_switch_gradients_off(lint):
    findings = lint("""
        import torch

        def features(model, x):
            with torch.set_grad_enabled(False):
                f = model(x)
                a = f / f.norm(dim=1, keepdim=True)
            with torch.inference_mode():
                b = f / f.norm(dim=1, keepdim=True)
            with torch.set_grad_enabled(True):
                c = f / f.norm(dim=1, keepdim=True)
            return a, b, c
    """, select=("GL403",))
    assert codes_and_lines(findings) == [("GL403", 10)]


def test_a_helper_also_called_with_gradients_on_is_still_checked(lint):
    findings = lint("""
        import torch

        def unit(x):
            return x / x.norm(dim=-1, keepdim=True)

        @torch.no_grad()
        def evaluate(model, x):
            return unit(model(x))

        def loss_fn(model, x, y):
            return (unit(model(x)) * y).sum()
    """, select=("GL403",))
    assert codes_and_lines(findings) == [("GL403", 4)]


def test_frozen_random_parameters_are_not_a_large_init(lint):
    # LLMs-from-scratch ch03: torch.rand weights with requires_grad=False only illustrate q/k/v in forward (at
    # GPT-2 sizes here: the 3x2 toy of the book is within the small-gain bound, s·√fan_in ≤ 4, anyway).
    findings = lint("""
        import torch

        W_query = torch.nn.Parameter(torch.rand(768, 64), requires_grad=False)
        W_key = torch.nn.Parameter(torch.rand(768, 64))
    """, select=("GL301",))
    assert codes_and_lines(findings) == [("GL301", 4)]


def test_a_notebook_that_never_trains_gets_no_init_findings(tmp_path):
    import json

    from conftest import lint_paths

    cells = [["import torch\n", "W = torch.nn.Parameter(torch.rand(768, 64))\n"], ["print(inputs @ W)\n"]]
    book = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
                      for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "illustration.ipynb"
    path.write_text(json.dumps(book))
    assert lint_paths([path]).findings == []
    cells.append(["opt = torch.optim.SGD([W], lr=0.1)\n", "(inputs @ W).sum().backward()\n", "opt.step()\n"])
    book["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                          "source": cells[-1]})
    path.write_text(json.dumps(book))
    assert [(f.code, f.cell) for f in lint_paths([path], select=("GL301",)).findings] == [("GL301", 1)]


def test_deepspeed_and_a_project_loss_scaler_scale_fp16_losses(lint):
    deepspeed = """
        import deepspeed

        model = build_model().half()
        engine, optimizer, _, _ = deepspeed.initialize(model=model, model_parameters=model.parameters())
        for batch in loader:
            loss = engine(batch)
            engine.backward(loss)
            engine.step()
    """
    assert lint(deepspeed, select=("GL206",)) == []
    convnext = """
        import torch

        def train_one_epoch(model, loader, optimizer, loss_scaler):
            for x, y in loader:
                with torch.cuda.amp.autocast():
                    loss = criterion(model(x), y)
                optimizer.zero_grad()
                loss_scaler(loss, optimizer, clip_grad=1.0, parameters=model.parameters())
    """
    assert lint(convnext, select=("GL206",)) == []
    unscaled = convnext.replace("loss_scaler(loss, optimizer, clip_grad=1.0, parameters=model.parameters())",
                                "loss.backward()\n                optimizer.step()")
    assert codes_and_lines(lint(unscaled, select=("GL206",))) == [("GL206", 5)]


def test_a_weight_overwritten_by_a_checkpoint_load_is_not_its_init(lint):
    # diffusers' diffusion_policy: a randn placeholder, then load_state_dict from the pretrained checkpoint.
    source = """
        import torch
        import torch.nn as nn

        class Policy(nn.Module):
            def __init__(self, path):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(32, 512))
                self.load_state_dict(torch.load(path))
    """
    assert lint(source, select=("GL301",)) == []
    assert codes_and_lines(lint(source.replace("        self.load_state_dict(torch.load(path))\n", ""),
                                select=("GL301",))) == [("GL301", 7)]


def test_a_notebook_that_never_trains_gets_no_singularity_findings(tmp_path):
    # openai/CLIP's Interacting_with_CLIP: features from a no_grad cell normalised in the next, never trained.
    import json

    from conftest import lint_paths

    cells = [["import torch\n", "with torch.no_grad():\n", "    feats = model.encode_image(images).float()\n"],
             ["feats /= feats.norm(dim=-1, keepdim=True)\n"]]
    book = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
                      for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "interacting.ipynb"
    path.write_text(json.dumps(book))
    assert lint_paths([path]).findings == []


def test_a_unit_test_that_does_not_really_train_gets_no_training_findings(tmp_path):
    from conftest import lint_paths

    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_checkpoint.py").write_text('''import torch
import torch.nn as nn


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(8, 8))


def test_resume_restores_the_optimizer():
    model = Toy()
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    with torch.no_grad():
        model.weight.fill_(2.0)
    model.weight.sum().backward()
    opt.step()
''')
    assert lint_paths([tests]).findings == []
    # A test that trains over data is training code: it is checked like any script.
    (tests / "test_convergence.py").write_text('''import torch


def test_loss_goes_down(model, loader):
    opt = torch.optim.SGD(model.parameters(), lr=5.0)
    for x, y in loader:
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
''')
    assert [(f.code, f.span.row) for f in lint_paths([tests]).findings] == [("GL202", 5)]


def test_an_uncalled_helper_of_an_inference_only_module_runs_without_gradients(lint):
    source = """
        import torch

        def rescale_noise_cfg(noise_cfg, noise_pred_text):
            std_text = noise_pred_text.std(dim=[1, 2, 3], keepdim=True)
            std_cfg = noise_cfg.std(dim=[1, 2, 3], keepdim=True)
            return noise_cfg * (std_text / std_cfg)

        class Pipeline:
            @torch.no_grad()
            def __call__(self, latents):
                return self.unet(latents)
    """
    assert lint(source, select=("GL403",)) == []
    # The same helper in a module that trains may be called with gradients on from elsewhere.
    training = textwrap.dedent(source) + "\n\ndef train(model, opt, x):\n    model(x).sum().backward()\n    opt.step()\n"
    assert codes_and_lines(lint(training, select=("GL403",))) == [("GL403", 6)]
