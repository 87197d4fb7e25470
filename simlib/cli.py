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


# Each domain adds its subcommand here: a function that registers a parser whose
# defaults set `run`.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_population]


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
