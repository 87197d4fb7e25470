"""`simlib needs` on the baseline plan (every convoy day sized with the SimPy model),
against one full replication of the campaign measured in the same run (a ratio, since
these machines are noisy; not a pass/fail test). Goal: under 60 s on 2 cores.

Also times the 600-household day of the farthest county alone (`--date`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from simlib.scenario import PROJECT_ROOT


def wall(argv: list[str]) -> tuple[float, dict, float]:
    """Wall seconds, the JSON printed and the CPU seconds of the process and its workers
    (a figure less at the mercy of the machine's load than the wall time)."""
    before, start = os.times(), time.perf_counter()
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=PROJECT_ROOT)
    seconds, after = time.perf_counter() - start, os.times()
    cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)  # fmt: skip
    return seconds, json.loads(out.stdout), cpu


def main() -> None:
    load = os.getloadavg()
    simlib = [sys.executable, "-m", "simlib"]
    one, _, one_cpu = wall([*simlib, "simulate", "--replications", "1", "--workers", "1", "--json"])
    needs, s, cpu = wall([*simlib, "needs", "--json"])
    days = s["days"]
    cores = os.cpu_count() or 1
    print(f"needs: {len(days)} convoy days of the baseline plan, {s['replications']} replications each; load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  simlib needs (whole process): {needs:.1f} s   goal < 60 s on 2 cores: {'met' if needs < 60 else 'MISSED'}; one replication of the campaign (whole process): {one:.1f} s; ratio {needs / one:.1f}")  # fmt: skip
    print(f"  CPU time: needs {cpu:.1f} s ({cpu / cores:.1f} s if the {cores} cores were free), one replication {one_cpu:.1f} s; ratio {cpu / one_cpu:.1f}")  # fmt: skip
    print(f"  the most any day needs: {', '.join(f'{k} {v}' for k, v in s['most'].items())}")
    print(f"  per day: {needs / len(days):.2f} s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
