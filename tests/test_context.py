"""The context model: rules ask where a call runs (gradients on or off, test code) instead of guessing."""

from __future__ import annotations

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
