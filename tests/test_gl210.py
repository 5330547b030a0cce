"""GL210 gated-recurrent-without-clipping (off by default) and where GL201 keeps recurrent models."""

from __future__ import annotations

from conftest import codes_and_lines

SENTIMENT_RNN = '''
import torch
import torch.nn as nn


class SentimentRNN(nn.Module):
    def __init__(self, vocab_size, hidden=256):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 128)
        self.rnn = nn.{layer}(128, hidden, num_layers=2)
        self.fc = nn.Linear(hidden, 2)

    def forward(self, text):
        output, _ = self.rnn(self.embedding(text))
        return self.fc(output[-1])


LEARNING_RATE = {lr}
model = SentimentRNN(vocab_size=20000)
optimizer = torch.optim.{optimizer}(model.parameters(), lr=LEARNING_RATE)
for epoch in range(15):
    for text, labels in train_loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(text), labels)
        loss.backward()
        optimizer.step()
'''
STEP_LINE = 25


def clipping_codes(lint, layer="LSTM", optimizer="Adam", lr="1e-4", select=("ALL",)):
    source = SENTIMENT_RNN.format(layer=layer, optimizer=optimizer, lr=lr)
    return [(c, r) for c, r in codes_and_lines(lint(source, select=select)) if c in ("GL201", "GL210")]


def test_lstm_and_gru_under_adam_at_a_modest_lr_are_gl210(lint):
    assert clipping_codes(lint, "LSTM", "Adam", "1e-4") == [("GL210", STEP_LINE)]
    assert clipping_codes(lint, "GRU", "AdamW", "1e-3") == [("GL210", STEP_LINE)]


def test_gl210_is_off_by_default(lint):
    assert clipping_codes(lint, "LSTM", "Adam", "1e-4", select=None) == []


def test_gl201_keeps_plain_rnns_sgd_and_larger_rates(lint):
    assert clipping_codes(lint, "RNN", "Adam", "1e-4") == [("GL201", STEP_LINE)]  # tanh RNN: Pascanu's case
    assert clipping_codes(lint, "LSTM", "SGD", "0.5") == [("GL201", STEP_LINE)]  # the step scales with the gradient
    assert clipping_codes(lint, "GRU", "Adam", "5e-3") == [("GL201", STEP_LINE)]  # char-rnn at 5x Adam's default


def test_clipped_loop_is_neither(lint):
    source = SENTIMENT_RNN.format(layer="LSTM", optimizer="Adam", lr="1e-4").replace(
        "        optimizer.step()", "        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n        optimizer.step()")
    assert [c for c, _ in codes_and_lines(lint(source))] == []
