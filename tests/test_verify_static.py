"""gradlint verify, the parts that need no torch: slicing, model discovery, config, verdicts, report."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from gradlint.config import ConfigError
from gradlint.facts.builder import build
from gradlint.verify import settings as verify_settings
from gradlint.verify.discover import find_models
from gradlint.verify.report import render_json, render_text, sparkline
from gradlint.verify.runner import Outcome
from gradlint.verify.slice import slice_module
from gradlint.verify.verdict import judge


def facts_of(source: str, path: str = "train.py"):
    return build(cst.parse_module(textwrap.dedent(source).lstrip("\n")), path)


def models(source: str, config=None, **more: str):
    """Specs by model name for one script (plus more files: name=source)."""
    files = [(facts_of(source), Path("/p/train.py"), "train.py")]
    files += [(facts_of(src, f"{name}.py"), Path(f"/p/{name}.py"), f"{name}.py") for name, src in more.items()]
    return {s.model: s for s in find_models(files, config or verify_settings.VerifyConfig())}


# -- slicing ------------------------------------------------------------------------------------
def test_slice_keeps_definitions_and_drops_training_code():
    sliced = slice_module(facts_of('''
        """Doc."""
        import torch
        from torch import nn
        HIDDEN = 128
        SIZES = (HIDDEN, 2 * HIDDEN)
        open("marker", "w").write("ran")
        class Net(nn.Module):
            pass
        def helper():
            return 1
        model = Net()
        for step in range(10):
            model(step)
        with open("log") as f:
            pass
        if torch.cuda.is_available():
            model.cuda()
        if __name__ == "__main__":
            main()
    '''))
    assert sliced == textwrap.dedent('''
        """Doc."""
        import torch
        from torch import nn
        HIDDEN = 128
        SIZES = (HIDDEN, 2 * HIDDEN)
        class Net(nn.Module):
            pass
        def helper():
            return 1
    ''').lstrip("\n")


def test_slice_replaces_argparse_values_with_their_defaults():
    sliced = slice_module(facts_of('''
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--hidden", type=int, default=64)
        args = parser.parse_args()
        HIDDEN = args.hidden
        DATA = load_dataset()
    '''))
    # The parser's defaults stand in for the command line: args is a Namespace of them, read as the script reads it.
    assert sliced == 'import argparse\nargs = __import__("argparse").Namespace(hidden=64)\nHIDDEN = args.hidden\n'


def test_slice_keeps_guarded_imports_and_safe_constructors():
    sliced = slice_module(facts_of('''
        import torch
        try:
            import apex
        except ImportError:
            apex = None
            print("no apex")
        DEVICE = torch.device("cpu")
    '''))
    # The script's own guard is kept as written; the device is the one verify runs on (`--device`).
    assert sliced == ("import torch\ntry:\n    import apex\nexcept ImportError:\n    apex = None\n"
                      'DEVICE = __import__("gradlint.verify.runtime", fromlist=["runtime"]).device()\n')


def test_slice_guards_imports_and_rebuilds_the_context_of_the_main_block():
    sliced = slice_module(facts_of('''
        import numpy as np
        from visdom import Visdom, server as srv
        try: import apex
        except ImportError: apex = None
        import argparse, gym
        parser = argparse.ArgumentParser()
        parser.add_argument("--nz", type=int, default="100")
        parser.add_argument("--cuda", action="store_true")
        if __name__ == "__main__":
            n_hidden = 128
            opt, _ = parser.parse_known_args()
            env = gym.make("CartPole-v1")
            train(opt)
    '''))
    runtime = '__import__("gradlint.verify.runtime", fromlist=["runtime"])'
    assert sliced == (
        f"try:\n    import numpy as np\nexcept Exception as _gradlint_error:\n"
        f"    np = {runtime}.missing('numpy', _gradlint_error)\n"
        f"try:\n    from visdom import Visdom, server as srv\nexcept Exception as _gradlint_error:\n"
        f"    Visdom = {runtime}.missing('visdom', _gradlint_error, 'Visdom')\n"
        f"    srv = {runtime}.missing('visdom', _gradlint_error, 'server')\n"
        f"try:\n    import apex\nexcept ImportError:\n    apex = None\n"
        f"try:\n    import argparse, gym\nexcept Exception as _gradlint_error:\n"
        f"    argparse = {runtime}.missing('argparse', _gradlint_error)\n    gym = {runtime}.missing('gym', _gradlint_error)\n"
        f"n_hidden = 128\n"
        f'opt = __import__("argparse").Namespace(nz=100, cuda=False)\n'
        f"env = {runtime}.environment()\n")


def test_slice_drops_constants_that_name_dropped_values():
    sliced = slice_module(facts_of('''
        data = get_data()
        N = len(data)
        M = data.shape
    '''))
    # A size taken from the data is a placeholder (named in the report); other data values are dropped.
    assert sliced.strip() == "N = 16"


# -- discovery ----------------------------------------------------------------------------------
def test_constructor_arguments_come_from_the_call_site():
    found = models('''
        import argparse
        import torch
        from torch import nn
        NUM_CLASSES = 5
        parser = argparse.ArgumentParser()
        parser.add_argument("--hidden", type=int, default=48)
        args = parser.parse_args()
        class Classifier(nn.Module):
            def __init__(self, in_features, hidden, classes, dropout=0.1, sizes=None):
                super().__init__()
        model = Classifier(32, args.hidden, NUM_CLASSES, sizes=(3, 4))
    ''')
    assert found["Classifier"].build == "Classifier(in_features=32, hidden=48, classes=5, sizes=(3, 4,))"


def test_parameter_defaults_fill_what_the_call_site_does_not_know():
    found = models('''
        from torch import nn
        class Net(nn.Module):
            def __init__(self, vocab=1000, dim=64):
                super().__init__()
        net = Net(len(tokenizer), dim=32)
    ''')
    assert found["Net"].build == "Net(dim=32)"
    assert found["Net"].notes == ["vocab: `len(tokenizer)` is not known statically, used the parameter's default"]


def test_missing_constructor_arguments_skip_the_model_and_name_the_config_key():
    found = models('''
        from torch import nn
        class Net(nn.Module):
            def __init__(self, vocab, dim):
                super().__init__()
        net = Net(len(tokenizer), 32)
    ''')
    # A size taken from the data is a small placeholder, and the notes say so.
    assert found["Net"].build == "Net(vocab=16, dim=32)"
    assert found["Net"].notes == ["vocab: `len(tokenizer)` comes from data or the environment at run time: placeholder 16"]
    found = models('''
        from torch import nn
        class Net(nn.Module):
            def __init__(self, tokenizer, dim):
                super().__init__()
        net = Net(load_tokenizer(), 32)
    ''')
    assert found["Net"].skipped == (
        "constructor needs tokenizer: set args or kwargs in [tool.gradlint.verify.models.Net]"
    )


def test_config_arguments_merge_over_the_call_site():
    config = verify_settings.parse({"models": {"Net": {"args": [10], "kwargs": {"dim": 4}}}})
    found = models('''
        from torch import nn
        class Net(nn.Module):
            def __init__(self, vocab, dim):
                super().__init__()
    ''', config)
    assert found["Net"].build == "Net(vocab=10, dim=4)"
    found = models('''
        from torch import nn
        class Net(nn.Module):
            def __init__(self, vocab, dim, depth=2):
                super().__init__()
        net = Net(1000, dim=8, depth=3)
    ''', verify_settings.parse({"models": {"Net": {"kwargs": {"dim": 4}}}}))
    assert found["Net"].build == "Net(vocab=1000, depth=3, dim=4)"


def test_models_are_subclasses_of_module_lightning_or_another_model():
    found = models('''
        import lightning as L
        import torch.nn as nn
        class Base(nn.Module):
            def __init__(self, width=8):
                super().__init__()
        class Wide(Base):
            pass
        class Lit(L.LightningModule):
            pass
        class NotAModel:
            pass
        wide = Wide(16)
        lit = Lit()
    ''')
    assert sorted(found) == ["Base", "Lit", "Wide"]
    assert found["Wide"].build == "Wide(width=16)"
    assert found["Base"].skipped == "a base class of other models, never built by the script"


def test_a_model_built_inside_another_is_verified_as_part_of_it():
    found = models('''
        from torch import nn
        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.block = Block(8)
    ''')
    assert found["Block"].skipped == "built inside Net; verified as part of it"
    assert found["Net"].build == "Net()"


def test_the_call_site_may_be_in_another_file_of_the_run():
    found = models('''
        from model import Net
        net = Net(3, 7)
    ''', model='''
        from torch import nn
        class Net(nn.Module):
            def __init__(self, a, b):
                super().__init__()
    ''')
    assert found["Net"].build == "Net(a=3, b=7)"
    assert found["Net"].filename == "model.py"


def test_module_level_sequential_with_argparse_sizes():
    found = models('''
        import argparse
        import torch
        from torch import nn
        parser = argparse.ArgumentParser()
        parser.add_argument("--hidden", type=int, default=64)
        parser.add_argument("--lr", type=float, default=0.3)
        args = parser.parse_args()
        net = nn.Sequential(nn.Linear(20, args.hidden), nn.Tanh(), nn.Linear(args.hidden, 1))
        optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    ''')
    spec = found["net"]
    assert spec.build == "nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 1))"
    assert (spec.optimizer, spec.lr, spec.optimizer_kwargs) == ("SGD", 0.3, {"momentum": "0.9"})
    assert spec.optimizer_origin == "SGD lr=0.3 (--lr default), from the script"


def test_optimizer_of_the_model_itself_and_the_default():
    found = models('''
        import torch
        from torch import nn
        class Gen(nn.Module):
            pass
        class Disc(nn.Module):
            pass
        class NoOpt(nn.Module):
            pass
        g, d = Gen(), Disc()
        gen = Gen()
        disc = Disc()
        opt_d = torch.optim.SGD(disc.parameters(), lr=0.01)
        opt_g = torch.optim.RMSprop(gen.parameters(), lr=5e-5)
    ''')
    assert (found["Gen"].optimizer, found["Gen"].lr) == ("RMSprop", 5e-5)
    assert (found["Disc"].optimizer, found["Disc"].lr) == ("SGD", 0.01)
    lightning = models('''
        import torch
        import lightning as L
        class Lit(L.LightningModule):
            def configure_optimizers(self):
                return torch.optim.AdamW(self.parameters(), lr=3e-4)
    ''')
    assert (lightning["Lit"].optimizer, lightning["Lit"].lr) == ("AdamW", 3e-4)
    plain = models("from torch import nn\nclass Net(nn.Module):\n    pass\n")
    assert (plain["Net"].optimizer, plain["Net"].lr) == ("Adam", 1e-3)
    assert plain["Net"].optimizer_origin == "no optimizer found in the script: the default"


# -- config -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("table", "message"), [
    ({"steps": 0}, "tool.gradlint.verify.steps must be an integer greater than 0"),
    ({"device": "tpu"}, "tool.gradlint.verify.device must be one of cpu, cuda, auto, not 'tpu'"),
    ({"timeout": "long"}, "tool.gradlint.verify.timeout must be a number greater than 0"),
    ({"thresholds": {"exploding": 3}}, "unknown key tool.gradlint.verify.thresholds.exploding"),
    ({"models": {"Net": {"input-shape": [16, "x"]}}},
     "tool.gradlint.verify.models.Net.input-shape must be a list of positive integers (batch included)"),
    ({"models": {"Net": {"input-dtype": "float8"}}}, "tool.gradlint.verify.models.Net.input-dtype must be one of"),
    ({"model": {}}, "unknown key tool.gradlint.verify.model"),
])
def test_config_errors_name_the_key(table, message):
    with pytest.raises(ConfigError, match="^pyproject.toml: " + message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        verify_settings.parse(table, "pyproject.toml")


def test_config_values_and_cli_overrides():
    config = verify_settings.parse({"device": "auto", "steps": 5, "memory-limit-mb": 0,
                                    "thresholds": {"vanishing-ratio": 1e-5},
                                    "models": {"Net": {"input-shape": [4, 3], "input-dtype": "int64"}}})
    assert (config.device, config.steps, config.memory_limit_mb) == ("auto", 5, 0)
    assert config.thresholds.vanishing_ratio == 1e-5
    assert config.models["Net"].input_shape == (4, 3)
    assert config.with_cli(steps=7, device=None).steps == 7


# -- verdicts and report ------------------------------------------------------------------------
def numbers(norms, losses=None, ratio=1.0):
    losses = losses or [1.0] * len(norms)
    steps = [{"step": i + 1, "loss": l, "grad_norm": n, "update_ratio": 1e-3} for i, (n, l) in enumerate(zip(norms, losses))]
    return {"steps": steps, "parameters": {"fc.weight": norms[0]}, "layer_ratio": ratio, "non_finite": False,
            "layers": [{"name": "fc1", "grad_norm": norms[0]}, {"name": "fc2", "grad_norm": norms[0] / ratio}],
            "input": "float32[16, 4]", "loss_function": "mse", "parameter_count": 10, "unused_parameters": []}


T = verify_settings.Thresholds()


@pytest.mark.parametrize(("norms", "losses", "ratio", "verdict", "reason"), [
    ([1.0, float("nan")], [1.0, 2.0], 1.0, "non-finite", "grad norm became nan at step 2 of 2"),
    ([1.0, 2.0], [1.0, float("inf")], 1.0, "non-finite", "loss became inf at step 2 of 2"),
    ([5.0, 2000.0], None, 1.0, "exploding", "global gradient norm reached 2e+03 at step 2 (>= 1000)"),
    ([0.01, 5.0], None, 1.0, "exploding", "global gradient norm grew 500x, from 0.01 at step 1 to 5 at step 2"),
    ([1.0, 1.0], None, 5e3, "exploding", "first/last layer gradient-norm ratio 5e+03 (>= 1000)"),
    ([1e-9, 1e-9], None, 1.0, "vanishing", "global gradient norm 1e-09 at step 1, still 1e-09 at step 2 (< 1e-07)"),
    ([1.0, 0.5], None, 1e-5, "vanishing", "first/last layer gradient-norm ratio 1e-05 (< 0.001): the first layer barely learns"),
    ([1.0, 0.5], [2.0, 1.0], 0.5, "healthy", "global gradient norm 1 -> 0.5, loss 2 -> 1 over 2 steps"),
])
def test_verdicts(norms, losses, ratio, verdict, reason):
    assert judge(numbers(norms, losses, ratio), T) == (verdict, reason)


def test_a_zero_initialised_head_that_blocks_step_1_only_is_not_vanishing_and_unreached_parameters_are_named():
    # Step 1: a zero head passes no gradient upstream (ratio 0); step 2 on, the first layer learns.
    record = dict(numbers([0.2, 1.0, 0.9]), layer_ratio=0.0)
    for step, ratio in zip(record["steps"], [0.0, 0.4, 0.5]):
        step["layer_ratio"] = ratio
    record["unused_parameters"] = ["decoder.weight", "decoder.bias"]
    verdict, reason = judge(record, T)
    assert verdict == "healthy"
    assert reason.endswith("the first/last layer ratio 0 at step 1 is 0.5 by step 3 (a zero-initialised layer blocks "
                           "gradients at step 1 only); no gradient reached 2 of 3 parameter tensors (decoder: 2) at any step")


def test_thresholds_are_configurable():
    lenient = verify_settings.Thresholds(vanishing_ratio=1e-6)
    assert judge(numbers([1.0, 0.5], ratio=1e-5), lenient)[0] == "healthy"


def test_sparkline_is_log_scaled_and_marks_non_finite_steps():
    assert sparkline([1e-3, 1e-2, 1e-1, 1.0, float("nan")]) == "▁▃▆█!"
    assert sparkline([1.0, 1.0, 0.0], unicode=False) == "## "


def test_report_text_and_json(tmp_path):
    from gradlint.verify.discover import ModelSpec

    spec = ModelSpec("train.py", "Net", tmp_path / "train.py", "", build="Net()")
    data = numbers([1.0, float("nan")], ratio=1e-4)
    outcomes = [Outcome(spec, "non-finite", "grad norm became nan at step 2 of 2", "cpu", data),
                Outcome(ModelSpec("train.py", "Other", tmp_path, "", skipped="why"), "skipped", "why")]
    text = render_text(outcomes, unicode=False)
    assert text.splitlines()[:5] == [
        "train.py::Net  NON-FINITE on cpu",
        "  grad norm became nan at step 2 of 2",
        "  input float32[16, 4]; loss mse; no optimizer found in the script: the default",
        "  layer  gradient norm (log scale, 1.0e+00 .. 1.0e+04)",
        "  fc1    #                               1.00e+00",
    ]
    assert text.rstrip().endswith("2 models: 1 non-finite, 1 skipped")
    import json

    records = json.loads(render_json(outcomes))
    assert records[0]["steps"][1]["grad_norm"] == "nan"
    assert {k: records[0][k] for k in ("filename", "model", "device", "verdict")} == {
        "filename": "train.py", "model": "Net", "device": "cpu", "verdict": "non-finite"}
    assert records[1]["verdict"] == "skipped" and records[1]["device"] is None
    assert math.isclose(records[0]["layer_ratio"], 1e-4)


def test_namesake_classes_in_two_files_keep_their_own_call_sites_and_optimizers():
    found = find_models([
        (facts_of("import torch\nfrom torch import nn\nclass Net(nn.Module):\n    pass\n"
                  "net = Net()\nopt = torch.optim.SGD(net.parameters(), lr=0.5)\n", "a.py"), Path("/p/a.py"), "a.py"),
        (facts_of("import torch\nfrom torch import nn\nclass Net(nn.Module):\n    pass\n"
                  "net = Net()\nopt = torch.optim.Adam(net.parameters(), lr=1e-4)\n", "b.py"), Path("/p/b.py"), "b.py"),
    ], verify_settings.VerifyConfig())
    assert [(s.filename, s.optimizer, s.lr) for s in found] == [("a.py", "SGD", 0.5), ("b.py", "Adam", 1e-4)]


def test_slice_keeps_tuple_constant_assignments():
    assert slice_module(facts_of("nz, ndf = 100, 64\nx, y = load()\nSIZE = ndf * 2\n")) == "nz, ndf = 100, 64\nSIZE = ndf * 2\n"


def test_models_behind_a_star_import_an_nn_base_class_and_a_module_level_layer():
    found = models('''
        from .parts import *
        import torch
        from torch import nn

        class UNet(nn.Module):
            def __init__(self, n_channels, n_classes):
                super().__init__()
                self.inc = DoubleConv(n_channels, 64)

        class Seq2Seq(nn.Transformer):
            pass

        net = UNet(n_channels=3, n_classes=2)
        reg = nn.Linear(1, 1)
        opt = torch.optim.SGD(reg.parameters(), lr=1e-2)
        criterion = nn.MSELoss()
    ''', parts='''
        import torch.nn as nn
        class DoubleConv(nn.Module):
            pass
    ''')
    assert found["UNet"].build == "UNet(n_channels=3, n_classes=2)"
    assert found["Seq2Seq"].build == "Seq2Seq()"
    assert (found["reg"].build, found["reg"].optimizer, found["reg"].lr) == ("nn.Linear(1, 1)", "SGD", 1e-2)
    assert "criterion" not in found


def test_factories_classes_config_objects_and_dataset_sizes_as_the_script_writes_them():
    found = models('''
        from dataclasses import dataclass
        import torch.nn as nn
        from torchvision import datasets, transforms

        @dataclass
        class GPTConfig:
            n_layer: int = 12
            vocab_size: int = 50304

        class Block(nn.Module):
            def __init__(self, width):
                super().__init__()

        class ResNet(nn.Module):
            def __init__(self, block, layers, num_classes=10):
                super().__init__()

        class GPT(nn.Module):
            def __init__(self, config):
                super().__init__()

        def resnet18(**kwargs):
            return ResNet(Block, [2, 2, 2, 2], **kwargs)

        model_args = dict(n_layer=4, vocab_size=None)
        model_args["vocab_size"] = 65
        gpt = GPT(GPTConfig(**dict(n_layer=4)))
        net = resnet18()
        train = datasets.CIFAR10("data", transform=transforms.Compose([transforms.Resize(64), transforms.ToTensor()]))
    ''')
    assert found["ResNet"].build == "ResNet(block=Block, layers=[2, 2, 2, 2])"
    assert found["ResNet"].notes == ["`**kwargs` of the enclosing function: none passed"]
    assert found["ResNet"].input_hints == {"image_size": [64, 64]}  # Resize(64) beats CIFAR10's 32
    assert found["Block"].skipped == "passed to ResNet as a class; verified as part of it"
    assert found["GPT"].build == "GPT(config=GPTConfig(n_layer=4))"


def test_parts_built_by_the_script_and_its_device_are_constructor_arguments():
    found = models('''
        import torch
        import torch.nn as nn

        class Encoder(nn.Module):
            def __init__(self, vocab, hidden):
                super().__init__()

        class Seq2Seq(nn.Module):
            def __init__(self, encoder, device):
                super().__init__()

        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        enc = Encoder(len(src_vocab), 256)
        model = Seq2Seq(enc, device).to(device)
    ''')
    runtime = '__import__("gradlint.verify.runtime", fromlist=["runtime"])'
    assert found["Seq2Seq"].build == f"Seq2Seq(encoder=Encoder(16, 256), device={runtime}.device())"
    assert found["Seq2Seq"].notes == ["`len(src_vocab)` in `Encoder(...)` comes from data at run time: placeholder 16"]


def test_a_length_of_a_literal_the_file_writes_is_kept_not_a_placeholder():
    sliced = slice_module(facts_of('''
        CLASSES = ("plane", "car", "bird")
        N_CLASSES = len(CLASSES)
        VOCAB = len(tokens)
    '''))
    assert sliced == 'CLASSES = ("plane", "car", "bird")\nN_CLASSES = len(CLASSES)\nVOCAB = 16\n'


def test_a_table_the_top_level_code_fills_is_named_in_the_notes():
    found = models('''
        import torch.nn as nn
        alphabet = "abc"
        char_to_idx = {}
        for i in range(len(alphabet)):
            char_to_idx[alphabet[i]] = i
        TAGS = ["DET", "NN"]

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, len(TAGS))

            def forward(self, x, word):
                return self.fc(x) + char_to_idx[word[0]]

        model = Tagger()
    ''')
    assert found["Tagger"].notes == ["char_to_idx is filled by top-level code of the script, which verify does not "
                                     "run: the model sees it as written, `{}`"]
