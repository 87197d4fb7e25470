"""The report build: run every planner notebook with papermill, publish self-contained HTML.

`build_reports` executes notebooks/NN-*.ipynb in order with the scenario's parameters
injected into the cell tagged `parameters`, converts each executed notebook to one HTML
file (images inlined as base64, code hidden) and writes index.html with the run's metadata.

A published page is static and safe to open: every text from a scenario or a data file is
escaped (Markdown and Styler outputs included), and `simlib.safe_html` rebuilds the page
keeping no script, no event handler and no outside address; a Content-Security-Policy and a
line at the foot of each page say so.

Load once, run once: before any notebook runs, the build opens the scenario's answers
(simlib.results.open_study) and computes every answer the notebooks ask for
(`results.answer("name")` in their code) that is not kept yet, two processes at a time; the
notebooks, executed two at a time, then only read them. A notebook whose inputs are those of
the last build in <out> (its source, the parameters, the scenario file, the package's code,
the data, the library versions: its `fingerprint`, kept in build.json) is not executed
again: its page is carried over.

A failing notebook stops the build: `NotebookFailed` names the notebook and the cell, and
the executed notebook (with the error in it) is kept under <out>/failed/ for inspection.
The set is built in a hidden folder next to <out> and swapped in whole at the end, so a
failed or interrupted build (Ctrl-C, SIGTERM) leaves the previous complete set, or none,
never a mix; its scratch files and kernels are removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir

from simlib.files import (
    cannot_write_in,
    digest_files,
    git_commit,
    nearest_existing,
    write_atomic,
)
from simlib.inputs import read_scenario
from simlib.interrupt import signals_held, sigterm_as_interrupt
from simlib.jobs_inputs import SOLVERS as JOBS_SOLVERS
from simlib.machine import library_versions, usable_cpus
from simlib.provenance import DataError, RunFailed
from simlib.results import WORKERS_ENV, prune_cache
from simlib.safe_html import OFFLINE_NOTE, POLICY_META, declare_offline, self_contained
from simlib.scenario import DEFAULT_SCENARIO, PROJECT_ROOT

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DEFAULT_OUT = PROJECT_ROOT / "results" / "reports"
KERNEL_NAME = "simlib-report"
PACKAGES = (
    "simlib",
    "numpy",
    "pandas",
    "scipy",
    "simpy",
    "pulp",
    "highspy",
    "matplotlib",
    "papermill",
    "nbconvert",
    "dask",  # 05-sensitivity: the sweeps, their designs and scenario discovery
    "SALib",
    "ema_workbench",
)
# notebooks executed, and answers computed, at a time: one busy process per CPU this process
# may use (2 on the study's machine; more busy processes than cores slow every one of them)
PARALLEL = usable_cpus()
REPORT_FORMAT = 1  # bump when the HTML conversion changes: every page is built again
EXECUTION_TIMEOUT = 600  # seconds per cell: a hung cell fails the build instead of hanging CI
SOLVERS = JOBS_SOLVERS  # the job-matching solvers a report can be built with (one list)
# What a previous build leaves in its folder; a folder holding anything else is not replaced.
REPORT_SET = re.compile(r"index\.html|build\.json|[0-9][0-9]-.*\.html|executed|failed|\..*")
# Run in each report kernel before the notebook: pandas Styler tables escape their cells
# (DataFrames already do), so a scenario's text is shown, never interpreted, as HTML.
KERNEL_STARTUP = "import pandas; pandas.set_option('styler.format.escape', 'html')"


class NotebookFailed(RunFailed):
    """A notebook raised an error; the message names the notebook, the cell and the error."""

    def __init__(self, notebook: str, cell: int | None, error: str, kept: Path):
        self.notebook, self.cell, self.error, self.kept = notebook, cell, error, kept
        where = f"in cell {cell}" if cell is not None else "outside any cell (kernel or file)"
        super().__init__(
            f"notebook {notebook} failed {where}: {error}\n"
            f"  the executed notebook is kept for inspection: {kept}"
        )


@dataclass(frozen=True)
class Report:
    """One published notebook."""

    notebook: str
    title: str
    html: str  # file name inside the output folder
    seconds: float
    bytes: int
    fingerprint: str = ""  # what the page was built from (see notebook_fingerprint)
    reused: bool = False  # carried over from the previous build: its inputs are unchanged


@dataclass(frozen=True)
class Build:
    """What `build_reports` produced, and how it was run."""

    out: Path
    index: Path
    reports: tuple[Report, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "index": str(self.index),
            "reports": [asdict(r) for r in self.reports],
            **self.metadata,
        }


def notebook_paths(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The planner notebooks, `NN-name.ipynb`, in report order."""
    return sorted(p for p in Path(notebooks_dir).glob("[0-9][0-9]-*.ipynb"))


@contextlib.contextmanager
def current_interpreter_kernel() -> Iterator[str]:
    """A Jupyter kernel that runs this very interpreter (the project's .venv).

    A kernelspec named `python3` elsewhere on the machine (a user's, a conda's) could
    otherwise win; a private kernelspec on JUPYTER_PATH for the build's duration cannot.
    """
    with tempfile.TemporaryDirectory(prefix="simlib-kernel-") as root:
        spec = Path(root) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        kernel = {
            "argv": [
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                # the kernel warns that a local build talks over TCP; that is noise here
                "--IPKernelApp.log_level=ERROR",
                f"--IPKernelApp.exec_lines={KERNEL_STARTUP}",
            ],
            "display_name": "Python (maojiawan report build)",
            "language": "python",
        }
        (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
        # connection files go in the same scratch folder, removed with it whatever happens
        names = ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR", WORKERS_ENV)
        saved = {k: os.environ.get(k) for k in names}
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (root, saved["JUPYTER_PATH"]) if p)
        os.environ["JUPYTER_RUNTIME_DIR"] = str(Path(root) / "runtime")
        # an answer a notebook computes itself runs on one core: the build's answer
        # processes and the other kernel use the rest
        os.environ[WORKERS_ENV] = "1"
        try:
            yield KERNEL_NAME
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class _TrackedKernelManager(AsyncKernelManager):
    """A kernel manager the build can find again, to kill its kernel on Ctrl-C or SIGTERM
    (the notebook runs in a worker thread; signals arrive in the main thread)."""

    live: weakref.WeakSet[AsyncKernelManager] = weakref.WeakSet()

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # the connection file goes in the build's scratch folder (JUPYTER_RUNTIME_DIR), not
        # in the system's temporary folder, so it is removed even if the kernel is killed
        runtime = Path(jupyter_runtime_dir())
        runtime.mkdir(parents=True, exist_ok=True)
        self.connection_file = str(runtime / f"kernel-{uuid.uuid4()}.json")
        _TrackedKernelManager.live.add(self)


def _kill_kernels() -> None:
    """Kill every report kernel with its process group (workers a notebook started too)."""
    for km in list(_TrackedKernelManager.live):
        provisioner = getattr(km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is None or process.poll() is not None:
            continue
        with contextlib.suppress(OSError):
            pgid = getattr(provisioner, "pgid", None)
            if pgid and pgid != os.getpgrp():  # never this build's own group
                os.killpg(pgid, signal.SIGKILL)
            else:
                process.kill()


# --- HTML ----------------------------------------------------------------------------------


def escape_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Markdown that code cells display (headlines written from a scenario's name, its
    description, county names) is shown as text: any HTML in it is escaped, not rendered."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                text = data["text/markdown"]
                text = "".join(text) if isinstance(text, list) else text
                data["text/markdown"] = html.escape(text, quote=False)
    return notebook


def to_html(notebook: nbformat.NotebookNode, title: str, show_code: bool = False) -> str:
    """One self-contained HTML page from an executed notebook."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(
        escape_outputs(notebook), resources={"metadata": {"name": title}}
    )
    return declare_offline(self_contained(body))


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown heading, which is how a planner knows the report."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


# --- run metadata ---------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    return dict(library_versions(PACKAGES))


INDEX_STYLE = """<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.5; }
h1 { font-size: 1.6rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.8rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #0072B2; }
.small { color: #555; font-size: 0.9rem; }
</style>"""


def index_page(reports: tuple[Report, ...], metadata: dict[str, Any]) -> str:
    """The landing page: a link per report and how the build was run."""
    esc = html.escape
    rows = "\n".join(
        f'<tr><td><a href="{esc(r.html)}">{esc(r.title)}</a></td><td>{esc(r.notebook)}</td>'
        f'<td class="num">{r.seconds:.1f}</td><td class="num">{r.bytes / 1e6:.2f}</td></tr>'
        for r in reports
    )
    run = {
        "scenario": f"{metadata['scenario']} ({metadata['scenario_file']})",
        "description": metadata["scenario_description"],
        "scale": metadata["scale"],
        "seed": metadata["seed"],
        "replications": metadata["replications"],
        "solver": metadata["solver"],
        "git commit": metadata["git_commit"],
        "built (UTC)": metadata["built_utc"],
        "build time": f"{metadata['build_seconds']:.1f} s",
    }
    meta = "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in run.items())
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in metadata["versions"].items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{POLICY_META}
<title>Maojiawan resettlement: planning study reports</title>
{INDEX_STYLE}
</head>
<body>
<h1>Maojiawan (卯家湾) resettlement: planning study reports</h1>
<p>Published from the project's notebooks by <code>simlib report</code>. Start with the
summary; the other reports explain each model. Every figure the source reports is labelled
<em>reported</em>; everything else is a model result that rests on labelled assumptions
(see <code>data/</code>).</p>
<h2>Reports</h2>
<table>
<thead><tr><th>report</th><th>notebook</th><th>build (s)</th><th>size (MB)</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>How these were built</h2>
<table>
{meta}
</table>
<p class="small">Package versions: {versions}</p>
{OFFLINE_NOTE}
</body>
</html>
"""


# --- the build ----------------------------------------------------------------------------


def check_out(out: Path) -> None:
    """Refuse, before any notebook runs, an output folder the build could not swap in whole:
    a file, an unwritable place, or a folder holding anything but a previous report set."""

    def bad(problem: str) -> DataError:
        return DataError("command line", "--out", str(out), problem)

    if out.exists() and not out.is_dir():
        raise bad("is a file, not a folder")
    if out.is_dir():
        others = sorted(p.name for p in out.iterdir() if not REPORT_SET.fullmatch(p.name))
        if others:
            raise bad(
                f"holds files that are not reports ({', '.join(others[:3])}); the build "
                "replaces the whole folder, so give a new folder or one a build made"
            )
    # the new set is built in a hidden folder beside `out`: that is where files must be made
    existing = nearest_existing(out.parent)
    if not existing.is_dir():
        raise bad(f"cannot be written: {existing} is a file")
    problem = cannot_write_in(existing)
    if problem:
        raise bad(f"cannot be written: {problem}")


def build_reports(
    scenario: str | Path = DEFAULT_SCENARIO,
    out: str | Path = DEFAULT_OUT,
    *,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    seed: int | None = None,
    replications: int = 10,
    solver: str = "cbc",
    show_code: bool = False,
) -> Build:
    """Compute the answers the notebooks read, execute every notebook whose inputs changed on
    one scenario, and publish the HTML reports and index.

    Raises `NotebookFailed` at the first notebook that fails (later ones are not published)
    and DataError for bad input, before any kernel starts. Nothing in `out` changes unless
    the whole set is built. A progress bar goes to stderr when it is a terminal.
    """
    started = time.perf_counter()
    loaded = read_scenario(scenario, seed=seed)  # bad input fails here, before any kernel starts
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise DataError("command line", "--replications", replications, "must be at least 1")
    if solver not in SOLVERS:
        raise DataError("command line", "--solver", solver, f"must be one of {SOLVERS}")
    out = Path(out).resolve()
    notebooks = notebook_paths(Path(notebooks_dir))
    if not notebooks:
        raise DataError("command line", "--notebooks", str(notebooks_dir), "has no NN-*.ipynb")
    check_out(out)
    parameters = {
        "scenario": str(loaded.path),
        "seed": loaded.seed,
        "replications": replications,
        "solver": solver,
    }
    plan = _Plan(notebooks, parameters, show_code, out, loaded)
    prune_cache()  # answers of other code versions: none can be read again
    out.parent.mkdir(parents=True, exist_ok=True)
    with sigterm_as_interrupt():
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
        try:
            os.chmod(staging, 0o755)  # mkdtemp makes it private; reports are for everyone
            answers, reports = _answers_and_pages(plan, staging, out / "failed")
            metadata = _metadata(loaded, parameters, started)
            metadata["answers_seconds"] = answers
            write_atomic(staging / "index.html", index_page(reports, metadata))
            write_atomic(
                staging / "build.json",
                json.dumps({"reports": [asdict(r) for r in reports], **metadata}, indent=2),
            )
            _swap_in(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already if it was swapped in
    return Build(out, out / "index.html", reports, metadata)


class _Plan:
    """What a build runs: the notebooks with their fingerprints, the ones whose page the
    last build in `out` already made from the same inputs, and the answers the others read."""

    def __init__(
        self, notebooks: list[Path], parameters: dict, show_code: bool, out: Path, loaded: Any
    ):
        from simlib.results import answers_read_by

        self.notebooks, self.parameters, self.show_code = notebooks, parameters, show_code
        self.loaded = loaded
        self.reads = {
            p.name: answers_read_by(_code(nbformat.read(p, as_version=4))) for p in notebooks
        }
        self.ready = _Ready()  # the answers kept so far (simlib.results.compute_answers)
        self.slots = threading.Semaphore(PARALLEL)  # notebooks executing at a time
        self.previous = _previous_reports(out)
        shared = _shared_inputs(loaded, parameters, show_code)
        self.fingerprints = {p.name: notebook_fingerprint(p, shared) for p in notebooks}
        self.reusable = {
            p.name: out
            for p in notebooks
            if self.previous.get(p.name, {}).get("fingerprint") == self.fingerprints[p.name]
            and (out / self.previous[p.name]["html"]).is_file()
        }

    def in_build_order(self) -> list[Path]:
        """The notebooks, those that read the longest answers (simlib.results.LONGEST_FIRST)
        last, so that the first ones run while those answers are computed beside them."""
        from simlib.results import LONGEST_FIRST

        def waits_for(path: Path) -> int:  # how early its longest answer is in the list
            if path.name in self.reusable:
                return len(LONGEST_FIRST) + 1
            read = set(self.reads[path.name])
            return min(
                (i for i, n in enumerate(LONGEST_FIRST) if n in read), default=len(LONGEST_FIRST)
            )

        return sorted(self.notebooks, key=lambda p: -waits_for(p))

    def answers(self) -> list[str]:
        """The answers read by the notebooks to execute, once each, in notebook order."""
        from simlib.answers import RECIPES

        names: list[str] = []
        for path in self.notebooks:
            if path.name not in self.reusable:
                names += self.reads[path.name]
        return [n for n in dict.fromkeys(names) if n in RECIPES]  # others fail in their cell


def _code(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


def _previous_reports(out: Path) -> dict[str, dict[str, Any]]:
    """The last build's reports in `out`, by notebook (none if it left no readable record)."""
    try:
        recorded = json.loads((out / "build.json").read_text(encoding="utf-8"))
        return {r["notebook"]: r for r in recorded["reports"] if r.get("fingerprint")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _shared_inputs(loaded: Any, parameters: dict, show_code: bool) -> dict[str, Any]:
    """What every notebook of a build depends on besides its own source: the parameters,
    the scenario file, every module of the package (presentation included), the scenario's
    data and the library versions."""
    from simlib.machine import library_versions
    from simlib.results import specs_version
    from simlib.sweep.store import data_version

    package = Path(__file__).resolve().parent
    sources = [p for p in package.rglob("*.py") if "__pycache__" not in p.parts]
    return {
        "parameters": {**parameters, "scenario": None},  # the file's content, not its place
        "scenario_file": digest_files([Path(loaded.path)], Path(loaded.path).parent),
        "data": data_version(loaded),
        "specs": specs_version(),  # the sweeps' designs, which the pages show
        "code": digest_files(sources, package),
        "libraries": {**library_versions(), **package_versions()},
        "show_code": show_code,
        "format": REPORT_FORMAT,
    }


def notebook_fingerprint(path: Path, shared: dict[str, Any]) -> str:
    """A hash of everything a notebook's page is made from: its own file and the build's
    shared inputs (the cache keys of the answers it reads are made from the same code,
    data, scenario and options, so they change with them)."""
    return digest_files([path], path.parent, extra=shared)


def _answers_and_pages(
    plan: _Plan, staging: Path, failed_dir: Path
) -> tuple[dict[str, float], tuple[Report, ...]]:
    """The answers computed in their own processes while the notebooks run beside them: a
    notebook starts once every answer it reads is kept (`_Ready`), so its kernel only reads
    them and the build never runs more busy processes than cores. The seconds each answer
    took, and the pages. A failed answer is raised, naming it, rather than the notebook
    that could not read it."""
    import concurrent.futures as cf

    stop = threading.Event()  # the notebooks failed or were interrupted: stop the answers
    with cf.ThreadPoolExecutor(1) as side:
        answers = side.submit(_compute_answers, plan, stop)
        answers.add_done_callback(lambda f: plan.ready.over(failed=f.exception() is not None))
        try:
            reports = _run_all(plan, staging, failed_dir)
        except (NotebookFailed, _AnswersFailed):
            stop.set()
            if answers.exception() is not None and not isinstance(
                answers.exception(), KeyboardInterrupt
            ):
                raise answers.exception() from None
            raise
        except BaseException:
            stop.set()
            raise
        return answers.result(), reports


def _compute_answers(plan: _Plan, stop: threading.Event | None = None) -> dict[str, float]:
    """Every answer the notebooks to execute read, computed once (or found kept), PARALLEL
    processes at a time; the seconds each took."""
    from simlib.results import compute_answers, open_study

    names = plan.answers()
    if not names:
        return {}
    p = plan.parameters
    study = open_study(
        plan.loaded, seed=p["seed"], replications=p["replications"], solver=p["solver"]
    )
    return compute_answers(study, names, workers=PARALLEL, stop=stop, kept=plan.ready.kept)


class _NotStarted(Exception):
    """A notebook not run because another failed first."""


class _AnswersFailed(_NotStarted):
    """A notebook not run because an answer it reads could not be computed (that failure
    is raised instead)."""


class _Ready:
    """The answers kept so far in this build, for the notebooks waiting to start."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._kept: set[str] = set()
        self._over = self._failed = self._halted = False

    def kept(self, name: str) -> None:
        with self._changed:
            self._kept.add(name)
            self._changed.notify_all()

    def over(self, failed: bool) -> None:
        with self._changed:
            self._over, self._failed = True, failed
            self._changed.notify_all()

    def halt(self) -> None:
        """A notebook failed: those waiting start no more (`wait_for` raises _NotStarted)."""
        with self._changed:
            self._halted = True
            self._changed.notify_all()

    def wait_for(self, names: list[str], stopped: threading.Event) -> None:
        """Return once every answer in `names` is kept, or the answers are over (a name no
        recipe has then fails in its notebook's cell); raise _AnswersFailed when they
        failed, _NotStarted when another notebook failed, KeyboardInterrupt when the build
        was stopped."""
        with self._changed:
            while True:
                if stopped.is_set():
                    raise KeyboardInterrupt
                if self._halted:
                    raise _NotStarted
                if self._over or set(names) <= self._kept:
                    break
                self._changed.wait(0.2)
            if self._failed and not set(names) <= self._kept:
                raise _AnswersFailed


def _metadata(loaded: Any, parameters: dict[str, Any], started: float) -> dict[str, Any]:
    """How the set was built, for index.html and build.json."""
    return {
        "scenario": loaded.name,
        "scenario_file": _relative(loaded.path),
        "scenario_description": loaded.description,
        "scale": loaded.scale,
        "seed": loaded.seed,
        "replications": parameters["replications"],
        "solver": parameters["solver"],
        "git_commit": git_commit(),
        "built_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "versions": package_versions(),
        "build_seconds": round(time.perf_counter() - started, 2),
    }


def _run_all(plan: _Plan, staging: Path, failed_dir: Path) -> tuple[Report, ...]:
    """Execute and convert every notebook into `staging`, PARALLEL at a time, each once the
    answers it reads are kept (a page whose inputs are unchanged is carried over); at the
    first failure, in notebook order, start no other and raise it once those running have
    ended."""
    import concurrent.futures as cf

    from tqdm import tqdm

    (staging / "executed").mkdir(exist_ok=True)
    bar = tqdm(
        total=len(plan.notebooks),
        desc="reports",
        unit="notebook",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    )
    stopped = threading.Event()  # set on Ctrl-C or SIGTERM: a notebook cut short is no failure
    threads = cf.ThreadPoolExecutor(len(plan.notebooks))  # waiting; plan.slots run them
    with current_interpreter_kernel() as kernel, threads as pool:
        futures = {
            pool.submit(_one_report, path, plan, staging, kernel, failed_dir, stopped): path
            for path in plan.in_build_order()
        }
        try:
            for future in _as_completed(futures):
                if future.exception() is not None:
                    plan.ready.halt()  # the notebooks still waiting do not start
                    break
                bar.update()
                bar.set_postfix_str(futures[future].name)
        except BaseException:  # Ctrl-C or SIGTERM: no kernel outlives the build
            stopped.set()
            for other in futures:
                other.cancel()
            _kill_kernels()
            raise
    bar.close()
    in_order = sorted(futures, key=lambda f: futures[f].name)
    for future in in_order:  # the first failure in notebook order
        error = None if future.cancelled() else future.exception()
        if error is not None and not isinstance(error, _NotStarted):
            raise error
    return tuple(f.result() for f in in_order)


def _as_completed(futures: dict) -> Iterator:
    """Futures as they finish, waiting in short steps so that this (main) thread takes
    Ctrl-C and SIGTERM at once (a plain wait would hold them until a notebook ends)."""
    import concurrent.futures as cf

    pending = set(futures)
    while pending:
        done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
        yield from sorted(done, key=lambda f: futures[f].name)


def _one_report(
    path: Path, plan: _Plan, staging: Path, kernel: str, failed_dir: Path, stopped: threading.Event
) -> Report:
    """One notebook's page in `staging`: carried over if its inputs are unchanged, else
    executed and converted (a failed notebook is kept in `failed_dir` unless `stopped`)."""
    t0 = time.perf_counter()
    fingerprint = plan.fingerprints[path.name]
    html_name = f"{path.stem}.html"
    executed = staging / "executed" / path.name
    if path.name in plan.reusable:
        previous = plan.reusable[path.name]
        shutil.copy2(previous / html_name, staging / html_name)
        with contextlib.suppress(OSError):
            shutil.copy2(previous / "executed" / path.name, executed)
        title = plan.previous[path.name]["title"]
        size = (staging / html_name).stat().st_size
        seconds = round(time.perf_counter() - t0, 2)
        return Report(path.name, title, html_name, seconds, size, fingerprint, reused=True)
    plan.ready.wait_for(plan.reads[path.name], stopped)
    with plan.slots:
        plan.ready.wait_for([], stopped)  # none failed while it waited for a slot
        t0 = time.perf_counter()
        _execute(path, executed, plan.parameters, kernel, failed_dir / path.name, stopped)
        nb = nbformat.read(executed, as_version=4)
        title = notebook_title(nb, path.stem)
        page = to_html(nb, title, show_code=plan.show_code)
    write_atomic(staging / html_name, page)
    seconds = round(time.perf_counter() - t0, 2)
    return Report(path.name, title, html_name, seconds, len(page.encode()), fingerprint)


def _swap_in(staging: Path, out: Path) -> None:
    """Put the new set where the old one was, with Ctrl-C and SIGTERM held until done."""
    with signals_held():
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(out, old)
        os.replace(staging, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _execute(
    path: Path,
    executed: Path,
    parameters: dict[str, Any],
    kernel: str,
    failed: Path,
    stopped: threading.Event,
) -> None:
    """Run one notebook with papermill (in a worker thread of the build: signals arrive in
    the main thread, which kills the kernels); on any failure keep what ran at `failed` and
    say where, unless the build was interrupted (`stopped` set): then the previous set stays
    as it was, with nothing added."""
    import papermill

    try:
        papermill.execute_notebook(
            str(path),
            str(executed),
            parameters=parameters,
            kernel_name=kernel,
            language="python",
            cwd=str(path.parent),
            progress_bar=False,
            log_output=False,
            execution_timeout=EXECUTION_TIMEOUT,
            kernel_manager_class=_TrackedKernelManager,
        )
    except papermill.PapermillExecutionError as error:
        if stopped.is_set():
            raise
        kept = _keep_failed(executed, failed)
        cell = _failed_cell(kept, error)
        raise NotebookFailed(path.name, cell, f"{error.ename}: {error.evalue}", kept) from None
    except Exception as error:  # a dead kernel, a cell timeout, an unreadable notebook
        if stopped.is_set():
            raise
        kept = _keep_failed(executed, failed)
        raise NotebookFailed(path.name, None, f"{type(error).__name__}: {error}", kept) from error


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _keep_failed(executed: Path, target: Path) -> Path:
    """Move the executed notebook (papermill saved it with the error) where people look."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if executed.exists():
        write_atomic(target, executed.read_bytes())
    return target


def _failed_cell(kept: Path, error: Exception) -> int | None:
    """The failing cell's number in the original notebook (1 = first cell).

    papermill inserts an `injected-parameters` cell, so its own cell index is shifted;
    counting without that cell gives the number a person sees in Jupyter.
    """
    index = getattr(error, "cell_index", None)
    if index is None or not kept.exists():
        return None if index is None else index + 1
    tags = [c.get("metadata", {}).get("tags", []) for c in nbformat.read(kept, as_version=4).cells]
    # papermill also puts a markdown cell about the error at the top of the kept notebook
    tags = [t for t in tags if "papermill-error-cell-tag" not in t]
    injected = sum("injected-parameters" in t for t in tags[:index])
    return index - injected + 1
