"""What this process runs on and with: the CPUs it may use, how often its garbage collector
runs, and the library versions that decide a result (a sweep's workers must match its
client in both code and libraries)."""

from __future__ import annotations

import functools
import gc
import importlib.metadata
import math
import os
import platform
from pathlib import Path

# Libraries whose version can change a point's numbers (random streams, solvers, tables).
RESULT_LIBRARIES = ("numpy", "pandas", "scipy", "simpy", "PuLP", "highspy")
CGROUP = Path("/sys/fs/cgroup")
# The cyclic garbage collector's thresholds for a process that runs the models: Python's
# (700, 10, 10) start a pass every 700 allocations, while the simulations, the tables and
# the solver's model allocate millions of short-lived objects that reference counting
# frees (cycles are few). A pass every 50,000 cost 7 % less CPU on sweep points
# (2 Dec 2026), with the same numbers: collection never changes a result.
GC_THRESHOLDS = (50_000, 20, 100)


def fewer_collections() -> None:
    """Run the cyclic garbage collector less often (GC_THRESHOLDS), for this process."""
    gc.set_threshold(*GC_THRESHOLDS)


def usable_cpus(cgroup: Path = CGROUP) -> int:
    """CPUs this process may use: those it is allowed to run on (`sched_getaffinity`: a
    batch job's or `taskset`'s share), lowered to a container's CPU quota (cgroup v2
    `cpu.max`, or v1 `cpu.cfs_quota_us`), at least 1. `os.cpu_count()` counts the whole
    machine, so on a 64-core node with 4 allotted it would start 64 workers."""
    try:
        cpus = len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota(cgroup)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return cpus


def _cgroup_quota(root: Path) -> float | None:
    """The CPU quota of this process's cgroup in CPUs, or None without one."""
    try:
        fields = (root / "cpu.max").read_text().split()  # v2: "max 100000" or "200000 100000"
        if len(fields) == 2 and fields[0] != "max" and int(fields[1]) > 0:
            return int(fields[0]) / int(fields[1])
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())  # v1: -1 = no quota
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


@functools.cache
def library_versions(names: tuple[str, ...] = RESULT_LIBRARIES) -> dict[str, str]:
    """Python's and each library's version, as installed in this process's environment
    (read once per process: a sweep's worker checks them at every point). Do not change
    the mapping it returns."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
