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
    assert findings[0].fix is None  # only the direct nested form is rewritten


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
