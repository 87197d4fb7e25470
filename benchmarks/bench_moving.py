"""Moving campaign speed, each figure with a ratio to a bare SimPy reference measured in
the same run (these machines are noisy; none of this is a pass/fail test):

1. `simlib simulate --replications 1 --json` as a whole process (import, load, population,
   the housing allocation, plan, check, simulation, tables, summary) against
   `python benchmarks/bare_simpy.py` as a whole process running the same processes with
   no model (goal: within 3x);
2. one full-scale replication in one process (`run_campaign` and its runs row, the plan
   made once) against the bare script's `run` in the same process (goal: within 2x);
3. 30 replications on the machine's cores (goal: under 30 s on 2 cores), next to 30 bare
   runs on as many worker processes.
Also: SimPy events, events per second, peak traced memory. Both sides run the move-in day
at the buildings (each family's bays and stairwell as resources) as the scenario has it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bare_simpy import run as bare_run  # noqa: E402

from simlib.inputs import load_inputs  # noqa: E402
from simlib.moving import DAY, make_plan, run, run_campaign  # noqa: E402
from simlib.moving.calendar import Calendar, team_groups  # noqa: E402
from simlib.moving.convoys import REQUESTS, convoy_needs  # noqa: E402
from simlib.moving.homes import carrying_step  # noqa: E402
from simlib.scenario import PROJECT_ROOT  # noqa: E402

REPEATS = 5


def process_time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, cwd=PROJECT_ROOT)
    return time.perf_counter() - start


def bare_homes(result) -> dict[str, np.ndarray]:
    """Each household's building bays, stairwell (-1: none, the ground floor) and carry,
    and the units of each, for the bare script (empty when the move-in day is not tied)."""
    p, hh = result.params, result.households
    if p.homes is None:
        return {}
    homes = p.homes
    bay = pd.Index(homes.buildings["building"]).get_indexer(hh["building"])
    keys = pd.MultiIndex.from_frame(homes.stairwells[["building", "stairwell"]])
    stair = keys.get_indexer(pd.MultiIndex.from_frame(hh[["building", "stairwell"]]))
    lifts = homes.stairwells["lifts"].to_numpy()
    k = carrying_step(p)
    guide = sum(s.service_mean for s in p.steps[k - 1 : k])
    return {
        "bay": bay,
        "stair": np.where(hh["carry_minutes"].to_numpy() > 0, stair, -1),
        "carry": hh["carry_minutes"].to_numpy(),
        "bay_units": homes.buildings["unloading_bays"].to_numpy(),
        "stair_units": np.where(lifts > 0, lifts, p.squads_per_stairwell),
        "guide_mean": np.array(guide),
        "door_mean": np.array(p.steps[k].service_mean - hh["carry_minutes"].mean()),
    }


def bare_inputs(result) -> dict[str, np.ndarray]:
    """The processes of one simulated campaign, as plain arrays for the bare script."""
    p, hh, conv = result.params, result.households, result.convoys
    cal = Calendar(p)
    groups = [*team_groups(p.steps, "before"), *team_groups(p.steps, "after"), *team_groups(p.steps, "followup")]  # fmt: skip
    members = hh.sort_values("convoy_id").index.to_numpy()
    counts = conv["households"].to_numpy()
    stops = np.cumsum(counts)
    segments = np.zeros((len(conv), 3))
    for i, county in enumerate(conv["county"]):
        minutes = [s.minutes for s in p.roads[county].segments]
        segments[i, : len(minutes)] = minutes
    start = conv["batch_day"].to_numpy() * DAY + p.gather_start
    need = np.array([[convoy_needs(t, b, p)[k] for k in REQUESTS] for t, b in zip(conv["trucks"], conv["buses"], strict=True)])  # fmt: skip
    same = np.r_[False, (conv["county"].to_numpy()[1:] == conv["county"].to_numpy()[:-1]) & (conv["batch_day"].to_numpy()[1:] == conv["batch_day"].to_numpy()[:-1])]  # fmt: skip
    return {
        "prep": np.array([cal.prepare_day(d) * DAY + p.work_start for d in hh["planned_day"]]),
        "teams": np.array([p.resources[g.resource] for g in groups]),
        "means": np.array([sum(p.steps[k].service_mean for k in g.steps) for g in groups]),
        "start": start,
        "day": conv["batch_day"].to_numpy(),
        "need": need,
        "loading": np.maximum(conv["loaded"].to_numpy() - start, 0.0),
        "segments": segments,
        "members": members,
        "first": stops - counts,
        "stop": stops,
        "same_county": same,
        **bare_homes(result),
    }


def main() -> None:
    load = os.getloadavg()
    inputs = load_inputs()
    params, households = inputs.moving, inputs.population.households
    plan = make_plan(params, households)
    first = run_campaign(params, households, inputs.seed, 0, plan)
    bare = bare_inputs(first)

    # 1. whole processes, interleaved so that machine load hits both alike
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "bare.npz"
        np.savez(npz, **bare)
        cli = [sys.executable, "-m", "simlib", "simulate", "--replications", "1", "--json"]
        ref = [sys.executable, str(HERE / "bare_simpy.py"), str(npz)]
        cli_times, ref_times = [], []
        for _ in range(3):
            cli_times.append(process_time(cli))
            ref_times.append(process_time(ref))
    cli_wall, ref_wall = statistics.median(cli_times), statistics.median(ref_times)

    # 2. one replication in this process (the plan made once, as `run` does)
    one_times, bare_times = [], []
    for _ in range(REPEATS):
        t = time.perf_counter()
        result = run_campaign(params, households, inputs.seed, 0, plan)
        result.run_row()
        one_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare_run(bare)
        bare_times.append(time.perf_counter() - t)
    one, ref = statistics.median(one_times), statistics.median(bare_times)
    tracemalloc.start()
    run_campaign(params, households, inputs.seed, 0, plan)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    # 3. thirty replications on every core, and 30 bare runs on as many workers
    cores = os.cpu_count() or 1
    cpu, t = os.times(), time.perf_counter()
    thirty = run(inputs, replications=30, workers=cores)
    wall30 = time.perf_counter() - t
    after = os.times()
    cpu30 = sum(after[:4]) - sum(cpu[:4])  # this process and its workers, user + system
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=cores) as pool:
        list(pool.map(bare_run, [bare] * 30, range(30)))
    bare30 = time.perf_counter() - t
    _report(result, (cli_wall, ref_wall), (one, ref), (wall30, bare30, cores, cpu30), (peak, load, thirty.summary()))  # fmt: skip


def _report(result, whole, one, thirty, other) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    cli_wall, ref_wall = whole
    one_wall, ref = one
    wall30, bare30, cores, cpu30 = thirty
    peak, load, s = other
    print(f"moving: {len(result.households):,} households, {len(result.convoys):,} convoys; load average before {load[0]:.1f}")  # fmt: skip
    print(f"  simlib simulate --replications 1 --json (whole process, median of 3): {cli_wall:.2f} s; bare SimPy script (whole process): {ref_wall:.2f} s; ratio {cli_wall / ref_wall:.2f}   goal <= 3: {verdict(cli_wall / ref_wall <= 3)}")  # fmt: skip
    print(f"  one replication in-process (median of {REPEATS}): {one_wall:.3f} s; bare SimPy run of the same processes: {ref:.3f} s; ratio {one_wall / ref:.2f}   goal <= 2: {verdict(one_wall / ref <= 2)}")  # fmt: skip
    print(f"  SimPy events: {result.events:,}   events/s: {result.events / one_wall:,.0f}")
    print(f"  30 replications on {cores} cores: {wall30:.1f} s   goal < 30 s: {verdict(wall30 < 30)}; CPU time {cpu30:.1f} s ({cpu30 / 30:.2f} s a replication, {cpu30 / wall30:.2f} cores busy on average; {cpu30 / cores:.1f} s if the {cores} cores were free); 30 bare runs on as many workers: {bare30:.1f} s (ratio {wall30 / bare30:.2f})")  # fmt: skip
    print(f"  peak traced memory (one replication): {peak / 2**20:.1f} MiB; load average after {os.getloadavg()[0]:.1f}")  # fmt: skip
    d = s["campaign_days"]
    print(f"  campaign days (30 replications): {d['mean']:.1f} [{d['ci95_low']:.1f}, {d['ci95_high']:.1f}], range {s['campaign_days_range']}; plan kept {100 * s['plan_kept_share']:.1f} %; deadline met in {100 * s['deadline_met_share']:.0f} %")  # fmt: skip


if __name__ == "__main__":
    main()
