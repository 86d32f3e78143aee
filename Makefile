# xzlib — run `make` or `make help` to list the targets.
# Everything runs inside .venv, created on first use from $(PYTHON) (3.11 or newer).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := data/interim/.sample-stamp
JOBS   ?= 2
# the oldest supported versions (make test-min): its own venv, every dependency pinned at
# the lower bound pyproject.toml declares, wheels only (no source builds)
MINVENV := .venv-min
MINBIN  := $(MINVENV)/bin
MINSTAMP := $(MINVENV)/.installed
CONSTRAINTS := .ci/constraints-min.txt

.DEFAULT_GOAL := help
.PHONY: help venv data reports test test-min constraints lab bench lint docs clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name xzlib --display-name "xzlib ($(VENV))"
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

$(MINSTAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) .ci/min_constraints.py --check
	test -x $(MINBIN)/python || $(PYTHON) -m venv $(MINVENV)
	$(MINBIN)/python -m pip install --quiet --upgrade pip
	$(MINBIN)/python -m pip install --quiet -c $(CONSTRAINTS) \
		--only-binary "$$($(PYTHON) .ci/min_constraints.py --names)" -e ".[test]"
	$(MINBIN)/python -m ipykernel install --sys-prefix --name xzlib --display-name "xzlib ($(MINVENV))"
	touch $@

test-min: $(MINSTAMP) ## fast tests + sample -> clean -> evaluate -> build at the minimum versions
	$(MINBIN)/python .ci/min_constraints.py --verify
	$(MINBIN)/python -m pytest -m "not slow and not browser" -p no:cacheprovider
	$(MINBIN)/python -m pytest -p no:cacheprovider tests/test_packaging.py::test_main_path_in_a_new_project

constraints: ## regenerate .ci/constraints-min.txt from the lower bounds in pyproject.toml
	$(PYTHON) .ci/min_constraints.py

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

distclean: clean ## also remove .venv and .venv-min
	rm -rf $(VENV) $(MINVENV)
