"""Housing lottery speed at full scale (8,322 households, 8,866 flats).

Goals:
- `simlib lottery --json` as a whole process (imports, population, the draw, the checks,
  the lottery day's replications, the summary) in under 5 s, median of 3, against the
  same process that stops after the imports as a floor;
- `simlib lottery --method community --json` with the model proven optimal (or its gap
  reported) in under 30 s, median of 3; as a reference, the same model with every
  building open to every village (no window) is solved in the same run: its optimum
  bounds the windowed one from below, so equal objectives show the window costs nothing.
- the fairness audit's 1,000 full-scale draws of the public lottery, timed once.

The machine's load average is printed: on a shared 2-core machine every figure moves
with it. CPU time (user + sys of the process and its children) is what the wall time
would be on an idle machine, less the waits.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

from simlib.housing import allocate, prepare
from simlib.housing.audit import fairness_audit
from simlib.inputs import load_inputs, vary

REPEATS = 3


def process(args: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds, the JSON printed) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}


def timed(command: list[str], label: str, goal: float) -> dict:
    runs = [process(command) for _ in range(REPEATS)]
    wall = statistics.median(w for w, _, _ in runs)
    cpu = statistics.median(c for _, c, _ in runs)
    print(
        f"  {label}, median of {REPEATS}: wall {wall:.2f} s (runs "
        f"{', '.join(f'{w:.2f}' for w, _, _ in runs)}), CPU {cpu:.2f} s; goal < {goal:g} s "
        f"wall: {'met' if wall < goal else 'MISSED'}"
    )
    return {"wall": wall, "cpu": cpu, "json": runs[0][2]}


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    floor = [sys.executable, "-c", "import simlib.cli; simlib.cli.build_parser()"]
    process(floor)  # warm the file cache
    bare = statistics.median(process(floor)[0] for _ in range(REPEATS))
    print(f"  interpreter + CLI imports alone (the floor), median of {REPEATS}: {bare:.2f} s")

    lottery = timed([sys.executable, "-m", "simlib", "lottery", "--json"], "`simlib lottery --json`", 5)  # fmt: skip
    s = lottery["json"]
    print(
        f"    {s['households']:,} households, {s['units']:,} flats, lottery day "
        f"{s['lottery_day']['replications']} replications; ratio to the floor "
        f"{lottery['wall'] / bare:.1f}"
    )
    community = timed(
        [sys.executable, "-m", "simlib", "lottery", "--method", "community", "--json"],
        "`simlib lottery --method community --json`",
        30,
    )
    c = community["json"]["community"]
    print(
        f"    model {c['status']} (gap {c['gap']}), {c['variables']:,} variables, "
        f"{c['constraints']:,} constraints; build {c['build_seconds']:.2f} s, solve "
        f"{c['solve_seconds']:.2f} s; max row violation {c['max_constraint_violation']:.2g}; "
        f"ratio to the lottery {community['wall'] / lottery['wall']:.1f}"
    )

    inputs = load_inputs()
    every = vary(inputs, {"housing.community_window": len(inputs.housing.buildings)})
    households, flats, _ = prepare(every, "community")
    start = time.perf_counter()
    _, _, ref = allocate(every, "community", households, flats)
    seconds = time.perf_counter() - start
    print(
        f"  reference: every building open to every village: {ref['status']}, "
        f"{ref['variables']:,} variables, build {ref['build_seconds']:.2f} s, solve "
        f"{ref['solve_seconds']:.2f} s (whole allocation {seconds:.2f} s); objective "
        f"{ref['objective_metres']:,.0f} m against the window's {c['objective_metres']:,.0f} m "
        f"({'equal' if abs(ref['objective_metres'] - c['objective_metres']) < 0.5 else 'differ'}); "
        f"build + solve ratio reference / window "
        f"{(ref['build_seconds'] + ref['solve_seconds']) / max(1e-9, c['build_seconds'] + c['solve_seconds']):.1f}"
    )

    start = time.perf_counter()
    audit = fairness_audit(inputs, "lottery")
    print(
        f"  fairness audit of the lottery at full scale: {audit.draws:,} draws, "
        f"{len(audit.tests)} tests, passed {audit.passed}, in {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
