"""The report build: run every planner notebook with papermill, publish self-contained HTML.

`build_reports` executes notebooks/NN-*.ipynb in order with the scenario's parameters
injected into the cell tagged `parameters`, converts each executed notebook to one HTML
file (images inlined as base64, code hidden, every <script> removed, so opening it makes
no request to any outside address), and writes index.html with the run's metadata.

A failing notebook stops the build: `NotebookFailed` names the notebook and the cell, and
the executed notebook (with the error in it) is kept under <out>/failed/ for inspection.
Every file is written to a temporary name first and moved into place, so a crash never
leaves half a report behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from simlib.scenario import DEFAULT_SCENARIO, PROJECT_ROOT, load_scenario

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
EXECUTION_TIMEOUT = 600  # seconds per cell: a hung cell fails the build instead of hanging CI


class NotebookFailed(RuntimeError):
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


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write to a temporary file in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
            ],
            "display_name": "Python (maojiawan report build)",
            "language": "python",
        }
        (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (root, old) if p)
        try:
            yield KERNEL_NAME
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


# --- HTML ----------------------------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+url\((?:[\"'])?(?:https?:)?//[^)]*\)\s*;?", re.IGNORECASE)


def self_contained(page: str) -> str:
    """Drop everything that would fetch from the network when the page is opened.

    The reports are static (figures are inline PNGs, tables are HTML), so the template's
    scripts (require.js, MathJax and mermaid from a CDN) are not needed.
    """
    page = _SCRIPT.sub("", page)
    page = _EXTERNAL_LINK.sub("", page)
    return _CSS_IMPORT.sub("", page)


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
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return self_contained(body)


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown heading, which is how a planner knows the report."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


# --- run metadata ---------------------------------------------------------------------------


def git_commit(root: Path = PROJECT_ROOT) -> str:
    """The commit the report was built from, marked `-dirty` with uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
<title>Maojiawan resettlement: planning study reports</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.5; }}
h1 {{ font-size: 1.6rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.35rem 0.8rem; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
a {{ color: #0072B2; }}
.small {{ color: #555; font-size: 0.9rem; }}
</style>
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
</body>
</html>
"""


# --- the build ----------------------------------------------------------------------------


def build_reports(
    scenario: str | Path = DEFAULT_SCENARIO,
    out: str | Path = DEFAULT_OUT,
    *,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    seed: int | None = None,
    replications: int = 10,
    solver: str = "cbc",
    show_code: bool = False,
    progress: bool = True,
) -> Build:
    """Execute every notebook on one scenario and publish the HTML reports and index.

    Raises `NotebookFailed` at the first notebook that fails (later ones are not run).
    """
    from tqdm import tqdm

    started = time.perf_counter()
    loaded = load_scenario(scenario, seed=seed)  # bad input fails here, before any kernel starts
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    out = Path(out).resolve()
    notebooks = notebook_paths(Path(notebooks_dir))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks NN-*.ipynb in {notebooks_dir}")
    parameters = {
        "scenario": str(loaded.path),
        "seed": loaded.seed,
        "replications": replications,
        "solver": solver,
    }
    executed_dir, failed_dir = out / "executed", out / "failed"
    reports = []
    with current_interpreter_kernel() as kernel, tempfile.TemporaryDirectory() as scratch:
        bar = tqdm(
            notebooks, desc="reports", unit="notebook", file=sys.stderr, disable=not progress
        )
        for path in bar:  # a failure leaves the bar where it stopped, next to the message
            bar.set_postfix_str(path.name)
            t0 = time.perf_counter()
            executed = Path(scratch) / path.name
            _execute(path, executed, parameters, kernel, failed_dir / path.name)
            nb = nbformat.read(executed, as_version=4)
            title = notebook_title(nb, path.stem)
            page = to_html(nb, title, show_code=show_code)
            html_name = f"{path.stem}.html"
            write_atomic(out / html_name, page)
            write_atomic(executed_dir / path.name, nbformat.writes(nb))
            with contextlib.suppress(FileNotFoundError):
                (failed_dir / path.name).unlink()
            reports.append(
                Report(
                    path.name,
                    title,
                    html_name,
                    round(time.perf_counter() - t0, 2),
                    len(page.encode("utf-8")),
                )
            )
        bar.close()

    metadata = {
        "scenario": loaded.name,
        "scenario_file": _relative(loaded.path),
        "scenario_description": loaded.description,
        "scale": loaded.scale,
        "seed": loaded.seed,
        "replications": replications,
        "solver": solver,
        "git_commit": git_commit(),
        "built_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "versions": package_versions(),
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    index = out / "index.html"
    write_atomic(index, index_page(tuple(reports), metadata))
    write_atomic(
        out / "build.json",
        json.dumps({"reports": [asdict(r) for r in reports], **metadata}, indent=2),
    )
    return Build(out, index, tuple(reports), metadata)


def _execute(
    path: Path, executed: Path, parameters: dict[str, Any], kernel: str, failed: Path
) -> None:
    """Run one notebook with papermill; on any failure keep what ran and say where."""
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
        )
    except papermill.PapermillExecutionError as error:
        kept = _keep_failed(executed, failed)
        cell = _failed_cell(kept, error)
        raise NotebookFailed(path.name, cell, f"{error.ename}: {error.evalue}", kept) from None
    except Exception as error:  # a dead kernel, a cell timeout, an unreadable notebook
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
