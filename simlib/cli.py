"""The `simlib` command: one subcommand per planner question.

Each subcommand takes `--scenario FILE` and `--seed N`; with `--json` it prints one JSON
object on stdout and nothing else there (progress and warnings go to stderr).
Bad input exits with status 2 and a message naming the file, the field and the value.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from simlib.provenance import DataError
from simlib.scenario import DEFAULT_SCENARIO, DEFAULT_SEED, load_scenario


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


def emit(result: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], str]) -> None:
    print(json.dumps(result, indent=2, ensure_ascii=False) if as_json else human(result))


# --- population -------------------------------------------------------------------------


def _population_text(s: dict[str, Any]) -> str:
    lines = [
        f"Scenario {s['scenario']}, seed {s['seed']}",
        f"  households           {s['households']:>8,}  (registered-poor {s['registered_poor_households']:,})",
        f"  people               {s['people']:>8,}  (registered-poor {s['registered_poor_people']:,})",
        f"  laborers             {s['laborers']:>8,}  (target {s['laborers_target']:,})",
        f"  special-group people {s['special_group_people']:>8,}",
        f"  carers               {s['carers']:>8,}",
        "",
        f"  {'county':<10}{'households':>11}{'people':>9}{'laborers':>10}",
    ]
    for county, c in s["by_county"].items():
        lines.append(f"  {county:<10}{c['households']:>11,}{c['people']:>9,}{c['laborers']:>10,}")
    return "\n".join(lines)


def _population(args: argparse.Namespace) -> None:
    from simlib.population import generate_population

    scenario = load_scenario(args.scenario, seed=args.seed)
    emit(generate_population(scenario).summary(), args.json, _population_text)


def _add_population(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("population", help="generate the synthetic population and summarise it")
    add_common(parser)
    parser.set_defaults(run=_population)


# --- simulate (the moving campaign) ------------------------------------------------------


def _simulate_text(s: dict[str, Any]) -> str:
    d, p = s["campaign_days"], s["registered_poor_all_in_day"]
    lines = [
        f"Scenario {s['scenario']}, seed {s['seed']}, {s['replications']} replications",
        f"  campaign days          {d['mean']:.1f}  (95 % CI {d['ci95_low']:.1f}-{d['ci95_high']:.1f}) from {s['campaign_start']}",
        f"  registered-poor all in day {p['mean']:.1f}  (95 % CI {p['ci95_low']:.1f}-{p['ci95_high']:.1f}); deadline {s['registered_poor_deadline']} = day {s['registered_poor_deadline_day']}",
        f"  households / people moved  {s['households_moved']:,.0f} / {s['people_moved']:,.0f}",
        f"  vehicle trips {s['vehicle_trips']:,.0f}, convoys after dark {s['convoys_after_dark']:.1f}",
        "  step wait minutes (p50 / p95):",
    ]
    lines += [
        f"    {k:<18}{v['p50']:>9.1f}{v['p95']:>9.1f}" for k, v in s["step_wait_minutes"].items()
    ]
    lines.append("  utilisation:")
    lines += [f"    {k:<22}{v:>6.2f}" for k, v in s["utilization"].items()]
    return "\n".join(lines)


def _simulate(args: argparse.Namespace) -> None:
    from simlib.moving import run_replications

    scenario = load_scenario(args.scenario, seed=args.seed)
    if args.replications < 1:
        raise DataError("--replications", "replications", args.replications, "must be >= 1")
    result = run_replications(scenario, args.replications, workers=args.workers)
    emit(result.summary(), args.json, _simulate_text)


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("simulate", help="simulate the moving campaign (convoys, move-in day)")
    add_common(parser)
    parser.add_argument("--replications", type=int, default=10, help="replications (default: 10)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    parser.set_defaults(run=_simulate)


# Each domain adds its subcommand here: a function that registers a parser whose
# defaults set `run`.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_population, _add_simulate]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simlib", description="Maojiawan resettlement planning study"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except DataError as error:
        print(f"simlib {args.command}: bad input: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
