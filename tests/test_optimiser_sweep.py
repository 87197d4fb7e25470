"""Where the optimiser matters: the sweep outputs that measure it against the best rule of
thumb, and PRIM's region stated as a planner reads it (on a region drawn by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simlib.inputs import load_inputs, vary
from simlib.present.jobs import optimiser_region_text
from simlib.scenario import SMOKE_SCENARIO
from simlib.sweep import load_spec
from simlib.sweep.analysis import discover, discovery_view
from simlib.sweep.evaluate import OPTIMISER, OUTPUTS, matching_summary


def optimiser_outputs(matching) -> dict:
    """The sweep's optimiser outputs of one matching summary (they read no moving figure)."""
    return {name: OUTPUTS[name].extract({}, matching) for name in OPTIMISER}


@pytest.fixture(scope="module")
def smoke_matching():
    inputs = load_inputs(SMOKE_SCENARIO)
    return matching_summary(inputs, inputs.seed)


def test_the_gain_is_measured_against_the_best_rule_that_keeps_the_rules(smoke_matching):
    s = smoke_matching
    out = optimiser_outputs(s)
    best = s["best_baseline"]
    assert out["best_baseline"] == best["name"] and best["keeps_rules"]
    assert out["optimiser_gain_lasting"] == pytest.approx(
        s["expected_lasting_employed"] - best["expected_lasting_employed"], abs=1e-3
    )
    assert out["optimiser_gain_lasting_percent"] == pytest.approx(
        s["gain_over_best_baseline"]["expected_lasting_percent"], abs=1e-3
    )
    assert out["optimiser_matters"] == (
        out["optimiser_gain_lasting_percent"] > 1 or out["optimiser_gain_households"] > 0
    )
    anatomy = s["employment_anatomy"]
    assert out["export_demand_per_mobile"] == pytest.approx(
        anatomy["export_demand"] / anatomy["willing_and_able_to_go"]
    )
    assert {"optimiser_gain_lasting", "optimiser_matters", "best_baseline"} <= set(out)


def test_scarce_export_seats_make_the_optimiser_matter():
    """Half the export demand: fewer seats than laborers who could take them, so who gets
    them matters, and the best rule falls further behind."""
    inputs = load_inputs(SMOKE_SCENARIO)
    scarce = optimiser_outputs(
        matching_summary(vary(inputs, {"jobs.labour_export_factor": 0.5}), 1)
    )
    plenty = optimiser_outputs(matching_summary(inputs, 1))
    assert scarce["export_demand_per_mobile"] < plenty["export_demand_per_mobile"]
    assert scarce["optimiser_gain_lasting"] > plenty["optimiser_gain_lasting"]


def test_prim_states_the_region_in_the_planners_terms(tmp_path):
    """The optimiser matters below 0.9 export places per laborer who can go, whichever of
    the two assumptions that set it moves it: PRIM finds that one limit on the derived
    quantity rather than a corner of the two assumptions."""
    raw = {
        "name": "optimiser",
        "scenario": str(SMOKE_SCENARIO),
        "design": {"method": "lhs", "samples": 200},
        "budget": 1000,
        "parameters": {"jobs.labour_export_factor": {}, "jobs.migration_cost_yuan_month": {}},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    spec = load_spec(path)
    rng = np.random.default_rng(1)
    factor, cost = rng.uniform(0.5, 1.5, 200), rng.uniform(400, 1600, 200)
    table = pd.DataFrame(
        {
            "point": np.arange(200),
            "status": "ok",
            "label": [f"p{i}" for i in range(200)],
            "jobs.labour_export_factor": factor,
            "jobs.migration_cost_yuan_month": cost,
            "export_demand_per_mobile": factor * cost / 1000,
        }
    )
    table["optimiser_matters"] = table["export_demand_per_mobile"] < 0.9
    box = discover(spec, table, "optimiser_matters", derived=("export_demand_per_mobile",))
    name = "export demand per laborer willing and able to go"
    assert name in box.limits.index
    assert box.limits.loc[name, "high"] == pytest.approx(0.9, abs=0.1)
    text = optimiser_region_text(box)
    assert text.startswith("- **The optimiser matters when ") and name in text
    x, y, flags, limits, what = discovery_view(
        spec, table, box, derived=("export_demand_per_mobile",)
    )
    assert len(x) == len(flags) == 200 and "optimiser" in what


def test_no_run_where_it_matters_is_said_plainly(tmp_path):
    from simlib.sweep.analysis import Box

    empty = pd.DataFrame(columns=["low", "high", "range_low", "range_high"])
    text = optimiser_region_text(Box("optimiser_matters", empty, 0.0, 0.0, 48, 0, 48))
    assert "none of the 48 runs" in text and "as good as the plan" in text


def test_a_thin_region_is_no_rule():
    """4 runs in 48, and a box where only 1 run in 6 is one: said to be no region."""
    from simlib.sweep.analysis import Box

    limits = pd.DataFrame(
        {"low": [467.0], "high": [1083.0], "range_low": [408.0], "range_high": [1588.0]},
        index=["migration_cost_yuan_month"],
    )
    text = optimiser_region_text(Box("optimiser_matters", limits, 1.0, 4 / 24, 24, 4, 48))
    assert "in 4 of the 48 runs" in text and "no region of the assumptions" in text
    assert "density of only 17 %" in text
