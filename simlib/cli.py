"""The `simlib` command: one subcommand per planner question.

Each subcommand takes `--scenario FILE` and `--seed N`; with `--json` it prints one JSON
object on stdout and nothing else there (progress and warnings go to stderr).

Exit status: 0 the run succeeded; 1 the run failed (a notebook, a solver, an error inside
simlib, an output that could not be written) or was interrupted (Ctrl-C, SIGTERM); 2 bad
input (a scenario, a data file or an option), with one line naming the file, the field and
the value. No traceback unless `--debug` asks for it.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import math
import os
import sys
import traceback
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from simlib.interrupt import Terminated, sigterm_as_interrupt
from simlib.machine import fewer_collections
from simlib.present.jobs import match_text
from simlib.present.timeline import timeline_text
from simlib.provenance import MAX_REPLICATIONS, DataError, RunFailed, one_line
from simlib.scenario import DEFAULT_SCENARIO, DEFAULT_SEED

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
COMMAND_LINE = "command line"  # the "file" a bad option is reported in


def add_debug(parser: argparse.ArgumentParser) -> None:
    """`--debug`, which every subcommand takes."""
    parser.add_argument(
        "--debug", action="store_true", help="on an error, also print the Python traceback"
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario", default=str(DEFAULT_SCENARIO), help="scenario YAML (default: %(default)s)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"random seed (default: the scenario's seed, {DEFAULT_SEED} in the shipped ones)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_debug(parser)


# What each output option names: "folder" (made if needed), "file" (its folder must exist),
# or "any" for a subcommand not listed here (only that it could be made and written).
OUTPUT_KINDS = {
    ("match", "out"): "folder",
    ("report", "out"): "folder",
    ("sweep", "out"): "folder",
    ("community", "out"): "folder",
    ("match", "write_mps"): "file",
    ("plan", "out"): "file",
    ("needs", "out"): "folder",
}
# Subcommands whose `--workers` run the replications, so more workers than replications idle.
WORKERS_RUN_REPLICATIONS = ("simulate",)


def check_output_path(path: str | Path, option: str, kind: str = "any") -> None:
    """Refuse, before any work starts, an output that could not be written at the end,
    naming the option.

    A folder may not exist yet (it is made, with its parents), but nothing on the way may be
    a file, and a file must be creatable in the nearest folder that exists (tried, so that
    /proc, a read-only mount or a folder without permission are found); a file's folder
    must exist.
    """

    from simlib.files import cannot_write_in, nearest_existing  # only with an output option

    def bad(problem: str) -> DataError:
        return DataError(COMMAND_LINE, option, str(path), problem)

    try:
        path = Path(path)
        if kind == "folder" and path.exists() and not path.is_dir():
            raise bad("is a file, not a folder")
        if kind == "file":
            if path.is_dir():
                raise bad("is a folder; give a file name")
            if not path.parent.is_dir():
                what = "is a file" if path.parent.exists() else "does not exist"
                raise bad(f"cannot be written: the folder {path.parent} {what}")
        if path.exists() and not os.access(path, os.W_OK):
            raise bad("cannot be written: permission denied")
        existing = nearest_existing(path if kind == "folder" else path.parent)
        if not existing.is_dir():
            raise bad(f"cannot be written: {existing} is a file")
        problem = cannot_write_in(existing)
        if problem:
            raise bad(f"cannot be written: {problem}")
    except (OSError, ValueError) as error:  # a name too long, a NUL byte, a loop of links
        if isinstance(error, DataError):
            raise
        raise bad(f"cannot be used: {error}") from None


def check_arguments(args: argparse.Namespace) -> None:
    """The options every subcommand shares, checked before any work starts.

    `--replications` lies in [1, MAX_REPLICATIONS]; `--workers` is at least 1 and is clamped
    (with a note on stderr) to the CPUs this process may use, and for `simulate` to the
    replications, since more processes than that only cost memory; `--out` and
    `--write-mps` must be writable; `--scheduler` must be an address or a scheduler file.
    """
    replications = getattr(args, "replications", None)
    if replications is not None and not 1 <= replications <= MAX_REPLICATIONS:
        raise DataError(
            COMMAND_LINE, "--replications", replications, f"must lie in [1, {MAX_REPLICATIONS}]"
        )
    workers = getattr(args, "workers", None)
    if workers is not None:
        _check_workers(args, workers, replications)
    for option in ("out", "write_mps"):
        value = getattr(args, option, None)
        if value:
            kind = OUTPUT_KINDS.get((args.command, option), "any")
            check_output_path(value, "--" + option.replace("_", "-"), kind)
    if getattr(args, "check", None):  # a subcommand's own options (plan, needs)
        args.check(args)
    if getattr(args, "scheduler", None):
        from simlib.sweep.runner import check_scheduler

        check_scheduler(args.scheduler)


def _check_workers(args: argparse.Namespace, workers: int, replications: int | None) -> None:
    if workers < 1:
        raise DataError(COMMAND_LINE, "--workers", workers, "must be at least 1 (1 = serial)")
    from simlib.machine import usable_cpus  # only the commands that take --workers

    limit, why = usable_cpus(), f"{usable_cpus()} CPUs available"
    if args.command in WORKERS_RUN_REPLICATIONS and replications and replications < limit:
        limit, why = replications, f"{replications} replications"
    if workers > limit and not getattr(args, "scheduler", None):
        print(
            f"simlib {args.command}: --workers {workers} clamped to {limit} ({why})",
            file=sys.stderr,
        )
        args.workers = limit


def emit(result: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], str]) -> None:
    print(json.dumps(result, indent=2, ensure_ascii=False) if as_json else human(result))


def _inputs(args: argparse.Namespace, domains: tuple[str, ...] | None = None):
    """Every input of the run, loaded once (simlib.inputs): every subcommand's one loader.
    `domains`: the parameters loaded and checked now (default: all); a short command names
    the few it uses, and any other is loaded if it is read."""
    from simlib.inputs import DOMAINS, load_inputs

    return load_inputs(
        args.scenario, seed=args.seed, domains=DOMAINS if domains is None else domains
    )


# --- population -------------------------------------------------------------------------


def _population(args: argparse.Namespace) -> None:
    from simlib.present.population import population_text

    emit(_inputs(args, ()).population.summary(), args.json, population_text)


def _add_population(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("population", help="generate the synthetic population and summarise it")
    add_common(parser)
    parser.set_defaults(run=_population)


# --- simulate, plan, needs (the moving campaign) -----------------------------------------


def _simulate(args: argparse.Namespace) -> None:
    from simlib.moving import run
    from simlib.present.moving import simulate_text

    result = run(_inputs(args), replications=args.replications, workers=args.workers)
    summary = result.summary()
    f = summary["feasibility"]
    if not f["feasible"]:
        print(f"simlib simulate: at mean times the plan does not keep {f['first_date']} ({f['resource']}): {f['detail']}", file=sys.stderr)  # fmt: skip
    emit(summary, args.json, simulate_text)


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("simulate", help="simulate the moving campaign (convoys, move-in day)")
    add_common(parser)
    parser.add_argument("--replications", type=int, default=10, help="replications (default: 10)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    parser.set_defaults(run=_simulate)


OBJECTIVES = ("finish", "slack")  # as simlib.moving.optimize.OBJECTIVES (a test keeps them equal)


def _plan(args: argparse.Namespace) -> None:
    import io

    from simlib.moving import make_plan
    from simlib.moving.feasibility import check_feasibility
    from simlib.moving.generate import unplanned
    from simlib.present.moving import plan_text

    inputs = _inputs(args)
    households = inputs.population.households
    extra: dict[str, Any] = {}
    if args.optimize:
        from simlib.moving.optimize import optimise_plan

        optimised = optimise_plan(inputs.moving, households, args.objective, args.time_limit)
        plan = optimised.plan
        extra = optimised.summary()
    else:
        plan = make_plan(inputs.moving, households)
        left = unplanned(plan, households)
        if left:  # a plan file must account for every household: this one cannot be written
            raise RunFailed(f"the generated plan leaves {left} households unplanned within the horizon (max_campaign_days {inputs.moving.max_campaign_days})")  # fmt: skip
    feasibility = check_feasibility(inputs.moving, plan, households)
    text = io.StringIO()
    if args.out:
        plan.to_csv(args.out)
    else:
        plan.rows[["date", "county", "households"]].to_csv(text, index=False)
    rows = plan.rows
    summary = {
        "scenario": inputs.scenario.name,
        "source": plan.source,
        "convoy_days": int(len(rows)),
        "households": int(rows["households"].sum()),
        "first_date": rows["date"].min() if len(rows) else None,
        "last_date": rows["date"].max() if len(rows) else None,
        "feasibility": feasibility.summary(),
        "out": args.out,
        "csv": text.getvalue(),
        "seed": inputs.seed,
    }
    emit({**summary, **extra}, args.json, plan_text)


def _check_plan_options(args: argparse.Namespace) -> None:
    if args.objective not in OBJECTIVES:
        raise DataError(COMMAND_LINE, "--objective", args.objective, f"must be one of {', '.join(OBJECTIVES)}")  # fmt: skip
    if not args.optimize:
        if args.objective != "finish":
            raise DataError(COMMAND_LINE, "--objective", args.objective, "goes with --optimize")
        if args.time_limit is not None:
            raise DataError(COMMAND_LINE, "--time-limit", args.time_limit, "goes with --optimize")
    if args.time_limit is None:
        args.time_limit = 10.0
    if not (args.time_limit > 0 and args.time_limit < 86_400):
        raise DataError(COMMAND_LINE, "--time-limit", args.time_limit, "must be a number of seconds in (0, 86400)")  # fmt: skip


def _add_plan(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "plan",
        help="the moving campaign's batch plan (date, county, households), or an optimised one",
    )
    add_common(parser)
    parser.add_argument("--out", default=None, help="write the plan to this CSV file")
    parser.add_argument("--optimize", action="store_true", help="choose the convoy days with PuLP")
    parser.add_argument("--objective", default="finish", help="finish (earliest end) or slack (most slack before the deadline)")  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=None, help="seconds for the solver (default: 10)")  # fmt: skip
    parser.set_defaults(run=_plan, check=_check_plan_options)


def _needs(args: argparse.Namespace) -> None:
    import time

    from simlib.machine import usable_cpus
    from simlib.moving.needs import NeedsRequest, needs_summary
    from simlib.present.moving import needs_text

    start = time.perf_counter()
    inputs = _inputs(args)
    request = NeedsRequest(args.replications, args.workers or usable_cpus(), args.share, args.ranges, tuple(args.date or ()), args.out)  # fmt: skip
    summary = needs_summary(inputs, request)
    summary["seconds"] = round(time.perf_counter() - start, 2)
    emit(summary, args.json, needs_text)


def _check_needs_options(args: argparse.Namespace) -> None:
    from simlib.moving.needs import SEARCH

    if not 0 < args.share <= 1:
        raise DataError(COMMAND_LINE, "--share", args.share, "must lie in (0, 1]")
    ranges = {}
    for text in args.range or ():
        name, _, span = text.partition("=")
        low, _, high = span.partition(":")
        if name not in SEARCH:
            raise DataError(COMMAND_LINE, "--range", text, f"names no resource; one of {', '.join(SEARCH)}")  # fmt: skip
        try:
            low_n, high_n = int(low), int(high)
        except ValueError:
            raise DataError(COMMAND_LINE, "--range", text, "write NAME=LOW:HIGH with whole numbers") from None  # fmt: skip
        if not 1 <= low_n <= high_n:
            raise DataError(COMMAND_LINE, "--range", text, "is empty: LOW must be at least 1 and at most HIGH")  # fmt: skip
        ranges[name] = (low_n, high_n)
    args.ranges = ranges
    for i, date in enumerate(args.date or ()):
        from simlib.moving.tables import parse_date

        args.date[i] = parse_date(date, COMMAND_LINE, "--date")


def _add_needs(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "needs",
        help="what each convoy day needs (vehicles, drivers, police, cadres, doctors, crews, reception)",  # fmt: skip
    )
    add_common(parser)
    parser.add_argument("--replications", type=int, default=10, help="replications per day (default: 10)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    parser.add_argument("--out", default=None, help="folder for needs.csv, plan.csv and resources.yaml")  # fmt: skip
    parser.add_argument("--share", type=float, default=0.9, help="share of replications a day must finish in (default: 0.9)")  # fmt: skip
    parser.add_argument("--range", action="append", metavar="NAME=LOW:HIGH", help="search one resource only within [LOW, HIGH] (repeatable)")  # fmt: skip
    parser.add_argument("--date", action="append", metavar="YYYY-MM-DD", help="only the convoy days of this date (repeatable)")  # fmt: skip
    parser.set_defaults(run=_needs, check=_check_needs_options)


# --- report (the published notebooks) ------------------------------------------------------


def _report(args: argparse.Namespace) -> None:
    from simlib.present.report import report_text
    from simlib.report import build_reports
    from simlib.scenario import SMOKE_SCENARIO

    scenario = SMOKE_SCENARIO if args.smoke else args.scenario
    build = build_reports(
        scenario,
        args.out,
        seed=args.seed,
        replications=args.replications,
        solver=args.solver,
        show_code=args.show_code,
        notebooks_dir=args.notebooks,
    )
    emit(build.summary(), args.json, report_text)


def _add_report(sub: argparse._SubParsersAction) -> None:
    from simlib.scenario import PROJECT_ROOT

    # the same defaults as simlib.report, without importing it (and nbformat) to build the parser
    NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
    DEFAULT_OUT = PROJECT_ROOT / "results" / "reports"
    from simlib.jobs_inputs import SOLVERS

    parser = sub.add_parser(
        "report", help="run every notebook and publish self-contained HTML reports"
    )
    add_common(parser)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="use data/scenarios/smoke.yaml (4 %% scale, under 2 minutes) instead of --scenario",
    )
    parser.add_argument(
        "--out", default=str(DEFAULT_OUT), help="output folder (default: %(default)s)"
    )
    parser.add_argument(
        "--replications", type=int, default=10, help="moving replications (default: 10)"
    )
    parser.add_argument(
        "--solver", choices=SOLVERS, default="cbc", help="job-matching solver (default: cbc)"
    )
    parser.add_argument(
        "--show-code", action="store_true", help="show the code cells (hidden by default)"
    )
    parser.add_argument(
        "--notebooks",
        default=str(NOTEBOOKS_DIR),
        help="folder of NN-*.ipynb notebooks (default: %(default)s)",
    )
    parser.set_defaults(run=_report)


# Each domain adds its subcommand here: a function that registers a parser whose
# defaults set `run`.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_population,
    _add_simulate,
    _add_plan,
    _add_needs,
    _add_report,
]


# --- match (jobs) ------------------------------------------------------------------------


def check_time_limit(value: float | None) -> None:
    """A time limit is a finite number of seconds above 0 (nan, inf and 0 are not)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise DataError(
            COMMAND_LINE, "--time-limit", value, "must be a finite number of seconds above 0"
        )


def _match(args: argparse.Namespace) -> None:
    # one short run: the cyclic garbage collector would only walk the model's objects again
    # and again (reference counting frees them); on again afterwards for an in-process caller
    gc.disable()
    # and at the interpreter's exit, its last collections would walk every object left
    # (a tenth of the run): freeze them first, the process's memory goes back whole
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
        _run_match(args)
    finally:
        gc.enable()


def _run_match(args: argparse.Namespace) -> None:
    from simlib import matching

    check_time_limit(args.time_limit)
    result = matching.run(
        _inputs(args, ("jobs",)),
        solver=args.solver,
        time_limit=args.time_limit,
        marginal=args.marginal,
        write_mps=args.write_mps,
    )
    if args.out:
        matching.write_outputs(result, args.out)
    emit(result.summary(), args.json, match_text)


def _add_match(sub: argparse._SubParsersAction) -> None:
    from simlib.jobs_inputs import SOLVERS

    parser = sub.add_parser("match", help="match laborers to jobs (PuLP) and compare baselines")
    add_common(parser)
    parser.add_argument("--solver", choices=SOLVERS, default="cbc", help="MIP solver")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds per solve (default: the scenario's solver_time_limit); a plan stopped "
        "by it is reported with its gap, no plan exits with status 1",
    )
    parser.add_argument(
        "--marginal",
        action="store_true",
        help="re-solve for the value of one more place, export seat and care place",
    )
    parser.add_argument("--write-mps", default=None, help="write the final model solved (MPS)")
    parser.add_argument("--out", default=None, help="folder for the result tables (CSV)")
    parser.set_defaults(run=_match)


SUBCOMMANDS.append(_add_match)


# --- timeline (from arrival to first wage) ------------------------------------------------


def _timeline(args: argparse.Namespace) -> None:
    from simlib.timeline import run

    result = run(
        _inputs(args), replications=args.replications, solver=args.solver, workers=args.workers
    )
    emit(result.summary(), args.json, timeline_text)


def _add_timeline(sub: argparse._SubParsersAction) -> None:
    from simlib.jobs_inputs import SOLVERS

    parser = sub.add_parser(
        "timeline", help="employment over time: rolling matching driven by the moving simulation"
    )
    add_common(parser)
    parser.add_argument(
        "--replications", type=int, default=5, help="moving replications (default: 5)"
    )
    parser.add_argument("--solver", choices=SOLVERS, default="cbc", help="MIP solver")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes for the replications (default: 1)"
    )
    parser.set_defaults(run=_timeline)


SUBCOMMANDS.append(_add_timeline)


# --- sweep (uncertainty over the assumptions) ------------------------------------------


def _sweep(args: argparse.Namespace) -> None:
    import logging

    from simlib.present.sweep import sweep_text
    from simlib.sweep import load_spec, run_sweep

    notes = logging.StreamHandler(sys.stderr)
    notes.setFormatter(logging.Formatter("simlib sweep: note: %(message)s"))
    logger = logging.getLogger("simlib.sweep")
    logger.addHandler(notes)
    logger.propagate = False
    try:
        spec = load_spec(args.spec)
        run = run_sweep(
            spec,
            out=args.out,
            scheduler=args.scheduler,
            workers=args.workers,
            restart=args.restart,
            progress=not args.no_progress,
        )
    finally:
        logger.removeHandler(notes)
        logger.propagate = True
    emit(run.summary(), args.json, sweep_text)
    if run.failed:
        raise RunFailed(f"{run.failed} of {run.points} points failed; each is named above")


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sweep", help="run a sweep over the assumptions (data/sweeps/*.yaml) on Dask"
    )
    parser.add_argument("spec", help="sweep specification (YAML), e.g. data/sweeps/ci.yaml")
    parser.add_argument(
        "--scheduler",
        default=None,
        help="an existing Dask scheduler: its address (tcp://HOST:PORT) or its scheduler file",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: the CPUs this process may use)",
    )
    parser.add_argument(
        "--out", default=None, help="output folder (default: results/sweeps/<name>/)"
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="discard the points in the output folder and start afresh",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_debug(parser)
    parser.set_defaults(run=_sweep)


SUBCOMMANDS.append(_add_sweep)


# --- community (grids, daily visits, epidemic checkpoints) --------------------------------


def _community(args: argparse.Namespace) -> None:
    from simlib.community import run
    from simlib.inputs import vary
    from simlib.present.community import text

    if args.sweep:
        return _community_sweep(args)
    inputs = _inputs(args)
    if args.grids is not None:
        inputs = vary(inputs, {"community.grids": args.grids}, where=COMMAND_LINE)
    result = run(inputs, replications=args.replications)
    if args.out:
        result.write(args.out)
    emit(result.summary(), args.json, text)


def _add_community(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "community", help="grids, daily visits to special groups and the epidemic checkpoints"
    )
    add_common(parser)
    parser.add_argument(
        "--replications", type=int, default=5, help="replications of the visits (default: 5)"
    )
    parser.add_argument(
        "--grids", type=int, default=None, help="number of grids (default: the scenario's, 36)"
    )
    parser.add_argument(
        "--out", default=None, help="folder for the result tables (CSV), or for --sweep's points"
    )
    parser.add_argument(
        "--sweep",
        default=None,
        metavar="SPEC",
        help="instead, run a sweep over the community assumptions (e.g. "
        "data/sweeps/community.yaml), resumable, with the community outputs",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="--sweep: local worker processes (default: CPUs)"
    )
    parser.set_defaults(run=_community)


def _community_sweep(args: argparse.Namespace) -> None:
    from simlib.community.sweep import run_spec
    from simlib.present.sweep import sweep_text
    from simlib.sweep import load_spec

    spec = load_spec(args.sweep)
    run = run_spec(spec, out=args.out, workers=args.workers, progress=not args.json)
    emit(run.summary(), args.json, sweep_text)
    if run.failed:
        raise RunFailed(f"{run.failed} of {run.points} sweep points failed")


SUBCOMMANDS.append(_add_community)
# --- lottery (the housing lottery and the allocation of the flats) ----------------------


def _lottery(args: argparse.Namespace) -> None:
    from simlib import housing
    from simlib.housing.verify import write_outputs
    from simlib.present.housing import summary_text

    if args.verify:
        _lottery_verify(args)
        return
    if args.out:
        check_output_path(args.out, "--out", "folder")
    inputs = _inputs(args)

    def announce(digests: dict[str, str]) -> None:
        # printed before the draw: anyone can later check the list against it
        print(
            f"commitment {digests['commitment']} (seed {inputs.seed})",
            file=sys.stderr if args.json else sys.stdout,
            flush=True,
        )

    result = housing.run(
        inputs, args.method or "lottery", replications=args.replications, announce=announce
    )
    if args.out:
        write_outputs(args.out, result.meta(), result.allocation)
    emit(result.summary(), args.json, summary_text)


def _lottery_verify(args: argparse.Namespace) -> None:
    from simlib import housing
    from simlib.housing.verify import check_meta, compare, read_list
    from simlib.inputs import load_inputs
    from simlib.present.housing import verify_text

    path = args.verify
    meta, table = read_list(path)
    try:
        seed = int(meta["seed"])
    except ValueError:
        raise DataError(path, "seed", meta["seed"], "must be a whole number") from None
    if args.seed is not None and args.seed != seed:
        raise DataError(path, "seed", seed, f"the list is from seed {seed}, not --seed {args.seed}")
    if meta["method"] not in housing.METHODS:
        raise DataError(path, "method", meta["method"], f"must be one of {housing.METHODS}")
    if args.method and args.method != meta["method"]:
        raise DataError(
            path,
            "method",
            meta["method"],
            f"the list was drawn by {meta['method']}, not --method {args.method}",
        )
    inputs = load_inputs(args.scenario, seed=seed)
    households, flats, digests = housing.prepare(inputs, meta["method"])
    check_meta(path, meta, dict(digests, scenario=inputs.scenario.name))
    index, _, _ = housing.allocate(inputs, meta["method"], households, flats)
    joined, _ = housing.joined(households, flats, index)
    confirmed = compare(path, table, joined, seed)
    summary = {
        "verified": True,
        "file": str(path),
        "households": confirmed,
        "seed": seed,
        "method": meta["method"],
        "commitment": digests["commitment"],
    }
    emit(summary, args.json, verify_text)


def _add_lottery(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "lottery", help="the housing lottery: allocate the flats, verifiably, and the lottery day"
    )
    add_common(parser)
    parser.add_argument(
        "--method",
        choices=("lottery", "community"),
        default=None,
        help="lottery: the public draw alone (default); community: villages kept together "
        "and low floors for those who asked (PuLP), then the draw",
    )
    parser.add_argument(
        "--out", default=None, help="folder for allocation.csv and commitment.txt (made if needed)"
    )
    parser.add_argument(
        "--verify",
        default=None,
        metavar="FILE",
        help="re-run the draw from the seed published in FILE (an allocation.csv) and confirm "
        "it, or name the first household that differs (exit 1)",
    )
    parser.add_argument(
        "--replications",
        type=int,
        default=None,
        help="lottery-day replications (default: data/housing/parameters.csv)",
    )
    parser.set_defaults(run=_lottery)


SUBCOMMANDS.append(_add_lottery)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simlib", description="Maojiawan resettlement planning study"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; return the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    name = f"simlib {args.command}"
    fewer_collections()
    try:
        with sigterm_as_interrupt():
            check_arguments(args)
            args.run(args)
    except DataError as error:
        return _fail(args, f"{name}: bad input: {error}", EXIT_BAD_INPUT)
    except RunFailed as error:
        return _fail(args, f"{name}: {error}", EXIT_FAILED)
    except KeyboardInterrupt as error:
        how = "terminated (SIGTERM)" if isinstance(error, Terminated) else "interrupted (Ctrl-C)"
        return _fail(args, f"{name}: {how}; stopped before the end", EXIT_FAILED)
    except BrokenPipeError:
        # whoever read stdout has gone (`simlib ... | head`): there is no one left to tell
        with suppress(Exception):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as error:
        return _fail(args, f"{name}: failed: {one_line(error, 500)}", EXIT_FAILED)
    except MemoryError:
        return _fail(args, f"{name}: failed: out of memory", EXIT_FAILED)
    except Exception as error:
        message = one_line(f"{type(error).__name__}: {error}", 1000)
        hint = (
            "" if getattr(args, "debug", False) else " (run again with --debug for the traceback)"
        )
        return _fail(args, f"{name}: failed: {message}{hint}", EXIT_FAILED)
    return EXIT_OK


def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(message, file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
