"""The headline figures the study sets beside the record: one registry of key, label, unit,
format and the reported figure, the figure and its unit read from data/reported_figures.csv.

Every table and sentence that quotes what the source reports (the 100+ days, the deadline,
the people employed, the employment rate, ...) takes it from here, so no reported number is
typed in code and a correction to the record is made once, in data/.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from simlib.provenance import DataError, read_table
from simlib.scenario import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data"

# key in data/reported_figures.csv -> (label, format). A format is a str.format pattern for
# a number (a share is shown in per cent, so its pattern gets 100 x the share) or a strftime
# pattern for a date.
HEADLINES = {
    "campaign_days": ("moving campaign length (days)", "{:,.0f}+ days"),
    "registered_poor_deadline": ("all registered-poor households moved in", "%d %b %Y"),
    "households_moved": ("households moved in", "{:,.0f}"),
    "people_moved": ("people moved in", "{:,.0f}"),
    "registered_poor_households": ("registered-poor households", "{:,.0f}"),
    "employed_two_months": ("people employed", "{:,.0f}"),
    "employment_rate": ("employment rate (%)", "{:.2f} %"),
    "public_welfare_posts": ("public-welfare posts (公益岗位)", "{:,.0f}"),
    "export_workers_by_bus": ("labour export by return-to-work bus (转移就业)", "{:,.0f}"),
    "special_group_people": ("special-group people under daily visits", "{:,.0f}"),
}


@dataclass(frozen=True)
class Headline:
    """One reported figure as the study shows it."""

    key: str
    label: str
    unit: str  # as data/reported_figures.csv gives it ("days", "people", "share", "date")
    format: str
    reported: float | dt.date

    def text(self, value: float | dt.date | None = None, scale: float = 1.0) -> str:
        """`value` (default: the reported figure, counts times `scale`) in this format."""
        if value is None:
            value = self.reported
            if self.unit not in ("share", "date", "days"):
                value = float(value) * scale
        if isinstance(value, dt.date):
            return value.strftime(self.format)
        return self.format.format(100 * value if self.unit == "share" else value)


def headlines(data_dir: str | Path | None = None) -> dict[str, Headline]:
    """The registry of a data folder (default: the project's data/), by key."""
    return dict(_read(Path(data_dir or DATA_DIR).resolve()))


def headline(key: str, data_dir: str | Path | None = None) -> Headline:
    """One headline figure of the registry."""
    return headlines(data_dir)[key]


@lru_cache(maxsize=8)
def _read(data_dir: Path) -> tuple[tuple[str, Headline], ...]:
    path = data_dir / "reported_figures.csv"
    table = read_table(path, {"key": "str", "value": "str", "unit": "str"}, key="key")
    table = table.set_index("key")
    rows = []
    for key, (label, fmt) in HEADLINES.items():
        if key not in table.index:
            raise DataError(path, key, None, "is missing: a headline figure needs it")
        text, unit = str(table.at[key, "value"]), str(table.at[key, "unit"])
        try:
            value = dt.date.fromisoformat(text) if unit == "date" else float(text)
        except ValueError:
            raise DataError(path, key, text, f"must be a {unit}") from None
        rows.append((key, Headline(key, label, unit, fmt, value)))
    return tuple(rows)
