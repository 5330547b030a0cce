"""verify measures models that real RL and GAN scripts train, which a plain `model(x)` does not reach:
actor-critics without `forward` (the methods the training loop calls on them), gym spaces as constructor
arguments (a placeholder Box the notes name), a class built through a parameter's default
(`actor_critic=core.MLPActorCritic`), a class imported under if/else, layers of the script's own whose
weight gives the input's width, and a list-of-tensors input set in the config. Real torch, through the
real CLI; gym is not installed here, so the placeholder is verify's own stand-in.
"""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner
from test_verify_reach import verify, write  # one copy of the CLI helpers

from gradlint.cli import main

pytest.importorskip("torch")
pytestmark = pytest.mark.slow


# spinningup's layout: core.py defines the actor-critic (no forward; spaces in, isinstance on gym's Box),
# ppo.py builds it through a parameter default and calls ac.pi / ac.v in its losses.
CORE = '''
    import torch
    import torch.nn as nn
    from gym.spaces import Box, Discrete


    def mlp(sizes, activation=nn.Tanh):
        layers = []
        for j in range(len(sizes) - 1):
            layers += [nn.Linear(sizes[j], sizes[j + 1]), activation() if j < len(sizes) - 2 else nn.Identity()]
        return nn.Sequential(*layers)


    class GaussianActor(nn.Module):
        def __init__(self, obs_dim, act_dim, hidden_sizes):
            super().__init__()
            self.log_std = nn.Parameter(-0.5 * torch.ones(act_dim))
            self.mu_net = mlp([obs_dim, *hidden_sizes, act_dim])

        def forward(self, obs, act=None):
            pi = torch.distributions.Normal(self.mu_net(obs), torch.exp(self.log_std))
            return pi, (pi.log_prob(act).sum(-1) if act is not None else None)


    class CategoricalActor(nn.Module):
        def __init__(self, obs_dim, n, hidden_sizes):
            super().__init__()
            self.logits_net = mlp([obs_dim, *hidden_sizes, n])

        def forward(self, obs, act=None):
            pi = torch.distributions.Categorical(logits=self.logits_net(obs))
            return pi, (pi.log_prob(act) if act is not None else None)


    class Critic(nn.Module):
        def __init__(self, obs_dim, hidden_sizes):
            super().__init__()
            self.v_net = mlp([obs_dim, *hidden_sizes, 1])

        def forward(self, obs):
            return torch.squeeze(self.v_net(obs), -1)


    class MLPActorCritic(nn.Module):
        def __init__(self, observation_space, action_space, hidden_sizes=(32, 32)):
            super().__init__()
            obs_dim = observation_space.shape[0]
            if isinstance(action_space, Box):
                self.pi = GaussianActor(obs_dim, action_space.shape[0], hidden_sizes)
            elif isinstance(action_space, Discrete):
                self.pi = CategoricalActor(obs_dim, action_space.n, hidden_sizes)
            self.v = Critic(obs_dim, hidden_sizes)

        def step(self, obs):
            with torch.no_grad():
                pi, _ = self.pi(obs)
                return pi.sample(), self.v(obs)
'''

PPO = '''
    import torch
    from torch.optim import Adam
    import algo.core as core


    def ppo(env_fn, actor_critic=core.MLPActorCritic, ac_kwargs=dict(hidden_sizes=(16,)), pi_lr=3e-4, epochs=50):
        env = env_fn()
        ac = actor_critic(env.observation_space, env.action_space, **ac_kwargs)
        pi_optimizer = Adam(ac.pi.parameters(), lr=pi_lr)

        def compute_loss_pi(obs, act, adv):
            pi, logp = ac.pi(obs, act)
            return -(logp * adv).mean()

        def compute_loss_v(obs, ret):
            return ((ac.v(obs) - ret) ** 2).mean()

        for epoch in range(epochs):
            open("MARKER", "w").write("the training loop ran")
            a, v = ac.step(torch.as_tensor(env.reset()))


    if __name__ == "__main__":
        import gym
        ppo(lambda: gym.make("HalfCheetah-v2"), actor_critic=core.MLPActorCritic)
'''


def test_actor_critic_without_forward_is_measured_through_the_methods_its_loop_calls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "algo/__init__.py", "")
    found = verify(tmp_path, write(tmp_path, "algo/ppo.py", PPO), write(tmp_path, "algo/core.py", CORE),
                   "--model", "MLPActorCritic", "--steps", "3")
    ac = found["MLPActorCritic"]
    assert ac["verdict"] == "healthy", ac["reason"]
    # Built as ppo() builds it: the parameter's default class, its **ac_kwargs default, placeholder spaces;
    # the spaces pass the script's isinstance(action_space, Box) although gym is not installed here.
    assert "hidden_sizes=(16,)" in ac["constructor"]
    assert "observation_space: `env.observation_space` comes from the environment at run time: placeholder " \
           "Box of 16 values in [-1, 1] (also 16 discrete actions)" in ac["notes"]
    assert "`**ac_kwargs`: the enclosing function's default `dict(hidden_sizes=(16,))`" in ac["notes"]
    # ac.pi(obs, act) and ac.v(obs), with gradients; step() (no_grad inside) contributes nothing.
    assert ac["input"].startswith("pi(float32[16, 16], float32[16, 16] (inferred from Linear(in_features=16")
    assert "; v(float32[16, 16]" in ac["input"]
    layers = [layer["name"] for layer in ac["layers"]]
    assert layers[:3] == ["pi", "pi.mu_net.0", "pi.mu_net.2"] and "v.v_net.0" in layers
    assert ac["unused_parameters"] == []  # every head got a gradient from the synthetic loss
    assert (ac["optimizer"], ac["lr"]) == ("Adam", 3e-4)
    assert not (tmp_path / "MARKER").exists()  # the loop that calls the methods never runs


POLICY = '''
    import torch
    import torch.nn as nn


    class DiagGaussian(nn.Module):
        def __init__(self, num_inputs, num_outputs):
            super().__init__()
            self.fc_mean = nn.Linear(num_inputs, num_outputs)
            self.logstd = nn.Parameter(torch.zeros(num_outputs))

        def forward(self, x):
            return torch.distributions.Normal(self.fc_mean(x), self.logstd.exp())


    class Policy(nn.Module):
        def __init__(self, obs_shape, action_space, base_kwargs=None):
            super().__init__()
            if action_space.__class__.__name__ != "Box":
                raise NotImplementedError
            self.actor = nn.Sequential(nn.Linear(obs_shape[0], 32), nn.Tanh())
            self.critic = nn.Sequential(nn.Linear(obs_shape[0], 32), nn.Tanh(), nn.Linear(32, 1))
            self.dist = DiagGaussian(32, action_space.shape[0])

        def forward(self, inputs, rnn_hxs, masks):
            raise NotImplementedError

        def act(self, inputs, rnn_hxs, masks):
            dist = self.dist(self.actor(inputs))
            action = dist.sample()
            return self.critic(inputs), action, dist.log_prob(action).sum(-1, keepdim=True), rnn_hxs


    class Tabular(nn.Module):
        def __init__(self):
            super().__init__()
            self.table = nn.Linear(4, 2)

        def lookup(self, x):
            return self.table(x)
'''

MAIN = '''
    import torch
    from envs import make_vec_envs
    from model import Policy, Tabular

    envs = make_vec_envs("Hopper-v2", 8)
    actor_critic = Policy(envs.observation_space.shape, envs.action_space, base_kwargs={"recurrent": False})
    table = Tabular()
    optimizer = torch.optim.RMSprop(actor_critic.parameters(), lr=7e-4)
    for step in range(100):
        with torch.no_grad():
            value, action, log_prob, hxs = actor_critic.act(obs, hxs, masks)
'''


def test_abstract_forward_and_a_method_key_for_a_model_the_script_never_calls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main_py, model_py = write(tmp_path, "main.py", MAIN), write(tmp_path, "model.py", POLICY)
    found = verify(tmp_path, main_py, model_py, "--steps", "3")
    policy = found["Policy"]
    assert policy["verdict"] == "healthy", policy["reason"]
    # `envs.observation_space.shape` is the placeholder's shape (16,); the action space passes its class check.
    assert "obs_shape: `envs.observation_space.shape` comes from the environment at run time: placeholder Box " \
           "of 16 values in [-1, 1] (also 16 discrete actions)" in policy["notes"]
    # forward only raises NotImplementedError: act() as the loop calls it, under no_grad or not.
    assert policy["input"].startswith("act(float32[16, 16], float32[16, 16], float32[16, 16]")
    assert policy["unused_parameters"] == []
    # No forward and no call of its methods: skipped, naming the key; with the key, measured.
    assert found["Tabular"]["verdict"] == "skipped"
    assert found["Tabular"]["reason"] == ("Tabular has no forward and the script calls none of its methods: "
                                          "set methods in [tool.gradlint.verify.models.Tabular]")
    write(tmp_path, "pyproject.toml", '''
        [tool.gradlint.verify.models.Tabular]
        methods = ["lookup"]
    ''')
    tabular = verify(tmp_path, main_py, model_py, "--steps", "3", "--model", "Tabular")["Tabular"]
    assert tabular["verdict"] == "healthy", tabular["reason"]
    assert tabular["input"] == "lookup(float32[16, 4] (inferred from Linear(in_features=4, out_features=2, bias=True)))"


@pytest.mark.parametrize(("line", "error"), [
    ('methods = "lookup"', "tool.gradlint.verify.models.Tabular.methods must be a list of method or submodule names"),
    ('methods = ["__del__"]', "tool.gradlint.verify.models.Tabular.methods must be a list of method or submodule names"),
    ("inputs = [{ shape = [16, 4], list = 0 }]",
     "tool.gradlint.verify.models.Tabular.inputs[0].list must be an integer greater than 0"),
])
def test_methods_and_list_keys_are_checked(tmp_path, line, error):
    write(tmp_path, "pyproject.toml", f"[tool.gradlint.verify.models.Tabular]\n{line}\n")
    result = CliRunner().invoke(main, ["verify", str(write(tmp_path, "model.py", POLICY))])
    assert result.exit_code == 2
    assert error in result.output


# StyleGAN2's layout: the trainer imports the classes under if/elif from one of two files, sets
# args.latent on the parsed arguments, and the models are made of equalised-learning-rate layers.
STYLE_MODEL = '''
    import math
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class EqualLinear(nn.Module):
        def __init__(self, in_dim, out_dim):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(out_dim, in_dim))
            self.scale = 1 / math.sqrt(in_dim)

        def forward(self, x):
            return F.linear(x, self.weight * self.scale)


    class EqualConv2d(nn.Module):
        def __init__(self, in_channel, out_channel, kernel_size):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(out_channel, in_channel, kernel_size, kernel_size))
            self.scale = 1 / math.sqrt(in_channel * kernel_size ** 2)

        def forward(self, x):
            return F.conv2d(x, self.weight * self.scale, padding=1)


    class Generator(nn.Module):
        def __init__(self, size, style_dim, n_mlp):
            super().__init__()
            self.style = nn.Sequential(*[EqualLinear(style_dim, style_dim) for _ in range(n_mlp)])
            self.to_image = EqualLinear(style_dim, size * size)
            self.size = size

        def forward(self, styles, noise=None):
            styles = [self.style(s) for s in styles]
            latent = styles[0].unsqueeze(1).repeat(1, 2, 1)  # one style per layer, as StyleGAN2 broadcasts it
            return self.to_image(latent[:, 0] + latent[:, 1]).view(-1, 1, self.size, self.size)


    class Discriminator(nn.Module):
        def __init__(self, size):
            super().__init__()
            self.conv = EqualConv2d(3, 4, 3)
            self.final = EqualLinear(4 * size * size, 1)

        def forward(self, x):
            return self.final(F.leaky_relu(self.conv(x), 0.2).flatten(1))
'''

STYLE_TRAIN = '''
    import argparse
    import torch


    def mixing_noise(batch, latent):
        return [torch.randn(batch, latent)]


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--arch", type=str, default="stylegan2")
        parser.add_argument("--size", type=int, default=24)
        args = parser.parse_args()
        args.latent = 8
        args.n_mlp = 2
        if args.arch == "stylegan2":
            from model import Generator, Discriminator
        elif args.arch == "swagan":
            from swagan import Generator, Discriminator
        generator = Generator(args.size, args.latent, args.n_mlp)
        discriminator = Discriminator(args.size)
        g_optim = torch.optim.Adam(generator.parameters(), lr=0.002, betas=(0, 0.99))
        for i in range(10):
            fake = generator(mixing_noise(4, args.latent))
'''


def test_class_imported_under_if_else_own_weight_layers_and_a_list_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train, model = write(tmp_path, "train.py", STYLE_TRAIN), write(tmp_path, "model.py", STYLE_MODEL)
    found = verify(tmp_path, train, model, "--steps", "3")
    # The call site is found although the trainer imports the names from two files; args.latent = 8 is
    # the script's own number, args.size its argparse default.
    assert found["Generator"]["constructor"] == "Generator(size=24, style_dim=8, n_mlp=2)"
    assert found["Discriminator"]["constructor"] == "Discriminator(size=24)"
    # A 4-D weight of the script's own conv reads as Conv2d(3, ...); the size the call site passes is probed first.
    d = found["Discriminator"]
    assert d["verdict"] == "healthy", d["reason"]
    assert d["input"] == ("float32[16, 3, 24, 24] (inferred from EqualConv2d with a weight of shape [4, 3, 3, 3]; "
                          "24x24 from the script)")
    # forward(styles) iterates a list: a plain tensor does not keep the batch; the key says how.
    assert found["Generator"]["verdict"] == "error"
    assert "set input-shape or inputs in [tool.gradlint.verify.models.Generator]" in found["Generator"]["reason"]
    write(tmp_path, "pyproject.toml", '''
        [tool.gradlint.verify.models.Generator]
        inputs = [{ shape = [16, 8], list = 2 }]
    ''')
    g = verify(tmp_path, train, model, "--steps", "3", "--model", "Generator")["Generator"]
    assert g["verdict"] == "healthy", g["reason"]
    assert g["input"] == "[2 x float32[16, 8]] (from inputs in [tool.gradlint.verify.models.Generator])"
    assert (g["optimizer"], g["lr"]) == ("Adam", 0.002)


AGENT = '''
    import torch
    import torch.nn as nn


    class Agent(nn.Module):
        def __init__(self, obs_dim=6, n_actions=3):
            super().__init__()
            self.q = nn.Linear(obs_dim, n_actions)
            self.optimizer = torch.optim.SGD(self.q.parameters(), lr=0.1)

        def values(self, obs):
            return self.q(obs)

        def learn(self, obs, target):
            loss = ((self.values(obs) - target) ** 2).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

        def checkpoint(self, obs):
            self.log(obs)

        def log(self, obs):
            open(MARKER, "w").write("a method that writes files ran")


    agent = Agent()
    for episode in range(10):
        obs = torch.randn(1, 6)
        agent.learn(obs, agent.values(obs).detach())
        agent.checkpoint(obs)
'''


def test_methods_that_train_or_write_are_never_run(tmp_path, monkeypatch):
    """Hostile: of the methods the loop calls, one trains and one writes a file (through another method):
    only the one that computes is measured, and naming the others in the config skips the model."""
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "marker"
    script = write(tmp_path, "agent.py", f"MARKER = {str(marker)!r}\n" + textwrap.dedent(AGENT))
    agent = verify(tmp_path, script, "--steps", "2")["Agent"]
    assert agent["verdict"] == "healthy", agent["reason"]
    assert agent["input"].startswith("values(float32[16, 6]")
    assert ";" not in agent["input"]  # learn and checkpoint were not run
    write(tmp_path, "pyproject.toml", '''
        [tool.gradlint.verify.models.Agent]
        methods = ["values", "checkpoint"]
    ''')
    agent = verify(tmp_path, script, "--steps", "2")["Agent"]
    assert agent["verdict"] == "skipped"
    assert agent["reason"].startswith("checkpoint of Agent trains (backward, an optimizer step, a save or a file write)")
    assert not marker.exists()


def test_a_build_that_fails_on_a_placeholder_names_the_constructor_key(tmp_path, monkeypatch):
    """RL-Adventure's CnnDQN: an Atari screen (1, 84, 84) where the placeholder space is a 16-vector."""
    monkeypatch.chdir(tmp_path)
    script = write(tmp_path, "dqn.py", '''
        import torch
        import torch.nn as nn
        from wrappers import make_atari

        class CnnDQN(nn.Module):
            def __init__(self, input_shape, num_actions):
                super().__init__()
                self.features = nn.Conv2d(input_shape[0], 8, 3)
                self.fc = nn.Linear(self.features(torch.zeros(1, *input_shape)).numel(), num_actions)

            def forward(self, x):
                return self.fc(self.features(x).flatten(1))

        env = make_atari("PongNoFrameskip-v4")
        model = CnnDQN(env.observation_space.shape, env.action_space.n)
    ''')
    dqn = verify(tmp_path, script, "--steps", "2")["CnnDQN"]
    assert dqn["verdict"] == "error"
    assert dqn["reason"].startswith("building CnnDQN: RuntimeError: ")
    assert dqn["reason"].endswith("; it was built with placeholders (notes): set args or kwargs in "
                                  "[tool.gradlint.verify.models.CnnDQN]")


def test_a_batch_that_runs_out_of_memory_is_measured_on_one_sample_and_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "pyproject.toml", '''
        [tool.gradlint.verify]
        memory-limit-mb = 400
    ''')
    script = write(tmp_path, "big.py", '''
        import torch
        import torch.nn as nn

        class Wide(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                scratch = torch.ones(x.shape[0], 50_000_000, dtype=torch.uint8)  # 50 MB a sample
                return self.conv(x).flatten(1) * scratch[:, :1]

        model = Wide()
    ''')
    wide = verify(tmp_path, script, "--steps", "2")["Wide"]
    assert wide["verdict"] == "healthy", wide["reason"]
    assert wide["input"].endswith("one sample: a batch of 16 ran out of memory (set batch-size or memory-limit-mb "
                                  "in [tool.gradlint.verify]))")
