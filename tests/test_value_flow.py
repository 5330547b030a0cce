"""Values that travel through the file's own functions: a helper's return value is what it returns."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

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


def test_a_model_built_by_add_module_and_called_through_forward(lint):
    # The PyTorch-Mini-Tutorials shape: an empty Sequential grown with add_module, returned by a builder,
    # passed to train() with the loss, and both called through `.forward(...)`.
    findings = lint("""
        import torch
        from torch import optim

        def build_model(input_dim, output_dim):
            model = torch.nn.Sequential()
            model.add_module("linear", torch.nn.Linear(input_dim, output_dim, bias=False))
            model.add_module("softmax", torch.nn.Softmax(dim=1))
            return model

        def train(model, loss, optimizer, x, y):
            optimizer.zero_grad()
            fx = model.forward(x)
            output = loss.forward(fx, y)
            output.backward()
            optimizer.step()

        def main(batches):
            model = build_model(784, 10)
            loss = torch.nn.CrossEntropyLoss()
            optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            for x, y in batches:
                train(model, loss, optimizer, x, y)
    """, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 13)]
    message = findings[0].message
    assert "train(model=…) in line 22" in message and "build_model returns" in message


def test_an_add_module_sequential_that_ends_in_a_linear_layer_is_clean(lint):
    assert lint("""
        import torch

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = torch.nn.Sequential()
                self.fc.add_module("softmax", torch.nn.Softmax(dim=1))
                self.fc.add_module("fc2", torch.nn.Linear(50, 10))

            def forward(self, x):
                return self.fc.forward(x)

        def step(net, x, y):
            loss = torch.nn.CrossEntropyLoss()(net(x), y)
            loss.backward()

        step(Net(), x, y)
    """, select=("GL402",)) == []


def test_a_construction_passed_straight_to_the_training_function(lint):
    findings = lint("""
        import torch
        import torch.nn as nn

        def train(model, loader):
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.nll_loss(model(x), y).backward()
                optimizer.step()

        train(nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=-1)).to("cpu"), [])
    """, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 8)]


def test_rebinding_a_name_to_another_call_of_the_same_model_keeps_its_kind(lint):
    source = """
        import torch.nn as nn

        net = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid())
        criterion = nn.BCEWithLogitsLoss()
        for x, y in loader:
            out = net(x)
            criterion(out, y).backward()
        for x, y in val_loader:
            out = net(x.cuda())
    """
    assert codes_and_lines(lint(source, select=("GL402",))) == [("GL402", 7)]
    # Rebound to something else (a different callee): unknown, nothing reported.
    assert lint(source.replace("out = net(x.cuda())", "out = head(x)"), select=("GL402",)) == []


def _project(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


MODEL_PY = """
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 4)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    class Logits(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 4)

        def forward(self, x):
            return self.fc(x)

    class Wrapped(Net):
        pass
"""

TRAIN_PY = """
    import torch
    import torch.nn as nn
    from model import {cls}

    def train(model, loader):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        criterion = nn.CrossEntropyLoss()
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()

    if __name__ == "__main__":
        train({cls}().cuda(), loader)
"""


@pytest.mark.parametrize("cls", ["Net", "Wrapped"])
def test_a_model_class_of_another_file_whose_forward_returns_a_softmax(tmp_path, cls):
    from conftest import lint_paths

    root = _project(tmp_path, {"model.py": MODEL_PY, "train.py": TRAIN_PY.format(cls=cls)})
    findings = lint_paths([root], select=("GL402",)).findings
    assert [(Path(f.path).name, f.span.row) for f in findings] == [("train.py", 11)]
    assert "Net.forward returns F.softmax(self.fc(x), dim=1) (model.py:11)" in findings[0].message
    assert "{evidence}" not in findings[0].message
    # train.py alone: nothing proves what Net returns, so nothing is reported.
    assert lint_paths([root / "train.py"], select=("GL402",)).findings == []


def test_a_model_class_of_another_file_that_returns_logits_is_clean(tmp_path):
    from conftest import lint_paths

    root = _project(tmp_path, {"model.py": MODEL_PY, "train.py": TRAIN_PY.format(cls="Logits")})
    assert lint_paths([root], select=("GL402",)).findings == []


LOOP_PY = """
    import torch
    import torch.nn as nn

    def fit(encoder, classifier, loader):
        criterion = nn.CrossEntropyLoss().cuda()
        optimizer = torch.optim.SGD(list(encoder.parameters()) + list(classifier.parameters()), lr=0.01)
        for x, y in loader:
            optimizer.zero_grad()
            class_pred = classifier(encoder(x))
            loss = criterion(class_pred, y)
            loss.backward()
            optimizer.step()
"""

MAIN_PY = """
    import torch

    import loop
    import model

    torch.manual_seed(0)
    encoder = model.Logits().cuda()
    classifier = model.{cls}().cuda()
    loop.fit(encoder, classifier, loader)
"""


def test_a_parameter_bound_in_another_file_to_a_model_of_a_third(tmp_path):
    # pytorch-DANN's shape: train.dann(encoder, classifier, …) is called from main.py with
    # model.Classifier(), whose forward ends in F.softmax; the loss is in train.py.
    from conftest import lint_paths

    root = _project(tmp_path, {"model.py": MODEL_PY, "loop.py": LOOP_PY, "main.py": MAIN_PY.format(cls="Net")})
    findings = lint_paths([root], select=("GL402",)).findings
    assert [(Path(f.path).name, f.span.row) for f in findings] == [("loop.py", 11)]
    # The path (loss → fit(classifier=…) in main.py → Net.forward) is too long for one message: it keeps the origin.
    assert "(… → Net.forward returns F.softmax(self.fc(x), dim=1) (model.py:11))" in findings[0].message
    assert lint_paths([root / "loop.py"], select=("GL402",)).findings == []


def test_a_parameter_bound_in_another_file_to_a_logits_model_or_to_anything_unknown_is_clean(tmp_path):
    from conftest import lint_paths

    root = _project(tmp_path, {"model.py": MODEL_PY, "loop.py": LOOP_PY, "main.py": MAIN_PY.format(cls="Logits")})
    assert lint_paths([root], select=("GL402",)).findings == []
    # A second caller passing something gradlint cannot name leaves the parameter unknown.
    (root / "main.py").write_text(textwrap.dedent(MAIN_PY.format(cls="Net")) + "loop.fit(encoder, build(), loader)\n")
    assert lint_paths([root], select=("GL402",)).findings == []


# -- a softmax written by hand (issue #14: exp(x) / exp(x).sum(dim, keepdim=True)) --------------------
def test_a_masked_softmax_filled_item_by_item_and_normalised_in_place(lint):
    findings = lint("""
        import torch
        import torch.nn as nn

        class Scorer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 1)

            def forward(self, x, candidates, target):
                logits = self.fc(x)
                scores = torch.zeros(len(candidates)).to(x.device)
                for i, idxs in enumerate(candidates.values()):
                    if idxs:
                        scores[i] = torch.exp(torch.max(logits[idxs]))
                scores /= torch.sum(scores)
                loss_fct = nn.CrossEntropyLoss()
                return loss_fct(scores.view(-1, len(candidates)), target)
    """, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 17)]
    assert "a softmax by hand in line 15" in findings[0].message
    assert findings[0].fix is None  # `scores.view(…)` is not the logits


def test_exp_divided_by_its_own_sum_is_a_softmax_and_its_log_is_gl401(lint):
    findings = lint("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def loss(x, y):
            e = torch.exp(x)
            p = e / e.sum(dim=1, keepdim=True)
            return nn.CrossEntropyLoss()(p, y)

        def loss_in_place(x, y):
            p = x.exp()
            p /= p.sum(-1, keepdim=True)
            return F.cross_entropy(p, y) - torch.log(torch.exp(x) / torch.exp(x).sum(1, keepdim=True)).mean()
    """)
    assert codes_and_lines(findings) == [("GL402", 8), ("GL402", 13), ("GL401", 13)]


def test_normalisations_that_are_not_a_softmax_are_clean(lint):
    assert lint("""
        import torch
        import torch.nn as nn

        def loss(x, y, w):
            e = torch.exp(x)
            p = e / w.sum(dim=1, keepdim=True)         # another tensor's sum
            q = x / x.sum(dim=1, keepdim=True)         # no exponentials: a weighting, not a softmax
            r = torch.zeros(3)
            r[0] = x.max()                             # filled with something else than exp(...)
            r /= r.sum()
            s = torch.exp(x)
            s /= s.sum()
            s = s * 2                                  # rebound again: unknown
            return nn.CrossEntropyLoss()(p, y) + nn.CrossEntropyLoss()(q, y) + nn.CrossEntropyLoss()(r, y) \\
                + nn.CrossEntropyLoss()(s, y)
    """, select=("GL402", "GL401")) == []


# -- a tuple element of forward's return, and a model chosen by if/else among classes of another file --
_NETD = """
    class {name}(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.fc_dis = nn.Linear(512, 1)
            self.fc_aux = nn.Linear(512, num_classes)
            self.softmax = nn.Softmax()
            self.sigmoid = nn.Sigmoid()

        def forward(self, x):
            classes = {aux}
            realfake = self.sigmoid(self.fc_dis(x)).view(-1, 1).squeeze(1)
            return realfake, classes
"""
NETWORK_PY = "import torch.nn as nn\n" + textwrap.dedent(_NETD).replace("{name}", "_netD").replace(
    "{aux}", "self.softmax(self.fc_aux(x))") + textwrap.dedent(_NETD).replace("{name}", "_netD_CIFAR10")


ACGAN_MAIN_PY = """
    import torch.nn as nn
    from network import _netD, _netD_CIFAR10

    if opt.dataset == "imagenet":
        netD = _netD(10)
    else:
        netD = _netD_CIFAR10(10)
    aux_criterion = nn.NLLLoss()
    for data, label in loader:
        netD.zero_grad()
        dis_output, aux_output = netD(data)
        loss = aux_criterion(aux_output, label)
        loss.backward()
        optimizerD.step()
"""


def test_an_element_of_a_returned_tuple_from_either_of_two_classes_of_another_file(tmp_path):
    from conftest import lint_paths

    root = _project(tmp_path, {"network.py": NETWORK_PY.format(aux="self.softmax(self.fc_aux(x))"),
                               "main.py": ACGAN_MAIN_PY})
    findings = lint_paths([root], select=("GL402",)).findings
    assert [(Path(f.path).name, f.span.row) for f in findings] == [("main.py", 13)]
    assert "NLLLoss receives a softmax output" in findings[0].message
    assert "(… → nn.Softmax() (network.py:25))" in findings[0].message  # the path is cut to fit 160


def test_tuple_elements_and_alternatives_near_misses(tmp_path):
    from conftest import lint_paths

    # one of the two classes returns log-probabilities: the classes disagree, nothing is proven
    root = _project(tmp_path, {"network.py": NETWORK_PY.format(aux="nn.functional.log_softmax(self.fc_aux(x), 1)"),
                               "main.py": ACGAN_MAIN_PY})
    assert lint_paths([root], select=("GL402",)).findings == []
    # the loss takes the other element (the sigmoid) with a loss that wants probabilities
    (tmp_path / "main.py").write_text(textwrap.dedent(ACGAN_MAIN_PY.replace("NLLLoss", "BCELoss").replace(
        "aux_criterion(aux_output", "aux_criterion(dis_output")), encoding="utf-8")
    (tmp_path / "network.py").write_text(textwrap.dedent(NETWORK_PY.format(aux="self.fc_aux(x)")), encoding="utf-8")
    assert [f.message.split(" (")[0] for f in lint_paths([root], select=("GL402",)).findings] == [
        "BCELoss receives a sigmoid output"]  # BCELoss on a sigmoid is GL402's own pairing
    (tmp_path / "main.py").write_text(textwrap.dedent(ACGAN_MAIN_PY.replace("NLLLoss", "CrossEntropyLoss")),
                                      encoding="utf-8")
    assert lint_paths([root], select=("GL402",)).findings == []  # element 1 is the logits now


def test_a_tuple_element_in_one_file_by_unpacking_and_by_index(lint):
    findings = lint("""
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 4)

            def forward(self, x):
                logits = self.fc(x)
                return logits, torch.softmax(logits, dim=1)

        model = Net()
        criterion = nn.CrossEntropyLoss()
        for x, y in loader:
            logits, probs = model(x)
            loss = criterion(logits, y) + criterion(probs, y) + criterion(model(x)[0], y) + criterion(model(x)[1], y)
            loss.backward()
    """, select=("GL402",))
    assert [(f.span.row, f.span.column) for f in findings] == [(17, 35), (17, 85)]
