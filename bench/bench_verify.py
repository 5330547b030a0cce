"""How long `gradlint verify` takes end to end on ten small models of the kinds real scripts train
(MNIST MLP, LeNet, a CIFAR ResNet, a DCGAN generator and discriminator, an LSTM language model, a GRU
classifier, a Transformer encoder, a small U-Net, an RL actor-critic), next to the cost of `import torch`.

    python bench/bench_verify.py [--runs 3] [--jobs 1 2]

Target (issue 15): the ten in <= 20 s wall on 2 cores with `--jobs 2`. Not a test: numbers depend on the
machine. Each script is written to a temporary folder with its own `model = Net(...)` and optimizer.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n"
MODELS = {
    "mnist_mlp.py": """
class MLP(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

model = MLP()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
""",
    "lenet.py": """
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))

model = LeNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
""",
    "resnet_cifar.py": """
class BasicBlock(nn.Module):
    def __init__(self, planes):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False), nn.BatchNorm2d(planes)

    def forward(self, x):
        return F.relu(x + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))

class ResNet(nn.Module):
    def __init__(self, planes=16, blocks=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, planes, 3, padding=1, bias=False), nn.BatchNorm2d(planes), nn.ReLU())
        self.layers = nn.Sequential(*[BasicBlock(planes) for _ in range(blocks)])
        self.fc = nn.Linear(planes, 10)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1).flatten(1))

model = ResNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
""",
    "dcgan.py": """
class Generator(nn.Module):
    def __init__(self, nz=64, ngf=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(nz, ngf * 4 * 4 * 4), nn.Unflatten(1, (ngf * 4, 4, 4)), nn.BatchNorm2d(ngf * 4), nn.ReLU(),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1), nn.BatchNorm2d(ngf * 2), nn.ReLU(),
            nn.ConvTranspose2d(ngf * 2, 3, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z)

class Discriminator(nn.Module):
    def __init__(self, ndf=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(ndf, ndf * 2, 4, 2, 1),
            nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(ndf * 2 * 8 * 8, 1))

    def forward(self, x):
        return self.net(x)

netG, netD = Generator(), Discriminator()
optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
""",
    "lstm_lm.py": """
class LanguageModel(nn.Module):
    def __init__(self, vocab=2000, emb=64, hidden=128):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        return self.out(self.lstm(self.embed(tokens))[0])

model = LanguageModel()
optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
""",
    "gru_classifier.py": """
class GRUClassifier(nn.Module):
    def __init__(self, features=40, hidden=64, classes=5):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.head(self.gru(x)[0][:, -1])

model = GRUClassifier()
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
""",
    "transformer.py": """
class TextTransformer(nn.Module):
    def __init__(self, vocab=1000, d_model=64, heads=4, layers=2, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)).mean(1))

model = TextTransformer()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
""",
    "unet.py": """
class UNet(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.down1 = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), nn.ReLU())
        self.down2 = nn.Sequential(nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        self.out = nn.Conv2d(2 * c, 1, 1)

    def forward(self, x):
        a = self.down1(x)
        b = self.down2(F.max_pool2d(a, 2))
        return self.out(torch.cat([a, self.up(b)], 1))

model = UNet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
""",
    "actor_critic.py": """
class ActorCritic(nn.Module):
    def __init__(self, obs=8, actions=4, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.pi, self.v = nn.Linear(hidden, actions), nn.Linear(hidden, 1)

    def forward(self, x):
        return self.pi(self.body(x))

model = ActorCritic()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
""",
}


def write_models(folder: Path) -> None:
    for name, source in MODELS.items():
        (folder / name).write_text(HEADER + source.lstrip("\n"), encoding="utf-8")


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    options = parser.parse_args()
    gradlint = shutil.which("gradlint") or str(Path(sys.executable).with_name("gradlint"))
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        folder = Path(tmp)
        write_models(folder)
        cases = {"python -c 'import torch' (the floor, once)": [sys.executable, "-W", "ignore", "-c", "import torch"]}
        for jobs in options.jobs:
            cases[f"gradlint verify <10 models> --jobs {jobs} (20 steps each)"] = [gradlint, "verify", ".", "--jobs", str(jobs)]
        print(f"{options.runs} runs each, median (min..max) in seconds, 10 models ({len(MODELS)} files)")
        for name, command in cases.items():
            times = [timed(command, folder) for _ in range(options.runs)]
            print(f"  {statistics.median(times):6.2f}  ({min(times):.2f}..{max(times):.2f})  {name}")


if __name__ == "__main__":
    main()
