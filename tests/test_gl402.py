"""GL402 probability-into-logit-loss: a provable sigmoid/softmax output fed to a logit (or log-prob) loss."""

from conftest import codes_and_lines


def test_bce_on_a_sequential_ending_in_sigmoid_through_a_criterion_variable(lint):
    findings = lint('''
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
        criterion = nn.BCELoss()
        for x, y in loader:
            out = model(x)
            loss = criterion(out, y)
    ''')
    assert codes_and_lines(findings) == [("GL402", 6)]
    assert "BCEWithLogitsLoss" in findings[0].message and "line 5" in findings[0].message


def test_cross_entropy_nll_and_logits_losses_on_probabilities(lint):
    findings = lint('''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        def step(logits, y):
            probs = torch.softmax(logits, dim=1)
            a = F.cross_entropy(probs, y)
            b = nn.CrossEntropyLoss()(logits.softmax(-1), y)
            c = F.nll_loss(F.softmax(logits, dim=1), y)
            d = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), y)
            return a + b + c + d
    ''')
    assert codes_and_lines(findings) == [("GL402", 6), ("GL402", 7), ("GL402", 8), ("GL402", 9)]
    assert "softmax runs twice" in findings[0].message
    assert "log-probabilities" in findings[2].message


def test_model_class_whose_forward_returns_sigmoid_and_lightning_self_call(lint):
    findings = lint('''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                self.loss_fn = nn.BCELoss()
            def forward(self, x):
                x = self.fc(x)
                x = torch.sigmoid(x)
                return x
            def training_step(self, batch, batch_idx):
                x, y = batch
                return self.loss_fn(self(x), y)
        net = Net()
        loss = F.binary_cross_entropy(net(x), y)
    ''')
    assert codes_and_lines(findings) == [("GL402", 15), ("GL402", 17)]


def test_logits_log_softmax_and_untraceable_inputs_are_not_reported(lint):
    assert lint('''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from models import Net
        class Clf(nn.Module):
            def forward(self, x):
                logits = self.fc(x)
                if self.training:
                    return logits
                return torch.softmax(logits, dim=-1)
        def step(model, x, y):
            logits = model(x)
            a = F.cross_entropy(logits, y)
            b = F.nll_loss(F.log_softmax(logits, dim=1), y)
            c = nn.BCELoss()(Net()(x), y)
            d = F.cross_entropy(Clf()(x), y)
            e = F.binary_cross_entropy(F.softmax(logits, dim=1)[:, 1], y)
            return a + b + c + d + e
    ''') == []


def test_unsafe_fix_passes_the_logits(tmp_path):
    from click.testing import CliRunner

    from gradlint.cli import main

    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nimport torch.nn.functional as F\n\n"
        "def step(model, x, y):\n"
        "    a = F.cross_entropy(F.softmax(model(x), dim=1), y)\n"
        "    b = F.binary_cross_entropy(torch.sigmoid(model(x)), y)\n"
        "    c = torch.nn.CrossEntropyLoss()(model(x).softmax(-1), y)\n"
        "    return a + b + c\n"
    )
    CliRunner().invoke(main, ["--no-cache", "--fix", "--unsafe-fixes", str(path)])
    assert path.read_text().splitlines()[4:7] == [
        "    a = F.cross_entropy(model(x), y)",
        "    b = F.binary_cross_entropy_with_logits(model(x), y)",
        "    c = torch.nn.CrossEntropyLoss()(model(x), y)",
    ]


def test_a_sequential_moved_to_the_device_still_ends_in_its_softmax(lint):
    source = '''
        import torch
        from torch.nn import LazyLinear, Sequential, Softmax

        linear_probe = Sequential(LazyLinear(10), Softmax(-1)){move}
        criterion = torch.nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(linear_probe.parameters(), lr=1e-4)
        for imgs, lbls in dataloader:
            optimizer.zero_grad()
            pred = linear_probe(imgs.to(device))
            loss = criterion(pred.resize(pred.size(0), 10), lbls.to(device))
            loss.backward()
            optimizer.step()
    '''
    assert codes_and_lines(lint(source.format(move=".to(device)"))) == [("GL402", 10)]
    assert codes_and_lines(lint(source.format(move=".cuda().train()"))) == [("GL402", 10)]
    logits = source.replace(", Softmax(-1))", ")").replace(", Softmax", "")
    assert codes_and_lines(lint(logits.format(move=".to(device)"))) == []


def test_exp_of_log_softmax_is_a_softmax_written_by_hand(lint):
    source = '''
        import torch
        import torch.nn as nn

        class Ranker(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(128, 1)
                self.log_softmax = nn.LogSoftmax(dim=0)

            def forward(self, x, target):
                scores = self.fc(x).squeeze(-1)
                probs = {probs}
                loss_fct = nn.CrossEntropyLoss()
                return loss_fct(probs.view(1, -1), target)
    '''
    assert codes_and_lines(lint(source.format(probs="torch.exp(self.log_softmax(scores))"))) == [("GL402", 14)]
    assert codes_and_lines(lint(source.format(probs="self.log_softmax(scores).exp()"))) == [("GL402", 14)]
    assert codes_and_lines(lint(source.format(probs="torch.exp(scores)"))) == []


def test_a_loss_that_is_only_printed_or_computed_without_gradients_is_not_reported(lint):
    # The training loss is on the logits; the probabilities only reach a print and an evaluation loop.
    findings = lint("""
        import torch
        import torch.nn as nn

        model = nn.Linear(2, 1)
        cost_fn = nn.BCELoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(10):
            probas = torch.sigmoid(model(x))
            print("cost: %.3f" % cost_fn(probas, y))
            total = cost_fn(probas, y).item()
            with torch.no_grad():
                val = cost_fn(torch.sigmoid(model(x_val)), y_val)
            loss = cost_fn(probas, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    """, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 13)]


def test_skorch_applies_its_criterion_to_the_modules_output(lint):
    source = """
        import torch.nn as nn
        from skorch import NeuralNet, NeuralNetClassifier

        class MyModule(nn.Module):
            def __init__(self, num_units=10):
                super().__init__()
                self.dense0 = nn.Linear(20, num_units)
                self.output = nn.Linear(num_units, 2)
                self.softmax = nn.Softmax(dim=-1)

            def forward(self, X):
                return self.softmax(self.output(self.dense0(X)))

        net = NeuralNet(MyModule, criterion=nn.CrossEntropyLoss, max_epochs=10, lr=0.1)
        net.fit(X, y)
    """
    findings = lint(source, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 14)]
    assert "(… → nn.Softmax(dim=-1) in line 12)" in findings[0].message  # MyModule's layer; the path is cut to fit
    # NeuralNetClassifier's default NLLLoss is applied to the log of the probabilities: the intended pairing.
    assert lint(source.replace("NeuralNet(MyModule, criterion=nn.CrossEntropyLoss,", "NeuralNetClassifier(MyModule,"),
                select=("GL402",)) == []
    assert lint(source.replace("criterion=nn.CrossEntropyLoss", "criterion=nn.NLLLoss").replace(
        "NeuralNet(", "NeuralNetClassifier("), select=("GL402",)) == []


def test_a_loss_module_whose_criterion_is_a_constructor_default_over_softmax_rows(lint):
    # graph_neural_net's triplet loss: rows of a softmax fed one by one to the default CrossEntropyLoss.
    source = """
        import torch
        import torch.nn as nn

        class TripletLoss(nn.Module):
            def __init__(self, loss=nn.CrossEntropyLoss(reduction="sum")):
                super().__init__()
                self.loss = loss

            def forward(self, raw_scores, target_dummy):
                loss, total = 0, 0
                outputs = torch.softmax(raw_scores, -1)
                for out in outputs:
                    target = torch.arange(out.shape[0])
                    loss += self.loss(out, target)
                    total += out.shape[0]
                return loss / total
    """
    assert codes_and_lines(lint(source, select=("GL402",))) == [("GL402", 14)]
    # The loop over the logits themselves, or a default that expects probabilities, is fine.
    assert lint(source.replace("for out in outputs:", "for out in raw_scores:"), select=("GL402",)) == []
    assert lint(source.replace("nn.CrossEntropyLoss(reduction=\"sum\")", "nn.MSELoss()"), select=("GL402",)) == []


def test_a_callback_trains_a_head_it_set_on_the_module_in_another_hook(lint):
    # lightning-bolts' SSLOnlineEvaluator: the head is attached to pl_module in one hook and trained in
    # another; Lightning's validation hooks run without gradients and are not reported.
    source = """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from pytorch_lightning import Callback

        class Head(nn.Module):
            def __init__(self, n_in, n_classes):
                super().__init__()
                self.block = nn.Sequential(nn.Linear(n_in, n_classes), nn.Softmax(dim=1))

            def forward(self, x):
                return self.block(x)

        class OnlineEvaluator(Callback):
            def on_fit_start(self, trainer, pl_module):
                pl_module.evaluator = Head(512, 10)
                self.optimizer = torch.optim.Adam(pl_module.evaluator.parameters(), lr=1e-4)

            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                x, y = batch
                preds = pl_module.evaluator(pl_module(x).detach())
                loss = F.cross_entropy(preds, y)
                loss.backward()
                self.optimizer.step()
                self.optimizer.zero_grad()

            def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                x, y = batch
                preds = pl_module.evaluator(pl_module(x))
                pl_module.log("online_val_loss", F.cross_entropy(preds, y))
    """
    findings = lint(source, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 22)]
    assert "Head.forward returns" in findings[0].message


def test_a_loss_bound_to_a_name_that_only_a_print_reads_trains_nothing(lint):
    # LLMs-from-scratch appendix A: the forward pass of a one-scalar logistic regression is printed, and
    # a later cell binds `loss` again and differentiates that one.
    source = """
        import torch
        import torch.nn.functional as F

        y = torch.tensor([1.0])
        x1 = torch.tensor([1.1])
        w1 = torch.tensor([2.2])
        z = x1 * w1
        a = torch.sigmoid(z)
        loss = F.binary_cross_entropy(a, y)
        print(loss)

        w1 = torch.tensor([2.2], requires_grad=True)
        z = x1 * w1
        a = torch.sigmoid(z)
        loss = F.binary_cross_entropy(a, y)
        print(f"loss {loss.item():.3f}")
        loss.backward()
    """
    findings = lint(source, select=("GL402",))
    assert codes_and_lines(findings) == [("GL402", 15)]
    assert "(`a` = torch.sigmoid(z) in line 14)" in findings[0].message  # the binding before the use, not line 8


def test_a_printed_loss_that_is_also_returned_or_backpropagated_is_still_reported(lint):
    source = """
        import torch
        import torch.nn as nn

        criterion = nn.BCELoss()

        def step(model, x, y):
            loss = criterion(torch.sigmoid(model(x)), y)
            print(loss)
            return loss

        def train(model, x, y):
            probs = torch.sigmoid(model(x))
            loss = criterion(probs, y)
            print("loss", loss.item())
            loss.backward()
    """
    assert codes_and_lines(lint(source, select=("GL402",))) == [("GL402", 7), ("GL402", 13)]
