"""Every scenario shipped in data/scenarios/ loads and passes every domain's validation,
so a planner who picks one from the folder never meets a data error."""

from pathlib import Path

import pytest

from simlib.moving import load_moving_params
from simlib.population import load_population_params
from simlib.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).parents[1] / "data" / "scenarios").glob("*.yaml"))


def test_the_shipped_what_ifs_are_there():
    names = {path.stem for path in SCENARIOS}
    assert {"baseline", "smoke", "more-escorts", "long-epidemic-closure", "small-fleet"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    load_population_params(scenario)
    load_moving_params(scenario)
