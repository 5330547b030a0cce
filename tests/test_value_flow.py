"""Values that travel through the file's own functions: a helper's return value is what it returns."""

from __future__ import annotations

from conftest import codes_and_lines


def test_a_helper_returning_a_softmax_fed_to_cross_entropy(lint):
    findings = lint("""
        import torch.nn as nn
        import torch.nn.functional as F

        def probabilities(logits):
            return F.softmax(logits, dim=-1)

        def loss_fn(logits, target):
            return nn.CrossEntropyLoss()(probabilities(logits), target)
    """, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 8)]
    assert "probabilities returns F.softmax" in findings[0].message


def test_a_method_returning_a_sigmoid_fed_to_bce_with_logits(lint):
    findings = lint("""
        import torch
        import torch.nn as nn

        class Discriminator(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 1)
                self.loss = nn.BCEWithLogitsLoss()

            def score(self, x):
                return torch.sigmoid(self.fc(x))

            def training_loss(self, x, y):
                return self.loss(self.score(x), y)
    """, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 14)]


def test_sqrt_of_a_helper_sum_of_squares(lint):
    findings = lint("""
        import torch

        def energy(x):
            return x.pow(2).sum(dim=-1)

        def rms(x):
            return torch.sqrt(energy(x))
    """, select=("GL403",))
    assert codes_and_lines(findings) == [("GL403", 7)]


def test_a_helper_that_returns_logits_is_clean_and_an_imported_one_is_not_guessed(lint):
    assert lint("""
        import torch.nn as nn
        import torch.nn.functional as F
        from utils import probabilities

        def logits_of(model, x):
            return model(x)

        def loss_fn(model, x, target):
            return nn.CrossEntropyLoss()(logits_of(model, x), target) + F.cross_entropy(probabilities(x), target)
    """, select=("GL402",)) == []


def test_the_model_is_a_parameter_bound_at_the_files_call_sites(lint):
    source = """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(10, 1)
                self.sigmoid = nn.Sigmoid()

            def forward(self, x):
                return self.sigmoid(self.fc(x))

        def train(model, loader, optimizer):
            criterion = nn.BCEWithLogitsLoss()
            for x, y in loader:
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()

        def main():
            model = Net()
            train(model, [], torch.optim.SGD(model.parameters(), lr=0.1))
    """
    findings = lint(source, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 17)]
    assert "Net.forward returns" in findings[0].message
    # A call site that passes something else (unknown) leaves the parameter unknown: no guess.
    other = source + "\n\ndef finetune(backbone):\n    train(backbone, [], None)\n"
    assert lint(other, select=("GL402",)) == []
