"""`simlib plan --optimize` on the baseline (PuLP with HiGHS), against `simlib plan` (the
generated plan) measured in the same run (a ratio; not a pass/fail test). Goal: under 10 s
on 2 cores, proven optimal. Also how much earlier the optimised plan ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from simlib.scenario import PROJECT_ROOT


def wall(argv: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=PROJECT_ROOT)
    return time.perf_counter() - start, json.loads(out.stdout)


def main() -> None:
    load = os.getloadavg()
    simlib = [sys.executable, "-m", "simlib", "plan", "--json"]
    generated, g = wall(simlib)
    results = {objective: wall([*simlib, "--optimize", "--objective", objective]) for objective in ("finish", "slack")}  # fmt: skip
    print(f"plan --optimize on the baseline; load average before {load[0]:.1f}")
    print(f"  simlib plan (generated, whole process): {generated:.1f} s, last convoy day {g['last_date']}")  # fmt: skip
    for objective, (seconds, o) in results.items():
        print(
            f"  simlib plan --optimize --objective {objective} (whole process): {seconds:.1f} s   "
            f"goal < 10 s: {'met' if seconds < 10 else 'MISSED'}; ratio to the generated plan "
            f"{seconds / generated:.1f}; {o['status']} (gap {o['gap']}), last family in its flat "
            f"{o['last_move_in_date']}, last registered-poor {o['last_registered_poor_date']}, "
            f"{o['rounds']} solve(s)"
        )


if __name__ == "__main__":
    main()
