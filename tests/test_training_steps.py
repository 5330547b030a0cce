"""GL201, GL203-GL208: the training-step rules, read from the shared step events."""

from __future__ import annotations

from conftest import codes_and_lines

LSTM_HEADER = """
import torch
import torch.nn as nn

model = nn.LSTM(8, 16)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
"""


# -- GL203 missing-zero-grad ---------------------------------------------------------------------
def test_loop_without_zero_grad_is_flagged_at_the_step(lint):
    findings = lint("""
        import torch
        model = torch.nn.Linear(4, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    """)
    assert codes_and_lines(findings) == [("GL203", 7)]
    assert "line 6" in findings[0].message


def test_zero_grad_after_step_set_to_none_or_grad_none_are_all_fine(lint):
    for zeroing in ("optimizer.zero_grad(set_to_none=True)", "model.zero_grad()",
                    "for p in model.parameters():\n        p.grad = None"):
        findings = lint(f"""
import torch
model = torch.nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    {zeroing}
""")
        assert findings == [], zeroing


def test_zeroing_once_before_the_loop_is_still_missing(lint):
    findings = lint("""
        import torch
        model = torch.nn.Linear(4, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        optimizer.zero_grad()
        for x, y in loader:
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    """)
    assert codes_and_lines(findings) == [("GL203", 7)]


def test_zeroing_in_a_helper_method_called_from_the_loop_counts(lint):
    findings = lint("""
        import torch

        class Trainer:
            def __init__(self, model):
                self.model = model
                self.optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)

            def reset(self):
                self.optimizer.zero_grad(set_to_none=True)

            def train_step(self, x, y):
                self.reset()
                loss = torch.nn.functional.cross_entropy(self.model(x), y)
                loss.backward()
                self.optimizer.step()

            def fit(self, loader):
                for x, y in loader:
                    self.train_step(x, y)
    """)
    assert findings == []


def test_step_split_across_helpers_without_zeroing_is_flagged_in_the_helper(lint):
    findings = lint("""
        import torch

        class Trainer:
            def __init__(self, model):
                self.model = model
                self.optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)

            def backward(self, loss):
                loss.backward()

            def fit(self, loader):
                for x, y in loader:
                    self.backward(torch.nn.functional.cross_entropy(self.model(x), y))
                    self.optimizer.step()
    """)
    assert codes_and_lines(findings) == [("GL203", 14)]


def test_correct_accumulation_loop_is_not_missing_zero_grad(lint):
    findings = lint("""
        import torch
        model = torch.nn.Linear(4, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        accum = 4
        for i, (x, y) in enumerate(loader):
            loss = torch.nn.functional.mse_loss(model(x), y) / accum
            loss.backward()
            if (i + 1) % accum == 0:
                optimizer.step()
                optimizer.zero_grad()
    """)
    assert findings == []


# -- GL201 missing-gradient-clipping ---------------------------------------------------------------
def test_lstm_loop_without_clipping(lint):
    findings = lint(LSTM_HEADER + """
for x, y in loader:
    optimizer.zero_grad()
    out, _ = model(x)
    torch.nn.functional.mse_loss(out, y).backward()
    optimizer.step()
""")
    assert codes_and_lines(findings) == [("GL201", 11)]
    assert "nn.LSTM (line 4)" in findings[0].message


def test_plain_cnn_with_adam_1e_3_needs_no_clipping(lint):
    findings = lint("""
        import torch
        import torch.nn as nn
        model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    """)
    assert findings == []


def test_transformer_class_defined_in_the_file_is_risky(lint):
    findings = lint("""
        import torch
        from torch import nn

        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = nn.TransformerEncoderLayer(64, 4)

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = Encoder()

        def train(loader):
            model = Model()
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
            for batch in loader:
                opt.zero_grad()
                model(batch).sum().backward()
                opt.step()
    """)
    assert codes_and_lines(findings) == [("GL201", 20)]
    assert "Model" in findings[0].message and "TransformerEncoderLayer" in findings[0].message


def test_lightning_trainer_gradient_clip_val_counts_as_clipping(lint):
    findings = lint(LSTM_HEADER + """
import lightning
trainer = lightning.Trainer(gradient_clip_val=1.0)
for x, y in loader:
    optimizer.zero_grad()
    model(x)[0].sum().backward()
    optimizer.step()
""")
    assert findings == []


def test_accelerate_clip_counts_and_accelerator_backward_is_a_backward(lint):
    findings = lint("""
        import torch
        from accelerate import Accelerator
        from transformers import AutoModelForCausalLM

        accelerator = Accelerator()
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
        model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
        for batch in loader:
            loss = model(**batch).loss
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
    """)
    assert findings == []


def test_a_pretrained_fine_tune_at_a_small_lr_needs_no_clipping(lint):
    # The textbook recipe (real-code review: peft, LLMs-from-scratch, llama-recipes): Adam-family steps are
    # bounded by the lr, and a pretrained model fine-tuned at 5e-5 is no blow-up risk by itself.
    assert lint("""
        import torch
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained("gpt2")
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    """) == []


def test_a_pretrained_model_at_a_large_fixed_lr_is_a_risk(lint):
    findings = lint("""
        import torch
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained("gpt2")
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2)
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    """)
    assert codes_and_lines(findings) == [("GL202", 5)]  # the lr is the defect: GL201 does not repeat it


def test_a_transformer_built_from_scratch_with_warm_up_needs_no_clipping_finding(lint):
    assert lint("""
        import torch
        import torch.nn as nn

        model = nn.TransformerEncoder(nn.TransformerEncoderLayer(256, 8), 6)
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
        scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=1000)
        for x, y in loader:
            loss = (model(x) - y).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    """, select=("GL201",)) == []


def test_a_recurrent_demo_fitting_one_fixed_batch_is_not_a_clipping_risk(lint):
    # graykode/nlp-tutorial: a 2-step RNN fit to three literal sentences, the same batch every epoch.
    source = """
        import torch
        import torch.nn as nn

        model = nn.RNN(input_size=7, hidden_size=5)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        input_batch = torch.FloatTensor(make_batch())
        for epoch in range(5000):
            optimizer.zero_grad()
            output, _ = model(input_batch)
            loss = criterion(output[-1], target_batch)
            loss.backward()
            optimizer.step()
    """
    assert lint(source, select=("GL201",)) == []
    over_data = source.replace("for epoch in range(5000):", "for input_batch, target_batch in loader:")
    assert codes_and_lines(lint(over_data, select=("GL201",))) == [("GL201", 12)]
    # A per-sample loss summed in an inner range loop still fits the one fixed batch (nlp-tutorial's Seq2Seq).
    summed = source.replace("            loss = criterion(output[-1], target_batch)\n",
                            "            loss = 0\n            for i in range(len(target_batch)):\n"
                            "                loss += criterion(output[i], target_batch[i])\n")
    assert "for i in range" in summed and lint(summed, select=("GL201",)) == []
    batched = source.replace("            output, _ = model(input_batch)\n",
                             "            output, _ = model(input_batch[epoch % 3])\n")
    assert codes_and_lines(lint(batched, select=("GL201",))) == [("GL201", 12)]


def test_a_loop_that_never_zeroes_is_gl203_not_also_gl201(lint):
    findings = lint("""
        import torch
        import torch.nn as nn

        model = nn.LSTM(8, 8)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for x, y in loader:
            out, _ = model(x)
            loss = (out - y).pow(2).mean()
            loss.backward()
            optimizer.step()
    """, select=("GL201", "GL203"))
    assert codes_and_lines(findings) == [("GL203", 10)]


def test_large_fixed_lr_is_a_risk_too(lint):
    source = """
        import torch
        model = torch.nn.Linear(4, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=2.0)
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    """
    findings = lint(source)
    assert codes_and_lines(findings) == [("GL202", 3)]  # one finding per defect: GL202 names the lr
    # With GL202 switched off, the large fixed lr is still GL201's evidence.
    assert codes_and_lines(lint(source, select=("GL201",))) == [("GL201", 7)]


def test_model_class_from_another_file_of_the_run(tmp_path):
    from conftest import lint_paths

    (tmp_path / "model.py").write_text(
        "import torch.nn as nn\n\n\nclass Seq2Seq(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.rnn = nn.GRU(32, 64)\n"
    )
    (tmp_path / "train.py").write_text(
        "import torch\nfrom model import Seq2Seq\n\nmodel = Seq2Seq()\n"
        "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\nfor x in loader:\n"
        "    optimizer.zero_grad()\n    model(x).sum().backward()\n    optimizer.step()\n"
    )
    both = lint_paths([tmp_path]).findings
    assert codes_and_lines(both) == [("GL201", 9)]
    assert "Seq2Seq (" in both[0].message and "nn.GRU" in both[0].message
    alone = lint_paths([tmp_path / "train.py"]).findings
    assert alone == []  # without model.py in the run, nothing proves the risk


# -- GL204 clip-order ----------------------------------------------------------------------------
def test_clip_after_step(lint):
    findings = lint(LSTM_HEADER + """
for x, y in loader:
    optimizer.zero_grad()
    model(x)[0].sum().backward()
    optimizer.step()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
""")
    assert codes_and_lines(findings) == [("GL204", 11)]


def test_clip_before_backward(lint):
    findings = lint(LSTM_HEADER + """
for x, y in loader:
    optimizer.zero_grad()
    torch.nn.utils.clip_grad_value_(model.parameters(), 0.5)
    model(x)[0].sum().backward()
    optimizer.step()
""")
    assert codes_and_lines(findings) == [("GL204", 9)]


def test_clip_in_accumulation_guard_before_step_is_fine(lint):
    findings = lint(LSTM_HEADER + """
for i, (x, y) in enumerate(loader):
    (model(x)[0].sum() / 4).backward()
    if (i + 1) % 4 == 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
""")
    assert findings == []


# -- GL205 clip-without-unscale -----------------------------------------------------------------
AMP_LOOP = """
import torch
model = torch.nn.Linear(8, 2).cuda()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
scaler = torch.amp.GradScaler("cuda")
for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda", dtype=torch.float16):
        loss = torch.nn.functional.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    {unscale}torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
"""


def test_clip_of_scaled_gradients_is_flagged_with_a_safe_fix(lint):
    findings = lint(AMP_LOOP.format(unscale=""))
    assert codes_and_lines(findings) == [("GL205", 10)]
    fix = findings[0].fix
    assert fix.applicability == "safe"
    assert fix.edits[0].content == "scaler.unscale_(optimizer)\n    "
    assert fix.edits[0].location == (10, 5)


def test_unscale_before_clip_is_fine(lint):
    assert lint(AMP_LOOP.format(unscale="scaler.unscale_(optimizer)\n    ")) == []


def test_clip_without_any_scaler_is_not_gl205(lint):
    findings = lint(LSTM_HEADER + """
for x, y in loader:
    optimizer.zero_grad()
    model(x)[0].sum().backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
""")
    assert findings == []


# -- GL206 fp16-without-gradscaler ----------------------------------------------------------------
def test_half_model_trained_without_scaler(lint):
    findings = lint("""
        import torch
        model = torch.nn.Linear(8, 2).cuda().half()
        net = torch.nn.Linear(8, 2)
        net.half()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(net(x), y).backward()
            optimizer.step()
    """)
    assert codes_and_lines(findings) == [("GL206", 4)]


def test_bf16_autocast_and_fp16_inference_are_fine(lint):
    assert lint("""
        import torch
        model = torch.nn.Linear(8, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for x, y in loader:
            optimizer.zero_grad()
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    """) == []
    assert lint("""
        import torch
        model = load_model().half()
        with torch.no_grad(), torch.autocast("cuda"):
            predictions = model(batch)
    """) == []


def test_cuda_autocast_defaults_to_float16(lint):
    findings = lint("""
        import torch
        model = torch.nn.Linear(8, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for x, y in loader:
            optimizer.zero_grad()
            with torch.cuda.amp.autocast():
                loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    """)
    assert codes_and_lines(findings) == [("GL206", 6)]


# -- GL207 accumulation-without-normalization ----------------------------------------------------
def test_accumulation_without_division(lint):
    findings = lint("""
        import torch
        model = torch.nn.Linear(8, 2)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        for step, (x, y) in enumerate(loader):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            if step % args.accum == 0:
                optimizer.step()
                optimizer.zero_grad()
    """)
    assert codes_and_lines(findings) == [("GL207", 6)]
    assert "step % args.accum == 0" in findings[0].message


def test_accumulation_of_a_loss_the_model_returns_with_its_logits(lint):
    # nanoGPT's shape: `logits, loss = model(X, Y)` in a micro-step loop, scaled for fp16, never divided.
    source = """
        import torch
        from model import GPT
        model = GPT(config)
        optimizer = torch.optim.AdamW(model.parameters(), lr=6e-4)
        scaler = torch.cuda.amp.GradScaler()
        while True:
            for micro_step in range(gradient_accumulation_steps):
                logits, loss = model(X, Y)
                X, Y = get_batch("train")
                scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
    """
    findings = lint(source, select=("GL207",))
    assert codes_and_lines(findings) == [("GL207", 10)]
    divided = source.replace("                X, Y =", "                loss = loss / gradient_accumulation_steps\n                X, Y =")
    assert lint(divided, select=("GL207",)) == []


def test_accumulation_that_an_option_turns_on_and_that_is_off_by_default_is_not_reported(lint):
    # NVIDIA DeepLearningExamples' TFT: `if not args.grad_accumulation or (step + 1) % ...` with default 0.
    source = """
        import argparse
        import torch
        parser = argparse.ArgumentParser()
        parser.add_argument("--grad_accumulation", type=int, default=0)
        args = parser.parse_args()
        model = torch.nn.Linear(8, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for step, (x, y) in enumerate(loader):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            if not args.grad_accumulation or (step + 1) % args.grad_accumulation == 0:
                optimizer.step()
                optimizer.zero_grad()
    """
    assert lint(source, select=("GL207",)) == []
    on_by_default = source.replace("default=0", "default=4")
    assert codes_and_lines(lint(on_by_default, select=("GL207",))) == [("GL207", 10)]


def test_gradients_multiplied_after_accumulation_are_normalised(lint):
    # fairseq / wav2vec2: the summed gradients are scaled by 1 / sample_size before the step.
    source = """
        import torch
        for batch, accum in zip(loader, cycle(range(update_freq))):
            loss, sample_size, logs = criterion(model, batch)
            loss.backward()
            if (accum + 1) % update_freq == 0:
                optimizer.multiply_grads(1.0 / sample_size)
                optimizer.step()
                optimizer.zero_grad()
    """
    assert lint(source, select=("GL207",)) == []
    assert codes_and_lines(lint(source.replace("                optimizer.multiply_grads(1.0 / sample_size)\n", ""),
                                select=("GL207",))) == [("GL207", 4)]


def test_accumulation_with_division_in_any_spelling_is_fine(lint):
    for spelling in ("loss = loss / accum\n    loss.backward()", "loss /= accum\n    loss.backward()",
                     "(loss / accum).backward()", "scaler.scale(loss / accum).backward()"):
        findings = lint(f"""
import torch
model = torch.nn.Linear(8, 2)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
scaler = torch.amp.GradScaler()
for step, (x, y) in enumerate(loader):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    {spelling}
    if (step + 1) % accum == 0:
        scaler.step(optimizer) if False else optimizer.step()
        optimizer.zero_grad()
""")
        assert [f.code for f in findings if f.code == "GL207"] == [], spelling


def test_accelerate_backward_normalises_on_its_own(lint):
    assert lint("""
        import torch
        for step, batch in enumerate(loader):
            loss = model(**batch).loss
            accelerator.backward(loss)
            if (step + 1) % 8 == 0:
                optimizer.step()
                optimizer.zero_grad()
    """) == []


# -- GL208 ineffective-clip-threshold ----------------------------------------------------------------
def test_huge_and_infinite_thresholds(lint):
    findings = lint(LSTM_HEADER + """
import math
MAX_NORM = 1e4
for x, y in loader:
    optimizer.zero_grad()
    model(x)[0].sum().backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=math.inf)
    optimizer.step()
""")
    assert codes_and_lines(findings) == [("GL208", 12), ("GL208", 13)]
    assert "constant MAX_NORM in line 8" in findings[0].message


def test_measuring_the_norm_with_inf_is_an_idiom_not_a_bug(lint):
    assert lint(LSTM_HEADER + """
for x, y in loader:
    optimizer.zero_grad()
    model(x)[0].sum().backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    log(total)
""") == []


def test_lightning_manual_optimization_step_without_zero_grad(lint):
    findings = lint("""
        import lightning as L
        import torch

        class GAN(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.automatic_optimization = False

            def training_step(self, batch, batch_idx):
                opt = self.optimizers()
                loss = self.compute_loss(batch)
                self.manual_backward(loss)
                opt.step()

            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters(), lr=2e-4)
    """)
    assert codes_and_lines(findings) == [("GL203", 13)]
    assert "GAN.training_step (line 9)" in findings[0].message


def test_lightning_automatic_optimization_has_no_step_to_check(lint):
    assert lint("""
        import lightning as L
        import torch

        class Classifier(L.LightningModule):
            def training_step(self, batch, batch_idx):
                x, y = batch
                return torch.nn.functional.cross_entropy(self(x), y)

            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters(), lr=1e-3)
    """) == []


def test_deepspeed_engine_zeroes_and_clips_by_itself(lint):
    assert lint("""
        import deepspeed
        import torch

        model = torch.nn.LSTM(16, 32)
        model_engine, optimizer, _, _ = deepspeed.initialize(model=model, model_parameters=model.parameters(),
                                                             config="ds_config.json")
        for x, y in loader:
            loss = model_engine(x)[0].sum()
            model_engine.backward(loss)
            model_engine.step()
    """) == []


# -- fixes (unsafe: they change what the loop computes) ------------------------------------------------
def _fixed(lint, source, tmp_path):
    from click.testing import CliRunner

    from gradlint.cli import main

    import textwrap
    path = tmp_path / "fixme.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    CliRunner().invoke(main, ["--no-cache", "--fix", "--unsafe-fixes", "--select", "GL2", str(path)])
    return path.read_text()


def test_gl203_fix_zeroes_at_the_start_of_the_loop(lint, tmp_path):
    assert _fixed(lint, """
        import torch
        model = torch.nn.Linear(4, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    """, tmp_path) == (
        "import torch\nmodel = torch.nn.Linear(4, 2)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for x, y in loader:\n    optimizer.zero_grad()\n    loss = torch.nn.functional.mse_loss(model(x), y)\n"
        "    loss.backward()\n    optimizer.step()\n"
    )


def test_gl204_fix_moves_the_clip_before_the_step(lint, tmp_path):
    fixed = _fixed(lint, LSTM_HEADER + """
for x, y in loader:
    optimizer.zero_grad()
    model(x)[0].sum().backward()
    optimizer.step()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
""", tmp_path)
    assert fixed.endswith(
        "    model(x)[0].sum().backward()\n    nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n    optimizer.step()\n"
    )


def test_gl201_fix_clips_the_optimizers_parameters_before_the_step(lint, tmp_path):
    fixed = _fixed(lint, LSTM_HEADER + """
for x, y in loader:
    optimizer.zero_grad()
    model(x)[0].sum().backward()
    optimizer.step()
""", tmp_path)
    assert fixed.endswith(
        "    model(x)[0].sum().backward()\n"
        "    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)\n    optimizer.step()\n"
    )
    from conftest import lint_paths

    assert lint_paths([tmp_path / "fixme.py"]).findings == []


def test_half_for_export_after_training_and_fp16_evaluation_are_not_training(lint):
    assert lint("""
        import torch

        def evaluate(model, loader):
            with torch.autocast("cuda", dtype=torch.float16):
                return [model(x) for x in loader]

        def main(model, loader):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            for x, y in loader:
                optimizer.zero_grad()
                torch.nn.functional.mse_loss(model(x), y).backward()
                optimizer.step()
            model.half()
            torch.save(model.state_dict(), "model_fp16.pt")
    """) == []


def test_half_at_module_level_before_a_training_function_is_float16_training(lint):
    findings = lint("""
        import torch

        def train(model, loader):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            for x, y in loader:
                optimizer.zero_grad()
                torch.nn.functional.mse_loss(model(x), y).backward()
                optimizer.step()

        model = torch.nn.Linear(8, 2).cuda()
        model.half()
        train(model, loader)
    """)
    assert codes_and_lines(findings) == [("GL206", 11)]


def test_amp_switch_clip_in_the_fp32_branch_is_not_gl205(lint):
    assert lint(LSTM_HEADER + """
scaler = torch.amp.GradScaler()
for x, y in loader:
    optimizer.zero_grad()
    loss = model(x)[0].sum()
    if use_amp:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
""") == []


def test_clip_after_scaler_step_is_clip_order_not_unscale(lint):
    findings = lint(AMP_LOOP.format(unscale="").replace(
        "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n    scaler.step(optimizer)\n",
        "    scaler.step(optimizer)\n    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"))
    assert [f.code for f in findings] == ["GL204"]


def test_distributed_autograd_is_not_a_local_backward(lint):
    assert lint("""
        import torch.distributed.autograd as dist_autograd
        from torch.distributed.optim import DistributedOptimizer

        for x, y in loader:
            with dist_autograd.context() as context_id:
                loss = model(x).sum()
                dist_autograd.backward(context_id, [loss])
                opt.step(context_id)
    """) == []


def test_deepspeed_plugin_clipping_counts(lint):
    assert lint("""
        import torch
        from accelerate import Accelerator, DeepSpeedPlugin
        from transformers import AutoModelForCausalLM

        accelerator = Accelerator(deepspeed_plugin=DeepSpeedPlugin(gradient_clipping=1.0))
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
        for batch in loader:
            accelerator.backward(model(**batch).loss)
            optimizer.step()
            optimizer.zero_grad()
    """) == []


def test_same_named_modules_in_two_folders_resolve_to_the_nearest(tmp_path):
    from conftest import lint_paths

    for folder, layer in (("a", "nn.LSTM(8, 8)"), ("b", "nn.Linear(8, 8)")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "model.py").write_text(
            f"import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
            f"        super().__init__()\n        self.layer = {layer}\n"
        )
    (tmp_path / "b" / "train.py").write_text(
        "import torch\nfrom model import Net\n\nmodel = Net()\n"
        "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\nfor x in loader:\n"
        "    optimizer.zero_grad()\n    model(x).sum().backward()\n    optimizer.step()\n"
    )
    assert lint_paths([tmp_path]).findings == []
    (tmp_path / "a" / "train.py").write_text((tmp_path / "b" / "train.py").read_text())
    assert [(f.code, f.path.rsplit("/", 2)[-2]) for f in lint_paths([tmp_path]).findings] == [("GL201", "a")]


def test_concatenated_skip_connections_are_residual_paths(lint):
    assert lint("""
        import torch
        from torch import nn

        class UNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.d1, self.d2, self.d3, self.d4 = (nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3), nn.Conv2d(8, 8, 3),
                                                      nn.Conv2d(8, 8, 3))
                self.u1, self.u2, self.u3, self.u4 = (nn.Conv2d(16, 8, 3), nn.Conv2d(16, 8, 3), nn.Conv2d(16, 8, 3),
                                                      nn.Conv2d(11, 1, 3))

            def forward(self, x):
                a = self.d1(x)
                b = self.d2(a)
                c = self.d3(b)
                d = self.d4(c)
                y = self.u1(torch.cat([d, c], 1))
                y = self.u2(torch.cat([y, b], 1))
                y = self.u3(torch.cat([y, a], 1))
                return self.u4(torch.cat([y, x], 1))
    """) == []


def test_micro_batch_loop_accumulation_without_division(lint):
    findings = lint("""
        import torch
        model = torch.nn.Linear(8, 2)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        for it in range(max_iters):
            for micro_step in range(grad_accum):
                x, y = get_batch()
                loss = torch.nn.functional.cross_entropy(model(x), y)
                loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    """)
    assert codes_and_lines(findings) == [("GL207", 8)]
    assert "micro-batch loop at line 5" in findings[0].message


def test_risk_evidence_comes_from_the_loops_own_reach_not_the_whole_file(lint):
    assert lint("""
        import torch
        from transformers import AutoModelForCausalLM

        def test_loading():
            model = AutoModelForCausalLM.from_pretrained("gpt2")
            assert model is not None

        def test_training_a_linear_model(loader):
            model = torch.nn.Linear(4, 2)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            for x, y in loader:
                optimizer.zero_grad()
                torch.nn.functional.mse_loss(model(x), y).backward()
                optimizer.step()
    """) == []


def test_model_built_by_the_caller_of_the_training_function_is_in_reach(lint):
    findings = lint("""
        import torch

        def train(model, loader):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            for x, y in loader:
                optimizer.zero_grad()
                model(x)[0].sum().backward()
                optimizer.step()

        def main():
            train(torch.nn.GRU(8, 16), loader=[])
    """)
    assert codes_and_lines(findings) == [("GL201", 8)]


def test_standard_amp_recipe_without_clipping_is_not_a_clipping_risk(lint):
    assert lint(AMP_LOOP.format(unscale="").replace(
        "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n", "")) == []


def test_a_loop_belongs_to_its_own_function_even_when_the_script_calls_it_from_main(lint):
    findings = lint("""
        import torch
        import torch.nn as nn

        def training_function(loader):
            model = nn.LSTM(input_size=32, hidden_size=64)
            optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
            for batch, target in loader:
                (model(batch)[0] - target).pow(2).mean().backward()
                optimizer.step()
                optimizer.zero_grad()

        def main():
            training_function(loader=[])

        if __name__ == "__main__":
            main()
    """)
    assert codes_and_lines(findings) == [("GL201", 9)]
    assert "nn.LSTM (line 5)" in findings[0].message


def test_sibling_test_methods_do_not_lend_each_other_models(lint):
    assert lint("""
        import unittest
        import torch
        from transformers import AutoModelForCausalLM

        class AcceleratorTester(unittest.TestCase):
            def test_loading(self):
                self.assertIsNotNone(AutoModelForCausalLM.from_pretrained("gpt2"))

            def test_training(self):
                model = torch.nn.Linear(4, 2)
                optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
                for x, y in [(torch.ones(1, 4), torch.ones(1, 2))]:
                    optimizer.zero_grad()
                    torch.nn.functional.mse_loss(model(x), y).backward()
                    optimizer.step()
    """) == []


def test_project_helpers_that_zero_or_clip_count_where_they_are_called(tmp_path):
    # A project's utils module: zero_grad(params) sets p.grad = None, clip_gradient clamps p.grad in place.
    from conftest import lint_paths

    (tmp_path / "utils.py").write_text(
        "def clip_gradient(optimizer, grad_clip):\n"
        "    for group in optimizer.param_groups:\n"
        "        for param in group['params']:\n"
        "            if param.grad is not None:\n"
        "                param.grad.data.clamp_(-grad_clip, grad_clip)\n\n\n"
        "def zero_grad(params):\n"
        "    for p in params:\n"
        "        p.grad = None\n")
    loop = (
        "import torch\nimport torch.nn as nn\nimport utils\nfrom utils import zero_grad\n\n"
        "model = nn.LSTM(10, 20)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for x, y in loader:\n"
        "    zero_grad(model.parameters())\n"
        "    out, _ = model(x)\n"
        "    (out - y).pow(2).mean().backward()\n"
        "    utils.clip_gradient(optimizer, 5.0)\n"
        "    optimizer.step()\n")
    (tmp_path / "train.py").write_text(loop)
    assert lint_paths([tmp_path]).findings == []
    (tmp_path / "train.py").write_text(loop.replace("    utils.clip_gradient(optimizer, 5.0)\n", ""))
    assert [(f.code, f.span.row) for f in lint_paths([tmp_path]).findings] == [("GL201", 12)]


# -- GL203 per optimizer and per path: each step needs its own zeroing ---------------------------------

GAN_LOOP = """
import torch
import torch.nn as nn

netG = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
netD = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
optimizer_G = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
criterion = nn.BCEWithLogitsLoss()

for real, _ in loader:
    z = torch.randn(real.size(0), 64)
    {zero_d}
    loss_d = criterion(netD(real), torch.ones(real.size(0), 1)) + criterion(netD(netG(z).detach()), torch.zeros(real.size(0), 1))
    loss_d.backward()
    optimizer_D.step()
    {zero_g}
    loss_g = criterion(netD(netG(z)), torch.ones(real.size(0), 1))
    loss_g.backward()
    optimizer_G.step()
"""


def gl203(lint, source):
    return [(c, r) for c, r in codes_and_lines(lint(source)) if c == "GL203"]


def test_gan_loop_zeroing_only_the_generator_leaves_the_discriminator_accumulating(lint):
    source = GAN_LOOP.format(zero_d="", zero_g="optimizer_G.zero_grad()")
    assert gl203(lint, source) == [("GL203", 15)]
    (finding,) = [f for f in lint(source) if f.code == "GL203"]
    assert "optimizer_D.step()" in finding.message and "optimizer_G.zero_grad() (line 16)" in finding.message


def test_gan_loop_near_misses_each_optimizer_or_each_model_zeroed(lint):
    assert gl203(lint, GAN_LOOP.format(zero_d="optimizer_D.zero_grad()", zero_g="optimizer_G.zero_grad()")) == []
    assert gl203(lint, GAN_LOOP.format(zero_d="netD.zero_grad()", zero_g="netG.zero_grad()")) == []  # DCGAN's spelling


GAN_STEP = """
import torch
import torch.nn as nn
import torch.optim as optim


class Discriminator(nn.Module):
    def __init__(self, lr):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid())
        self.optimizer = optim.Adam(self.parameters(), lr=lr)


class Generator(nn.Module):
    def __init__(self, lr):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(64, 784), nn.Tanh())
        self.optimizer = optim.Adam(self.parameters(), lr=lr)


class GAN:
    def __init__(self, device, lr):
        self.generator = Generator(lr).to(device)
        self.discriminator = Discriminator(lr).to(device)
        self.criterion = nn.BCELoss()

    def step(self, real):
        {zero_d}
        err_real = self.criterion(self.discriminator(real).view(-1), torch.ones(real.size(0)))
        err_real.backward()
        fake = self.generator(torch.randn(real.size(0), 64))
        err_fake = self.criterion(self.discriminator(fake.detach()).view(-1), torch.zeros(real.size(0)))
        err_fake.backward()
        self.discriminator.optimizer.step()
        {zero_g}
        err_g = self.criterion(self.discriminator(fake).view(-1), torch.ones(real.size(0)))
        err_g.backward()
        self.generator.optimizer.step()
        return err_real + err_fake, err_g
"""


def test_a_gan_step_method_without_a_loop_zeroing_only_the_generator(lint):
    """code-soup's GAN.step: called once per batch from elsewhere; each module owns its optimizer
    (`self.optimizer = Adam(self.parameters())`), and only the generator is zeroed."""
    source = GAN_STEP.format(zero_d="", zero_g="self.generator.zero_grad()")
    (finding,) = [f for f in lint(source) if f.code == "GL203"]
    assert finding.span.row == 33
    assert "self.discriminator.optimizer.step() in GAN.step (line 26)" in finding.message
    assert "the function has self.generator.zero_grad() (line 34)" in finding.message


def test_a_gan_step_method_near_misses(lint):
    both = GAN_STEP.format(zero_d="self.discriminator.zero_grad()", zero_g="self.generator.zero_grad()")
    assert gl203(lint, both) == []
    by_optimizer = GAN_STEP.format(zero_d="self.discriminator.optimizer.zero_grad()",
                                   zero_g="self.generator.optimizer.zero_grad()")
    assert gl203(lint, by_optimizer) == []
    # a step that zeroes nothing itself leaves zeroing to its caller: not judged without the caller
    assert gl203(lint, GAN_STEP.format(zero_d="", zero_g="")) == []
    # called by the file itself: judged where it is called, with the caller's zeroing
    looped = GAN_STEP.format(zero_d="", zero_g="self.generator.zero_grad()") + """
gan = GAN("cpu", 2e-4)
for real, _ in loader:
    gan.discriminator.zero_grad()
    gan.step(real)
"""
    assert gl203(lint, looped) == []


def test_zeroing_in_only_one_branch_leaves_the_other_path_accumulating(lint):
    source = """
        import torch

        def train_one_epoch(model, criterion, loader, optimizer, scaler, args):
            for samples, targets in loader:
                losses = criterion(model(samples), targets)
                if args.amp:
                    optimizer.zero_grad()
                    scaler.scale(losses).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    losses.backward()
                    optimizer.step()
    """
    assert gl203(lint, source) == [("GL203", 13)]
    both = source.replace("                    losses.backward()", "                    optimizer.zero_grad()\n                    losses.backward()")
    assert gl203(lint, both) == []
    before_the_branch = source.replace("            losses = criterion", "            optimizer.zero_grad()\n            losses = criterion")
    assert gl203(lint, before_the_branch) == []


def test_autocast_on_the_scripts_cuda_device_is_float16(lint):
    source = """
        import torch
        from torch.amp import autocast

        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = Net().to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        for images, target in loader:
            optimizer.zero_grad()
            with autocast(device_type={device_type}):
                loss = torch.nn.functional.mse_loss(model(images.to(device)), target.to(device))
            loss.backward()
            optimizer.step()
    """
    assert [c for c, _ in codes_and_lines(lint(source.format(device_type="str(device)")))] == ["GL206"]
    assert [c for c, _ in codes_and_lines(lint(source.format(device_type="device.type")))] == ["GL206"]
    from_config = source.replace("torch.device(\"cuda\" if", "torch.device(cfg.get(\"device\", \"cuda\") if")
    assert [c for c, _ in codes_and_lines(lint(from_config.format(device_type="str(device)")))] == ["GL206"]
    assert [c for c, _ in codes_and_lines(lint(source.format(device_type='"cpu"')))] == []  # bfloat16 on the CPU


# -- an optimizer that clips inside its own step() ---------------------------------------------------
_SELF_CLIPPING_LOOP = """
    import torch
    from apex.optimizers import FusedLAMB
    model = build_model().cuda()
    optimizer = FusedLAMB(model.parameters(), lr=1e-3{max_norm})
    for x, y in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1000.0)
        optimizer.step()
"""


def test_an_outer_clip_that_never_clips_is_harmless_when_the_optimizer_clips_itself(lint):
    # NVIDIA DeepLearningExamples' FastPitch: apex FusedLAMB clips to max_grad_norm=1.0 in step().
    assert lint(_SELF_CLIPPING_LOOP.format(max_norm=""), select=("GL208",)) == []
    assert lint(_SELF_CLIPPING_LOOP.format(max_norm=", max_grad_norm=1.0"), select=("GL208",)) == []
    disabled = lint(_SELF_CLIPPING_LOOP.format(max_norm=", max_grad_norm=0"), select=("GL208",))
    assert codes_and_lines(disabled) == [("GL208", 9)]
