"""GL301 large-init-scale: weights drawn with std/bounds of 1 or more — never biases, norms or embeddings."""

from conftest import codes_and_lines


def test_normal_with_default_std_on_a_linear_weight(lint):
    findings = lint('''
        import torch.nn as nn
        fc = nn.Linear(512, 512)
        nn.init.normal_(fc.weight)
    ''')
    assert codes_and_lines(findings) == [("GL301", 3)]
    assert "std=1 (the default)" in findings[0].message


def test_normal_positional_std_and_tensor_method_spellings(lint):
    findings = lint('''
        from torch.nn import init
        def init_weights(m):
            init.normal_(m.weight, 0, 2)
            m.weight.data.normal_(0, 1)
            m.weight.data.uniform_(-1, 1)
            m.weight.uniform_()
    ''')
    assert codes_and_lines(findings) == [("GL301", 3), ("GL301", 4), ("GL301", 5), ("GL301", 6)]


def test_std_resolved_from_an_argparse_default_names_its_origin(lint):
    findings = lint('''
        import argparse
        import torch.nn as nn
        parser = argparse.ArgumentParser()
        parser.add_argument("--init-std", type=float, default=1.5)
        args = parser.parse_args()
        layer = nn.Linear(10, 10)
        nn.init.normal_(layer.weight, std=args.init_std)
    ''')
    assert codes_and_lines(findings) == [("GL301", 7)]
    assert "--init-std default in line 4" in findings[0].message


def test_small_or_unresolvable_spreads_are_not_reported(lint):
    assert lint('''
        import math
        import torch.nn as nn
        def init(m, cfg):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.normal_(m.weight, std=cfg.initializer_range)
            nn.init.uniform_(m.weight, -1 / math.sqrt(m.in_features), 1 / math.sqrt(m.in_features))
            nn.init.trunc_normal_(m.weight, std=0.02)
    ''') == []


def test_biases_norm_layers_and_embeddings_are_never_reported(lint):
    assert lint('''
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.bn1 = nn.BatchNorm1d(8)
                self.scale = nn.LayerNorm(8)
                self.tokens = nn.Embedding(100, 8)
                nn.init.normal_(self.fc.bias)
                nn.init.uniform_(self.bn1.weight)
                nn.init.normal_(self.scale.weight, 1.0, 1.0)
                nn.init.normal_(self.tokens.weight)
        def init(m):
            if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.uniform_(m.weight)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, std=1.0)
    ''') == []


def test_else_branch_of_a_norm_test_is_not_taken_for_a_norm(lint):
    findings = lint('''
        import torch.nn as nn
        def init(m):
            if isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 1)
    ''')
    assert codes_and_lines(findings) == [("GL301", 6)]


def test_unscaled_randn_weight_matrices(lint):
    findings = lint('''
        import torch
        import torch.nn as nn
        W1 = torch.randn(784, 256, requires_grad=True)
        class Layer(nn.Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(n_out, n_in))
    ''')
    assert codes_and_lines(findings) == [("GL301", 3), ("GL301", 7)]


def test_scaled_reinitialised_or_non_matrix_randn_parameters_are_fine(lint):
    assert lint('''
        import math
        import torch
        import torch.nn as nn
        W = torch.randn(784, 256) / math.sqrt(784)
        W.requires_grad_()
        V = torch.randn(784, 256, requires_grad=True)
        V.data.mul_(0.01)
        class Layer(nn.Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.02)
                self.pos_embedding = nn.Parameter(torch.randn(1, 64, n_out))
                self.w = nn.Parameter(torch.randn(n_out, n_in))
                self.reset_parameters()
            def reset_parameters(self):
                nn.init.kaiming_uniform_(self.w, a=math.sqrt(5))
        class Equal(nn.Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(n_out, n_in))
                self.scale = 1 / math.sqrt(n_in)
    ''') == []


def test_loop_over_named_parameters_counts_only_the_weight_branch(lint):
    findings = lint('''
        import torch.nn as nn
        def init(model):
            for name, p in model.named_parameters():
                if "weight" in name:
                    nn.init.normal_(p, std=1.0)
                else:
                    nn.init.normal_(p, std=1.0)
            for p in model.parameters():
                nn.init.uniform_(p, -1, 1)
    ''')
    assert codes_and_lines(findings) == [("GL301", 5)]


# -- a small layer the code sizes itself is not an exploding stack -----------------------------------


def test_tf1_output_projection_over_five_hidden_units_is_not_flagged(lint):
    source = '''
        import tensorflow as tf

        n_hidden = {n_hidden}
        n_class = len(word_dict)
        X = tf.placeholder(tf.float32, [None, n_step, n_class])
        W = tf.Variable(tf.random_normal([n_hidden, n_class]))
        cell = tf.nn.rnn_cell.BasicRNNCell(n_hidden)
        outputs, states = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        model = tf.matmul(states, W)
        optimizer = tf.train.AdamOptimizer(0.001).minimize(cost)
    '''
    assert [c for c, _ in codes_and_lines(lint(source.format(n_hidden=5)))] == []
    assert codes_and_lines(lint(source.format(n_hidden=128))) == [("GL301", 6)]


def test_torch_matrix_is_small_only_when_every_size_is(lint):
    source = '''
        import torch

        W1 = torch.randn({rows}, {cols}, requires_grad=True)
        b1 = torch.zeros({cols}, requires_grad=True)
        optimizer = torch.optim.SGD([W1, b1], lr=0.1)
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(x @ W1 + b1, y).backward()
            optimizer.step()
    '''
    assert [c for c, _ in codes_and_lines(lint(source.format(rows=4, cols=3)))] == []
    assert codes_and_lines(lint(source.format(rows=256, cols=10))) == [("GL301", 3)]


def test_weights_another_class_loads_a_checkpoint_into_are_not_the_init_that_trains(lint):
    source = '''
        import torch
        import torch.nn as nn

        class ObservationProjection(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(32, 512))
                self.bias = nn.Parameter(torch.zeros(32))

            def forward(self, x):
                return nn.functional.linear(x, self.weight, self.bias)

        class Policy:
            def __init__(self, checkpoint, device="cpu"):
                self.projection = ObservationProjection().to(device)
                {load}
    '''
    loaded = 'self.projection.load_state_dict(torch.load(checkpoint)["projection"])'
    assert [c for c, _ in codes_and_lines(lint(source.format(load=loaded)))] == []
    assert codes_and_lines(lint(source.format(load="pass"))) == [("GL301", 7)]
