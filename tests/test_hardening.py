"""Bad input at the edges: one test per kind of defect, and a property test of the loader.

Each kind: (1) scenario text reaching a published page as live HTML; (3) tracebacks
instead of one-line messages, outputs checked only after the work; (4) inputs accepted that
make no sense; (5) messages that point the wrong way; (6) interrupted report builds leaving
a mixed set; (7) resource limits of the YAML loader. The property test feeds the scenario
loader random mutations of a valid scenario.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml
from conftest import replace_in
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simlib.cli import main
from simlib.jobs_inputs import load_jobs_params
from simlib.moving import load_moving_params
from simlib.population import load_population_params
from simlib.provenance import DataError, load_parameters
from simlib.report import OFFLINE_NOTE, POLICY_META, build_reports
from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO, load_scenario

DATA = PROJECT_ROOT / "data"
MAX_MESSAGE = 4000  # "a few kilobytes"


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _scenario(tmp_path: Path, body: str, data: Path = DATA) -> Path:
    """A smoke-sized scenario outside data/scenarios/, pointing at `data`."""
    return _write(tmp_path / "case.yaml", f"name: case\nscale: 0.04\ndata: {data}\n{body}")


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A test report")]
    params = nbformat.v4.new_code_cell('scenario = "x"\nseed = 1\nreplications = 1\nsolver = "cbc"')
    params.metadata["tags"] = ["parameters"]
    nb.cells += [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    nbformat.write(nb, path)


# --- 1. scenario text never runs in a published page ---------------------------------------

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_DESCRIPTION = (
    "<script>alert(2)</script><svg onload=alert(3)></svg> [a link](javascript:alert(4)) "
    '<a href="javascript:alert(5)">x</a> <iframe src="https://example.org"></iframe> '
    "![pixel](https://example.org/pixel.png) <b onmouseover=alert(6)>bold</b>"
)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def test_scenario_text_is_shown_as_text_and_nothing_on_a_page_runs(tmp_path):
    scenario = _scenario(
        tmp_path,
        f"description: {json.dumps(HOSTILE_DESCRIPTION)}\n",
    )
    scenario.write_text(
        scenario.read_text().replace("name: case", f"name: {json.dumps(HOSTILE_NAME)}")
    )
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    # what the planner notebooks do with scenario text: Markdown headlines, tables, HTML
    _notebook(
        notebooks / "00-hostile.ipynb",
        "import pandas as pd\nfrom IPython.display import HTML, Markdown, display\n"
        "from simlib.scenario import load_scenario\ns = load_scenario(scenario)",
        'Markdown(f"## {s.name}\\n\\n{s.description}")',
        'pd.DataFrame({"scenario": [s.name], "description": [s.description]}).style',
        'pd.DataFrame({"scenario": [s.name]})',
        "display(HTML(s.description))",
        'print("styler escape:", pd.get_option("styler.format.escape"))',
    )
    build = build_reports(scenario, tmp_path / "out", notebooks_dir=notebooks)
    for page_path in (build.out / "00-hostile.html", build.index):
        page = page_path.read_text(encoding="utf-8")
        parsed = _Tags()
        parsed.feed(page)
        for tag, attrs in parsed.tags:
            assert tag not in ("script", "iframe", "object", "embed"), (page_path.name, tag)
            for name, value in attrs.items():
                assert not name.startswith("on"), (page_path.name, tag, name, value)
                if name in ("href", "src"):
                    assert not value.strip().lower().startswith("javascript:"), (tag, value)
                    assert not value.startswith("http") or tag == "a", (tag, value)
        text = "".join(parsed.text)
        assert HOSTILE_NAME in text, f"{page_path.name} does not show the name as text"
        if page_path.name != "index.html":
            assert "styler escape: html" in text  # Styler tables escape their cells
        # the pages say, and enforce, that they load nothing and run nothing
        assert POLICY_META in page and OFFLINE_NOTE in page


# --- 3. one line and exit 2, never a traceback; outputs checked before the work -------------


def _gbk_counties(data: Path) -> None:
    path = data / "population" / "counties.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))


BAD_INPUT = {
    # case: (spoil data_copy, scenario body or raw bytes, command, words in the message)
    "non-UTF-8 scenario": (None, b"name: caf\xe9\n", ["population"], ["case.yaml", "UTF-8"]),
    "non-UTF-8 table": (_gbk_counties, "", ["population"], ["counties.csv", "UTF-8"]),
    "date that does not exist": (
        None,
        "moving:\n  pause_windows: [[2020-02-30, 2020-03-01]]\n",
        ["simulate", "--replications", "1", "--workers", "1"],
        ["pause_windows", "2020-02-30"],
    ),
    "infinity in a scenario": (
        None,
        "population:\n  carer_female_weight: .inf\n",
        ["population"],
        ["carer_female_weight", "inf", "finite"],
    ),
    "infinity in a table": (
        lambda d: replace_in(d / "moving" / "roads.csv", "Ludian,60,", "Ludian,inf,"),
        "",
        ["simulate", "--replications", "1", "--workers", "1"],
        ["roads.csv", "distance_km[Ludian]", "inf", "finite"],
    ),
    "MPS file in a folder that does not exist": (
        None,
        "",
        ["match", "--write-mps", "{tmp}/no/such/folder/model.mps"],
        ["--write-mps", "does not exist"],
    ),
    "result folder onto a file": (
        None,
        "",
        ["match", "--out", "{tmp}/case.yaml"],
        ["--out", "is a file"],
    ),
    "report folder onto a file": (
        None,
        "",
        ["report", "--out", "{tmp}/case.yaml"],
        ["--out", "is a file"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2_before_any_work(
    case, data_copy, tmp_path, capsys, monkeypatch
):
    spoil, body, command, words = BAD_INPUT[case]
    if spoil:
        spoil(data_copy)
    path = tmp_path / "case.yaml"
    if isinstance(body, bytes):
        _write(path, body)
    else:
        _scenario(tmp_path, body, data=data_copy)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command]
    if "--out" in argv or "--write-mps" in argv:
        # an output that cannot be written is refused before the scenario is even read

        def no_work(*args, **kwargs):
            raise AssertionError("the work started before the output path was checked")

        # the command line and the report build both read the scenario through simlib.inputs
        monkeypatch.setattr("simlib.inputs.load_scenario", no_work)
    code = main([argv[0], "--scenario", str(path), *argv[1:]])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"


def test_debug_shows_the_traceback(tmp_path, capsys):
    path = _write(tmp_path / "case.yaml", b"name: caf\xe9\n")
    assert main(["population", "--scenario", str(path), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


# --- 4. inputs accepted today that make no sense ---------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["simulate", "--workers", "0"], ["--workers", "0", "at least 1"]),
        (["simulate", "--workers", "-3"], ["--workers", "-3"]),
        (["simulate", "--replications", "1000000"], ["--replications", "1000000"]),
        (["population", "--scenario", "{tiny}"], ["scale", "0.0005", "at least"]),
    ],
    ids=["no workers", "negative workers", "unbounded replications", "tiny scale"],
)
def test_options_and_scales_that_make_no_sense_are_refused(argv, words, tmp_path, capsys):
    tiny = _scenario(tmp_path, "").read_text().replace("scale: 0.04", "scale: 0.0005")
    _write(tmp_path / "tiny.yaml", tiny)
    argv = [a.replace("{tiny}", str(tmp_path / "tiny.yaml")) for a in argv]
    if argv[0] == "simulate":
        argv += ["--scenario", str(SMOKE_SCENARIO)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err


def test_report_solver_is_one_of_the_solvers(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--solver", "gurobi", "--notebooks", str(tmp_path), "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "cbc" in capsys.readouterr().err


def test_too_many_workers_are_clamped_with_a_note(capsys):
    argv = ["simulate", "--scenario", str(SMOKE_SCENARIO), "--replications", "2", "--json"]
    assert main([*argv, "--workers", "64"]) == 0
    out, err = capsys.readouterr()
    assert "--workers 64 clamped to" in err
    assert json.loads(out)["replications"] == 2  # stdout stays pure JSON


# --- 5. messages that point at the real problem -----------------------------------------------


def test_messages_point_at_the_real_problem(tmp_path, data_copy):
    # a scenario outside data/scenarios/ without `data:` is told to say where the data are
    outside = _write(tmp_path / "elsewhere" / "mine.yaml", "name: mine\npopulation: {}\n")
    with pytest.raises(DataError) as error:
        load_scenario(outside)
    assert error.value.field == "data" and "unknown key" not in str(error.value)
    assert "data folder" in str(error.value) or "no data folder" in str(error.value)

    # a byte-order mark (Excel's "CSV UTF-8") is read, not taken for a missing column
    for name in ("counties.csv", "parameters.csv"):
        path = data_copy / "population" / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    load_population_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))

    # values print as the user wrote them, not as Python reprs
    with pytest.raises(DataError) as error:
        load_scenario(_scenario(tmp_path, "seed: 2020-01-01\n"))
    assert "= 2020-01-01:" in str(error.value) and "datetime" not in str(error.value)
    message = str(DataError("f.csv", "share", np.float64(0.25), "does not sum to 1"))
    assert message == "f.csv: field 'share' = 0.25: does not sum to 1"

    # a hostile or huge value is quoted in part, on one line
    huge = "A" * 1_000_000 + "\n\x1b[2J"
    for body in (
        f"population:\n  laborer_min_age: {json.dumps(huge)}\n",
        f"{json.dumps(huge)}: 1\n",
    ):
        with pytest.raises(DataError) as error:
            load_population_params(load_scenario(_scenario(tmp_path, body)))
        text = str(error.value)
        assert len(text) < 2000 and "\n" not in text and "\x1b" not in text


# --- 6. an interrupted report build leaves the previous set, and nothing else ------------


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("how", ["Ctrl-C", "SIGTERM"])
def test_an_interrupted_rebuild_leaves_the_previous_set(how, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    _notebook(first / "00-quick.ipynb", "print('old build')")
    _notebook(second / "00-quick.ipynb", "print('new build')")
    pid_file = tmp_path / "kernel.pid"
    _notebook(
        second / "01-slow.ipynb",
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(300)",
    )
    site = tmp_path / "site"
    out = site / "reports"
    build_reports(SMOKE_SCENARIO, out, notebooks_dir=first, replications=1)
    before = _digest(out)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    process = subprocess.Popen(
        [sys.executable, "-m", "simlib", "report", "--smoke", "--replications", "1"]
        + ["--out", str(out), "--notebooks", str(second)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        start_new_session=True,  # Ctrl-C in a terminal reaches the whole process group
        # as from a terminal: a shell's background job (`cmd &` in a script) starts with
        # Ctrl-C ignored, and the build would inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 180
        while not pid_file.exists() or not pid_file.read_text():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the slow notebook never started"
            time.sleep(0.2)
        kernel = int(pid_file.read_text())
        if how == "Ctrl-C":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, err
    assert "Traceback" not in err
    assert ("interrupted" if how == "Ctrl-C" else "terminated") in err
    assert _digest(out) == before, "the previous set changed"
    assert sorted(p.name for p in site.iterdir()) == ["reports"], "scratch folders left"
    assert list(scratch.iterdir()) == [], "scratch files left"
    for _ in range(50):
        if not _alive(kernel):
            break
        time.sleep(0.1)
    assert not _alive(kernel), "the notebook's kernel is still running"


# --- 7. resource limits ------------------------------------------------------------------


def _alias_bomb(levels: int) -> str:
    items = ["&a0 [x, x, x, x, x, x, x, x, x]"]
    items += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return f"population:\n  school_share_16_18: [{', '.join(items)}]\n"


@pytest.mark.parametrize(
    "body",
    [
        _alias_bomb(7),  # 470 bytes that expand to 5 million values
        "notes: |\n" + "  padding\n" * 20_000,  # a 200 kB file
        "population:\n  x: " + "[" * 5000 + "]" * 5000 + "\n",  # deep nesting
        "population: &loop\n  x: *loop\n",  # a document that contains itself
    ],
    ids=["alias bomb", "oversize", "deep nesting", "recursive alias"],
)
def test_yaml_bombs_and_oversize_files_are_refused_at_once(body, tmp_path):
    path = _scenario(tmp_path, body)
    started = time.perf_counter()
    with pytest.raises(DataError) as error:
        load_population_params(load_scenario(path))
    assert time.perf_counter() - started < 1.0
    assert len(str(error.value)) < 1000


# --- the property test ---------------------------------------------------------------------

BASE = {
    "name": "smoke",
    "description": "The baseline at 4 % scale.",
    "seed": 20191120,
    "scale": 0.04,
    "data": str(DATA),
    "population": {},
    "moving": {},
    "jobs": {},
}
PARAMETERS = {d: sorted(load_parameters(DATA / d / "parameters.csv")) for d in BASE if d in {"population", "moving", "jobs"}}  # fmt: skip
# The loaders of the domains whose every input the scenario may override.
LOADERS = (load_population_params, load_jobs_params, load_moving_params)

scalars = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.booleans(),
    st.none(),
    st.dates(),
)


def _containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


values = st.recursive(scalars, _containers, max_leaves=12)


def _damaged_text(draw, doc: dict, kind: str, nest: str) -> bytes:
    """`doc` as YAML bytes, with the damage that is not a value: deep nesting (after `nest`),
    random bytes or random unicode; any other kind, the YAML as it is."""
    if kind == "nesting":
        depth = draw(st.integers(min_value=1, max_value=3000))
        return (yaml.safe_dump(doc) + nest + "[" * depth + "]" * depth).encode()
    text = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")
    if kind == "bytes":
        at = draw(st.integers(min_value=0, max_value=len(text)))
        cut = draw(st.integers(min_value=0, max_value=8))
        return text[:at] + draw(st.binary(min_size=1, max_size=16)) + text[at + cut :]
    if kind == "unicode":
        return draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    return text


@st.composite
def mutated_scenarios(draw) -> bytes:
    """A valid scenario with one kind of damage: a wrong value in a known place, an extra
    key, random bytes, random unicode, or deep nesting."""
    doc = json.loads(json.dumps(BASE))
    kind = draw(st.sampled_from(["value", "parameter", "key", "bytes", "unicode", "nesting"]))
    if kind == "value":
        doc[draw(st.sampled_from(sorted(BASE)))] = draw(values)
    elif kind == "parameter":
        domain = draw(st.sampled_from(sorted(PARAMETERS)))
        doc[domain] = {draw(st.sampled_from(PARAMETERS[domain])): draw(values)}
    elif kind == "key":
        doc[draw(st.text(min_size=1, max_size=20))] = draw(values)
    return _damaged_text(draw, doc, kind, "population:\n  x: ")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=mutated_scenarios())
def test_the_loader_gives_a_valid_scenario_or_a_short_data_error(content, tmp_path):
    path = tmp_path / "scenarios" / "mutated.yaml"
    _write(path, content)
    try:
        scenario = load_scenario(path)
        for load in LOADERS:
            load(scenario)
    except DataError as error:
        message = str(error)
        assert len(message) < MAX_MESSAGE
        assert "\n" not in message
        return
    # accepted: then it is a scenario the models can take
    assert 0 < scenario.scale <= 1 and scenario.seed >= 0
    assert isinstance(scenario.name, str) and scenario.name


@pytest.mark.parametrize("value", ["0", "[0]", "[[2020-01-01]]", "x"])
def test_pause_windows_of_the_wrong_shape_is_bad_input(value, tmp_path):
    path = _scenario(tmp_path, f"moving:\n  pause_windows: {value}\n")
    with pytest.raises(DataError, match="pause_windows"):
        load_moving_params(load_scenario(path))


# --- 8. sweep specifications go through the same reader, and their budgets are arithmetic -----

SPEC = f"""name: case
scenario: {SMOKE_SCENARIO}
replications: 1
budget: 40
design: {{method: oat}}
parameters:
  moving.route_vehicles_per_day: {{}}
"""

BAD_SPECS = {
    # case: (the specification's text, or bytes; words the one-line message holds)
    "alias bomb": (
        SPEC + _alias_bomb(7).replace("population:\n  school_share_16_18", "notes"),
        ["expands past 10,000 values"],
    ),
    "Latin-1 byte": (b"name: caf\xe9\n", ["case.yaml", "UTF-8", "0xe9"]),
    "date that does not exist": (
        SPEC + "  moving.pause_windows: {levels: [[[2020-02-30, 2020-03-01]]]}\n",
        ["2020-02-30", "February 2020 has 29 days"],
    ),
    "high: .inf": (
        SPEC.replace("{}", "{low: 60, high: .inf}"),
        ["moving.route_vehicles_per_day.high", "not infinite"],
    ),
    "low: .nan": (
        SPEC.replace("{}", "{low: .nan, high: 300}"),
        ["moving.route_vehicles_per_day.low", "not NaN (not a number)"],
    ),
    "replications over the cap": (
        SPEC.replace("replications: 1", "replications: 1001"),
        ["replications", "[1, 1,000]"],
    ),
    "ten million points": (
        SPEC.replace("budget: 40", "budget: 10000000").replace(
            "{method: oat}", "{method: lhs, samples: 10000000}"
        ),
        ["budget", "10000000", "[1, 100,000]"],
    ),
    "10^12-point grid": (
        SPEC.replace("budget: 40", "budget: 100000").replace(
            "{method: oat}", "{method: grid, points: 10000}"
        )
        + "  moving.loading_mean: {}\n  jobs.labour_export_factor: {}\n",
        ["budget", "24,100,000,000 points, over budget"],
    ),
    "a list where a file is expected": (
        SPEC.replace(f"scenario: {SMOKE_SCENARIO}", "scenario: [a.yaml, b.yaml]"),
        ["scenario", "not a list of 2"],
    ),
    "a path for a name": (SPEC.replace("name: case", "name: ../../etc"), ["name", "folder name"]),
    "seed 2^53 + 1": (SPEC + "seed: 9007199254740993\n", ["seed", "at most 2^53"]),
    "key given twice": (SPEC + "replications: 2\n", ["replications", "given twice"]),
    "multi-line YAML error": (SPEC + 'description: "unclosed\n', ["is not valid YAML", "(line"]),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_bad_sweep_specifications_are_one_line_and_exit_2_at_once(case, tmp_path, capsys):
    text, words = BAD_SPECS[case]
    path = _write(tmp_path / "case.yaml", text)
    started = time.perf_counter()
    code = main(["sweep", str(path), "--out", str(tmp_path / "out")])
    seconds = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and "Traceback" not in err and "\\n" not in err
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert seconds < 5, f"{case} took {seconds:.1f} s: refused only after building something"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--scheduler", "not-an-address"], ["--scheduler", "not-an-address", "tcp://HOST:PORT"]),
        (["--scheduler", "/no/such/scheduler.json"], ["--scheduler", "scheduler file not found"]),
        (["--out", "/proc/x"], ["--out", "/proc/x", "cannot be written"]),
        (["--workers", "0"], ["--workers", "at least 1"]),
    ],
)
def test_sweep_options_are_checked_before_the_work(argv, words, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the options were checked")

    monkeypatch.setattr("simlib.sweep.load_spec", no_work)
    assert main(["sweep", "data/sweeps/ci.yaml", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err


@pytest.mark.parametrize(
    "argv",
    [
        ["match", "--out", "/proc/x"],
        ["match", "--write-mps", "/proc/x.mps"],
        ["report", "--out", "/proc/x"],
    ],
)
def test_output_paths_are_checked_before_the_work_naming_the_option(argv, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    # the command line and the report build both read the scenario through simlib.inputs
    monkeypatch.setattr("simlib.inputs.load_scenario", no_work)
    assert main(argv) == 2
    err = capsys.readouterr().err
    option = argv[1]
    assert f"field '{option}' = '{argv[2]}'" in err and "cannot be written" in err
    assert "building" not in err  # not the build's hidden scratch folder


def test_an_error_inside_a_sweep_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something inside simlib")

    monkeypatch.setattr("simlib.sweep.load_spec", broken)
    assert main(["sweep", "data/sweeps/ci.yaml"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: something inside simlib" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["sweep", "data/sweeps/ci.yaml", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


# --- the property test for sweep specifications ---------------------------------------------

SPEC_BASE = {
    "name": "mutated",
    "scenario": str(SMOKE_SCENARIO),
    "seed": 20191120,
    "replications": 1,
    "budget": 60,
    "common_random_numbers": True,
    "design": {"method": "oat"},
    "parameters": {"moving.route_vehicles_per_day": {}, "jobs.labour_export_factor": {}},
}
DESIGNS = [
    {"method": "oat"},
    {"method": "morris", "trajectories": 2},
    {"method": "sobol", "samples": 4},
    {"method": "lhs", "samples": 5},
    {"method": "grid", "points": 3},
]
FACTORS = ["moving.route_vehicles_per_day", "moving.loading_mean", "jobs.labour_export_factor", "moving.scheduling_policy", "population.migrate_share_M_30_44", "no.such"]  # fmt: skip
ranges = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {"low": st.integers(60, 149) | st.floats(60, 149), "high": st.floats(150, 300)}
    ),
    st.fixed_dictionaries(
        {}, optional={"low": scalars, "high": scalars, "levels": values, "exclude": values}
    ),
)


@st.composite
def mutated_specs(draw) -> bytes:
    """A valid specification with one kind of damage: a value in a known place, a design,
    a factor with a range, an extra key, random bytes, random unicode, or deep nesting."""
    doc = json.loads(json.dumps(SPEC_BASE))
    kind = draw(st.sampled_from(["value", "design", "factor", "key", "bytes", "unicode", "nesting", "design"]))  # fmt: skip
    if kind in ("design", "factor"):  # usually a valid design around a valid factor
        doc["design"] = dict(draw(st.sampled_from(DESIGNS)))
        doc["parameters"][draw(st.sampled_from(FACTORS[:3]))] = draw(ranges)
    if kind == "value":
        doc[draw(st.sampled_from(sorted(SPEC_BASE)))] = draw(values)
    elif kind == "design" and draw(st.booleans()):
        setting = draw(st.sampled_from(["samples", "points", "trajectories", "levels"]))
        doc["design"][setting] = draw(st.integers(-2, 200) | scalars)
    elif kind == "factor":
        doc["parameters"][draw(st.sampled_from(FACTORS))] = draw(ranges)
    elif kind == "key":
        doc[draw(st.text(min_size=1, max_size=20))] = draw(values)
    return _damaged_text(draw, doc, kind, "notes: ")


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=mutated_specs())
def test_a_sweep_specification_loads_whole_or_gives_a_short_data_error(content, tmp_path):
    from simlib.sweep import design_points, load_spec
    from simlib.sweep.design import design_size
    from simlib.sweep.spec import MAX_BUDGET

    path = _write(tmp_path / "mutated.yaml", content)
    try:
        spec = load_spec(path)
    except DataError as error:
        message = str(error)
        assert len(message) < MAX_MESSAGE and "\n" not in message
        event(f"refused: {error.field if error.field.startswith('(') else 'a value'}")
        return
    event(f"accepted: {spec.method}")
    # accepted: then its design is what its arithmetic says, within budget, and runnable
    points = design_points(spec)
    assert len(points) == design_size(spec) <= spec.budget <= MAX_BUDGET
    assert 1 <= spec.replications <= 1000 and 0 <= spec.seed <= 2**53
    for f in spec.factors:
        if f.numeric:
            assert np.isfinite([f.low, f.high]).all() and f.low < f.high
    assert len({p.index for p in points}) == len(points)
