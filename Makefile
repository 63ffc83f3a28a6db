# Two commands do everything on a fresh clone:
#   make demo   evaluate nmfrec on MovieLens 100K (downloaded if missing; offline, on the
#               synthetic set, saying so)
#   make test   run the test suite
# Both create .venv and install what they need first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# Data: nmfrec looks in $NMFREC_DATA, else the user cache (~/.cache/nmfrec), and
# downloads MovieLens 100K there when it is missing (without a network, demo goes on
# with synthetic data and says how to get the real set). A development checkout with
# ../shared/data beside it uses that folder; an NMFREC_DATA of your own wins.
ifneq ($(wildcard ../shared/data/ml-100k/u.data),)
export NMFREC_DATA ?= $(abspath ../shared/data)
endif

.PHONY: demo test install install-bench bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# after installing, compile the kernels of the common paths into numba's cache once
# (about 25 s), so that the first fit of every later process starts in about 2 s
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m nmfrec.warmup
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $@

install: $(VENV)/.installed-dev

install-bench: $(VENV)/.installed-bench

test: install
	$(BIN)/python -m pytest

# the default model at both jobs (rating prediction and top-10 ranking) beside the
# baselines, on MovieLens 100K's five official folds
demo: install
	$(BIN)/nmfrec evaluate --dataset auto --baselines

bench: install-bench
	$(BIN)/python benchmarks/movielens.py
	$(BIN)/python benchmarks/bench_solvers.py
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
