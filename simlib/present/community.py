"""The community model's answers as a planner reads them: the command line's text, tables
and sentences for the notebooks, and the figures (a map of the grids, the coverage curve,
the checkpoint queues). Nothing here runs a model: it reads a `CommunityResult` or its
`summary()`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simlib.present.ci import ci_text


def _f(x: Any, fmt: str = "{:.2f}") -> str:
    return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else fmt.format(x)


def text(s: dict[str, Any]) -> str:
    """The command line's text for `simlib community`."""
    best, cov, days = s["best_simple_cut"], s["special_visit_coverage"], s["days_to_first_visit"]
    wait, back = s["checkpoint_wait_minutes"], s["returning_people_followed_up"]
    gap = "" if s["grid_status"] == "optimal" else f", gap {s['grid_gap']:.1%}"
    lines = [
        f"Scenario {s['scenario']}, seed {s['seed']}, {s['replications']} replications",
        f"  grids {s['grids']} over {s['grid_buildings']} buildings (reported "
        f"{s['reported']['grids']} over {s['reported']['grid_buildings']}): {s['grid_status']}"
        f"{gap}",
        f"    largest / mean workload {s['max_to_mean_workload']:.3f}, largest / smallest "
        f"{s['max_to_min_workload']:.2f}; walk to the grid's base: mean "
        f"{s['walk_to_base_m']['mean']:.0f} m, at most {s['walk_to_base_m']['max']:.0f} m",
        f"    best simple cut ({best['name']}): largest / mean {best['max_to_mean_workload']:.3f}, "
        f"largest / smallest {best['max_to_min_workload']:.2f}, "
        f"{best['noncontiguous_grids']} grids not contiguous",
        f"  special-group visits: coverage {_f(cov['mean'], '{:.1%}')} a day on average "
        f"({ci_text(cov, '{:.3f}')}), lowest day {_f(cov['lowest_day'], '{:.1%}')} "
        f"(lowest on {cov['lowest_date']})",
        f"  step-8 visit: P50 {_f(days['p50'], '{:.1f}')} and P95 {_f(days['p95'], '{:.1f}')} "
        f"days after moving in; on time (within {s['step8_target_days']} days) "
        f"{_f(s['step8_on_time_share'], '{:.1%}')}",
        f"  grid workers busy {_f(s['utilisation']['mean'], '{:.0%}')} of their hours "
        f"(busiest grid {_f(s['utilisation']['busiest_grid'], '{:.0%}')})",
        f"  epidemic: {_f(back['mean'], '{:,.0f}')} returning people followed up "
        f"({ci_text(back, '{:,.0f}')}; over the assumptions' range "
        f"{_f(back['assumption_range']['low'], '{:,.0f}')}-"
        f"{_f(back['assumption_range']['high'], '{:,.0f}')}); reported {back['reported']:,} "
        f"({back['reported_at_scale']:,} at this scale)",
        f"    checkpoint wait P95 {_f(wait['p95'], '{:.1f}')} min (longest "
        f"{_f(wait['max'], '{:.0f}')} min); {_f(s['checkpoint_staff_hours'], '{:,.0f}')} "
        f"staff-hours on duty, {_f(s['checkpoint_busy_hours'], '{:,.0f}')} of them checking",
        f"    follow-ups on time {_f(s['followups_on_time_share'], '{:.1%}')}; grids with "
        f"residents when the pause began {_f(s['epidemic_grids_with_residents']['mean'], '{:.1f}')}"
        f" (reported: {s['epidemic_grids_with_residents']['reported']} epidemic grids)",
    ]
    return "\n".join(lines)


def cuts_table(result) -> pd.DataFrame:
    """The optimised grids beside the simple cuts, one row each."""
    plan = result.plan.measured.figures()
    rows = [{"cut": "optimised", **plan}]
    rows += result.simple_cuts.to_dict("records")
    table = pd.DataFrame(rows).set_index("cut")
    columns = {
        "max_to_mean_workload": "largest / mean",
        "max_to_min_workload": "largest / smallest",
        "noncontiguous_grids": "grids not contiguous",
        "mean_walk_to_base_m": "mean walk to base (m)",
        "max_walk_to_base_m": "longest walk to base (m)",
        "largest_households": "most households in a grid",
    }
    return table[list(columns)].rename(columns=columns).round(3)


def headline_table(s: dict[str, Any]) -> pd.DataFrame:
    """The answers beside what the source reports (for the notebooks and the summary); a
    blank where the source reports nothing to compare."""
    back, grids = s["returning_people_followed_up"], s["epidemic_grids_with_residents"]
    cov, best = s["special_visit_coverage"], s["best_simple_cut"]
    full = "" if s["scale"] >= 1 else " (full scale)"
    rows = [
        ("grids", f"{s['grids']}", f"{s['reported']['grids']}{full}", "an input"),
        ("buildings the grids cover", f"{s['grid_buildings']}",
         f"{s['reported']['grid_buildings']}{full}",
         "66 residential (reported) + 10 others (assumed)"),
        ("largest / mean grid workload", f"{s['max_to_mean_workload']:.3f}", "",
         f"best simple cut ({best['name']}) {best['max_to_mean_workload']:.3f}"),
        ("special-group coverage, mean day", _f(cov["mean"], "{:.1%}"), "every day", ""),
        ("special-group coverage, lowest day", _f(cov["lowest_day"], "{:.1%}"), "every day",
         f"on {cov['lowest_date']}"),
        ("step-8 visit, P95 days after moving in", _f(s["days_to_first_visit"]["p95"], "{:.1f}"),
         "", f"target {s['step8_target_days']} days"),
        ("returning people followed up", _f(back["mean"], "{:,.0f}"),
         f"{back['reported_at_scale']:,}", "derived, not calibrated: a check"),
        ("grids with residents when the pause began", _f(grids["mean"], "{:.0f}"),
         f"{grids['reported']} (epidemic grids)", f"households placed by {s['placement']}"),
        ("checkpoint wait P95 (min)", _f(s["checkpoint_wait_minutes"]["p95"], "{:.1f}"), "", ""),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["figure", "model", "reported", "note"]).set_index("figure")


def grid_count_table(counts: pd.DataFrame) -> pd.DataFrame:
    """What another grid changes (simlib.community.sweep.grid_counts), one row per count."""
    columns = {
        "status": "status",
        "max_to_mean_workload": "largest / mean",
        "max_to_min_workload": "largest / smallest",
        "best_cut_max_to_mean": "best simple cut: largest / mean",
        "largest_households": "most households in a grid",
        "mean_walk_to_base_m": "mean walk to base (m)",
        "coverage_mean": "coverage, mean day",
        "coverage_lowest": "coverage, lowest day",
        "days_to_first_visit_p95": "step-8 visit, P95 days",
    }
    keep = [c for c in columns if c in counts]
    return counts.set_index("grids")[keep].rename(columns=columns).round(3)


def epidemic_table(result) -> pd.DataFrame:
    """The epidemic figures of each replication."""
    columns = {
        "returning_people": "returning people",
        "returning_people_followed_up": "followed up",
        "followups_on_time_share": "on time",
        "checkpoint_wait_p95": "wait P95 (min)",
        "checkpoint_wait_max": "longest wait (min)",
        "checkpoint_staff_hours": "staff-hours on duty",
        "checkpoint_busy_hours": "hours checking",
        "epidemic_grids_with_residents": "grids with residents",
    }
    return result.runs.set_index("replication")[list(columns)].rename(columns=columns).round(2)


def grids_table(result) -> pd.DataFrame:
    """Every grid of the plan as checked from the chosen variables."""
    columns = ["base", "buildings", "households", "special_members", "workload", "max_walk_m",
               "contiguous"]  # fmt: skip
    return result.grids.set_index("grid")[columns]


def placement_table(results: dict[str, Any]) -> pd.DataFrame:
    """The visits and the epidemic under each placement of the households, one column
    each (`results`: name -> CommunityResult)."""
    rows = {}
    for name, result in results.items():
        s = result.summary()
        rows[name] = {
            "special-group coverage, mean day": s["special_visit_coverage"]["mean"],
            "special-group coverage, lowest day": s["special_visit_coverage"]["lowest_day"],
            "step-8 visit, P50 days": s["days_to_first_visit"]["p50"],
            "step-8 visit, P95 days": s["days_to_first_visit"]["p95"],
            "step-8 visits on time": s["step8_on_time_share"],
            "busiest grid's utilisation": s["utilisation"]["busiest_grid"],
            "grids with residents when the pause began (reported: 29)": s[
                "epidemic_grids_with_residents"
            ]["mean"],
            "largest / mean grid workload": s["max_to_mean_workload"],
        }
    return pd.DataFrame(rows).round(3)


def planner_text(s: dict[str, Any]) -> str:
    """Sentences for a planner (Markdown)."""
    best, cov = s["best_simple_cut"], s["special_visit_coverage"]
    back = s["returning_people_followed_up"]
    gain = best["max_to_mean_workload"] - s["max_to_mean_workload"]
    nearly = "nearly as good as" if gain < 0.05 else "clearly worse than"
    return "\n\n".join(
        [
            f"**Grids.** The optimised {s['grids']} grids carry at most "
            f"{s['max_to_mean_workload']:.2f} times the mean workload and at most "
            f"{s['max_to_min_workload']:.2f} times the lightest grid's; every grid is "
            f"contiguous. The best simple cut ({best['name']}) is {nearly} the optimum on the "
            f"heaviest grid ({best['max_to_mean_workload']:.2f}), but its lightest grid carries "
            f"1/{best['max_to_min_workload']:.2f} of the heaviest and "
            f"{best['noncontiguous_grids']} of its grids are split by a street. The largest "
            "buildings set the floor: a 216-flat tower is almost a grid's work on its own.",
            f"**Daily visits.** On an average day {cov['mean']:.1%} of the special-group members "
            f"present are visited; the worst day ({cov['lowest_date']}) falls to "
            f"{cov['lowest_day']:.0%}: on days when many families in one grid are due for "
            "their step-8 visit, those visits go first. Half the families are visited within "
            f"{s['days_to_first_visit']['p50']:.1f} days of moving in, 95 % within "
            f"{s['days_to_first_visit']['p95']:.1f} (target {s['step8_target_days']}).",
            f"**Epidemic.** About {back['mean']:,.0f} people come back over the pause and are "
            f"followed up (the source reports {back['reported']:,}); this count is derived "
            "from the population and three assumed shares, so it is a check, but a weak one: "
            f"over the shares' ranges it spans {back['assumption_range']['low']:,.0f}-"
            f"{back['assumption_range']['high']:,.0f}. The checkpoints barely queue (P95 "
            f"{s['checkpoint_wait_minutes']['p95']:.1f} min): 24-hour duty costs "
            f"{s['checkpoint_staff_hours']:,.0f} staff-hours for "
            f"{s['checkpoint_busy_hours']:,.0f} hours of checks.",
        ]
    )


# --- figures ---------------------------------------------------------------------------------


def _figure(width: float, height: float):
    """A figure shown once as a notebook cell's value (simlib.plots.PlotFigure)."""
    from simlib.plots import PlotFigure

    return PlotFigure(figsize=(width, height), layout="constrained")


def _colours(grids: pd.DataFrame, neighbours, grid_of: np.ndarray) -> dict[int, str]:
    """A colour per grid, different from its neighbouring grids' (greedy, Okabe-Ito)."""
    from simlib.plots import OKABE_ITO

    palette = OKABE_ITO[:7]  # black is kept for the labels
    touching: dict[int, set[int]] = {int(g): set() for g in grids["grid"]}
    for i, near in enumerate(neighbours):
        for j in near:
            if grid_of[i] != grid_of[j]:
                touching[int(grid_of[i])].add(int(grid_of[j]))
    colour: dict[int, str] = {}
    for g in sorted(touching, key=lambda g: -len(touching[g])):
        used = {colour[h] for h in touching[g] if h in colour}
        free = [c for c in palette if c not in used]
        colour[g] = free[0] if free else palette[g % len(palette)]
    return colour


def grid_map(result, title: str | None = None):
    """The grids on the site plan: buildings (size by workload; squares for buildings
    without homes) coloured by grid, neighbours of one grid joined, the grid's number at
    its base building."""
    from simlib.plots import WIDTH

    b = result.buildings
    site = result.params.site
    grid_of = b["grid"].to_numpy()
    colour = _colours(result.grids, site.neighbours, grid_of)
    fig = _figure(WIDTH, WIDTH * 0.62)
    ax = fig.subplots()
    for i, near in enumerate(site.neighbours):
        for j in near:
            if i < j and grid_of[i] == grid_of[j]:
                ax.plot(b["x_m"].iloc[[i, j]], b["y_m"].iloc[[i, j]], lw=4, alpha=0.5,
                        color=colour[int(grid_of[i])], zorder=1)  # fmt: skip
    size = 20 + 180 * b["workload"] / b["workload"].max()
    homes = b["kind"] == "residential"
    for mask, marker in ((homes, "o"), (~homes, "s")):
        ax.scatter(b.loc[mask, "x_m"], b.loc[mask, "y_m"], s=size[mask], marker=marker,
                   c=[colour[int(g)] for g in grid_of[mask.to_numpy()]], edgecolor="black",
                   linewidth=0.5, zorder=2)  # fmt: skip
    bases = b[b["building"] == b["base"]]
    for row in bases.itertuples():
        ax.annotate(str(row.grid), (row.x_m, row.y_m), xytext=(0, 9), textcoords="offset points",
                    ha="center", fontsize=8, zorder=3)  # fmt: skip
    ax.set_aspect("equal")
    ax.set_xlabel("metres east")
    ax.set_ylabel("metres north")
    ax.set_title(title or f"{len(result.grids)} grids on the site plan (squares: no homes)")
    return fig


def coverage_curve(result):
    """Special-group members visited each day (share of those present), mean over
    replications with the lowest and highest, beside the households moving in each day."""
    from simlib.plots import OKABE_ITO, WIDTH

    cov = result.coverage
    per_day = cov.groupby("day")["coverage"].agg(["mean", "min", "max"])
    dates = [result.date(d) for d in per_day.index]
    arrivals = result.visits.groupby(["replication", "moved_in_day"]).size()
    arrivals = arrivals.groupby("moved_in_day").mean()
    fig = _figure(WIDTH, 4.5)
    ax = fig.subplots()
    bars = ax.twinx()
    bars.bar([result.date(d) for d in arrivals.index], arrivals.to_numpy(), width=1.0,
             color=OKABE_ITO[1], alpha=0.35, label="households moving in")  # fmt: skip
    bars.set_ylabel("households moving in a day")
    bars.grid(False)
    ax.fill_between(dates, per_day["min"], per_day["max"], color=OKABE_ITO[3], alpha=0.2,
                    label="lowest-highest replication")  # fmt: skip
    ax.plot(dates, per_day["mean"], color=OKABE_ITO[3], lw=2, label="coverage (mean)")
    ax.set_zorder(bars.get_zorder() + 1)
    ax.patch.set_visible(False)
    for a, z in result.windows:
        ax.axvspan(result.date(a), result.date(z), color="grey", alpha=0.15, lw=0)
    ax.set_ylim(min(0.5, float(per_day["min"].min()) - 0.05), 1.02)
    ax.set_ylabel("special-group members visited (share)")
    ax.set_title("Daily visits to special groups through the campaign (grey: moving paused)")
    ax.legend(loc="lower right")
    fig.autofmt_xdate()
    return fig


def checkpoint_queues(result):
    """Returning people per day at each checkpoint, and their waits."""
    from simlib.plots import WIDTH

    q = result.checkpoint.copy()
    fig = _figure(WIDTH, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=(3, 2))
    if not len(q):
        left.set_title("no returning people (no pause window)")
        return fig
    q["day"] = np.floor(q["arrival"] / 1440).astype(int)
    reps = result.replications
    per = q.groupby(["day", "checkpoint"]).size().unstack(fill_value=0) / reps
    bottom = np.zeros(len(per))
    dates = [result.date(d) for d in per.index]
    for name in per.columns:
        left.bar(dates, per[name], bottom=bottom, width=0.9, label=name)
        bottom += per[name].to_numpy()
    left.set_ylabel("returning people a day (mean)")
    left.set_title("Arrivals at the checkpoints")
    left.legend(fontsize=8, ncol=2)
    left.tick_params(axis="x", rotation=45)
    names = sorted(q["checkpoint"].unique())
    right.boxplot([q.loc[q["checkpoint"] == n, "wait"] for n in names], tick_labels=names,
                  whis=(5, 95), showfliers=True)  # fmt: skip
    right.set_ylabel("wait before the check (min)")
    right.set_title("Waits (whiskers: P5-P95)")
    return fig


def utilisation_map(result):
    """Share of the grid workers' hours spent walking and visiting, per grid and day (mean
    over replications)."""
    from simlib.plots import WIDTH

    table = result.grid_days.groupby(["grid", "day"])["utilisation"].mean().unstack()
    fig = _figure(WIDTH, 4.8)
    ax = fig.subplots()
    image = ax.imshow(table.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1,
                      extent=(table.columns.min() - 0.5, table.columns.max() + 0.5,
                              table.index.max() + 0.5, table.index.min() - 0.5))  # fmt: skip
    fig.colorbar(image, ax=ax, label="utilisation")
    ax.set_xlabel(f"day of the campaign (0 = {result.campaign_start.isoformat()})")
    ax.set_ylabel("grid")
    ax.grid(False)
    ax.set_title("Grid workers' utilisation, day by day")
    return fig


def grid_count_figure(table: pd.DataFrame):
    """What another grid changes: balance and walking (and the visits, if run) by the
    number of grids."""
    from simlib.plots import OKABE_ITO, WIDTH

    fig = _figure(WIDTH, 4)
    left, right = fig.subplots(1, 2)
    left.plot(
        table["grids"], table["max_to_mean_workload"], "o-", label="optimised: largest / mean"
    )
    left.plot(table["grids"], table["best_cut_max_to_mean"], "s--", label="best simple cut")
    left.plot(table["grids"], table["max_to_min_workload"], "^-", color=OKABE_ITO[2],
              label="optimised: largest / smallest")  # fmt: skip
    left.set_xlabel("grids")
    left.set_ylabel("workload ratio")
    left.set_title("Balance")
    left.legend(fontsize=8)
    right.plot(table["grids"], table["largest_households"], "o-", label="most households in a grid")
    right.set_xlabel("grids")
    right.set_ylabel("households")
    right.set_title("Size of the largest grid")
    if "coverage_lowest" in table:
        twin = right.twinx()
        twin.plot(table["grids"], table["coverage_lowest"], "s--", color=OKABE_ITO[4],
                  label="lowest day's coverage")  # fmt: skip
        twin.set_ylabel("lowest day's coverage")
        twin.grid(False)
        twin.legend(loc="lower right", fontsize=8)
    right.legend(loc="upper right", fontsize=8)
    return fig
