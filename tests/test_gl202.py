"""GL202 large-fixed-learning-rate: given this script, expect these findings on these lines."""

from __future__ import annotations

import pytest
from conftest import codes_and_lines

from gradlint import config


def gl202(lint, source, **kwargs):
    return [(code, row) for code, row in codes_and_lines(lint(source, **kwargs)) if code == "GL202"]


def one_optimizer(optimizer: str, lr: str) -> str:
    return f'''
        import torch

        model = torch.nn.Linear(10, 1)
        optimizer = torch.optim.{optimizer}(model.parameters(), lr={lr})
    '''


# -- per-optimizer thresholds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "optimizer, flagged, fine",
    [
        ("SGD", "1.5", "1.0"),
        ("Adagrad", "2.0", "1.0"),
        ("Adam", "0.02", "0.01"),
        ("AdamW", "0.03", "0.01"),
        ("RMSprop", "0.05", "0.01"),
        ("NAdam", "0.02", "2e-3"),
        ("RAdam", "0.1", "1e-2"),
    ],
)
def test_threshold_per_optimizer(lint, optimizer, flagged, fine):
    assert gl202(lint, one_optimizer(optimizer, flagged)) == [("GL202", 4)]
    assert gl202(lint, one_optimizer(optimizer, fine)) == []


def test_adadelta_is_never_flagged_its_default_is_one(lint):
    assert gl202(lint, one_optimizer("Adadelta", "1.0")) == []
    assert gl202(lint, one_optimizer("Adadelta", "50.0")) == []


def test_unknown_optimizers_are_never_flagged(lint):
    assert gl202(lint, '''
        import bitsandbytes as bnb
        from my_project.optim import Lion

        opt1 = bnb.optim.Adam8bit(params, lr=10.0)
        opt2 = Lion(params, lr=5.0)
    ''') == []


def test_optimizer_default_lr_is_not_a_finding(lint):
    assert gl202(lint, '''
        import torch

        model = torch.nn.Linear(4, 4)
        optimizer = torch.optim.RMSprop(model.parameters())
    ''') == []


def test_lr_as_second_positional_argument(lint):
    assert gl202(lint, '''
        import torch

        model = torch.nn.Linear(4, 4)
        optimizer = torch.optim.SGD(model.parameters(), 2.5, momentum=0.9)
    ''') == [("GL202", 4)]


def test_limits_from_the_config(lint):
    source = one_optimizer("SGD", "0.6")
    strict = config.Settings(select=("ALL",), thresholds=config.Thresholds(lr_limits=config.FrozenDict(
        {**config.DEFAULT_LR_LIMITS, "SGD": 0.5})))
    assert gl202(lint, source) == []
    assert gl202(lint, source, settings=strict) == [("GL202", 4)]


# -- where the value comes from --------------------------------------------------------------------


def test_arithmetic_on_literals(lint):
    assert gl202(lint, '''
        import torch

        model = torch.nn.Linear(4, 4)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1 * 16)
    ''') == [("GL202", 4)]


def test_module_constant(lint):
    findings = lint('''
        import torch

        LEARNING_RATE = 0.05

        def train(model):
            optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
            return optimizer
    ''')
    assert codes_and_lines(findings) == [("GL202", 6)]
    assert "Adam lr=0.05" in findings[0].message
    assert "constant LEARNING_RATE in line 3" in findings[0].message


def test_sgd_lr_taken_from_argparse_default(lint):
    findings = lint('''
        import argparse
        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=10.0)
        args = parser.parse_args()
        model = torch.nn.Linear(10, 1)
        opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    ''')
    assert codes_and_lines(findings) == [("GL202", 8)]
    assert "SGD lr=10" in findings[0].message and "--lr default in line 5" in findings[0].message


def test_argparse_learning_rate_with_dashes(lint):
    findings = lint('''
        import argparse
        import torch

        def main():
            parser = argparse.ArgumentParser()
            parser.add_argument("--batch-size", type=int, default=64)
            parser.add_argument("--learning-rate", type=float, default=0.05)
            args = parser.parse_args()
            model = torch.nn.Linear(10, 1)
            return torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    ''')
    assert codes_and_lines(findings) == [("GL202", 10)]
    assert "--learning-rate default in line 7" in findings[0].message


def test_argparse_small_default_is_fine(lint):
    assert gl202(lint, '''
        import argparse
        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=1e-3)
        args = parser.parse_args()
        opt = torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), lr=args.lr)
    ''') == []


def test_a_value_rebound_twice_is_unknown(lint):
    assert gl202(lint, '''
        import torch

        lr = 5.0
        lr = 0.001
        opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=lr)
    ''') == []


def test_an_unresolvable_lr_is_not_a_finding(lint):
    assert gl202(lint, '''
        import torch
        from config import cfg

        opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=cfg.lr)
    ''') == []


# -- import aliases -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "imports, call",
    [
        ("import torch", "torch.optim.SGD"),
        ("from torch import optim", "optim.SGD"),
        ("import torch.optim as topt", "topt.SGD"),
        ("from torch.optim import SGD as Plain", "Plain"),
        ("from torch.optim import *", "SGD"),
        ("from torch.optim.sgd import SGD", "SGD"),
    ],
)
def test_every_spelling_of_sgd(lint, imports, call):
    assert gl202(lint, f'''
        {imports}

        opt = {call}(params, lr=4.0)
    ''') == [("GL202", 3)]


# -- schedulers: any schedule attached means no finding ---------------------------------------------


@pytest.mark.parametrize(
    "imports, scheduler",
    [
        ("import torch", "torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)"),
        ("from torch.optim.lr_scheduler import CosineAnnealingLR", "CosineAnnealingLR(optimizer, T_max=100)"),
        ("from torch.optim import lr_scheduler", "lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=100)"),
        ("from torch.optim.lr_scheduler import LambdaLR", "LambdaLR(optimizer, lambda step: min(1.0, step / 500))"),
        ("from torch.optim.lr_scheduler import *", "MultiStepLR(optimizer, milestones=[30, 60])"),
        ("from transformers import get_linear_schedule_with_warmup",
         "get_linear_schedule_with_warmup(optimizer, num_warmup_steps=500, num_training_steps=10000)"),
        ("import transformers", "transformers.get_cosine_schedule_with_warmup(optimizer, 100, 1000)"),
        ("from warmup import LinearWarmupScheduler", "LinearWarmupScheduler(optimizer, warmup_steps=1000)"),
    ],
)
def test_a_scheduler_attached_means_no_finding(lint, imports, scheduler):
    assert gl202(lint, f'''
        import torch
        {imports}

        model = torch.nn.Linear(10, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=2.0)
        scheduler = {scheduler}
    ''') == []


def test_a_scheduler_on_another_optimizer_does_not_cover_this_one(lint):
    assert gl202(lint, '''
        import torch
        from torch.optim.lr_scheduler import StepLR

        generator, discriminator = torch.nn.Linear(4, 4), torch.nn.Linear(4, 1)
        opt_g = torch.optim.Adam(generator.parameters(), lr=0.02)
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=0.02)
        sched_d = StepLR(opt_d, step_size=10)
    ''') == [("GL202", 5)]


def test_scheduler_built_in_a_lightning_configure_optimizers(lint):
    assert gl202(lint, '''
        import torch
        import lightning as L

        class Model(L.LightningModule):
            def configure_optimizers(self):
                optimizer = torch.optim.SGD(self.parameters(), lr=1.5, momentum=0.9)
                scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
                return {"optimizer": optimizer, "lr_scheduler": scheduler}
    ''') == []


def test_hand_written_lr_update_counts_as_a_schedule(lint):
    assert gl202(lint, '''
        import torch

        optimizer = torch.optim.SGD(params, lr=3.0)
        for epoch in range(90):
            for group in optimizer.param_groups:
                group["lr"] = 3.0 * 0.1 ** (epoch // 30)
    ''') == []


def test_message_names_optimizer_value_limit_and_the_fix(lint):
    (finding,) = lint(one_optimizer("RMSprop", "0.05"))
    assert finding.code == "GL202"
    assert "RMSprop lr=0.05" in finding.message
    assert "0.01" in finding.message
    assert "scheduler" in finding.message


def test_argparse_through_the_scripts_own_get_args_helper(lint):
    assert gl202(lint, '''
        import argparse
        import torch

        def get_args():
            parser = argparse.ArgumentParser()
            parser.add_argument("--lr", type=float, default=2.0)
            return parser.parse_args()

        def main():
            args = get_args()
            model = torch.nn.Linear(4, 4)
            optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    ''') == [("GL202", 12)]


def test_origin_is_the_constant_that_computes_the_value(lint):
    (finding,) = lint('''
        import torch

        BASE_LR = 0.1
        LR = BASE_LR * 32

        optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=LR)
    ''')
    assert "SGD lr=3.2 (constant LR in line 4)" in finding.message


# -- GL209 high-fixed-learning-rate (off by default): the top of the safe range on a deep model ----------

DEEP_CNN_AT_THE_CEILING = '''
    import torch
    import torchvision

    model = torchvision.models.resnet101(num_classes=10)
    optimizer = torch.optim.Adam(model.parameters(), lr={lr})
    {schedule}
    for epoch in range(50):
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
'''


def gl209(lint, source):
    return [(c, r) for c, r in codes_and_lines(lint(source, select=("GL202", "GL209"))) if c in ("GL202", "GL209")]


def test_adam_at_the_ceiling_on_a_resnet_is_gl209_not_gl202(lint):
    source = DEEP_CNN_AT_THE_CEILING.format(lr="0.01", schedule="")
    assert gl202(lint, source) == []
    assert gl209(lint, source) == [("GL209", 5)]
    assert gl209(lint, DEEP_CNN_AT_THE_CEILING.format(lr="5e-3", schedule="")) == [("GL209", 5)]


def test_gl209_is_off_by_default(lint):
    assert lint(DEEP_CNN_AT_THE_CEILING.format(lr="0.01", schedule=""), select=None) == []


def test_gl209_near_misses_schedule_lower_rate_above_the_ceiling(lint):
    scheduled = DEEP_CNN_AT_THE_CEILING.format(
        lr="0.01", schedule="scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=50)")
    assert gl209(lint, scheduled) == []
    assert gl209(lint, DEEP_CNN_AT_THE_CEILING.format(lr="1e-3", schedule="")) == []
    # above the ceiling it is GL202's finding, never both
    assert gl209(lint, DEEP_CNN_AT_THE_CEILING.format(lr="0.05", schedule="")) == [("GL202", 5)]


def test_gl209_leaves_small_models_alone_their_recipe_is_adam_1e_2(lint):
    assert gl209(lint, '''
        import torch
        import torch.nn as nn

        policy = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
        optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
        for obs, act in batches:
            optimizer.zero_grad()
            loss = -policy(obs).log_softmax(-1).gather(1, act).mean()
            loss.backward()
            optimizer.step()
    ''') == []
