"""The presentation layer's one registry of reported figures and its one CI wording."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest

from simlib.present.ci import NO_CI, ci_text, mean_ci_text
from simlib.present.headlines import HEADLINES, headline, headlines
from simlib.provenance import DataError
from simlib.stats import mean_ci

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "reported_figures.csv"


def csv_rows() -> dict[str, dict[str, str]]:
    with CSV.open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return {row["key"]: row for row in csv.DictReader(lines)}


def test_the_registry_holds_the_figures_of_reported_figures_csv():
    rows = csv_rows()
    registry = headlines()
    assert set(registry) == set(HEADLINES)
    for key, h in registry.items():
        assert h.unit == rows[key]["unit"]
        if h.unit == "date":
            assert h.reported == dt.date.fromisoformat(rows[key]["value"])
        else:
            assert h.reported == float(rows[key]["value"])


def test_the_registry_words_each_figure_as_the_record_gives_it():
    assert headline("employed_two_months").text() == "17,016"
    assert headline("employed_two_months").text(scale=0.04) == "681"
    assert headline("employment_rate").text() == "92.08 %"
    assert headline("employment_rate").text(0.5) == "50.00 %"
    assert headline("registered_poor_deadline").text() == "31 Mar 2020"
    assert headline("campaign_days").text(scale=0.04) == "100+ days"  # a duration, not a count


def test_a_changed_record_changes_every_headline(tmp_path):
    text = CSV.read_text(encoding="utf-8").replace(
        "employed_two_months,17016", "employed_two_months,17500"
    )
    (tmp_path / "reported_figures.csv").write_text(text, encoding="utf-8")
    assert headline("employed_two_months", tmp_path).text() == "17,500"


def test_a_missing_headline_names_the_file_and_key(tmp_path):
    lines = CSV.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("employment_rate,")]
    (tmp_path / "reported_figures.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="employment_rate"):
        headlines(tmp_path)


def test_no_reported_figure_is_typed_in_the_code():
    """Each headline's wording (and the long form of the deadline) appears in simlib only in
    the registry, which reads it from data/."""
    words = {h.text() for h in headlines().values() if h.unit != "days"}
    words |= {"31 March 2020", "17016", "0.9208"}
    found = [
        f"{path.relative_to(ROOT)}: {w}"
        for path in sorted((ROOT / "simlib").rglob("*.py"))
        if path.name != "headlines.py"
        for w in words
        if w in path.read_text(encoding="utf-8")
    ]
    assert found == []


def test_one_ci_wording():
    two = mean_ci([10.0, 12.0, 14.0])
    assert ci_text(two, "{:.0f}").startswith("95 % CI ")
    assert mean_ci_text(two, "{:.0f}") == f"12 ({ci_text(two, '{:.0f}')})"
    assert ci_text(mean_ci([3.0])) == NO_CI


def test_no_other_ci_formatter_in_the_presentation_layer():
    """Only simlib/present/ci.py tests whether an interval exists in order to word it."""
    others = [
        p.name
        for p in sorted((ROOT / "simlib" / "present").glob("*.py"))
        if p.name != "ci.py" and re.search(r"ci95_low\W{0,3} is None", p.read_text("utf-8"))
    ]
    assert others == []
