"""The smoke scenario's headline tables, saved so that a change of any answer is seen.

tests/backtest/headlines.json holds, for the smoke scenario at the default seed with
REPLICATIONS replications, every figure of the summary of each headline answer (moving,
matching, timeline, housing, community: what the presentation layer shows) and the
`runs` table (one row per replication) where the Result has one. The answers are those of
the report build (simlib.results.open_study), so the back-test checks the same path.

tests/backtest/test_backtest.py compares them: a figure that changed, or one that went
missing, fails the test, naming it. Numbers are compared to a relative tolerance of
REL_TOL (absolute ABS_TOL near zero), other values exactly; times (`*seconds*`) are left
out, and new figures are allowed (a new key is not a changed answer).

Changing the saved figures is a deliberate, reviewed commit. To write them again:

    .venv/bin/python tests/backtest/headlines.py --write

and say in the commit message which answer changed and why.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

SAVED = Path(__file__).with_name("headlines.json")
ANSWERS = ("moving", "matching", "timeline", "housing", "community")
REPLICATIONS = 3
REL_TOL = 1e-6
ABS_TOL = 1e-9
TIMING = re.compile(r"seconds|wall_|elapsed")  # how long it took, not what it found


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested summary as {"a.b.c": scalar}: dicts by key, lists and tuples by position."""
    if hasattr(value, "items"):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list | tuple):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return {prefix: _scalar(value)}
    flat: dict[str, Any] = {}
    for key, item in items:
        if TIMING.search(key):
            continue
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


def _scalar(value: Any) -> Any:
    """A JSON value: numpy numbers as Python ones, NaN as None, dates and others as text."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def headline_tables(replications: int = REPLICATIONS) -> dict[str, dict[str, Any]]:
    """Each answer's figures, flattened: its summary, then its runs table by row."""
    from simlib.results import open_study
    from simlib.scenario import SMOKE_SCENARIO

    study = open_study(SMOKE_SCENARIO, replications=replications)
    tables = {}
    for name in ANSWERS:
        result = study.answer(name)
        figures = flatten(result.summary(), "summary")
        runs = getattr(result, "runs", None)
        if runs is not None and hasattr(runs, "to_dict"):
            figures.update(flatten(runs.to_dict(orient="records"), "runs"))
        tables[name] = figures
    return tables


def differences(saved: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[str]:
    """Every saved figure that is missing now or differs (beyond the tolerance for numbers)."""
    found = []
    for answer, figures in saved.items():
        current = now.get(answer)
        if current is None:
            found.append(f"{answer}: the answer is gone")
            continue
        for key, old in figures.items():
            if key not in current:
                found.append(f"{answer}: {key} is gone (was {old!r})")
            elif not same(old, current[key]):
                found.append(f"{answer}: {key} was {old!r}, now {current[key]!r}")
    return found


def same(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new
    if isinstance(old, int | float) and isinstance(new, int | float):
        return math.isclose(old, new, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return old == new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {SAVED.name} again")
    args = parser.parse_args(argv)
    now = headline_tables()
    if args.write:
        document = {
            "scenario": "smoke",
            "replications": REPLICATIONS,
            "tolerance": {"relative": REL_TOL, "absolute": ABS_TOL},
            "answers": now,
        }
        SAVED.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {SAVED} ({sum(len(f) for f in now.values())} figures)")
        return 0
    found = differences(json.loads(SAVED.read_text(encoding="utf-8"))["answers"], now)
    print("\n".join(found) or "every saved figure is unchanged")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
