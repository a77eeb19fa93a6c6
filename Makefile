# Two commands do all set-up on a fresh machine with only Python:
#   make demo   installs graphclust with its dev extra into .venv and clusters the
#               embedded `digits` data set
#   make test   the same install, then the test suite (what CI runs)
#
# torch: pip takes torch==2.13.0 from the indexes pip is configured with. From the public
# PyPI alone, Linux gets the default torch wheel, which depends on the CUDA libraries
# (18 nvidia-*/cuda-* packages and triton: benchmarks/results/install.md). For a CPU-only
# torch (a 192 MB wheel), name PyTorch's CPU wheel index:
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
# A machine whose pip already finds a torch 2.13.0+cpu wheel (a find-links folder, a local
# index) needs nothing: pip ranks 2.13.0+cpu above 2.13.0 (a local version label sorts
# higher), so it takes the CPU build.
PYTHON ?= python3
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs transcripts clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifneq ($(TORCH_INDEX),)
	$(BIN)/python -m pip install --quiet "$(TORCH)" --index-url "$(TORCH_INDEX)"
endif
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/graphclust fit

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check graphclust tests benchmarks examples docs

# The documentation site into site/ (mkdocs.yml, strict: a warning fails the build): the
# README as front page, the guides, the API reference from the docstrings, the benchmark
# results with their plots, and the examples gallery (each example runs, one thread).
# The test suite builds the same site (tests/conftest.py's built_site).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build

# Rerun the README's command transcripts and write them in place (checked by the tests).
transcripts: $(STAMP)
	$(BIN)/python docs/transcripts.py

clean:
	rm -rf $(VENV) build site *.egg-info
