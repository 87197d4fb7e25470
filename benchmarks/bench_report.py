"""How long the report build takes: from nothing kept, with the answers kept, and unchanged.

    .venv/bin/python benchmarks/bench_report.py           # the smoke build (a few minutes)
    .venv/bin/python benchmarks/bench_report.py --full    # and the full build (longer)
    .venv/bin/python benchmarks/bench_report.py --full-only   # the full build alone
    .venv/bin/python benchmarks/bench_report.py --answers     # CPU of each smoke answer
    .venv/bin/python benchmarks/bench_report.py --answers --full --skip sweep:morris \
        --skip sweep:discovery --skip sweep:assumptions   # each full-scale answer (~10 min)

Each build is the command a planner types (`python -m simlib report ...`) in a fresh
process, timed from start to end:

- cold: no answer kept (a fresh SIMLIB_CACHE_DIR) and the report sweeps' folders of the
  scenario removed from results/sweeps/ (they are recomputed): a build "from an empty
  results folder", after installation;
- answers kept: the same answers, a new output folder, so every notebook is executed;
- unchanged: the same command again into the same folder: nothing is computed or executed.

The smoke scenario runs the report sweeps' smaller `smoke:` designs (it says
`sweep_design: smoke`); the full build runs their full designs. Each cold build prints
which design each sweep ran and its points.

The reference, measured in the same run, is one trivial report (a notebook holding
`1 + 1`) built by the same code: the start-up of Python, a kernel and papermill, and the
HTML conversion. Figures are printed with their ratio to it and the load average, because
the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def build(args: list[str], cache: Path) -> tuple[float, dict]:
    """Run `python -m simlib report ARGS --json` in a fresh process; seconds and its JSON
    (with "cpu_seconds": the CPU time of the build and every process it waited for, a
    figure the machine's other work changes far less than the wall time)."""
    env = {**os.environ, "SIMLIB_CACHE_DIR": str(cache)}
    cpu0 = _children_cpu()
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
    return seconds, {**json.loads(done.stdout), "cpu_seconds": _children_cpu() - cpu0}


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
    """Remove the scenario's report sweeps from results/sweeps/ (their points are recomputed),
    and the models' summaries the sweeps keep there (every scenario's: they are computed
    again)."""
    for name in REPORT_SWEEPS:
        shutil.rmtree(SWEEPS / f"{name}-{scenario}", ignore_errors=True)
    shutil.rmtree(SWEEPS / ".summaries", ignore_errors=True)  # simlib.sweep.memo.SUMMARIES


def measure(label: str, scenario_args: list[str], scenario: str, scratch: Path, ref: float) -> None:
    """Cold, answers kept and unchanged builds of one scenario, each printed as measured."""
    cache = scratch / f"cache-{label}"
    forget_sweeps(scenario)
    print(f"\n{label} build", flush=True)
    steps = (("cold", "a"), ("answers kept", "b"), ("unchanged", "b"))
    for step, folder in steps:
        seconds, built = build([*scenario_args, "--out", str(scratch / f"{label}-{folder}")], cache)
        target = TARGETS[label] if step == "cold" else TARGETS["unchanged"] if step == "unchanged" else None  # fmt: skip
        goal = f"  (target < {target:.0f} s: {'met' if seconds < target else 'NOT met'})" if target else ""  # fmt: skip
        reused = sum(r.get("reused", False) for r in built["reports"])
        print(
            f"  {step:<13}{seconds:8.1f} s  {seconds / ref:6.1f} x reference{goal}"
            f"  [CPU {built['cpu_seconds']:.0f} s]"
            f"  [pages carried over {reused}/{len(built['reports'])}, load {_load()}]",
            flush=True,
        )
        if step == "cold":
            print("    by notebook (s): " + json.dumps({r["notebook"][:2]: r["seconds"] for r in built["reports"]}))  # fmt: skip
            print("    by answer (s):   " + json.dumps(built.get("answers_seconds", {})), flush=True)  # fmt: skip
            print("    sweeps:          " + _designs(scenario), flush=True)


def _designs(scenario: str) -> str:
    """Which design each report sweep of the scenario ran, and its points (sweep.json)."""
    ran = []
    for name in REPORT_SWEEPS:
        record = SWEEPS / f"{name}-{scenario}" / "sweep.json"
        try:
            points = json.loads(record.read_text(encoding="utf-8"))["points"]
        except (OSError, ValueError, KeyError):
            points = "?"
        ran.append(f"{name} {points} points")
    design = "smoke" if scenario == "smoke" else "full"
    return f"{design} designs: " + ", ".join(ran)


def answers_cpu(full: bool = False, skip: tuple[str, ...] = ()) -> None:
    """Each answer of the smoke build (`full`: of the full build) but those in `skip`,
    computed alone, one after another, in this process with one worker and an empty cache:
    its CPU seconds (children included) and wall time, which says where a cold build's CPU
    goes."""
    from dataclasses import replace

    from simlib.answers import RECIPES
    from simlib.results import LONGEST_FIRST, open_study
    from simlib.scenario import DEFAULT_SCENARIO, SMOKE_SCENARIO

    forget_sweeps("baseline" if full else "smoke")
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as cache:
        os.environ["SIMLIB_CACHE_DIR"] = cache
        study = open_study(DEFAULT_SCENARIO if full else SMOKE_SCENARIO, replications=10)
        study.options = replace(study.options, workers=1)
        total = 0.0
        names = [n for n in RECIPES if n not in skip]
        for name in sorted(names, key=lambda n: n not in LONGEST_FIRST):
            cpu, t0 = _own_cpu(), time.perf_counter()
            study.answer(name)
            used = _own_cpu() - cpu
            total += used
            print(f"  {name:<26}{used:7.1f} CPU-s {time.perf_counter() - t0:7.1f} s", flush=True)
        print(f"  {'all answers':<26}{total:7.1f} CPU-s  [load {_load()}]")


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime + _children_cpu()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description="time the report build")
    parser.add_argument("--full", action="store_true", help="the full build too (long)")
    parser.add_argument("--full-only", action="store_true", help="the full build alone")
    parser.add_argument("--answers", action="store_true", help="CPU of each smoke answer (--full: full-scale)")  # fmt: skip
    parser.add_argument("--skip", action="append", default=[], help="with --answers: leave this answer out")  # fmt: skip
    args, _ = parser.parse_known_args()  # benchmarks/run.py passes its own arguments on
    if args.answers:
        answers_cpu(args.full, tuple(args.skip))
        return
    print(f"load average before: {_load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as root:
        scratch = Path(root)
        ref = reference(scratch)
        print(f"reference (one trivial report): {ref:.1f} s", flush=True)
        if not args.full_only:
            measure("smoke", ["--smoke"], "smoke", scratch, ref)
        if args.full or args.full_only:
            measure("full", [], "baseline", scratch, ref)
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
