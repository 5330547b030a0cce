"""How long `gradlint verify` takes end to end on a small MLP, next to the cost of importing torch.

    python bench/bench_verify.py [--runs 5]

Target (issue 5): under 5 s on CPU, most of it torch's import. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "verify" / "healthy_relu_mlp.py"


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    gradlint = shutil.which("gradlint") or str(Path(sys.executable).with_name("gradlint"))
    cases = {
        "python -c 'import torch' (the floor)": [sys.executable, "-W", "ignore", "-c", "import torch"],
        f"gradlint verify {FIXTURE.relative_to(ROOT)} (20 steps)": [gradlint, "verify", str(FIXTURE)],
    }
    print(f"{runs} runs each, median (min..max) in seconds")
    for name, command in cases.items():
        times = [timed(command) for _ in range(runs)]
        print(f"  {statistics.median(times):6.2f}  ({min(times):.2f}..{max(times):.2f})  {name}")


if __name__ == "__main__":
    main()
