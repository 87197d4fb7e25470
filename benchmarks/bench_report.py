"""How long the report build takes: from nothing kept, with the answers kept, and unchanged.

    .venv/bin/python benchmarks/bench_report.py           # the smoke build (a few minutes)
    .venv/bin/python benchmarks/bench_report.py --full    # and the full build (longer)

Each build is the command a planner types (`python -m simlib report ...`) in a fresh
process, timed from start to end:

- cold: no answer kept (a fresh SIMLIB_CACHE_DIR) and the report sweeps' folders of the
  scenario removed from results/sweeps/ (they are recomputed): a build "from an empty
  results folder", after installation;
- answers kept: the same answers, a new output folder, so every notebook is executed;
- unchanged: the same command again into the same folder: nothing is computed or executed.

The reference, measured in the same run, is one trivial report (a notebook holding
`1 + 1`) built by the same code: the start-up of Python, a kernel and papermill, and the
HTML conversion. Figures are printed with their ratio to it and the load average, because
the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SWEEPS = ROOT / "results" / "sweeps"
REPORT_SWEEPS = ("assumptions", "morris", "discovery", "community")  # simlib.answers' sweeps
TARGETS = {"smoke": 90.0, "full": 360.0, "unchanged": 60.0}  # seconds, issue 17


def build(args: list[str], cache: Path) -> tuple[float, dict]:
    """Run `python -m simlib report ARGS --json` in a fresh process; seconds and its JSON."""
    env = {**os.environ, "SIMLIB_CACHE_DIR": str(cache)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "simlib", "report", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"the build failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout)


def reference(scratch: Path) -> float:
    """One trivial report, built by the same command."""
    notebooks = scratch / "reference-notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('scenario = "x"\nseed = 1\nreplications = 1\nsolver = "cbc"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Reference"), params]
    nb.cells.append(nbformat.v4.new_code_cell("1 + 1"))
    nbformat.write(nb, notebooks / "00-reference.ipynb")
    args = ["--smoke", "--notebooks", str(notebooks), "--out", str(scratch / "reference")]
    return build(args, scratch / "reference-cache")[0]


def forget_sweeps(scenario: str) -> None:
    """Remove the scenario's report sweeps from results/sweeps/ (their points are recomputed)."""
    for name in REPORT_SWEEPS:
        shutil.rmtree(SWEEPS / f"{name}-{scenario}", ignore_errors=True)


def measure(label: str, scenario_args: list[str], scenario: str, scratch: Path) -> dict:
    """Cold, answers kept and unchanged builds of one scenario."""
    cache = scratch / f"cache-{label}"
    forget_sweeps(scenario)
    cold, first = build([*scenario_args, "--out", str(scratch / f"{label}-a")], cache)
    kept, _ = build([*scenario_args, "--out", str(scratch / f"{label}-b")], cache)
    same, again = build([*scenario_args, "--out", str(scratch / f"{label}-b")], cache)
    reused = sum(r.get("reused", False) for r in again["reports"])
    return {
        "cold": cold,
        "answers kept": kept,
        "unchanged": same,
        "reused pages": f"{reused}/{len(again['reports'])}",
        "notebooks (cold)": {r["notebook"]: r["seconds"] for r in first["reports"]},
        "answers (cold)": first.get("answers_seconds", {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="time the report build")
    parser.add_argument("--full", action="store_true", help="the full build too (long)")
    args, _ = parser.parse_known_args()  # benchmarks/run.py passes its own arguments on
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as root:
        scratch = Path(root)
        ref = reference(scratch)
        print(f"reference (one trivial report): {ref:.1f} s")
        runs = {"smoke": measure("smoke", ["--smoke"], "smoke", scratch)}
        if args.full:
            runs["full"] = measure("full", [], "baseline", scratch)
    for label, figures in runs.items():
        print(f"\n{label} build")
        for step in ("cold", "answers kept", "unchanged"):
            s = figures[step]
            target = TARGETS[label] if step == "cold" else TARGETS["unchanged"] * (step == "unchanged")  # fmt: skip
            goal = f"  (target < {target:.0f} s: {'met' if s < target else 'NOT met'})" if target else ""  # fmt: skip
            print(f"  {step:<13}{s:8.1f} s  {s / ref:6.1f} x reference{goal}")
        print(f"  pages carried over when unchanged: {figures['reused pages']}")
        print("  cold, by notebook (s): " + json.dumps(figures["notebooks (cold)"]))
        print("  cold, by answer (s):   " + json.dumps(figures["answers (cold)"]))
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
