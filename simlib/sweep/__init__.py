"""Sweeps over the assumptions: specifications, designs, the Dask runner, and the analysis.

`load_spec` reads data/sweeps/<name>.yaml, `design_points` lists its points, `run_sweep`
runs them (resumable, locked, every point file checked against the design) under
results/sweeps/<name>/ on a local or remote Dask cluster, `OUTCOMES` declares what each
point records, and `simlib.sweep.analysis` turns the combined table into tornado charts,
Morris or Sobol indices and PRIM boxes.
"""

from simlib.sweep.design import Point, design_points
from simlib.sweep.evaluate import OUTCOMES, OUTPUTS, Outcome, evaluate_point
from simlib.sweep.runner import SweepRun, run_points_here, run_sweep
from simlib.sweep.spec import SweepSpec, load_spec
from simlib.sweep.store import load_results

__all__ = [
    "OUTCOMES",
    "OUTPUTS",
    "Outcome",
    "Point",
    "SweepRun",
    "SweepSpec",
    "design_points",
    "evaluate_point",
    "load_results",
    "load_spec",
    "run_points_here",
    "run_sweep",
]
