"""Run every benchmark (benchmarks/bench_*.py) and print its figures.

Usage: python benchmarks/run.py [NAME ...]   e.g. `python benchmarks/run.py population`.
Each benchmark prints wall times and a ratio against a reference measured in the same
run, because these machines are noisy; none of them is a pass/fail test.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        runpy.run_path(str(script), run_name="__main__")
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
