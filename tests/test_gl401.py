"""GL401 log-of-softmax: the log of a softmax/sigmoid output in every spelling, with a safe autofix."""

from conftest import codes_and_lines


def _fixed(findings):
    return [f.fix.edits[0].content if f.fix else None for f in findings]


def test_functional_method_and_module_spellings(lint):
    findings = lint('''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        def losses(x, sm=nn.Softmax(dim=1)):
            a = torch.log(F.softmax(x, dim=1))
            b = x.softmax(-1).log()
            c = torch.log(torch.softmax(x, 1))
            d = torch.log(torch.sigmoid(x))
            e = torch.log2(F.softmax(x, dim=-1))
            return a, b, c, d, e
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.Softmax(dim=-1)
            def forward(self, x):
                return torch.log(self.act(x))
    ''')
    assert codes_and_lines(findings) == [
        ("GL401", 5), ("GL401", 6), ("GL401", 7), ("GL401", 8), ("GL401", 9), ("GL401", 16),
    ]
    assert findings[-1].fix is None and "F.log_softmax(logits" in findings[-1].message  # a module: no rewrite


def test_a_value_assigned_from_softmax_two_lines_earlier(lint):
    findings = lint('''
        import torch
        import torch.nn.functional as F
        def nll(logits, y):
            probs = F.softmax(logits, dim=-1)
            n = y.shape[0]
            return -torch.log(probs[torch.arange(n), y]).mean()
    ''')
    assert codes_and_lines(findings) == [("GL401", 6)]
    assert "`probs` = F.softmax(logits, dim=-1) in line 4" in findings[0].message
    assert "use F.log_softmax(logits, dim=-1)" in findings[0].message
    assert findings[0].fix is None  # the log of an indexed probability: log_softmax would need the index too


def test_guarded_or_log_space_forms_are_not_reported(lint):
    assert lint('''
        import torch
        import torch.nn.functional as F
        def ok(logits, eps=1e-8):
            p = F.softmax(logits, dim=-1)
            a = torch.log(p + eps)
            b = torch.log(p.clamp(min=eps))
            c = F.log_softmax(logits, dim=-1)
            d = torch.log(torch.exp(logits))
            e = F.logsigmoid(logits)
            q = torch.sigmoid(logits)
            q = q * 0.9 + 0.05
            f = torch.log(q)
            return a, b, c, d, e, f
    ''') == []


def test_self_softmax_module_call_is_not_mistaken_for_the_tensor_method(lint):
    assert lint('''
        import torch
        class Net:
            def forward(self, x):
                return torch.log(self.softmax(x))
    ''') == []


def test_log_of_one_minus_sigmoid_has_no_fix(lint):
    findings = lint('''
        import torch
        def bce(z, y):
            return -(y * torch.log(torch.sigmoid(z)) + (1 - y) * torch.log(1 - torch.sigmoid(z)))
    ''')
    assert codes_and_lines(findings) == [("GL401", 3), ("GL401", 3)]
    assert _fixed(findings) == ["torch.nn.functional.logsigmoid(z)", None]


def test_fix_uses_the_names_the_file_imports(lint):
    findings = lint('''
        import torch
        import torch.nn.functional as F
        from torch.nn.functional import softmax
        def f(x):
            a = torch.log(F.softmax(x, dim=1))
            b = x.softmax(-1).log()
            c = torch.log(softmax(x, dim=1))
            d = torch.log(torch.sigmoid(x))
            e = torch.log10(F.softmax(x, dim=1))
            return a, b, c, d, e
    ''')
    assert _fixed(findings) == [
        "F.log_softmax(x, dim=1)", "x.log_softmax(-1)", "F.log_softmax(x, dim=1)", "F.logsigmoid(x)", None,
    ]
    edit = findings[0].fix.edits[0]
    assert (edit.location, edit.end_location) == ((5, 9), (5, 39))
    assert findings[0].fix.applicability == "safe"


def test_applying_the_fix_gives_the_log_space_code(lint):
    source = "import torch\nimport torch.nn.functional as F\nout = torch.log(F.softmax(z, dim=1)).sum()\n"
    (finding,) = lint(source)
    edit = finding.fix.edits[0]
    line = source.splitlines()[edit.location[0] - 1]
    fixed = line[: edit.location[1] - 1] + edit.content + line[edit.end_location[1] - 1:]
    assert fixed == "out = F.log_softmax(z, dim=1).sum()"


# -- the fix through a variable: `probs = F.softmax(...)` … `torch.log(probs)` (issue 16, item 7) -----------

SCRIPT = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Policy(nn.Module):
    def __init__(self, obs=8, actions=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs, 64), nn.ReLU(), nn.Linear(64, actions))

    def forward(self, x):
        return self.net(x)


def policy_loss(policy, states, actions, advantages):
    logits = policy(states)
    probs = F.softmax(logits, dim=-1)
    log_probs = torch.log(probs)
    chosen = log_probs.gather(1, actions[:, None]).squeeze(1)
    return -(chosen * advantages).mean()


def entropy_bonus(policy, states):
    logits = policy(states)
    probs = F.softmax(logits, dim=-1)
    return -(probs * torch.log(probs)).sum(-1).mean()


def rebound(policy, states):
    logits = policy(states)
    probs = F.softmax(logits, dim=-1)
    logits = logits / 2
    return torch.log(probs).mean() + logits.mean()


def changed_in_place(policy, states):
    logits = policy(states)
    probs = F.softmax(logits, dim=-1)
    logits.clamp_(-5, 5)
    return torch.log(probs).mean()


def in_a_loop(policy, states):
    logits = policy(states)
    probs = F.softmax(logits, dim=-1)
    total = 0
    for _ in range(3):
        total = total + torch.log(probs).mean()
        logits = logits * 2
    return total
"""


def _cli(tmp_path, *args):
    from click.testing import CliRunner

    from gradlint.cli import main

    path = tmp_path / "pg.py"
    if not path.exists():
        path.write_text(SCRIPT, encoding="utf-8")
    return CliRunner().invoke(main, ["--no-cache", "--select", "GL401", *args, str(path)]), path


def test_the_fix_through_a_variable_is_offered_only_where_it_is_the_same_value(tmp_path):
    import json

    result, _ = _cli(tmp_path, "--output-format", "json")
    fixes = {f["location"]["row"]: f["fix"] and f["fix"]["applicability"] for f in json.loads(result.stdout)}
    # 18: probs has no other use → safe; 26: probs is used beside the log → unsafe; 33, 40: logits rebound or
    # changed in place between the softmax and the log; 48: the log runs in a loop that rebinds logits.
    assert fixes == {18: "safe", 26: "unsafe", 33: None, 40: None, 48: None}


def test_fix_rewrites_the_log_and_removes_the_dead_softmax(tmp_path):
    result, path = _cli(tmp_path, "--fix")
    fixed = path.read_text(encoding="utf-8")
    # Regression: the finding said fixable, but --fix fixed nothing through a variable.
    assert "    log_probs = F.log_softmax(logits, dim=-1)\n    chosen = " in fixed
    assert "probs = F.softmax(logits, dim=-1)\n    log_probs" not in fixed
    # The unsafe one waits for --unsafe-fixes; the rest are reported, unchanged.
    assert "-(probs * torch.log(probs))" in fixed
    assert result.exit_code == 1 and "fixed 1 finding" in result.output
    result, path = _cli(tmp_path, "--fix", "--unsafe-fixes")
    fixed = path.read_text(encoding="utf-8")
    assert "-(probs * F.log_softmax(logits, dim=-1)).sum(-1).mean()" in fixed
    assert fixed.count("torch.log(probs)") == 3  # rebound, changed in place, in the loop: left alone
