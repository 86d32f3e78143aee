# xzlib — run `make` or `make help` to list the targets.
# Everything runs inside .venv, created on first use from $(PYTHON) (3.11 or newer).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := data/interim/.sample-stamp
JOBS   ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv data reports test lab bench lint docs clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

venv: $(STAMP) ## create .venv and install xzlib with its dev tools

$(SAMPLE): $(STAMP) xzlib/sample.py xzlib/submission.py xzlib/schemas.py xzlib/ingest/mess.py data/reference/divisions.csv data/reference/published_facts.csv
	$(BIN)/xz sample --messy
	mkdir -p $(@D) && touch $@

data: $(SAMPLE) ## generate the sample batch (示例数据) and clean it into data/processed
	$(BIN)/xz clean

reports: data ## build every report into reports/ (parallel, incremental)
	$(BIN)/xz build --jobs $(JOBS)
	@echo "open $(CURDIR)/reports/index.html"

test: $(STAMP) ## run the whole test suite (notebooks and browser included)
	$(BIN)/python -m pytest

lab: data ## open JupyterLab on notebooks/ with the xzlib kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: data ## print benchmark timings and ratios
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP) ## ruff on code and notebooks; notebooks must have no outputs
	$(BIN)/ruff check .
	$(BIN)/python -m nbstripout --verify notebooks/*.ipynb

docs: $(STAMP) ## regenerate docs/data-dictionary.md from the schemas
	$(BIN)/xz docs

clean: ## remove generated data and reports (keeps .venv)
	rm -rf data/raw/sample data/processed data/interim reports/*.html reports/_executed reports/manifest.json

distclean: clean ## also remove .venv
	rm -rf $(VENV)
