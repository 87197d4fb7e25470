"""Convoys on the road: what one needs, how a convoy day splits into convoys, when a convoy
may leave, and how it drives its route in segments in daylight.

A county moves its households on its convoy day as a few convoys. Trucks carry the
belongings (`households_per_truck` households each), coaches the people (`bus_seats`),
each with a driver; a convoy of v vehicles takes v of the route's daily passes and an
escort of ceil(v / vehicles-per) police officers, police cars, cadres and doctors. A convoy
never needs more than one county day's pools hold, so it can always go once they are back.

These are the rules the SimPy process (`simlib.moving.campaign`) and the arithmetic check
at mean times (`simlib.moving.timing`) both follow; the functions here are pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simlib.moving.inputs import DAY, MovingParams
from simlib.moving.tables import Road

# the order in which a convoy asks for its resources (central pools first, then the
# county's own); loading crews come after, one truck at a time
REQUESTS = (
    "trucks",
    "coaches",
    "drivers",
    "route_vehicles",
    "police_officers",
    "police_cars",
    "cadres",
    "doctors",
)
CENTRAL = ("trucks", "coaches", "drivers")  # one pool per date for all its county days


def vehicles(households: int, people: int, params: MovingParams) -> tuple[int, int]:
    """(trucks, coaches) for one convoy of `households` households and `people` people."""
    return math.ceil(households / params.households_per_truck), math.ceil(people / params.bus_seats)


def convoy_needs(trucks: int, coaches: int, params: MovingParams) -> dict[str, int]:
    """What one convoy asks for, by resource (see REQUESTS)."""
    v = trucks + coaches
    p = params
    return {
        "trucks": trucks,
        "coaches": coaches,
        "drivers": v,
        "route_vehicles": v,
        "police_officers": math.ceil(v / p.vehicles_per_police_officer),
        "police_cars": math.ceil(v / p.vehicles_per_police_car),
        "cadres": math.ceil(v / p.vehicles_per_cadre),
        "doctors": math.ceil(v / p.vehicles_per_doctor),
    }


def _fits(needs: dict[str, int], pools: dict[str, int], most: int) -> bool:
    return needs["drivers"] <= most and all(needs[k] <= pools[k] for k in REQUESTS)


def form_convoys(
    sizes: Sequence[int], params: MovingParams, pools: dict[str, int] | None = None
) -> list[tuple[int, int, int, int]]:
    """Split a convoy day's households (their sizes, in call order) into convoys of at most
    `convoy_vehicles_max` vehicles, each within one county day's `pools` (default: the
    scenario's). Returns (first, stop, trucks, coaches) per convoy: households first..stop-1."""
    pools = params.pools() if pools is None else pools
    convoys = []
    first, people = 0, 0
    fits: dict[tuple[int, int], bool] = {}  # (trucks, coaches) -> within the pools: asked once
    for i, size in enumerate(sizes):
        n = i - first + 1
        if n > 1:
            v = vehicles(n, people + size, params)
            if v not in fits:
                fits[v] = _fits(convoy_needs(*v, params), pools, params.convoy_vehicles_max)
            if not fits[v]:
                convoys.append((first, i, *vehicles(i - first, people, params)))
                first, people = i, 0
        people += size
    if len(sizes):
        convoys.append((first, len(sizes), *vehicles(len(sizes) - first, people, params)))
    return convoys


def day_vehicles(sizes: Sequence[int], params: MovingParams) -> int:
    """Vehicles (trucks and coaches) of a whole convoy day."""
    return sum(t + b for _, _, t, b in form_convoys(sizes, params))


def clock(t: float) -> float:
    """Minutes after midnight of the day of time t."""
    return t - math.floor(t / DAY) * DAY


def cutoff_minute(params: MovingParams) -> float:
    """Minute of a convoy day by which a convoy must have its resources (else its families
    are left behind): `latest_departure` (never before `gather_start`: then no convoy gets
    away), or midnight when convoys may drive in the dark."""
    if params.dark_rule == "drive":
        return DAY
    return max(params.latest_departure, params.gather_start)


def next_departure(t: float, params: MovingParams) -> float:
    """The earliest moment at or after t at which a convoy may leave its gathering point:
    with `dark_rule: stop`, not before `gather_start` and not at or after
    `latest_departure` (then the next morning); with `drive`, at once."""
    p = params
    if p.dark_rule == "drive":
        return t
    day = math.floor(t / DAY)
    c = t - day * DAY
    if c < p.gather_start:
        return day * DAY + p.gather_start
    if c >= cutoff_minute(p):
        return (day + 1) * DAY + p.gather_start
    return t


def stop_before(now: float, minutes: float, params: MovingParams) -> bool:
    """Whether a convoy at `now` waits for the next morning rather than drive a segment of
    `minutes` (mean) that it cannot finish before dark (a segment longer than the whole
    daylight is driven anyway)."""
    p = params
    daylight = p.dark - p.gather_start
    return p.dark_rule == "stop" and clock(now) + minutes > p.dark and minutes <= daylight


def depart_time(ready: float, road: Road, params: MovingParams) -> float:
    """When a convoy ready at `ready` leaves: `next_departure`, and not onto a first
    segment it cannot finish before dark (it waits at the gathering point instead)."""
    t = next_departure(ready, params)
    if stop_before(t, road.segments[0].minutes, params):
        t = morning_after(t, params)
    return t


def morning_after(now: float, params: MovingParams) -> float:
    """The next gathering time after an overnight stop at `now`."""
    return (math.floor(now / DAY) + 1) * DAY + params.gather_start


def drive_mean(depart: float, road: Road, params: MovingParams) -> tuple[float, int]:
    """Arrival (minutes) and overnight stops of a convoy leaving at `depart` and driving
    each segment at its mean time, stopping overnight before a segment it cannot finish
    before dark."""
    now, nights = depart, 0
    for k, segment in enumerate(road.segments):
        if k and stop_before(now, segment.minutes, params):
            now, nights = morning_after(now, params), nights + 1
        now += segment.minutes
    return now, nights


def return_minutes(road: Road, params: MovingParams) -> float:
    """Minutes for the empty vehicles and the escort to drive back (at any hour)."""
    return road.travel_time * params.return_time_factor


def on_road_in_pause(depart: float, arrive: float, params: MovingParams) -> bool:
    """Whether a convoy leaving at `depart` and arriving at `arrive` is on the road (or
    leaves) on a pause day."""
    first, last = math.floor(depart / DAY), math.floor(arrive / DAY)
    return any(params.paused(d) for d in range(first, last + 1))


def night_departure(depart: float, params: MovingParams) -> bool:
    c = clock(depart)
    return c < params.gather_start or c >= params.dark
