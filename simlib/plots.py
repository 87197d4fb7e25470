"""Figures for the planner notebooks: one function per figure, each returning a Figure.

Every figure has a title, axis labels with units and a colour-blind-safe palette
(Okabe-Ito), and is sized to be read at report width (about 900 px) without zooming.
The functions take the tidy tables that simlib returns, so a notebook calls one line.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Sequence

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt  # noqa: F401  (in Jupyter, loads the inline display of figures)
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
COUNTY_ORDER = ("Ludian", "Qiaojia", "Yongshan", "Yiliang", "Yanjin")
WIDTH = 9.0  # inches: 900 px at the report's 100 dpi
DPI = 100


def style() -> None:
    """Readable defaults for every figure (called on import)."""
    matplotlib.rcParams.update(
        {
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "font.size": 11,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": False,
            "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
        }
    )


style()


def colours(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per name (counties keep their colour across every figure)."""
    ordered = [c for c in COUNTY_ORDER if c in names] + [n for n in names if n not in COUNTY_ORDER]
    return {n: OKABE_ITO[i % len(OKABE_ITO)] for i, n in enumerate(ordered)}


def _counties(names) -> list[str]:
    names = list(dict.fromkeys(names))
    return [c for c in COUNTY_ORDER if c in names] + sorted(
        n for n in names if n not in COUNTY_ORDER
    )


class PlotFigure(Figure):
    """A figure that shows itself as a PNG when it is a notebook cell's value.

    It lives outside pyplot's registry, so a notebook shows it exactly once whatever the
    backend (Jupyter, papermill) and scripts and tests do not accumulate open figures.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.15)
        return buffer.getvalue()


def _figure(height: float = 4.5) -> tuple[Figure, Axes]:
    fig = PlotFigure(figsize=(WIDTH, height), layout="constrained")
    return fig, fig.subplots()


# --- population -----------------------------------------------------------------------


def household_sizes(households: pd.DataFrame) -> Figure:
    """Households by size and county (stacked): how many flats of each type are needed."""
    table = households.pivot_table(
        index="size", columns="county", values="household_id", aggfunc="count", fill_value=0
    )
    counties = _counties(table.columns)
    table = table[counties]
    fig, ax = _figure()
    c = colours(counties)
    bottom = np.zeros(len(table))
    for county in counties:
        ax.bar(table.index, table[county], bottom=bottom, color=c[county], label=county)
        bottom += table[county].to_numpy()
    ax.set_title("Households by size and sending county")
    ax.set_xlabel("household size (people)")
    ax.set_ylabel("households")
    ax.set_xticks(table.index)
    ax.legend(title="county", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def age_pyramid(people: pd.DataFrame, band: int = 5) -> Figure:
    """People by age band and sex, with the laborers (people of working capacity) marked."""
    p = people.assign(band=(people["age"] // band) * band)
    men = p[p["sex"] == "M"].groupby("band").size()
    women = p[p["sex"] == "F"].groupby("band").size()
    men_lab = p[(p["sex"] == "M") & p["laborer"]].groupby("band").size()
    women_lab = p[(p["sex"] == "F") & p["laborer"]].groupby("band").size()
    bands = np.arange(0, int(p["band"].max()) + band, band)
    get = lambda s: s.reindex(bands, fill_value=0).to_numpy()  # noqa: E731
    fig, ax = _figure(5.0)
    ax.barh(bands, -get(men), height=band * 0.9, color=OKABE_ITO[1], label="men")
    ax.barh(bands, get(women), height=band * 0.9, color=OKABE_ITO[0], label="women")
    ax.barh(bands, -get(men_lab), height=band * 0.9, color=OKABE_ITO[3], label="men who can work")
    ax.barh(
        bands, get(women_lab), height=band * 0.9, color=OKABE_ITO[4], label="women who can work"
    )
    ax.set_title("People by age and sex; darker: people of working capacity")
    ax.set_xlabel("people (men to the left, women to the right)")
    ax.set_ylabel("age band (years)")
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(int(t)):,}" for t in ticks])
    ax.legend(loc="upper right", ncols=2)
    return fig


# --- moving campaign -------------------------------------------------------------------


def _deadline_line(ax, deadline: dt.date, label: str | None = None) -> None:
    label = label or f"deadline {deadline:%d %b %Y}"  # the scenario's, from data/
    ax.axvline(deadline, color=OKABE_ITO[7], linestyle="--", linewidth=1.5)
    ax.annotate(
        label,
        (mdates.date2num(deadline), 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-4, -4),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=10,
    )


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))


def households_per_day(progress: pd.DataFrame) -> Figure:
    """Households moved in per day, stacked by sending county (from `daily_progress()`)."""
    table = progress.pivot_table(
        index="date", columns="county", values="households", aggfunc="sum", fill_value=0
    )
    table.index = pd.to_datetime(table.index)
    counties = _counties(table.columns)
    c = colours(counties)
    fig, ax = _figure()
    bottom = np.zeros(len(table))
    for county in counties:
        ax.bar(table.index, table[county], bottom=bottom, width=0.85, color=c[county], label=county)
        bottom += table[county].to_numpy()
    if "deadline" in progress and len(progress):
        _deadline_line(ax, pd.Timestamp(progress["deadline"].iloc[0]))
    _date_axis(ax)
    ax.set_title("Households moved in per day, by sending county")
    ax.set_xlabel("date")
    ax.set_ylabel("households per day")
    ax.legend(title="county", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def cumulative_progress(
    progress: pd.DataFrame, replications: Sequence[pd.DataFrame] = ()
) -> Figure:
    """Cumulative households moved in (all and registered-poor) against the 31 March deadline.

    `replications`: more `daily_progress()` tables drawn thin behind the first one, so the
    spread between replications is visible.
    """
    fig, ax = _figure()
    for extra in replications:
        d = extra.groupby("date")[["households", "registered_poor"]].sum().cumsum()
        x = pd.to_datetime(d.index)
        ax.plot(x, d["registered_poor"], color=OKABE_ITO[4], alpha=0.25, linewidth=0.8)
        ax.plot(x, d["households"], color=OKABE_ITO[3], alpha=0.25, linewidth=0.8)
    d = progress.groupby("date")[["households", "registered_poor"]].sum().cumsum()
    x = pd.to_datetime(d.index)
    ax.step(
        x, d["households"], where="post", color=OKABE_ITO[3], linewidth=2, label="all households"
    )
    ax.step(
        x,
        d["registered_poor"],
        where="post",
        color=OKABE_ITO[4],
        linewidth=2,
        label="registered-poor households",
    )
    ax.axhline(d["registered_poor"].iloc[-1], color=OKABE_ITO[4], linestyle=":", linewidth=1)
    ax.axhline(d["households"].iloc[-1], color=OKABE_ITO[3], linestyle=":", linewidth=1)
    if "deadline" in progress and len(progress):
        _deadline_line(ax, pd.Timestamp(progress["deadline"].iloc[0]))
    _date_axis(ax)
    ax.set_ylim(0, d["households"].iloc[-1] * 1.08)
    ax.set_title("Cumulative households moved in against the registered-poor deadline")
    ax.set_xlabel("date")
    ax.set_ylabel("households moved in (cumulative)")
    ax.legend(loc="upper left")
    return fig


def convoy_gantt(timeline: pd.DataFrame, dark: float) -> Figure:
    """Convoys of one convoy day: gathering and loading (light) and on the road (dark), by
    county, with the scenario's dark (`dark`, minutes after midnight: `MovingParams.dark`).

    `timeline` is `CampaignResult.convoy_timeline(day)`; times are hours of that day
    (above 24 means the next day, for a convoy that left late or stopped overnight).
    """
    dark_hour = dark / 60.0
    t = timeline.sort_values(["departure_hour"]).reset_index(drop=True)
    counties = _counties(t["county"])
    c = colours(counties)
    fig, ax = _figure(max(3.5, 0.32 * len(t) + 1.8))
    for i, row in t.iterrows():
        colour = c[row["county"]]
        ax.barh(i, row["loaded_hour"] - row["formed_hour"], left=row["formed_hour"], color=colour, alpha=0.35)  # fmt: skip
        ax.barh(i, row["arrival_hour"] - row["departure_hour"], left=row["departure_hour"], color=colour)  # fmt: skip
    ax.axvline(dark_hour, color=OKABE_ITO[7], linestyle="--", linewidth=1.5)
    ax.annotate(
        f"dark ({int(dark_hour):02d}:{int(round(60 * (dark_hour % 1))):02d})",
        (dark_hour, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -4),
        textcoords="offset points",
        va="top",
    )
    ax.set_yticks(range(len(t)), [f"{r.county} #{r.convoy_id}" for r in t.itertuples()])
    ax.invert_yaxis()
    day = int(t["batch_day"].iloc[0]) if len(t) else 0
    ax.set_title(f"Convoy timeline on convoy day {day}: gathering and loading (light), road (dark)")  # fmt: skip
    ax.set_xlabel("hour of the day (h)")
    ax.set_ylabel("convoy (county #id)")
    handles = [Patch(color=c[k], label=k) for k in counties]
    ax.legend(handles=handles, title="county", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", visible=False)
    return fig


def step_waits(waits: pd.DataFrame, exclude: Sequence[str] = ("followup",)) -> Figure:
    """Median and 95th-percentile wait before each step of the move-in day (minutes).

    The follow-up visit is a backlog of days, not minutes, so it is left out by default.
    """
    w = waits[~waits["step"].isin(exclude)].sort_values("order")
    y = np.arange(len(w))
    fig, ax = _figure(0.45 * len(w) + 2.0)
    ax.barh(y - 0.2, w["p50"], height=0.4, color=OKABE_ITO[1], label="median (P50)")
    ax.barh(y + 0.2, w["p95"], height=0.4, color=OKABE_ITO[4], label="1 in 20 waits longer (P95)")
    ax.set_yticks(y, [f"{o}. {s}" for o, s in zip(w["order"], w["step"], strict=True)])
    ax.invert_yaxis()
    ax.set_title("Wait before each step of the move-in day")
    ax.set_xlabel("wait (minutes)")
    ax.set_ylabel("step of the eight-step move")
    ax.legend(loc="lower right")
    return fig


def utilisation(util: pd.DataFrame) -> Figure:
    """Share of open time each resource of the move-in day is busy (0-100 %)."""
    u = util.sort_values("utilization")
    fig, ax = _figure(0.45 * len(u) + 2.0)
    ax.barh(u["resource"].str.replace("_", " "), 100 * u["utilization"], color=OKABE_ITO[2])
    for i, (v, n) in enumerate(zip(u["utilization"], u["units"], strict=True)):
        ax.annotate(
            f"{100 * v:.0f} % of {n:,}",
            (100 * v, i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
        )
    ax.set_xlim(0, 110)
    ax.set_title("Resource utilisation on moving days")
    ax.set_xlabel("busy time / open time (%)")
    ax.set_ylabel("resource")
    return fig


def building_waits(table: pd.DataFrame, top: int = 15) -> Figure:
    """Mean minutes a family waited at its building's unloading bays and at its stairwell,
    for the buildings with the longest waits (`MovingResult.buildings_summary()`)."""
    b = table.sort_values("wait_mean", ascending=False).head(top).iloc[::-1]
    fig, ax = _figure(0.35 * len(b) + 2.0)
    if b.empty:  # the move-in day not tied to the housing allocation
        ax.set_title("No building waits: the move-in day is not tied to the housing allocation")
        return fig
    y = np.arange(len(b))
    ax.barh(y, b["bay_wait_mean"], color=OKABE_ITO[0], label="at the unloading bays")
    ax.barh(y, b["stairwell_wait_mean"], left=b["bay_wait_mean"], color=OKABE_ITO[3], label="at the stairwell")  # fmt: skip
    ax.set_yticks(y, [f"{n} ({a}, {h:,.0f} families)" for n, a, h in zip(b["building"], b["access"], b["households"], strict=True)])  # fmt: skip
    ax.set_title("Waits at the buildings on moving days")
    ax.set_xlabel("mean wait of a family (minutes)")
    ax.set_ylabel("building (access, families a campaign)")
    ax.legend(loc="lower right")
    return fig


def binding_days(days: pd.DataFrame) -> Figure:
    """Planned against done, per county convoy day (from `MovingResult.days_summary()` or
    one replication's `days`): households in their flat on their planned day (solid), late
    (hatched) and left behind for a later day (light), one bar per day, coloured by what
    bound the day (the plan itself, a road resource, daylight, the weather, a move-in team)."""
    d = (
        days[days["planned"] > 0]
        .groupby("date", as_index=False)
        .agg(
            planned=("planned", "sum"),
            kept=("arrived_as_planned", "sum"),
            late=("late", "sum"),
            left=("left_behind", "sum"),
            binding=("binding", lambda b: b.value_counts().index[0]),
        )
    )
    d["date"] = pd.to_datetime(d["date"])
    causes = sorted(d["binding"].unique(), key=lambda k: (k != "plan", k))
    c = {k: OKABE_ITO[(i + 1) % len(OKABE_ITO)] for i, k in enumerate(causes)}
    c["plan"] = OKABE_ITO[0]
    fig, ax = _figure()
    for cause in causes:
        rows = d["binding"] == cause
        x = d.loc[rows, "date"]
        kept, late = d.loc[rows, "kept"], d.loc[rows, "late"]
        ax.bar(x, kept, width=0.85, color=c[cause], label=cause)
        ax.bar(x, late, bottom=kept, width=0.85, color=c[cause], alpha=0.5, hatch="//")
        ax.bar(x, d.loc[rows, "left"], bottom=kept + late, width=0.85, color=c[cause], alpha=0.2)
    _date_axis(ax)
    ax.set_title("Households planned per day: in their flat that day, late (hatched), left behind (light)")  # fmt: skip
    ax.set_xlabel("planned convoy day")
    ax.set_ylabel("households planned (mean over replications)")
    ax.legend(title="bound by", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def needs_by_day(needs: pd.DataFrame, resources: Sequence[str] = ("trucks", "police_officers", "loading_crews", "reception_teams")) -> Figure:  # fmt: skip
    """What each convoy day needs (`simlib needs`), a few resources over the campaign."""
    n = needs.copy()
    n["date"] = pd.to_datetime(n["date"])
    fig, ax = _figure()
    for i, name in enumerate(resources):
        ax.plot(n["date"], n[name], marker="o", markersize=3, linewidth=1, color=OKABE_ITO[(i + 1) % len(OKABE_ITO)], label=name.replace("_", " "))  # fmt: skip
    _date_axis(ax)
    ax.set_title("The smallest resources each convoy day needs (90 % of replications finish)")
    ax.set_xlabel("convoy day")
    ax.set_ylabel("count")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def assumption_effects(effects: pd.DataFrame, measure: str = "campaign_days") -> Figure:
    """Change in a headline figure when one assumption changes (a tornado chart).

    `effects` is `simlib.study.assumption_effects()`: one row per change, with
    `<measure>` and `<measure>_delta` columns (days).
    """
    e = effects.reindex(effects[f"{measure}_delta"].abs().sort_values().index)
    fig, ax = _figure(0.45 * len(e) + 2.0)
    colour = [OKABE_ITO[4] if v > 0 else OKABE_ITO[2] for v in e[f"{measure}_delta"]]
    ax.barh(e["change"], e[f"{measure}_delta"], color=colour)
    ax.axvline(0, color=OKABE_ITO[7], linewidth=1)
    label = measure.replace("_", " ")
    ax.set_title(f"Which assumptions move the {label}")
    ax.set_xlabel(f"change in {label} vs. the baseline (days; + = longer)")
    ax.set_ylabel("assumption changed")
    return fig


# --- job matching ------------------------------------------------------------------------


def employment_by_programme_county(flows: pd.DataFrame) -> Figure:
    """Employed people per programme, stacked by the county they came from.

    `flows`: a county x programme table of counts (rows counties, columns programmes, as
    `MatchResult.flows()`); a `none` column (no job) is left out.
    """
    f = flows.drop(columns=["none", ""], errors="ignore").loc[_counties(flows.index)]
    order = f.sum().sort_values(ascending=True).index
    f = f[order]
    c = colours(list(f.index))
    fig, ax = _figure(0.45 * len(order) + 2.2)
    left = np.zeros(len(order))
    for county in f.index:
        ax.barh(
            [str(p).replace("_", " ") for p in order],
            f.loc[county],
            left=left,
            color=c[county],
            label=county,
        )
        left += f.loc[county].to_numpy()
    ax.set_title("Employment by programme and sending county")
    ax.set_xlabel("people employed")
    ax.set_ylabel("programme")
    ax.legend(title="county", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def county_programme_flows(flows: pd.DataFrame) -> Figure:
    """Flows from sending county to programme as a heat map with the counts written in."""
    f = flows.rename(columns={"none": "no job", "": "no job"}).loc[_counties(flows.index)]
    share = f.div(f.sum(axis=1).replace(0, 1), axis=0)
    fig, ax = _figure(0.5 * len(f) + 3.0)
    image = ax.imshow(100 * share.to_numpy(), cmap="cividis", aspect="auto", vmin=0)
    for i in range(f.shape[0]):
        for j in range(f.shape[1]):
            v = share.iat[i, j]
            ax.text(
                j,
                i,
                f"{int(f.iat[i, j]):,}",
                ha="center",
                va="center",
                fontsize=9,
                color="black" if v > 0.5 * share.to_numpy().max() else "white",
            )
    ax.set_xticks(range(f.shape[1]), [str(p).replace("_", "\n") for p in f.columns], fontsize=9)
    ax.set_yticks(range(f.shape[0]), f.index)
    ax.grid(False)
    ax.set_title("Where each county's workers go (people; colour = share of the county)")
    ax.set_xlabel("programme")
    ax.set_ylabel("sending county")
    fig.colorbar(image, ax=ax, label="share of the county's employed (%)")
    return fig


def wage_distribution(assignments: pd.DataFrame, column: str = "wage_yuan_month") -> Figure:
    """Monthly wage of everyone employed (histogram), with the median marked."""
    if "employer" in assignments:  # the unemployed carry no wage
        assignments = assignments[assignments["employer"] != ""]
    w = assignments[column].dropna()
    w = w[w > 0]
    fig, ax = _figure()
    if len(w):
        ax.hist(w, bins=min(40, max(5, w.nunique())), color=OKABE_ITO[3], edgecolor="white")
        median = float(np.median(w))
        ax.axvline(median, color=OKABE_ITO[4], linestyle="--", linewidth=1.5)
        ax.annotate(
            f"median ¥{median:,.0f}",
            (median, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            va="top",
        )
    ax.set_title("Monthly wage of the people employed")
    ax.set_xlabel("wage (yuan per month)")
    ax.set_ylabel("people")
    return fig


def marginal_value(by_programme: pd.DataFrame, care_place: float | None = None) -> Figure:
    """Value of one more place at each employer (an export seat at an away one) and of one
    more care place, in expected lasting jobs, from re-solves of a verified plan
    (`MatchResult.by_programme()`'s `marginal_value`; `care_place` from
    `MatchResult.marginal`). Without a verified plan the figure says so and shows no bars.
    """
    b = by_programme.dropna(subset=["marginal_value"])
    names = [str(n).replace("_", " ") for n in b["employer"]]
    values = b["marginal_value"].tolist()
    colour = [OKABE_ITO[5] if loc == "new_town" else OKABE_ITO[1] for loc in b["location"]]
    if care_place is not None and len(b):
        names.append("one more care place")
        values.append(care_place)
        colour.append(OKABE_ITO[2])
    fig, ax = _figure(0.3 * len(names) + 2.0)
    if names:
        ax.barh(names, values, color=colour)
    else:
        ax.text(0.5, 0.5, "no verified optimal plan: not computed", ha="center",
                transform=ax.transAxes)  # fmt: skip
    ax.set_title("Value of one more place (re-solved; blue local, orange away, green care)")
    ax.set_xlabel("expected lasting jobs per extra place")
    ax.set_ylabel("employer")
    return fig


def stay_or_go(by_status: pd.DataFrame) -> Figure:
    """Laborers by stay-or-go status: employed locally, exported, without a job
    (`MatchResult.by_status()`)."""
    b = by_status.sort_values("laborers")
    names = [
        s.replace("must stay: ", "must stay:\n").replace("may go: ", "may go:\n")
        for s in b["stay_status"]
    ]
    fig, ax = _figure(0.6 * len(b) + 2.0)
    left = np.zeros(len(b))
    for column, label, colour in (
        ("local", "local job", OKABE_ITO[5]),
        ("exported", "exported", OKABE_ITO[1]),
        ("idle", "no job", OKABE_ITO[7]),
    ):
        ax.barh(names, b[column], left=left, color=colour, label=label)
        left += b[column].to_numpy()
    ax.set_title("Who must stay and who may go, and where they work")
    ax.set_xlabel("laborers (people)")
    ax.set_ylabel("stay-or-go status")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower right")
    return fig


def baseline_comparison(table: pd.DataFrame) -> Figure:
    """Expected lasting employment of the optimised plan and every rule of thumb (blue: the
    optimised plan; sky blue: a rule that keeps the household rule, the care rule,
    eligibility and the places; vermillion hatched: a rule that breaks one), with its share
    of the optimum and the households it leaves without a worker written beside the bar
    (`simlib.present.jobs.baselines_table`)."""
    t = table.sort_values("expected lasting employment")
    fig, ax = _figure(0.5 * len(t) + 2.0)
    for y, (_, row) in enumerate(t.iterrows()):
        keeps = bool(row["keeps the rules"])
        colour = OKABE_ITO[1] if keeps else OKABE_ITO[4]
        if y == len(t) - 1 or row["% of the optimum"] == 100 and keeps:
            colour = OKABE_ITO[3]
        value = row["expected lasting employment"]
        ax.barh(y, value, color=colour, hatch="" if keeps else "//", edgecolor="white")
        note = f" {row['% of the optimum']:.1f} %"
        if row["households without a worker"]:
            note += f", {row['households without a worker']:,.0f} households lack a worker"
        ax.annotate(note, (value, y), va="center", fontsize=8)
    ax.set_yticks(range(len(t)), [str(n).split(" (")[0] for n in t.index])
    ax.set_xlim(0, 1.6 * t["expected lasting employment"].max())
    ax.set_title("Rules of thumb against the optimum (hatched: breaks a rule)")
    ax.set_xlabel("expected lasting employment (people still employed after the period)")
    ax.set_ylabel("plan")
    return fig


def employment_anatomy(table: pd.DataFrame) -> Figure:
    """The employment rate taken apart (`simlib.present.jobs.anatomy_table`), one bar per
    part in people: the local places by source, those willing and able to go, those of
    them kept home, the exported, the export demand left empty and the employed."""
    t = table.iloc[::-1]
    fig, ax = _figure(0.5 * len(t) + 2.0)
    palette = {
        "employed in local places the source reports": OKABE_ITO[3],
        "employed in local places that are assumed": OKABE_ITO[1],
        "export demand left empty": "0.75",
    }
    colours_ = [palette.get(name, OKABE_ITO[0] if "exported" in name else OKABE_ITO[2])
                for name in t.index]  # fmt: skip
    ax.barh(list(t.index), t["people"], color=colours_)
    for y, value in enumerate(t["people"]):
        ax.annotate(f" {value:,.0f}", (value, y), va="center", fontsize=8)
    ax.set_xlim(0, 1.15 * t["people"].max())
    ax.set_title("What makes up the employed: places, and who can go")
    ax.set_xlabel("people")
    ax.set_ylabel("part")
    ax.tick_params(axis="y", labelsize=8)
    return fig


# --- the employment timeline ---------------------------------------------------------------


def employment_curve(
    rolling: pd.DataFrame,
    greedy: pd.DataFrame | None = None,
    reported: float | None = None,
    two_months: dt.date | None = None,
) -> Figure:
    """People at work per day (mean over the moving replications, with the 95 % band),
    with the greedy policy and the reported figure at the two-month mark."""
    fig, ax = _figure(5.0)
    ax.plot(rolling["date"], rolling["mean"], color=OKABE_ITO[3], label="rolling matching (mean)")
    if rolling["ci95_low"].notna().any():
        ax.fill_between(
            rolling["date"],
            rolling["ci95_low"].astype(float),
            rolling["ci95_high"].astype(float),
            color=OKABE_ITO[3],
            alpha=0.25,
            label="95 % confidence band",
        )
    if greedy is not None:
        ax.plot(
            greedy["date"],
            greedy["mean"],
            color=OKABE_ITO[0],
            linestyle="--",
            label="greedy first-come (mean)",
        )
    if reported is not None and two_months is not None:
        ax.plot(
            [two_months],
            [reported],
            "D",
            color=OKABE_ITO[4],
            label=f"reported, in proportion to the scale ({reported:,.0f})",
        )
        ax.axvline(two_months, color="0.5", linestyle=":", linewidth=1)
        ax.annotate(
            "two months after\nthe last arrival",
            (two_months, 0.05),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
        )
    ax.set_title("People at work, from the first arrival to three months after the last")
    ax.set_xlabel("date")
    ax.set_ylabel("people at work")
    _date_axis(ax)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))  # 8 months: no day needed
    ax.legend(loc="upper left")
    return fig


def employment_by_group(band: pd.DataFrame, by: str) -> Figure:
    """People at work per day by programme or county (mean over replications), stacked."""
    wide = band.pivot_table(index="date", columns=by, values="mean", aggfunc="sum").fillna(0)
    wide = wide[[c for c in wide.columns if c != ""]]
    if by == "county":
        wide = wide[_counties(wide.columns)]
    fig, ax = _figure(5.0)
    palette = colours(list(wide.columns))
    ax.stackplot(
        wide.index,
        *[wide[c].to_numpy() for c in wide.columns],
        labels=[str(c).replace("_", " ") for c in wide.columns],
        colors=[palette[c] for c in wide.columns],
        alpha=0.9,
    )
    ax.set_title(f"People at work by {by} (mean over the moving replications)")
    ax.set_xlabel("date")
    ax.set_ylabel("people at work")
    _date_axis(ax)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))  # 8 months: no day needed
    ax.legend(loc="upper left", ncol=2, fontsize=9)
    return fig


def days_to_first_job(waits: pd.DataFrame) -> Figure:
    """Days from moving in to the first day of work, per policy (histograms), with P50
    and P95 marked for the first policy."""
    fig, ax = _figure()
    for k, (policy, days) in enumerate(waits.groupby("policy", sort=False)["days"]):
        ax.hist(
            days,
            bins=np.arange(0, days.max() + 8, 7),
            histtype="stepfilled" if k == 0 else "step",
            linewidth=1 if k == 0 else 2,
            alpha=0.85,
            color=OKABE_ITO[3 if k == 0 else 0],
            label=policy,
        )
        if k == 0:
            for q in (50, 95):
                value = float(np.percentile(days, q))
                ax.axvline(value, color=OKABE_ITO[4], linestyle="--", linewidth=1.2)
                ax.annotate(
                    f"P{q} {value:.0f} d",
                    (value, 0.95),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, 0),
                    textcoords="offset points",
                )
    ax.set_title("Days from moving in to the first day of work")
    ax.set_xlabel("days (weekly bins)")
    ax.set_ylabel("people (all replications)")
    ax.legend()
    return fig


# --- sensitivity over the assumptions (sweeps) ----------------------------------------------


def tornado(table: pd.DataFrame, unit: str, top: int = 12) -> Figure:
    """How far each assumption, moved to either end of its range, moves one answer.

    `table` is `simlib.sweep.analysis.tornado()`: per assumption the lowest and highest
    change against the baseline (in `unit`), largest span first.
    """
    import textwrap

    t = table.head(top).iloc[::-1]
    t.index = [textwrap.fill(str(name), 42) for name in t.index]  # what-ifs have long labels
    output = str(table.attrs.get("output", "answer"))
    fig, ax = _figure(0.4 * len(t) + 2.0)
    ax.barh(t.index, t["low_change"], color=OKABE_ITO[2], label="lower")
    ax.barh(t.index, t["high_change"], color=OKABE_ITO[4], label="higher")
    ax.axvline(0, color=OKABE_ITO[7], linewidth=1)
    base = table.attrs.get("baseline")
    where = f" (baseline {base:,.4g} {unit})" if base is not None else ""
    ax.set_title(f"What moves the {output}{where}")
    ax.set_xlabel(f"change against the baseline ({unit})")
    ax.set_ylabel("assumption (each end of its range)")
    ax.legend(loc="lower right")
    return fig


def morris_screening(frame: pd.DataFrame, output: str, unit: str) -> Figure:
    """Morris screening: mu* (overall effect) against sigma (interactions, non-linearity)."""
    fig, ax = _figure(5.0)
    ax.scatter(frame["mu_star"], frame["sigma"], color=OKABE_ITO[3])
    for name, row in frame.head(8).iterrows():
        ax.annotate(
            name,
            (row["mu_star"], row["sigma"]),
            fontsize=9,
            xytext=(4, 2),
            textcoords="offset points",
        )
    ax.set_title(f"Morris screening of the {output.replace('_', ' ')}")
    ax.set_xlabel(f"mu* (mean absolute effect, {unit})")
    ax.set_ylabel(f"sigma (spread of the effect, {unit})")
    return fig


def discovery_box(
    x: pd.Series, y: pd.Series, failing: pd.Series, limits: pd.DataFrame, what: str
) -> Figure:
    """The sweep's points over two assumptions, failing ones marked, and PRIM's box."""
    from matplotlib.patches import Rectangle

    fig, ax = _figure(5.0)
    fail = failing.astype(bool).to_numpy()
    ax.scatter(x[~fail], y[~fail], color=OKABE_ITO[2], label="plan works", marker="o")
    label = textwrap.fill(what, 28)  # the legend sits beside the axes: keep it narrow
    ax.scatter(x[fail], y[fail], color=OKABE_ITO[4], label=label, marker="x")
    lo_x, hi_x = (
        limits.loc[x.name, ["low", "high"]] if x.name in limits.index else (x.min(), x.max())
    )
    lo_y, hi_y = (
        limits.loc[y.name, ["low", "high"]] if y.name in limits.index else (y.min(), y.max())
    )
    ax.add_patch(
        Rectangle(
            (lo_x, lo_y),
            hi_x - lo_x,
            hi_y - lo_y,
            fill=False,
            edgecolor=OKABE_ITO[7],
            linestyle="--",
            label="PRIM box",
        )
    )
    ax.set_title(textwrap.shorten(f"Where {what}", 80, placeholder=" ..."))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xlabel(f"{x.name} (assumed, its range)")
    ax.set_ylabel(f"{y.name} (assumed, its range)")
    return fig
