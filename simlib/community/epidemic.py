"""The epidemic period of early 2020 (SimPy): people back from outside, the checkpoints and
the 24-hour team.

Who comes back is derived from the synthetic population, not fitted to the record: every
laborer willing to work away (population: willing_to_migrate) was away with a chance
`away_share`, came home for the Spring Festival with a chance `festival_return_share`, and
did so within the moving pauses (data/moving/parameters.csv pause_windows) with a chance
`window_return_share` (data/community/parameters.csv). They come to the new town only if
their household has moved in by then. The day of return is drawn from a triangle over the
window (peak at `return_peak_position` of it), the hour uniformly between `arrival_start`
and `arrival_end`, the checkpoint by its share of the arrivals (checkpoints.csv); people of
one household travel together. So the
number followed up can be compared with the reported 972: nothing here was set from it.

At each checkpoint the team's members on shift are the servers of one queue (first come,
first served): a health check and a registration by one member, gamma-distributed. The
team is on duty around the clock in `shifts_per_day` shifts; `checkpoint_team_share` of it
is rostered at the checkpoints, spread over them by their share of the arrivals (at least
one on duty at each). Each person is handed to their grid when served (see visits.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import simpy

from simlib.community.inputs import EpidemicParams
from simlib.population import largest_remainder
from simlib.randomness import stream

DAY = 1440.0  # minutes


def returning_people(
    people: pd.DataFrame,
    moved_in_day: pd.Series,
    windows: Sequence[tuple[int, int]],
    params: EpidemicParams,
    key: tuple[int, int],
) -> pd.DataFrame:
    """One row per person who passes a checkpoint: person_id, household_id, window,
    arrival (minutes from the campaign's first midnight) and checkpoint (index).
    `moved_in_day`: the replication's day of moving in, by household_id; `key`: (seed,
    replication). People of one household who come back travel together (one day, hour
    and checkpoint per household). Every draw is made for every person or household, so a
    change of a share changes who returns only at the margin (common random numbers)."""
    seed, replication = key
    columns = ["person_id", "household_id", "window", "arrival", "checkpoint"]
    if not windows or len(people) == 0:
        return pd.DataFrame(columns=columns)
    households, member_of = np.unique(people["household_id"].to_numpy(), return_inverse=True)
    n = len(households)
    returns = stream(seed, "community", "epidemic", replication, "returns").random(len(people))
    draw = [stream(seed, "community", "epidemic", replication, name).random(n)
            for name in ("window", "day", "hour", "checkpoint")]  # fmt: skip
    length = np.array([b - a + 1 for a, b in windows], dtype=float)
    window = np.searchsorted(np.cumsum(length) / length.sum(), draw[0], side="right")
    window = np.minimum(window, len(windows) - 1)
    first = np.array([a for a, _ in windows])[window]
    offset = _triangle(draw[1], length[window], params.return_peak_position)
    day = first + np.floor(offset).astype(np.int64)
    minute = params.arrival_start + draw[2] * (params.arrival_end - params.arrival_start)
    shares = np.cumsum([c.arrival_share for c in params.checkpoints])
    checkpoint = np.minimum(np.searchsorted(shares / shares[-1], draw[3], side="right"),
                            len(params.checkpoints) - 1)  # fmt: skip
    window, day, minute, checkpoint = (x[member_of] for x in (window, day, minute, checkpoint))
    moved = moved_in_day.reindex(people["household_id"]).fillna(-1).to_numpy()
    back = (
        people["willing_to_migrate"].to_numpy(dtype=bool)
        & (returns < params.return_share)
        & (moved >= 0)
        & (moved < day)
    )
    table = pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy()[back],
            "household_id": people["household_id"].to_numpy()[back],
            "window": window[back],
            "arrival": day[back] * DAY + minute[back],
            "checkpoint": checkpoint[back],
        }
    )
    return table.sort_values(["arrival", "person_id"]).reset_index(drop=True)


def _triangle(u: np.ndarray, length: np.ndarray, peak: float) -> np.ndarray:
    """Inverse of the triangular distribution on [0, length] with its mode at peak x length."""
    mode = peak * length
    left = u < peak
    with np.errstate(invalid="ignore", divide="ignore"):
        rise = np.sqrt(u * length * mode)
        fall = length - np.sqrt((1 - u) * length * (length - mode))
    return np.clip(np.where(left, rise, fall), 0, np.nextafter(length, 0))


def serve_in_order(arrival: np.ndarray, service: np.ndarray, servers: int) -> np.ndarray:
    """Start of service of each arrival at a queue of `servers` (SimPy, first come first
    served); `arrival` sorted, same unit as `service`."""
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    start = np.full(len(arrival), np.nan)

    def person(i: int):
        with desk.request() as request:
            yield request
            start[i] = env.now
            yield env.timeout(service[i])

    def door():
        for i, t in enumerate(arrival):
            yield env.timeout(max(0.0, t - env.now))
            env.process(person(i))

    env.process(door())
    env.run()
    return start


def staff_on_duty(params: EpidemicParams) -> np.ndarray:
    """Team members on duty at each checkpoint at any hour: the checkpoint share of the
    team over the shifts, spread by the checkpoints' shares of the arrivals (at least one)."""
    rostered = round(params.team * params.team_share)
    per_shift = rostered // params.shifts_per_day
    shares = np.array([c.arrival_share for c in params.checkpoints])
    return np.maximum(largest_remainder(shares, per_shift), 1)


def run_checkpoints(
    returnees: pd.DataFrame, params: EpidemicParams, key: tuple[int, int]
) -> pd.DataFrame:
    """The checkpoint queues of one replication: `returnees` with start, wait, service and
    handover (minutes) added."""
    seed, replication = key
    n = len(returnees)
    shape = 1 / params.service_cv**2 if params.service_cv > 0 else np.inf

    def times(name: str, mean: float) -> np.ndarray:
        if mean <= 0:
            return np.zeros(n)
        if not np.isfinite(shape):
            return np.full(n, mean)
        rng = stream(seed, "community", "epidemic", replication, name)
        return rng.gamma(shape, mean / shape, n)

    service = times("health_check", params.health_check) + times(
        "registration", params.registration
    )
    table = returnees.copy()
    table["service"] = service
    table["start"] = np.nan
    servers = staff_on_duty(params)
    arrival = table["arrival"].to_numpy(dtype=float)
    for k in range(len(params.checkpoints)):
        here = np.flatnonzero(table["checkpoint"].to_numpy() == k)
        if len(here):
            table.loc[here, "start"] = serve_in_order(arrival[here], service[here], servers[k])
    table["wait"] = table["start"] - table["arrival"]
    table["handover"] = table["start"] + table["service"]
    table["checkpoint"] = [params.checkpoints[k].checkpoint for k in table["checkpoint"]]
    return table


def staff_hours(params: EpidemicParams, windows: Sequence[tuple[int, int]]) -> float:
    """Staff-hours on duty at the checkpoints over the pause windows (around the clock)."""
    days = sum(b - a + 1 for a, b in windows)
    return float(staff_on_duty(params).sum() * 24 * days)
