"""Every answer of the study, computed once for a scenario and kept.

The command line, the notebooks and the summary ask one `Study` for an answer by name
(`study.answer("moving")`). The first ask computes it from the loaded `Inputs` with the
domain's own `run` (the recipes are `simlib.answers.RECIPES`); later asks, in this process or in
another process of the same report build, read it back from `results/cache/`, where it is
kept under a key made of the code that computes results, the library versions, the
scenario's data, its overrides, seed and scale, the options and the answer's name. So a
notebook never re-runs what another one (or the build before it) already ran with the same
code and data, and a change of either is never served a stale answer.

The cache folder is results/cache/ unless the environment variable SIMLIB_CACHE_DIR names
another (the report build passes its own to the notebooks' kernels that way).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from simlib.answers import OPTIONLESS, READS_SPECS, RECIPES, Options
from simlib.files import digest_files, write_atomic
from simlib.inputs import Inputs, load_inputs
from simlib.machine import fewer_collections
from simlib.scenario import PROJECT_ROOT, Scenario

DEFAULT_CACHE_DIR = PROJECT_ROOT / "results" / "cache"
CACHE_ENV = "SIMLIB_CACHE_DIR"
# the report build sets this for its kernels: an answer a notebook computes in its spare
# time runs on this many workers (1: the build's other processes already use the cores)
WORKERS_ENV = "SIMLIB_ANSWER_WORKERS"
CACHE_DIR = DEFAULT_CACHE_DIR  # kept for callers; cache_dir() reads the environment too
PACKAGE = Path(__file__).resolve().parent
# modules that only present answers: editing them cannot change one (simlib.study is not
# among them here, unlike for the sweep points: a recipe calls its matching_effects)
PRESENTATION = ("cli.py", "plots.py", "report.py", "sweep/analysis.py", "present/")


def cache_dir() -> Path:
    """Where answers are kept: $SIMLIB_CACHE_DIR, else results/cache/."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR)


@functools.cache
def answers_code_version() -> str:
    """A hash of the source that computes answers (the package less its presentation)."""
    sources = [
        p
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
        and not p.relative_to(PACKAGE).as_posix().startswith(PRESENTATION)
    ]
    return digest_files(sources, PACKAGE)


@functools.cache
def specs_version() -> str:
    """A hash of the sweep specifications (data/sweeps/*.yaml) and the scenario files their
    overlays name: a sweep answer read from a changed specification would be stale."""
    data = PROJECT_ROOT / "data"
    files = [*data.glob("sweeps/*.yaml"), *data.glob("scenarios/*.yaml")]
    return digest_files(files, data)


@functools.cache
def version_folder() -> str:
    """The cache's sub-folder for this code and these libraries (both are in every key as
    well; as a folder they let `prune_cache` drop what no build of this checkout can read)."""
    from simlib.machine import library_versions

    text = json.dumps({"code": answers_code_version(), "libraries": library_versions()})
    return "v-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def prune_cache(folder: Path | None = None) -> int:
    """Delete the answers kept by other code or library versions in `folder` (cache_dir()
    by default), and those of the flat layout before version folders: none can be read
    again. Only the cache's own files are touched (answers, their locks, unfinished
    writes); a folder holding anything else is left. The number of files deleted. A
    cache folder serves one checkout at a time: another's answers would be dropped too."""
    folder = Path(folder or cache_dir())
    if not folder.is_dir():
        return 0
    mine = version_folder()
    old = [p for p in folder.glob("v-*") if p.is_dir() and p.name != mine]
    deleted = 0
    for place in (folder, *old):
        for path in (*place.glob("*-*.pkl"), *place.glob("*-*.lock"), *place.glob(".*.tmp")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                deleted += 1
    for place in old:
        with contextlib.suppress(OSError):  # not empty: something else lives there
            place.rmdir()
    return deleted


class Study:
    """One scenario's answers: computed on first ask, then read from memory or the cache."""

    def __init__(self, inputs: Inputs, options: Options, cache_dir: Path | None = CACHE_DIR):
        self.inputs = inputs
        self.options = options
        self.cache_dir = cache_dir
        self._memo: dict[str, Any] = {}

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario

    def answer(self, name: str) -> Any:
        """The answer `name` (a key of simlib.answers.RECIPES)."""
        if name not in self._memo:
            self._memo[name] = self._read(name)
        return self._memo[name]

    get = answer

    def key(self, name: str) -> str:
        """The cache key of an answer: code, libraries, data, scenario, options and name."""
        from simlib.machine import library_versions
        from simlib.sweep.store import data_version

        s = self.scenario
        described = {
            "answer": name,
            "code": answers_code_version(),
            "libraries": library_versions(),
            "data": data_version(s),
            "overrides": json.loads(json.dumps(_plain(s.overrides), default=str)),
            "seed": self.inputs.seed,
            "scale": s.scale,
            "options": None if name in OPTIONLESS else self.options.key(),
            "sweep_design": s.sweep_design,
            "specs": specs_version() if name in READS_SPECS else None,
        }
        text = json.dumps(described, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def path(self, name: str) -> Path | None:
        if self.cache_dir is None:
            return None
        file = f"{name.replace(':', '--')}-{self.key(name)}.pkl"
        return Path(self.cache_dir) / version_folder() / file

    def cached(self, name: str) -> bool:
        """Whether the answer is already kept (it would be read, not computed)."""
        path = self.path(name)
        return name in self._memo or (path is not None and path.is_file())

    def _read(self, name: str) -> Any:
        """Kept, else computed once: a process that finds another computing the same answer
        (a notebook beside the build's answer processes) waits for it and reads it."""
        if name not in RECIPES:
            raise KeyError(f"no answer named {name!r}; known: {sorted(RECIPES)}")
        path = self.path(name)
        if path is None:
            return self._compute(name)
        value = _load(path)
        if value is not _MISSING:
            return value
        path.parent.mkdir(parents=True, exist_ok=True)
        with _held(path.with_suffix(".lock")):
            value = _load(path)  # kept by the process that held the lock before us
            if value is _MISSING:
                value = self._compute(name)
                write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return value

    def _compute(self, name: str) -> Any:
        recipe = RECIPES[name]
        earlier = [self.answer(n) for n in getattr(recipe, "reads", ())]  # built on these
        return recipe(self.inputs, self.options, *earlier)


_MISSING = object()


def _load(path: Path) -> Any:
    """A kept answer, or _MISSING (none, or a damaged or outdated file: computed again)."""
    if not path.is_file():
        return _MISSING
    try:
        return pickle.loads(path.read_bytes())
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, OSError):
        return _MISSING


@contextlib.contextmanager
def _held(lock: Path):
    """An exclusive lock on `lock` across processes (released by the system if the holder
    dies); where the system has no such lock, none (an answer may then be computed twice)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    with open(lock, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _plain(value: Any) -> Any:
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def open_study(
    scenario: Scenario | str | Path | None = None,
    *,
    seed: int | None = None,
    replications: int = 10,
    solver: str = "cbc",
    cache: bool = True,
) -> Study:
    """Load a scenario's inputs once and open its answers (kept under cache_dir() unless
    `cache` is false)."""
    workers = os.environ.get(WORKERS_ENV)
    options = Options(
        replications=replications, solver=solver, workers=int(workers) if workers else None
    )
    return Study(load_inputs(scenario, seed=seed), options, cache_dir() if cache else None)


def answers_read_by(source: str) -> list[str]:
    """The answers a notebook's code asks for (`.answer("name")`), in order, once each."""
    import re

    names = re.findall(r"""\.answer\(\s*["']([^"']+)["']\s*\)""", source)
    return list(dict.fromkeys(names))


def compute_answers(
    study: Study,
    names: Iterable[str],
    workers: int = 1,
    stop: Any = None,
    kept: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Compute (or find kept) every answer in `names` on `workers` processes, each answer
    on one of them, the longest first; the seconds each took. `kept(name)` is called as
    each answer is kept (at once for those kept before). `stop` (a threading.Event) set
    from another thread interrupts the processes."""
    kept = kept or (lambda name: None)
    todo = []
    for name in dict.fromkeys(names):
        if study.cached(name):
            kept(name)
        else:
            todo.append(name)
    if study.cache_dir is None or workers <= 1 or len(todo) <= 1:
        seconds = {}
        for name in todo:
            seconds[name] = _timed(study, name)
            kept(name)
        return seconds
    return _compute_in_pool(study, todo, workers, stop, kept)


def _timed(study: Study, name: str) -> float:
    import time

    t0 = time.perf_counter()
    study.answer(name)
    return round(time.perf_counter() - t0, 2)


# the answers that take longest, started first so that the two processes
# end together (as measured on the smoke build by benchmarks/bench_report.py; the rest follow)
LONGEST_FIRST = (
    "sweep:morris",
    "sweep:discovery",
    "sweep:assumptions",
    "timeline",
    "community:sweep",
    "timeline:lookahead",
    "matching",
    "housing:sweep",
    "community",
    "moving:optimised",
    "moving",
    "moving:call_orders",
    "community:grid_counts",
    "moving:needs",
)


def _compute_in_pool(
    study: Study, names: list[str], workers: int, stop: Any, kept: Callable[[str], None]
) -> dict[str, float]:
    """Each answer computed in one of `workers` fresh processes, on one core (a sweep on one
    Dask worker: the build runs as many busy processes as there are cores, since more slow
    every one of them), and kept in the cache; this process then reads it from there.
    `stop` and `kept` as for `compute_answers`. The first failure is raised, naming the
    answer; on Ctrl-C or SIGTERM, or `stop` set, the processes are interrupted too (their
    sweeps close cleanly)."""
    import concurrent.futures as cf
    import multiprocessing
    from dataclasses import replace

    rank = {n: i for i, n in enumerate(LONGEST_FIRST)}
    names = sorted(names, key=lambda n: rank.get(n, len(rank)))
    single = Study(study.inputs, replace(study.options, workers=1), study.cache_dir)
    context = multiprocessing.get_context("spawn")  # no forked copy of this process's threads
    seconds = {}
    pool = cf.ProcessPoolExecutor(
        min(workers, len(names)), mp_context=context, initializer=fewer_collections
    )
    with pool:
        futures = {pool.submit(_computed_here, single, n): n for n in names}
        try:
            for done in _finished(futures, stop):
                seconds[futures[done]] = _raise_failure(futures[done], done.result())
                kept(futures[done])
        except BaseException:
            _interrupt(pool)
            raise
    return {n: seconds[n] for n in names}


def _finished(futures: dict, stop: Any) -> Iterable:
    """Futures as they finish, looking at `stop` in short steps (KeyboardInterrupt when set)."""
    import concurrent.futures as cf

    pending = set(futures)
    while pending:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
        yield from done


def _computed_here(study: Study, name: str) -> float | tuple[str, ...]:
    """In a pool process: the seconds an answer took, or its failure as plain text (a
    DataError's parts, or the error's type and message), which always crosses back."""
    from simlib.provenance import DataError

    try:
        return _timed(study, name)
    except DataError as error:
        return ("DataError", error.file, error.field, str(error.value), error.problem)
    except Exception as error:
        return (type(error).__name__, str(error))


def _raise_failure(name: str, outcome: float | tuple[str, ...]) -> float:
    from simlib.provenance import DataError, RunFailed

    if not isinstance(outcome, tuple):
        return outcome
    if outcome[0] == "DataError":
        raise DataError(*outcome[1:])
    raise RunFailed(f"the answer {name!r} could not be computed: {outcome[0]}: {outcome[1]}")


def _interrupt(pool: Any) -> None:
    """Interrupt every process of `pool` (SIGINT: a sweep's Dask cluster is closed by its
    own clean-up), let them end, and kill any that has not within a few seconds."""
    import signal
    import time

    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        with contextlib.suppress(OSError):
            os.kill(process.pid, signal.SIGINT)
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 15
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
