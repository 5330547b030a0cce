"""GL302 constant-weight-init: weights set to one non-zero value — never biases, zeros, or norm scales."""

from conftest import codes_and_lines


def test_constant_ones_and_fill_on_weights(lint):
    findings = lint('''
        import torch.nn as nn
        def init_weights(m):
            if isinstance(m, nn.Linear):
                nn.init.constant_(m.weight, 0.5)
                nn.init.ones_(m.weight)
                m.weight.data.fill_(1.0)
    ''')
    assert codes_and_lines(findings) == [("GL302", 4), ("GL302", 5), ("GL302", 6)]


def test_value_from_a_module_constant_is_named(lint):
    findings = lint('''
        import torch.nn as nn
        INIT = 0.1
        fc = nn.Linear(4, 4)
        nn.init.constant_(fc.weight, INIT)
        head = nn.Linear(4, 2)
    ''')
    assert codes_and_lines(findings) == [("GL302", 4)]
    assert "constant INIT in line 2" in findings[0].message


def test_biases_zeros_and_unresolvable_values_are_not_reported(lint):
    assert lint('''
        import torch.nn as nn
        def init(m, value):
            nn.init.constant_(m.bias, 0.1)
            m.bias.data.fill_(1.0)
            nn.init.constant_(m.weight, 0)
            nn.init.zeros_(m.weight)
            m.weight.data.zero_()
            nn.init.constant_(m.weight, value)
    ''') == []


def test_resnet_style_norm_init_in_isinstance_branches_is_clean(lint):
    assert lint('''
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                        nn.init.constant_(m.weight, 1)
                        nn.init.constant_(m.bias, 0)
    ''') == []


def test_norm_layers_recognised_by_attribute_class_and_name(lint):
    assert lint('''
        import torch
        import torch.nn as nn
        class RMSNorm(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.weight = nn.Parameter(torch.ones(dim))
            def reset_parameters(self):
                nn.init.ones_(self.weight)
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.post = nn.LayerNorm(8)
                self.ln_f = nn.LayerNorm(8)
                self.bn1 = nn.BatchNorm1d(8)
                nn.init.ones_(self.post.weight)
                self.ln_f.weight.data.fill_(1.0)
                self.bn1.weight.data.fill_(1)
        def hf_init(module):
            if isinstance(module, nn.LayerNorm):
                module.weight.data.fill_(1.0)
        def dcgan_init(m):
            if m.__class__.__name__.find("BatchNorm") != -1:
                m.weight.data.fill_(1)
    ''') == []


def test_constant_weight_matrices_created_from_ones(lint):
    findings = lint('''
        import torch
        import torch.nn as nn
        class Mixer(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.weight = nn.Parameter(torch.ones(n, n))
                self.w2 = nn.Parameter(torch.full((n, n), 0.5))
                self.gain = nn.Parameter(torch.ones(1, n, 1, 1))
                self.w3 = nn.Parameter(torch.full((n, n), 0.0))
    ''')
    assert codes_and_lines(findings) == [("GL302", 6), ("GL302", 7)]


def test_a_frozen_fixed_filter_is_constant_on_purpose(lint):
    assert lint('''
        import torch.nn as nn
        class Blur(nn.Module):
            def __init__(self):
                super().__init__()
                self.box = nn.Conv2d(3, 3, 3, groups=3, bias=False)
                self.box.weight.data.fill_(1 / 9)
                self.box.weight.requires_grad_(False)
    ''') == []


def test_layer_probed_for_a_receptive_field_plot_is_not_a_model_that_trains(lint):
    source = '''
        import torch
        import torch.nn as nn

        conv = nn.Conv2d(1, 1, kernel_size=3, padding=1)
        conv.weight.data.fill_(1)
        conv.bias.data.fill_(0)
        head = nn.Conv2d(1, 1, kernel_size=1)
        inp_img = torch.zeros(1, 1, 11, 11, requires_grad=True)
        out = conv(inp_img)
        out[0, 0, 5, 5].backward()
        plt.imshow(inp_img.grad[0, 0].abs() > 0)
        {trained}
        del inp_img, conv, out
    '''
    assert [c for c, _ in codes_and_lines(lint(source.format(trained="")))] == []
    trained = "optimizer = torch.optim.SGD(conv.parameters(), lr=0.1)"
    assert codes_and_lines(lint(source.format(trained=trained))) == [("GL302", 5)]
    handed_on = "train(conv, loader)"
    assert codes_and_lines(lint(source.format(trained=handed_on))) == [("GL302", 5)]
