# assesskit — run `make help` for the targets.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help setup test lint demo bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@# a CJK font for Chinese labels in figures (Debian; skipped with a note where apt is not usable)
	@[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || (command -v apt-get >/dev/null && \
	  (apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1))) || \
	  echo "note: could not install fonts-wqy-microhei; figures will use English labels"
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# the notebooks' kernel is this venv's Python (registered in .venv/share/jupyter)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name 'Python 3 (assesskit)' >/dev/null
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install assesskit with its test tools

lint: setup  ## ruff lint and format check over the package, tests and benchmarks
	$(BIN)/ruff check assesskit tests benchmarks
	$(BIN)/ruff format --check assesskit tests benchmarks

test: setup lint  ## set up, lint, and run the whole test suite
	$(BIN)/python -m pytest

demo: setup  ## set up, score every bundled scheme on synthetic panels, build the HTML reports (reports/demo/)
	$(BIN)/assesskit demo --out reports/demo

bench: setup  ## throughput benchmarks (print figures; not part of the tests)
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_composite.py
	$(BIN)/python benchmarks/bench_sensitivity.py
	$(BIN)/python benchmarks/bench_reports.py

clean:  ## remove the environment and generated reports
	rm -rf $(VENV) reports/demo .pytest_cache .ruff_cache
