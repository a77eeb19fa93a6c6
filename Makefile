# Two commands do all set-up on a fresh machine with only Python:
#   make demo   installs into .venv and clusters the embedded `digits` data set
#   make test   installs into .venv (with the dev extra) and runs the test suite
# torch==2.13.0 is named in the same pip command as the package so pip takes the CPU
# build on disk instead of pulling a multi-GB CUDA build for the `torch` dependency.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/graphclust fit

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check graphclust tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info
