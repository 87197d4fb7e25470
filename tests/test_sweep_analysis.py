"""The sweep analysis against functions whose answer is known: a tornado of a known change,
Morris and Sobol on a model with one dominant, one minor and one idle input, and PRIM on a
failure region drawn by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simlib.scenario import SMOKE_SCENARIO
from simlib.sweep import design_points, load_spec
from simlib.sweep.analysis import (
    discover,
    discovery_view,
    morris,
    ranking,
    sobol,
    top_table,
    tornado,
)
from simlib.sweep.design import BASELINE_LABEL

FACTORS = {
    "moving.route_vehicles_per_day": {},  # 60-300
    "moving.loading_mean": {},  # 20-90
    "jobs.labour_export_factor": {},  # 0.5-1.2
}


def spec_for(tmp_path, design, samples=None):
    raw = {
        "name": "a",
        "scenario": str(SMOKE_SCENARIO),
        "design": design,
        "budget": 1000,
        "common_random_numbers": False,
        "parameters": FACTORS,
    }
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_spec(path)


def known_model(changes) -> dict[str, float]:
    """campaign: strongly down with the quota, a little up with loading; export idle."""
    quota = changes.get("moving.route_vehicles_per_day", 150)
    loading = changes.get("moving.loading_mean", 30)
    export = changes.get("jobs.labour_export_factor", 1.0)
    days = 20000 / quota + 0.1 * loading
    return {
        "campaign_days": days,
        "registered_poor_all_in_day": days - 5,
        "employment_rate": 0.8 + 0.1 * export,
        "households_without_worker": 0.0,
        "deadline_met_share": float(days < 300),
        "expected_lasting_employed": 1000 * (0.8 + 0.1 * export),
        "local_employed": 900.0,
        "exported": 100 * (1 + export),
        "deadline_missed": quota < 120 and loading > 50,
        "employment_below_reported": export < 0.9,
    }


def table_for(spec) -> pd.DataFrame:
    rows = []
    for p in design_points(spec):
        row = {"point": p.index, "label": p.label, "status": "ok", "factor": p.factor}
        row.update({"level": p.level, **p.changes, **known_model(p.changes)})
        row.update({f"sample_{k}": v for k, v in enumerate(p.sample)})
        rows.append(row)
    return pd.DataFrame(rows)


def test_tornado_shows_each_end_against_the_baseline(tmp_path):
    spec = spec_for(tmp_path, {"method": "oat"})
    t = tornado(table_for(spec), "campaign_days")
    assert list(t.index) == ["route_vehicles_per_day", "loading_mean", "labour_export_factor"]
    assert t.loc["labour_export_factor", "swing"] == 0  # moves the jobs, not the campaign
    base = 20000 / 150 + 3.0
    assert t.attrs["baseline"] == pytest.approx(base)
    assert t.loc["route_vehicles_per_day", "high_change"] == pytest.approx(20000 / 60 + 3.0 - base)
    assert t.loc["route_vehicles_per_day", "low_change"] == pytest.approx(20000 / 300 + 3.0 - base)
    assert t.loc["loading_mean", "swing"] == pytest.approx(0.1 * 70)
    assert BASELINE_LABEL not in t["labels"].to_list()


def test_morris_ranks_the_dominant_input_first_and_the_idle_one_at_zero(tmp_path):
    spec = spec_for(tmp_path, {"method": "morris", "trajectories": 10})
    m = morris(spec, table_for(spec), "campaign_days")
    assert list(m.index[:2]) == ["route_vehicles_per_day", "loading_mean"]
    assert m.loc["labour_export_factor", "mu_star"] == pytest.approx(0.0, abs=1e-9)
    # loading enters linearly: every elementary effect is the same (sigma 0), unlike the quota
    assert m.loc["loading_mean", "sigma"] < 0.5 < m.loc["route_vehicles_per_day", "sigma"]
    top = top_table(spec, table_for(spec))
    assert top.loc[1, "employment_rate"].startswith("labour_export_factor")
    assert top.loc[1, "households_without_worker"] == "no assumption moves it"


def test_sobol_gives_the_variance_to_the_only_input_that_matters(tmp_path):
    spec = spec_for(tmp_path, {"method": "sobol", "samples": 64})
    s = sobol(spec, table_for(spec), "employment_rate")
    assert s.index[0] == "labour_export_factor"
    assert s.loc["labour_export_factor", "ST"] == pytest.approx(1.0, abs=0.1)
    assert s.loc["route_vehicles_per_day", "ST"] == pytest.approx(0.0, abs=0.05)


def test_prim_finds_the_failure_region_drawn_by_hand(tmp_path):
    spec = spec_for(tmp_path, {"method": "lhs", "samples": 200})
    table = table_for(spec)
    box = discover(spec, table, "deadline_missed")
    assert set(box.limits.index) == {"route_vehicles_per_day", "loading_mean"}
    assert box.limits.loc["route_vehicles_per_day", "high"] == pytest.approx(120, abs=12)
    assert box.limits.loc["loading_mean", "low"] == pytest.approx(50, abs=6)
    assert box.coverage >= 0.8 and box.density >= 0.8
    text = box.statement()
    assert text.startswith("The registered-poor deadline is missed when ")
    assert "route_vehicles_per_day is at most " in text and " and " in text
    assert "loading_mean is at least " in text and "coverage" in text and "density" in text
    x, y, failing, _, what = discovery_view(spec, table, box)
    assert {x.name, y.name} == {"route_vehicles_per_day", "loading_mean"}
    assert failing.sum() == table["deadline_missed"].sum()
    rho = ranking(spec, table, "employment_rate")
    assert rho.index[0] == "labour_export_factor" and rho.iloc[0] == pytest.approx(1.0)


def test_no_failure_means_no_region(tmp_path):
    spec = spec_for(tmp_path, {"method": "lhs", "samples": 20})
    table = table_for(spec).assign(deadline_missed=False)
    box = discover(spec, table, "deadline_missed")
    assert box.limits.empty and box.failing == 0
    assert "in 0 of 20 runs" in box.statement()
    assert np.isfinite(box.density)
