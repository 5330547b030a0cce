"""Recall on real defects: lint each materialised defect of defects.csv and say whether gradlint finds it.

    .venv/bin/python bench/defects/fetch_defects.py   # first: materialise the files (needs /work/.mirror)
    .venv/bin/python bench/defects/recall.py          # found / missed per defect, recall overall, per kind, per code
    .venv/bin/python bench/defects/recall.py --markdown   # the same as Markdown tables (for README.md)
    .venv/bin/python bench/defects/recall.py --json out.json

A defect is *found* when gradlint reports a finding with the defect's code on a line within
[line_start, line_end] of the defect's file (for a notebook: in the defect's cell, rows counted from the
cell's top, as gradlint reports them). Each target is linted as a new user would: default rules, an empty
config, no cache, gitignore not honoured, in a fresh process with the checkout as working directory. The
target is the defect's file, or its `lint_root` folder for a cross-file defect (the value travels
between files, so the siblings must be in the run).

Rows whose files are not materialised (CI: no network, no mirror) are listed as skipped; the script then
exits 0 with the recall over what it could lint (or says that nothing was there).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_defects import CORPUS, checkout_dir, load_rows, status  # noqa: E402


EXTEND_SELECT: list[str] = []  # --extend-select: rules that are off by default, measured on top


def lint(folder: Path, target: str) -> tuple[list[dict], str]:
    config = CORPUS / "gradlint.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("", encoding="utf-8")
    command = [sys.executable, "-m", "gradlint", "check", "--output-format", "json", "--no-cache",
               "--no-respect-gitignore", "--config", str(config), target]
    command += [f"--extend-select={code}" for code in EXTEND_SELECT]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    problem = ""
    try:
        findings = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError:
        findings, problem = [], f"output is not JSON: {done.stdout[:200]!r}"
    if "Traceback (most recent call last)" in done.stderr or done.returncode not in (0, 1):
        problem = problem or f"exit {done.returncode}: {done.stderr.strip()[-400:]}"
    for item in findings:
        path = Path(item["filename"])
        if path.is_absolute():
            try:
                path = path.resolve().relative_to(folder.resolve())
            except ValueError:
                pass
        item["path"] = path.as_posix().removeprefix("./")
    return findings, problem


def where(finding: dict) -> str:
    cell = f":cell {finding['cell']}" if finding.get("cell") else ""
    return f"{finding['code']} {finding['path']}{cell}:{finding['location']['row']}"


def matches(row: dict, finding: dict) -> bool:
    if finding["code"] != row["code"] or finding["path"] != row["path"]:
        return False
    if row["cell"] and str(finding.get("cell") or "") != row["cell"]:
        return False
    return int(row["line_start"]) <= finding["location"]["row"] <= int(row["line_end"])


def evaluate(rows: list[dict]) -> list[dict]:
    cache: dict[tuple[str, str], tuple[list[dict], str]] = {}
    results = []
    for row in rows:
        state = status(row)
        result = {"row": row, "state": state, "found": None, "problem": "", "near": []}
        if state not in ("ok", "unrecorded"):
            results.append(result)
            continue
        folder = checkout_dir(row)
        target = row["lint_root"] or row["path"]
        key = (str(folder), target)
        if key not in cache:
            cache[key] = lint(folder, target)
        findings, problem = cache[key]
        result["problem"] = problem
        result["found"] = any(matches(row, f) for f in findings)
        result["near"] = sorted({where(f) for f in findings
                                 if f["path"] == row["path"] or f["code"] == row["code"]})
        results.append(result)
    return results


def summarise(results: list[dict], field: str) -> list[tuple[str, int, int]]:
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        if result["found"] is None:
            continue
        cell = table[result["row"][field]]
        cell[0] += bool(result["found"])
        cell[1] += 1
    return sorted(((k, v[0], v[1]) for k, v in table.items()), key=lambda t: (-t[2], t[0]))


def pct(found: int, total: int) -> str:
    return f"{100.0 * found / total:.0f}%" if total else "n/a"


def label(row: dict) -> str:
    where = f"{row['path']}" + (f":cell {row['cell']}" if row["cell"] else "") + f":{row['line_start']}"
    if row["line_end"] != row["line_start"]:
        where += f"-{row['line_end']}"
    return f"{row['repo']} {where}"


def report_text(results: list[dict]) -> str:
    out = []
    for result in results:
        row = result["row"]
        if result["found"] is None:
            verdict = f"skipped ({result['state']})"
        else:
            verdict = "found " if result["found"] else "MISSED"
        extra = f"  [{result['problem']}]" if result["problem"] else ""
        out.append(f"{verdict:8} {row['code']} {row['kind']:20} {label(row)}{extra}")
    linted = [r for r in results if r["found"] is not None]
    found = sum(bool(r["found"]) for r in linted)
    out.append("")
    if not linted:
        out.append(f"recall: nothing materialised ({len(results)} defects skipped); run fetch_defects.py first")
        return "\n".join(out)
    out.append(f"recall: {found}/{len(linted)} = {pct(found, len(linted))}"
               + (f"  ({len(results) - len(linted)} skipped)" if len(linted) < len(results) else ""))
    for field in ("kind", "code"):
        out.append(f"\nper {field}:")
        for name, hit, total in summarise(results, field):
            out.append(f"  {name:22} {hit:3}/{total:<3} {pct(hit, total):>5}")
    misses = [r for r in linted if not r["found"]]
    if misses:
        out.append("\nmisses:")
        for result in misses:
            row = result["row"]
            near = f"  (nearby: {', '.join(result['near'])})" if result["near"] else ""
            out.append(f"  [{row['kind']}] {row['code']} {label(row)}{near}")
    return "\n".join(out)


def report_markdown(results: list[dict]) -> str:
    linted = [r for r in results if r["found"] is not None]
    found = sum(bool(r["found"]) for r in linted)
    out = [f"Recall: **{found}/{len(linted)} = {pct(found, len(linted))}**", ""]
    for field in ("kind", "code"):
        out += [f"| {field} | found | defects | recall |", "|---|--:|--:|--:|"]
        out += [f"| {name} | {hit} | {total} | {pct(hit, total)} |" for name, hit, total in summarise(results, field)]
        out.append("")
    out += ["| missed | kind | code |", "|---|---|---|"]
    out += [f"| {label(r['row'])} | {r['row']['kind']} | {r['row']['code']} |" for r in linted if not r["found"]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--extend-select", action="append", default=[],
                        help="also enable this rule (e.g. GL403, off by default); repeatable")
    parser.add_argument("--json", type=Path, help="write per-defect results here")
    parser.add_argument("--only", action="append", default=[], help="repo (owner/name) to evaluate; repeatable")
    args = parser.parse_args(argv)
    EXTEND_SELECT.extend(args.extend_select)
    rows = [r for r in load_rows() if not args.only or r["repo"] in args.only]
    results = evaluate(rows)
    print(report_markdown(results) if args.markdown else report_text(results))
    if args.json:
        payload = [{**{k: r["row"][k] for k in ("repo", "commit", "path", "line_start", "line_end", "code",
                                               "kind", "cell")},
                    "state": r["state"], "found": r["found"], "near": r["near"], "problem": r["problem"]}
                   for r in results]
        args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
