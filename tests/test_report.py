"""The report build end to end, on the smoke scenario: every notebook runs, every report is
self-contained and under 5 MB, and headless Chromium opens each page with every link
resolving, every figure loading and no error text; a failing notebook stops the build.

The smoke build runs once per test session (a module fixture) and the tests share it.
Set SIMLIB_NO_BROWSER=1 to skip the Chromium tests on a machine without Debian's
`chromium` (CI installs it in .ci/run and never skips).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from simlib.cli import main
from simlib.files import write_atomic
from simlib.report import (
    POLICY_META,
    NotebookFailed,
    build_reports,
    notebook_paths,
    self_contained,
)
from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO

MAX_BYTES = 5_000_000
SCREENSHOT = PROJECT_ROOT / "results" / "summary-screenshot.png"
PNG = b"\x89PNG\r\n\x1a\n"
ERROR_WORDS = re.compile(r"Traceback|\b[A-Za-z]*Error\b|Exception|Warning|\bNaN\b|\bnan\b")
# figures each report must show (the figures the issue asks for, by report)
MIN_FIGURES = {
    "00-summary": 3,
    "01-population": 2,
    "02-moving-campaign": 3,
    "03-move-in-day": 2,
    "04-job-matching": 4,
    "05-sensitivity": 6,
    "06-employment-timeline": 4,
    "07-housing-lottery": 6,
}


@pytest.fixture(scope="module")
def smoke_build(tmp_path_factory):
    """The smoke report, built once (3 replications keep it fast; the notebooks are the same)."""
    out = tmp_path_factory.mktemp("reports")
    return build_reports(SMOKE_SCENARIO, out, replications=3)


class _Page(HTMLParser):
    """Images, links and visible text of a page (style and script content are not text)."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._skip = 0
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "body":
            self.attrs = {k: v or "" for k, v in attrs}
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    return p


# --- the build ---------------------------------------------------------------------------


def test_every_notebook_is_published_and_indexed(smoke_build):
    names = {p.stem for p in notebook_paths()}
    assert names, "no notebooks found"
    assert {r.notebook.removesuffix(".ipynb") for r in smoke_build.reports} == names
    index = smoke_build.index.read_text(encoding="utf-8")
    for report in smoke_build.reports:
        assert (smoke_build.out / report.html).is_file()
        assert (smoke_build.out / "executed" / report.notebook).is_file()
        assert f'href="{report.html}"' in index
    # the run metadata a reader needs to trust the numbers
    meta = smoke_build.metadata
    for text in ("smoke", str(meta["seed"]), meta["git_commit"], "pandas", "papermill"):
        assert text in index
    assert json.loads((smoke_build.out / "build.json").read_text())["scenario"] == "smoke"
    assert not list(smoke_build.out.glob(".*")), "temporary files left behind"


def test_reports_are_small(smoke_build):
    for report in smoke_build.reports:
        size = (smoke_build.out / report.html).stat().st_size
        assert size == report.bytes
        assert size < MAX_BYTES, f"{report.html} is {size / 1e6:.1f} MB"


def test_reports_fetch_nothing_from_outside(smoke_build):
    for path in [smoke_build.index, *(smoke_build.out / r.html for r in smoke_build.reports)]:
        page = path.read_text(encoding="utf-8")
        assert "<script" not in page.lower(), f"{path.name} has a script"
        for pattern in (
            r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//""",
            r"""<link\b[^>]*href\s*=\s*["']?\s*(?:https?:)?//""",
            r"""url\(\s*["']?\s*(?:https?:)?//""",
            r"@import",
            r"""\bimport\s+[^;]*\bfrom\s+["'](?:https?:)?//""",
        ):
            match = re.search(pattern, page, re.IGNORECASE)
            assert match is None, f"{path.name}: {page[match.start() : match.start() + 120]}"


def test_figures_are_inline_pngs_and_code_is_hidden(smoke_build):
    for report in smoke_build.reports:
        page = parse((smoke_build.out / report.html).read_text(encoding="utf-8"))
        stem = report.notebook.removesuffix(".ipynb")
        assert len(page.images) >= MIN_FIGURES.get(stem, 1), f"{report.html}: too few figures"
        for src in page.images:
            assert src.startswith("data:image/png;base64,"), f"{report.html}: {src[:60]}"
            assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
        text = " ".join(page.text)
        assert "load_scenario(" not in text, f"{report.html} shows code"


def test_executed_notebooks_have_no_errors_or_warnings(smoke_build):
    for report in smoke_build.reports:
        nb = nbformat.read(smoke_build.out / "executed" / report.notebook, as_version=4)
        for i, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                assert output.output_type != "error", f"{report.notebook} cell {i}"
                assert output.get("name") != "stderr", (
                    f"{report.notebook} cell {i} wrote to stderr: {output.get('text', '')[:300]}"
                )


def test_reports_state_the_model_and_reported_figures(smoke_build):
    page = parse((smoke_build.out / "00-summary.html").read_text(encoding="utf-8"))
    text = " ".join(page.text)
    for reported in ("17,016", "92.08 %", "779", "8,073", "100+ days", "31 Mar 2020"):
        assert reported in text
    assert "not run" not in text, "the summary lacks a model figure"


# --- failures ----------------------------------------------------------------------------


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A test report")]
    params = nbformat.v4.new_code_cell('scenario = "x"\nseed = 1\nreplications = 1\nsolver = "cbc"')
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def test_a_failing_notebook_stops_the_build_and_is_kept(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "00-fine.ipynb", "1 + 1")
    _notebook(notebooks / "01-broken.ipynb", "x = 1", "raise ValueError('the road is closed')")
    _notebook(notebooks / "02-never-run.ipynb", "2 + 2")
    out = tmp_path / "out"
    with pytest.raises(NotebookFailed) as failure:
        build_reports(SMOKE_SCENARIO, out, notebooks_dir=notebooks)
    error = failure.value
    assert error.notebook == "01-broken.ipynb"
    assert error.cell == 4  # title, parameters, x = 1, then the failing cell
    assert "ValueError: the road is closed" in str(error)
    assert "01-broken.ipynb" in str(error) and "cell 4" in str(error)
    kept = out / "failed" / "01-broken.ipynb"
    assert error.kept == kept and kept.is_file()
    nb = nbformat.read(kept, as_version=4)
    assert any(o.output_type == "error" for c in nb.cells for o in c.get("outputs", []))
    # nothing is published from a build that did not finish: no page beside no index
    assert not (out / "00-fine.html").exists()
    assert not (out / "02-never-run.html").exists()
    assert not (out / "index.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notebooks", "out"]  # no scratch


def test_the_command_exits_non_zero_naming_notebook_and_cell(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "00-broken.ipynb", "1 / 0")
    code = main(
        ["report", "--smoke", "--out", str(tmp_path / "out"), "--notebooks", str(notebooks)]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "00-broken.ipynb" in err and "cell 3" in err and "ZeroDivisionError" in err


def test_bad_scenario_fails_before_any_notebook_runs(tmp_path, capsys):
    code = main(["report", "--scenario", str(tmp_path / "missing.yaml"), "--out", str(tmp_path)])
    assert code == 2
    assert "missing.yaml" in capsys.readouterr().err


def test_self_contained_strips_outside_requests():
    page = (
        '<head><script src="https://cdn.example/require.js"></script>'
        '<link rel="stylesheet" href="https://fonts.example/x.css">'
        "<style>@import url(https://fonts.example/y.css); p {color: red}</style></head>"
        '<body><script type="module">import m from "https://cdn.example/m.mjs"</script><p>ok</p>'
    )
    clean = self_contained(page)
    assert "https://" not in clean
    assert "<p>ok</p>" in clean and "p {color: red}" in clean


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a" / "report.html"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


# --- in a browser ------------------------------------------------------------------------

PROBE = """<script>window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (i) {
    return [i.complete, i.naturalWidth, i.naturalHeight];
  });
  document.body.setAttribute("data-probe", JSON.stringify(images));
});</script>"""


def _chromium() -> str:
    if os.environ.get("SIMLIB_NO_BROWSER") == "1":
        pytest.skip("SIMLIB_NO_BROWSER=1")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("headless Chromium not found: install Debian's `chromium` (.ci/run does)")
    return found


def _chromium_run(browser: str, *args: str) -> str:
    # --no-sandbox: CI runs as root; --disable-dev-shm-usage: containers have a small /dev/shm
    flags = [
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ]
    done = subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_chromium_opens_every_page(smoke_build, tmp_path):
    browser = _chromium()
    pages = [smoke_build.index, *(smoke_build.out / r.html for r in smoke_build.reports)]
    for path in pages:
        # a copy with a probe that records, once the page has loaded, whether every image
        # decoded (naturalWidth > 0); the published page itself has no scripts
        # (the page's Content-Security-Policy, which forbids every script, is left out of
        # the copy so that the probe can run)
        probe = path.parent / f"probe-{path.name}"
        published = path.read_text(encoding="utf-8")
        assert POLICY_META in published
        probe.write_text(
            published.replace(POLICY_META, "").replace("</body>", PROBE + "</body>"),
            encoding="utf-8",
        )
        dom = _chromium_run(
            browser, "--virtual-time-budget=10000", "--dump-dom", probe.resolve().as_uri()
        )
        probe.unlink()
        page = parse(dom)
        assert "data-probe" in page.attrs, f"{path.name} did not finish loading"
        images = json.loads(page.attrs["data-probe"])
        assert len(images) == len(page.images)
        broken = [i for i, (complete, width, height) in enumerate(images) if not width]
        assert not broken, f"{path.name}: broken images {broken}"
        text = " ".join(page.text)
        bad = ERROR_WORDS.search(text)
        assert bad is None, f"{path.name}: {text[max(0, bad.start() - 80) : bad.end() + 80]}"
        for href in page.links:
            if href.startswith(("#", "mailto:")):
                continue
            assert not re.match(r"[a-z]+://", href), f"{path.name} links outside: {href}"
            assert (path.parent / href.split("#")[0]).is_file(), f"{path.name}: dead link {href}"
        if path == smoke_build.index:
            assert len(page.links) == len(smoke_build.reports)


def test_screenshot_of_the_summary(smoke_build):
    browser = _chromium()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    _chromium_run(
        browser,
        f"--screenshot={SCREENSHOT}",
        "--window-size=1280,2000",
        (smoke_build.out / "00-summary.html").resolve().as_uri(),
    )
    data = SCREENSHOT.read_bytes()
    assert data.startswith(PNG) and len(data) > 50_000  # a blank page is a few kB


def test_a_dead_kernel_also_stops_the_build_naming_the_notebook(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "00-crash.ipynb", "import os\nos._exit(1)")
    with pytest.raises(NotebookFailed) as failure:
        build_reports(SMOKE_SCENARIO, tmp_path / "out", notebooks_dir=notebooks)
    assert failure.value.notebook == "00-crash.ipynb"
    assert "00-crash.ipynb" in str(failure.value)


def test_a_page_is_carried_over_only_while_its_inputs_are_unchanged(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "00-same.ipynb", "1 + 1")
    _notebook(notebooks / "01-edited.ipynb", "2 + 2")
    out = tmp_path / "out"
    first = build_reports(SMOKE_SCENARIO, out, notebooks_dir=notebooks)
    assert not any(r.reused for r in first.reports)
    page = (out / "00-same.html").read_bytes()
    _notebook(notebooks / "01-edited.ipynb", "3 + 3")
    second = build_reports(SMOKE_SCENARIO, out, notebooks_dir=notebooks)
    reused = {r.notebook: r.reused for r in second.reports}
    assert reused == {"00-same.ipynb": True, "01-edited.ipynb": False}
    assert (out / "00-same.html").read_bytes() == page
    assert (out / "executed" / "00-same.ipynb").is_file()
    recorded = json.loads((out / "build.json").read_text(encoding="utf-8"))
    assert [r["reused"] for r in recorded["reports"]] == [True, False]
    # other parameters (or code, data, scenario, libraries) execute every notebook again
    third = build_reports(SMOKE_SCENARIO, out, notebooks_dir=notebooks, replications=2)
    assert not any(r.reused for r in third.reports)
    assert first.reports[0].fingerprint != third.reports[0].fingerprint


def test_a_notebook_starts_only_once_the_answers_it_reads_are_kept():
    """Its kernel then only reads them: the build never runs an answer beside its own
    processes (more busy processes than cores slow every one of them)."""
    import threading

    from simlib.report import _AnswersFailed, _NotStarted, _Ready

    def waiter(ready, names, stopped=None):
        outcome = []

        def wait():
            try:
                ready.wait_for(names, stopped or threading.Event())
                outcome.append("started")
            except BaseException as error:  # KeyboardInterrupt too
                outcome.append(type(error))

        thread = threading.Thread(target=wait)
        thread.start()
        return thread, outcome

    ready = _Ready()
    thread, outcome = waiter(ready, ["moving", "timeline"])
    ready.kept("moving")
    thread.join(0.5)
    assert thread.is_alive() and not outcome  # still waiting for "timeline"
    ready.kept("timeline")
    thread.join(5)
    assert outcome == ["started"]

    failed = _Ready()
    thread, outcome = waiter(failed, ["sweep:morris"])
    failed.over(failed=True)
    thread.join(5)
    assert outcome == [_AnswersFailed]

    halted = _Ready()
    thread, outcome = waiter(halted, ["housing"])
    halted.halt()  # another notebook failed
    thread.join(5)
    assert outcome == [_NotStarted]
    stopped = threading.Event()
    stopped.set()
    thread, outcome = waiter(_Ready(), [], stopped)
    thread.join(5)
    assert outcome == [KeyboardInterrupt]
