"""GL403 unguarded-singularity: division by a norm/std, sqrt of a sum of squares, log of a possible zero."""

from conftest import codes_and_lines


def test_division_by_a_norm_directly_and_through_a_variable(lint):
    findings = lint('''
        import torch
        def normalize(x, y):
            a = x / x.norm(dim=-1, keepdim=True)
            n = torch.linalg.norm(y, dim=1, keepdim=True)
            y = y / n
            y /= torch.norm(y)
            return a, y
    ''')
    assert codes_and_lines(findings) == [("GL403", 3), ("GL403", 5), ("GL403", 6)]
    assert "`n` = torch.linalg.norm(y, dim=1, keepdim=True) in line 4" in findings[1].message


def test_sqrt_of_sums_of_squares_in_every_spelling(lint):
    findings = lint('''
        import torch
        def distances(a, b, x):
            d1 = torch.sqrt(((a - b) ** 2).sum(dim=1))
            d2 = torch.sqrt(torch.sum(x * x))
            d3 = x.pow(2).sum().sqrt()
            var = x.var(dim=0)
            d4 = torch.sqrt(var)
            return d1, d2, d3, d4
    ''')
    assert codes_and_lines(findings) == [("GL403", 3), ("GL403", 4), ("GL403", 5), ("GL403", 7)]


def test_log_of_relu_variance_and_division_by_std(lint):
    findings = lint('''
        import torch
        import torch.nn.functional as F
        def f(x, r):
            a = torch.log(F.relu(x))
            b = x.std(dim=0).log()
            adv = (r - r.mean()) / r.std()
            return a, b, adv
    ''')
    assert codes_and_lines(findings) == [("GL403", 4), ("GL403", 5), ("GL403", 6)]


def test_guards_are_recognised(lint):
    assert lint('''
        import torch
        import torch.nn.functional as F
        def f(x, r, eps=1e-8):
            a = x / (x.norm(dim=-1, keepdim=True) + eps)
            b = x / x.norm(dim=-1, keepdim=True).clamp(min=eps)
            c = F.normalize(x, dim=-1)
            d = torch.sqrt((x ** 2).sum() + eps)
            e = torch.linalg.vector_norm(x)
            f = (r - r.mean()) / (r.std() + eps)
            g = torch.log(F.relu(x) + eps)
            n = x.norm()
            if n > 0:
                x = x / n
            m = r.norm(dim=1)
            m[m == 0] = 1.0
            r = r / m
            h = torch.log(torch.exp(x))
            return a, b, c, d, e, f, g, h
    ''') == []


def test_gradient_free_computations_are_skipped(lint):
    assert lint('''
        import torch
        def logging(model, x):
            total = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))
            g = torch.sqrt((model.weight.grad ** 2).sum())
            with torch.no_grad():
                z = x / x.norm()
                d = torch.sqrt((x ** 2).sum())
            return total, g, z, d
        @torch.no_grad()
        def evaluate(x):
            return x / x.norm(dim=-1, keepdim=True)
    ''') == []


def test_divisions_spelled_as_calls(lint):
    findings = lint('''
        import torch
        def f(x, y):
            a = x.div(x.norm(p=2, dim=1, keepdim=True))
            b = torch.div(y, y.norm())
            c = x.div(x.norm(p=2, dim=1, keepdim=True).clamp(min=1e-12))
            return a, b, c
    ''')
    assert codes_and_lines(findings) == [("GL403", 3), ("GL403", 4)]


def test_numpy_only_scripts_are_never_differentiated(lint):
    assert lint('''
        import numpy as np

        X = np.loadtxt("iris.csv")
        X_std = np.copy(X)
        X_std[:, 0] = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
        unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    ''') == []


def test_numpy_and_pandas_values_in_a_framework_script_are_data(lint):
    assert lint('''
        import pandas as pd
        import numpy as np
        import tensorflow as tf

        df = pd.read_csv("housing.csv")
        normalized = (df - df.mean()) / df.std()
        x = np.array([0, 1, 2, 3])
        z = (x - x.mean()) / x.std()
        model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    ''') == []


def test_normalising_what_a_learned_module_returns_is_not_a_singularity(lint):
    # openai/CLIP and diffusers' CLIP guidance: an embedding is all-zero with probability zero.
    findings = lint("""
        import torch

        class Guide:
            def cond_fn(self, image, text_features):
                image_embeddings = self.clip_model.get_image_features(image)
                image_embeddings = image_embeddings / image_embeddings.norm(p=2, dim=-1, keepdim=True)
                feats = self.encode_image(image).float()
                feats = feats / feats.norm(dim=-1, keepdim=True)
                return (image_embeddings * text_features).sum()

        def lpips_normalize(in_feat):
            norm_factor = torch.sqrt(torch.sum(in_feat ** 2, dim=1, keepdim=True))
            return in_feat / norm_factor

        def unit(relu_map):
            return relu_map / relu_map.norm(dim=1, keepdim=True)
    """, select=("GL403",))
    # A ReLU feature map (LPIPS) or an arbitrary tensor can be all-zero: still reported.
    assert codes_and_lines(findings) == [("GL403", 12), ("GL403", 16)]
