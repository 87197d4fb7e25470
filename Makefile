# One entry point for people and CI. Every target creates .venv and installs the project
# on first use, so a fresh machine with python3, pip and make needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup report smoke-report browser test bench bench-report backtest-write sweep lint format kernel notebook clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## report: the main job: every notebook at full scale (baseline), published as HTML in
## results/reports/ (open index.html); answers are kept in results/cache/, so a rebuild
## with unchanged code and data only re-publishes
report: $(STAMP)
	$(PY) -m simlib report

## smoke-report: the same on the smoke scenario (4 % scale, the sweeps' smaller smoke
## designs): what the tests build, a check of the whole path (README: "How long it takes")
smoke-report: $(STAMP)
	$(PY) -m simlib report --smoke

## browser: Debian's headless Chromium (and a CJK font) for the report tests, installed
## once with apt-get (as root, or through sudo)
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; }

## test: every test, the notebooks on the smoke scenario and the reports in Chromium included
test: $(STAMP) browser
	$(PY) -m pytest -q

## bench: speed benchmarks, printing figures and ratios against a reference
bench: $(STAMP)
	$(PY) benchmarks/run.py

## bench-report: the report build's times (smoke: cold, answers kept, unchanged); FULL=1
## adds the full build (long), FULL_ONLY=1 runs the full build alone
bench-report: $(STAMP)
	$(PY) benchmarks/bench_report.py $(if $(FULL),--full) $(if $(FULL_ONLY),--full-only)

## backtest-write: save the smoke scenario's headline tables again (tests/backtest/), a
## deliberate step: commit them saying which answer changed and why
backtest-write: $(STAMP)
	$(PY) tests/backtest/headlines.py --write

## sweep: a sweep over the assumptions on Dask, resumable (SPEC=data/sweeps/<name>.yaml;
## results in results/sweeps/<name>/)
SPEC ?= data/sweeps/ci.yaml
sweep: $(STAMP)
	$(PY) -m simlib sweep $(SPEC)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## kernel: register .venv as the Jupyter kernel "maojiawan"
kernel: $(STAMP)
	$(PY) -m ipykernel install --user --name maojiawan --display-name "Python (maojiawan)"

notebook: kernel
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) results/reports results/cache
