"""The matching's shortcuts give the answers of the long way: the marginal re-solves on one
model equal a fresh build per change, a batch skips only the diagnosis of a failure (its
status stays), and the household-type labels read from the class table once."""

from __future__ import annotations

import numpy as np
import pulp
import pytest
from test_matching import away, employer, person, tiny

from simlib.jobs_inputs import load_jobs_params
from simlib.matching import MatchFailed, build_instance
from simlib.matching import batch as batch_module
from simlib.matching import solve as solve_module
from simlib.matching.formulation import build_aggregated
from simlib.matching.solve import SolveLog, first_objective, resolve_first_stage, solve_model


@pytest.fixture(scope="module")
def base_params():
    from simlib.scenario import SMOKE_SCENARIO, load_scenario

    return load_jobs_params(load_scenario(SMOKE_SCENARIO))


def _one_more(e: int):
    def change(model) -> None:
        if e in model.capacity:
            model.capacity[e].constant -= 1

    return change


def _care(model) -> None:
    if model.care_places is not None:
        model.care_places.constant -= 1


def _fresh(inst, change) -> float | None:
    """Stage 1 after `change` on a model of its own, branch and bound as before."""
    model = build_aggregated(inst)
    change(model)
    objective = first_objective(model, inst)
    model.problem.setObjective(objective)
    status = solve_module._solve(model, "cbc", inst.params.time_limit, SolveLog(), "marginal")
    return float(pulp.value(objective)) if status == "optimal" else None


def test_marginal_resolves_on_one_model_equal_a_build_each(base_params):
    employers = [employer("town", 1), employer("shop", 2, sex="M"), away("away", 1)]
    people = [
        person(1, 1, care_duty=True),
        person(2, 2),
        person(3, 2, sex="M"),
        person(4, 3, sex="M", age=58),
        person(5, 4, county="B"),
        person(6, 4, county="B", sex="M", care_duty=True),
    ]
    params, frame = tiny(base_params, employers, people, care_places=1)
    inst = build_instance(frame, params)
    changes = {e: _one_more(e) for e in range(len(employers))} | {"care": _care}
    once = resolve_first_stage(inst, build_aggregated, "cbc", None, changes)
    for key, change in changes.items():
        assert once[key] == pytest.approx(_fresh(inst, change), abs=1e-9)
    # the model is put back after each change: in reverse order, the same values
    backwards = resolve_first_stage(
        inst, build_aggregated, "cbc", None, dict(reversed(changes.items()))
    )
    assert backwards == pytest.approx(once, abs=1e-9)


def test_a_failure_without_diagnosis_keeps_its_status(base_params, monkeypatch):
    params, frame = tiny(
        base_params,
        [employer("young", 5, age_max=20), employer("open", 1)],
        [person(1, 1, age=40), person(2, 2, age=40)],
    )
    inst = build_instance(frame, params)
    calls = []
    real = solve_module.elastic_diagnosis
    monkeypatch.setattr(solve_module, "elastic_diagnosis", lambda *a: calls.append(1) or real(*a))
    with pytest.raises(MatchFailed) as quiet:
        solve_model(inst, build_aggregated, diagnose=False)
    assert quiet.value.status == "infeasible" and quiet.value.diagnosis is None
    assert "cannot all hold" in str(quiet.value) and not calls
    with pytest.raises(MatchFailed) as told:
        solve_model(inst, build_aggregated)
    assert told.value.status == "infeasible" and told.value.diagnosis and calls
    # a batch tries the soft household rule next and never asks for the diagnosis
    calls.clear()
    frame = frame.assign(available_day=0)
    capacity = np.array([e.capacity for e in params.employers])
    result = batch_module.match_batch(frame, params, capacity)
    assert result.softened == "household" and result.status.startswith("optimal")
    assert not calls


def test_type_labels_read_the_class_table(base_params):
    params, frame = tiny(
        base_params,
        [employer("open", 3), away("away", 2)],
        [
            person(1, 1, county="B", sex="M", age=45, skill="construction", care_duty=True),
            person(2, 1, county="B", age=33, special_group=True),
            person(3, 2, age=25),
            person(4, 3, age=25),
        ],
    )
    inst = build_instance(frame, params)
    labels = [inst.type_label(t) for t in range(len(inst.types))]
    for t, label in enumerate(labels):
        key = inst.types[t]
        rows = inst.classes.iloc[list(key.classes)]
        assert label.startswith(f"{rows['county'].iloc[0]}: {len(inst.type_households[t])} ")
        assert label.endswith(f"[type {t}]")
        assert (", care duties" in label) == key.care
        for row in rows.itertuples():
            assert f"{row.rep_age} {row.rep_skill}" in label
    assert any("special group" in label for label in labels)
