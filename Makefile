# assesskit — run `make help` for the targets.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make docs BIN=/other/venv/bin` builds with an existing environment (no .venv set-up)
ENV := $(if $(filter $(VENV)/bin,$(BIN)),setup)

.PHONY: help system setup test lint docs demo bench clean

# apt-get install $(1) quietly (updating the package lists once if needed); false where apt cannot
apt = { command -v apt-get >/dev/null && { apt-get install -y -q $(1) >/dev/null 2>&1 || \
  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(1) >/dev/null 2>&1; }; }; }

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

system:  ## Debian packages the tests use: a CJK font, headless Chromium and its driver (noted where apt cannot)
	@[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || $(call apt,fonts-wqy-microhei) || \
	  echo "note: could not install fonts-wqy-microhei; figures will use English labels"
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || $(call apt,chromium chromium-driver) || \
	  echo "note: could not install chromium and chromium-driver; the browser test of the reports will be skipped"

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# the notebooks' kernel is this venv's Python (registered in .venv/share/jupyter)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name 'Python 3 (assesskit)' >/dev/null
	touch $(STAMP)

setup: system $(STAMP)  ## install the system packages, create .venv and install assesskit with its test tools

lint: setup  ## ruff lint and format check over the package, tests and benchmarks
	$(BIN)/ruff check assesskit tests benchmarks
	$(BIN)/ruff format --check assesskit tests benchmarks

test: setup lint docs  ## set up, lint, build the docs (executing the tutorials), and run the whole test suite
	$(BIN)/python -m pytest

# -W: warnings are errors; -n: every broken cross-reference is one; --keep-going: all of them
# in one run. The tutorials' kernels import this checkout (PYTHONPATH), like autodoc does.
docs: $(ENV)  ## build the documentation site into docs/_build/html (executes every tutorial notebook)
	PYTHONPATH=$(CURDIR) $(BIN)/python -m sphinx -W --keep-going -n -j auto -q -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

demo: setup  ## set up, score every bundled scheme on synthetic panels, build the HTML reports (reports/demo/)
	$(BIN)/assesskit demo --out reports/demo

bench: setup  ## throughput benchmarks (print figures; not part of the tests)
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_composite.py
	$(BIN)/python benchmarks/bench_sensitivity.py
	$(BIN)/python benchmarks/bench_reports.py

clean:  ## remove the environment and generated reports
	rm -rf $(VENV) reports/demo .pytest_cache .ruff_cache docs/_build docs/api/generated docs/jupyter_execute
