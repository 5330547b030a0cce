"""GL101 saturating-activation-stack: given this model, expect these findings on these lines."""

from __future__ import annotations

from conftest import codes_and_lines

from gradlint import config


def gl101(lint, source, **kwargs):
    return [(code, row) for code, row in codes_and_lines(lint(source, **kwargs)) if code == "GL101"]


# -- nn.Sequential ----------------------------------------------------------------------------------


def test_three_sigmoids_in_a_sequential_literal(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        model = nn.Sequential(
            nn.Linear(784, 256), nn.Sigmoid(),
            nn.Linear(256, 256), nn.Sigmoid(),
            nn.Linear(256, 256), nn.Sigmoid(),
            nn.Linear(256, 10),
        )
    ''') == [("GL101", 3)]


def test_two_sigmoids_are_below_the_default_threshold(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        model = nn.Sequential(nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 1))
    ''') == []


def test_mixed_sigmoid_and_tanh_family_count_together(lint):
    # A tanh-family activation (tanh, hardtanh, softsign: derivative 1 at 0) weighs half a sigmoid.
    assert gl101(lint, '''
        from torch import nn

        model = nn.Sequential(nn.Sigmoid(), nn.Linear(8, 8), nn.Hardtanh(), nn.Linear(8, 8), nn.Softsign(),
                              nn.Linear(8, 8), nn.Hardsigmoid())
    ''') == [("GL101", 3)]
    assert gl101(lint, '''
        from torch import nn

        model = nn.Sequential(nn.Tanh(), nn.Linear(8, 8), nn.Hardtanh(), nn.Linear(8, 8), nn.Softsign())
    ''') == []


def test_lenet5_four_tanh_layers_train_and_six_are_a_stack(lint):
    # rasbt/deeplearning-models: LeNet-5 (conv-tanh-pool ×2, fc-tanh ×2) trains to 98.7% with default init.
    lenet = '''
        import torch.nn as nn

        class LeNet5(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(1, 6, 5), nn.Tanh(), nn.MaxPool2d(2),
                    nn.Conv2d(6, 16, 5), nn.Tanh(), nn.MaxPool2d(2),
                )
                self.classifier = nn.Sequential(
                    nn.Linear(256, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
                )

            def forward(self, x):
                return self.classifier(self.features(x).flatten(1))
    '''
    assert gl101(lint, lenet) == []
    deeper = lenet.replace("nn.Linear(120, 84), nn.Tanh(),", "nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 84), nn.Tanh(), "
                           "nn.Linear(84, 84), nn.Tanh(),")
    assert [code for code, _ in gl101(lint, deeper)] == ["GL101"]


def test_a_normalization_between_resets_the_chain(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        model = nn.Sequential(
            nn.Linear(8, 8), nn.Sigmoid(),
            nn.Linear(8, 8), nn.Sigmoid(),
            nn.BatchNorm1d(8),
            nn.Linear(8, 8), nn.Sigmoid(),
            nn.Linear(8, 8), nn.Sigmoid(),
            nn.LayerNorm(8),
            nn.Linear(8, 1),
        )
    ''') == []


def test_relu_network_with_a_single_sigmoid_output_is_fine(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        model = nn.Sequential(
            nn.Linear(8, 8), nn.ReLU(),
            nn.Linear(8, 8), nn.ReLU(),
            nn.Linear(8, 8), nn.ReLU(),
            nn.Linear(8, 1), nn.Sigmoid(),
        )
    ''') == []


def test_star_layers_built_in_a_range_loop_are_unrolled(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        def make_mlp(width, depth=4):
            layers = []
            for _ in range(depth):
                layers.append(nn.Linear(width, width))
                layers.append(nn.Sigmoid())
            layers.append(nn.Linear(width, 1))
            return nn.Sequential(*layers)
    ''') == [("GL101", 9)]


def test_star_layers_with_a_norm_in_the_loop_body_are_fine(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        layers = []
        for _ in range(6):
            layers += [nn.Linear(32, 32), nn.LayerNorm(32), nn.Tanh()]
        model = nn.Sequential(*layers)
    ''') == []


def test_star_layers_from_a_loop_of_unknown_length_count_once(lint):
    # Precision first: `range(n)` with n unknown may be 1, so the loop body counts once.
    assert gl101(lint, '''
        import torch.nn as nn

        def make(n):
            layers = []
            for _ in range(n):
                layers.append(nn.Linear(8, 8))
                layers.append(nn.Sigmoid())
            return nn.Sequential(*layers)
    ''') == []


def test_ordered_dict_sequential(lint):
    assert gl101(lint, '''
        from collections import OrderedDict
        import torch.nn as nn

        encoder = nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(64, 32)), ("act1", nn.Sigmoid()),
            ("fc2", nn.Linear(32, 16)), ("act2", nn.Sigmoid()),
            ("fc3", nn.Linear(16, 8)), ("act3", nn.Sigmoid()),
        ]))
    ''') == [("GL101", 4)]


def test_threshold_comes_from_the_config(lint):
    source = '''
        import torch.nn as nn

        model = nn.Sequential(nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 1))
        deeper = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())
    '''
    two = config.Settings(select=("ALL",), thresholds=config.Thresholds(activation_stack=2))
    five = config.Settings(select=("ALL",), thresholds=config.Thresholds(activation_stack=5))
    assert gl101(lint, source, settings=two) == [("GL101", 3), ("GL101", 4)]
    assert gl101(lint, source, settings=five) == []
    assert gl101(lint, source) == [("GL101", 4)]


# -- import aliases ---------------------------------------------------------------------------------


def test_every_spelling_of_sigmoid_is_one_thing(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn
        from torch import nn
        from torch.nn import Sigmoid as S

        model = nn.Sequential(torch.nn.Sigmoid(), S(), nn.Sigmoid())
    ''') == [("GL101", 6)]


def test_star_import_from_torch_nn(lint):
    assert gl101(lint, '''
        from torch.nn import *

        model = Sequential(Linear(4, 4), Sigmoid(), Linear(4, 4), Sigmoid(), Linear(4, 4), Sigmoid())
    ''') == [("GL101", 3)]


def test_a_project_class_named_sigmoid_is_not_torchs(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        class Sigmoid(nn.Module):
            def forward(self, x):
                return x.clamp(0, 1)

        model = nn.Sequential(Sigmoid(), Sigmoid(), Sigmoid())
    ''') == []


def test_without_a_torch_import_nothing_is_known(lint):
    assert gl101(lint, '''
        model = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())
    ''') == []


# -- forward() --------------------------------------------------------------------------------------


def test_forward_through_self_modules_and_functional_calls(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(16, 16)
                self.fc2 = nn.Linear(16, 16)
                self.fc3 = nn.Linear(16, 16)
                self.act = nn.Sigmoid()

            def forward(self, x):
                x = torch.sigmoid(self.fc1(x))
                x = F.sigmoid(self.fc2(x))
                x = self.act(self.fc3(x))
                return x
    ''') == [("GL101", 14)]


def test_forward_with_tensor_methods(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(4, 4)
                self.b = nn.Linear(4, 4)
                self.c = nn.Linear(4, 4)

            def forward(self, x):
                h = self.a(x).sigmoid()
                h = self.b(h).sigmoid()
                return self.c(h).sigmoid()
    ''') == [("GL101", 11)]


def test_f_sigmoid_alias(lint):
    assert gl101(lint, '''
        import torch.nn as nn
        from torch.nn import functional as fn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

            def forward(self, x):
                for layer in self.layers:
                    x = fn.sigmoid(layer(x))
                return x
    ''') == [("GL101", 11)]


def test_module_list_loop_is_unrolled_by_its_length(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn

        class Deep(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([nn.Linear(32, 32), nn.Linear(32, 32), nn.Linear(32, 32)])

            def forward(self, x):
                for block in self.blocks:
                    x = torch.sigmoid(block(x))
                return x
    ''') == [("GL101", 11)]


def test_forward_with_layer_norm_between_is_fine(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2, self.fc3 = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)
                self.norm = nn.LayerNorm(8)

            def forward(self, x):
                x = torch.sigmoid(self.fc1(x))
                x = torch.sigmoid(self.fc2(x))
                x = self.norm(x)
                x = torch.sigmoid(self.fc3(x))
                return x
    ''') == []


def test_forward_with_one_sigmoid_at_the_output_is_fine(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn

        class Classifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
                self.head = nn.Linear(8, 1)

            def forward(self, x):
                return torch.sigmoid(self.head(self.body(x)))
    ''') == []


def test_sequential_attribute_used_in_forward_is_reported_once(lint):
    assert gl101(lint, '''
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Sigmoid(), nn.Sigmoid(), nn.Sigmoid())

            def forward(self, x):
                return self.body(x)
    ''') == [("GL101", 6)]


# -- well-known code that uses sigmoid/tanh without chaining them (precision) -----------------------


def test_hand_written_lstm_cell_gates_are_parallel_not_chained(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn

        class LSTMCell(nn.Module):
            def __init__(self, n_in, n_hidden):
                super().__init__()
                self.ih = nn.Linear(n_in, 4 * n_hidden)
                self.hh = nn.Linear(n_hidden, 4 * n_hidden)

            def forward(self, x, state):
                h, c = state
                gates = self.ih(x) + self.hh(h)
                i, f, g, o = gates.chunk(4, 1)
                i = torch.sigmoid(i)
                f = torch.sigmoid(f)
                g = torch.tanh(g)
                o = torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                return h, c
    ''') == []


def test_swish_gating_is_not_a_saturating_chain(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn

        class SwishMLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2, self.fc3 = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)

            def forward(self, x):
                x = self.fc1(x)
                x = x * torch.sigmoid(x)
                x = self.fc2(x)
                x = x * torch.sigmoid(x)
                x = self.fc3(x)
                x = x * torch.sigmoid(x)
                return x
    ''') == []


def test_parallel_output_heads_are_not_a_chain(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn

        class MultiTask(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Linear(16, 16)
                self.a, self.b, self.c = nn.Linear(16, 1), nn.Linear(16, 1), nn.Linear(16, 1)

            def forward(self, x):
                z = torch.relu(self.body(x))
                return torch.sigmoid(self.a(z)), torch.sigmoid(self.b(z)), torch.sigmoid(self.c(z))
    ''') == []


def test_residual_tanh_blocks_are_not_a_chain(lint):
    assert gl101(lint, '''
        import torch
        import torch.nn as nn

        class ResTanh(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2, self.fc3 = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)

            def forward(self, x):
                x = x + torch.tanh(self.fc1(x))
                x = x + torch.tanh(self.fc2(x))
                x = x + torch.tanh(self.fc3(x))
                return x
    ''') == []


def test_message_names_the_activations_and_the_fix(lint):
    (finding,) = lint('''
        import torch.nn as nn

        model = nn.Sequential(nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4),
                              nn.Tanh())
    ''')
    assert finding.code == "GL101"
    assert "4 saturating activations" in finding.message
    assert "nn.Sigmoid ×2" in finding.message and "nn.Tanh" in finding.message
    assert "LayerNorm" in finding.message or "BatchNorm" in finding.message
