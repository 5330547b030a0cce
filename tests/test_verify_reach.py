"""verify reaches the models real scripts train, with no config: the run-time context the slice drops is
rebuilt (argparse defaults, device, data-derived sizes), several forward inputs, classes and config
objects as constructor arguments, input sizes the script names. Real torch, through the real CLI.

The numbers are what torch 2.13 on CPU does with seed 0 and the default batch of 16.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from gradlint.cli import main

pytest.importorskip("torch")
pytestmark = pytest.mark.slow


def verify(folder, *args):
    result = CliRunner().invoke(main, ["verify", *map(str, args), "--output-format", "json"],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return {r["model"]: r for r in json.loads(result.stdout)}


def write(folder, name, source):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


GAN_SCRIPT = '''
    import argparse
    import torch
    import torch.nn as nn
    import visdom_not_installed as visdom
    from torchvision import datasets, transforms

    parser = argparse.ArgumentParser()
    parser.add_argument("--latent_dim", type=int, default="64")  # argparse converts it
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.0002)
    opt = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print("training starts")  # run-time code: never runs
    viz = visdom.Visdom()

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(nn.Conv2d(opt.channels, 16, 4, 2, 1), nn.LeakyReLU(0.2),
                                      nn.Conv2d(16, 32, 4, 2, 1), nn.LeakyReLU(0.2))
            self.fc = nn.Linear(32 * 7 * 7, 1)

        def forward(self, img):
            return self.fc(self.conv(img).view(img.size(0), -1))

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Sequential(nn.Linear(opt.latent_dim, 128), nn.ReLU(), nn.Linear(128, 784), nn.Tanh())

        def forward(self, z):
            noise = torch.zeros(z.size(0), opt.latent_dim, device=device)
            return self.fc(z + noise).view(z.size(0), 1, 28, 28)

    loader = torch.utils.data.DataLoader(datasets.MNIST("data", download=True, transform=transforms.ToTensor()))
    generator, discriminator = Generator().to(device), Discriminator().to(device)
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(0.5, 0.999))
    for imgs, _ in loader:
        optimizer_D.zero_grad()
        discriminator(imgs).mean().backward()
        optimizer_D.step()
'''


def test_argparse_device_missing_package_and_the_dataset_image_size(tmp_path):
    found = verify(tmp_path, write(tmp_path, "dcgan.py", GAN_SCRIPT))
    d, g = found["Discriminator"], found["Generator"]
    # The flatten size (32*7*7) fixes 28x28, which the script names with datasets.MNIST; opt.channels is 1.
    assert d["verdict"] == "healthy", d["reason"]
    assert d["input"].startswith("float32[16, 1, 28, 28] (inferred from Conv2d(1, 16")
    assert d["input"].endswith("; 28x28 from the script)")
    assert d["optimizer_origin"] == "Adam lr=0.0002 (--lr default), from the script"
    # opt.latent_dim = 64 from the argparse default, `device` is the verify device, visdom stands in.
    assert g["verdict"] == "healthy", g["reason"]
    assert g["input"] == "float32[16, 64] (inferred from Linear(in_features=64, out_features=128, bias=True))"


RL_AND_RNN = '''
    import gym
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Critic(nn.Module):
        def __init__(self, state_dim, action_dim):
            super().__init__()
            self.l1 = nn.Linear(state_dim + action_dim, 64)
            self.l2 = nn.Linear(64, 1)

        def forward(self, state, action):
            return self.l2(F.relu(self.l1(torch.cat([state, action], 1))))

    class CharRNN(nn.Module):
        def __init__(self, vocab_size, hidden=32):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, 16)
            self.lstm = nn.LSTM(16, hidden, batch_first=True)
            self.out = nn.Linear(hidden, vocab_size)

        def forward(self, x, h):
            y, h = self.lstm(self.embed(x), h)
            return self.out(y.reshape(-1, y.size(2))), h

    class Folding(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(x).view(-1, 32)

    class NGram(nn.Module):
        def __init__(self, vocab_size, context_size=2):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, 8)
            self.fc = nn.Linear(context_size * 8, vocab_size)

        def forward(self, context):
            return self.fc(self.embed(context).view(1, -1))

    env = gym.make("Pendulum-v1")
    critic = Critic(env.observation_space.shape[0], env.action_space.shape[0])
    text = open("input.txt").read()
    chars = sorted(set(text))
    rnn = CharRNN(len(chars))
    folding = Folding()
    ngram = NGram(len(chars))
    for step in range(100):
        q = critic(torch.randn(1, 3), torch.randn(1, 1))
        logits, hidden = rnn(torch.zeros(1, 10, dtype=torch.long), None)
'''


def test_several_inputs_placeholders_one_sample_forwards_and_a_folded_batch(tmp_path):
    found = verify(tmp_path, write(tmp_path, "agents.py", RL_AND_RNN))
    critic, rnn, folding = found["Critic"], found["CharRNN"], found["Folding"]
    # forward(state, action) on torch.cat: the first layer's width split between the two inputs.
    assert critic["verdict"] == "healthy", critic["reason"]
    assert critic["input"].startswith("float32[16, 16], float32[16, 16] (inferred from Linear(in_features=32")
    assert "state_dim: `env.observation_space.shape[0]` comes from data or the environment at run time: " \
           "placeholder 16" in critic["notes"]
    # forward(x, h) called as rnn(x, None) in the loop; the vocabulary is a placeholder, said so.
    assert rnn["verdict"] == "healthy", rnn["reason"]
    assert rnn["input"].startswith("int64[16, 16], None (inferred from Embedding(16, 16)")
    assert any(n.startswith("vocab_size: `len(chars)`") for n in rnn["notes"])
    # A forward written for one sample (view(1, -1)), as the script feeds it: measured on one, said so.
    assert found["NGram"]["verdict"] == "healthy", found["NGram"]["reason"]
    assert found["NGram"]["input"] == ("int64[2] (inferred from Embedding(16, 8); sequence length 2 probed, "
                                       "one sample: forward does not take a batch)")
    # view(-1, 32) turns a batch of 16 into 2: caught before measuring, naming the key.
    assert folding["verdict"] == "error"
    assert folding["reason"] == (
        "forward on float32[16, 8] (inferred from Linear(in_features=8, out_features=4, bias=True)) returns a batch "
        "of 2, not 16 (a view or reshape that folds the batch?): set input-shape in [tool.gradlint.verify.models.Folding]")


RESNET = '''
    from dataclasses import dataclass
    import torch.nn as nn

    @dataclass
    class Config:
        width: int = 8
        classes: int = 10

    class Block(nn.Module):
        def __init__(self, planes):
            super().__init__()
            self.conv = nn.Conv2d(planes, planes, 3, padding=1)

        def forward(self, x):
            return x + self.conv(x).relu()

    class ResNet(nn.Module):
        def __init__(self, block, layers, cfg):
            super().__init__()
            self.stem = nn.Conv2d(3, cfg.width, 3, padding=1)
            self.blocks = nn.Sequential(*[block(cfg.width) for _ in range(sum(layers))])
            self.head = nn.Linear(cfg.width, cfg.classes)

        def forward(self, x):
            return self.head(self.blocks(self.stem(x)).mean((2, 3)))

    class Siamese(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.fc = nn.Linear(dim, 4)

        def forward(self, a, b):
            return self.fc(a) - self.fc(b)

    def resnet_small():
        return ResNet(Block, [1, 1], Config(width=4))

    model = resnet_small()
    pair = Siamese(dim=6)
'''


def test_class_and_config_arguments_and_configured_inputs_merged_with_the_call_site(tmp_path):
    write(tmp_path, "pyproject.toml", '''
        [tool.gradlint.verify.models.Siamese]
        kwargs = { }
        inputs = [{ shape = [16, 6] }, { shape = [16, 6], dtype = "float32" }]
    ''')
    found = verify(tmp_path, write(tmp_path, "nets.py", RESNET), "--steps", "3")
    assert found["ResNet"]["constructor"] == "ResNet(block=Block, layers=[1, 1], cfg=Config(width=4))"
    assert found["ResNet"]["verdict"] == "healthy", found["ResNet"]["reason"]
    assert found["ResNet"]["parameter_count"] == 4 * 3 * 9 + 4 + 2 * (4 * 4 * 9 + 4) + 4 * 10 + 10
    siamese = found["Siamese"]
    # The config gives the inputs; the constructor's dim=6 still comes from the call site.
    assert siamese["constructor"] == "Siamese(dim=6)"
    assert siamese["input"] == "float32[16, 6], float32[16, 6] (from inputs in [tool.gradlint.verify.models.Siamese])"


def test_a_sibling_module_not_named_on_the_command_line_is_sliced_too(tmp_path):
    marker = tmp_path / "marker"
    write(tmp_path, "layers.py", f'''
        import torch.nn as nn
        open({str(marker)!r}, "w").write("top-level code of layers.py ran")

        class Block(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.fc = nn.Linear(width, width)

            def forward(self, x):
                return x + self.fc(x).relu()
    ''')
    script = write(tmp_path, "train.py", '''
        import torch
        import torch.nn as nn
        from layers import Block

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(10, 32), Block(32), nn.Linear(32, 2))

            def forward(self, x):
                return self.body(x)

        net = Net()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
    ''')
    found = verify(tmp_path, script)
    assert found["Net"]["verdict"] == "healthy", found["Net"]["reason"]
    assert not marker.exists()
