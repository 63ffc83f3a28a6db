# Two commands do everything on a fresh clone:
#   make demo   evaluate nmfrec on MovieLens 100K (downloaded if missing; offline, on the
#               synthetic set, saying so); installs the library alone, no extras
#   make test   run the test suite (the whole suite, Spark's tests included: what CI runs)
# and, while developing,
#   make test-fast   the suite without the tests marked slow (pytest -m "not slow")
# Both create .venv and install what they need first. CI also runs
#   make test-newest   the suite on the newest release of every dependency (pandas 3)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NEWEST := .venv-newest
NBIN   := $(NEWEST)/bin

# Data: nmfrec looks in $NMFREC_DATA, else the user cache (~/.cache/nmfrec), and
# downloads MovieLens 100K there when it is missing (without a network, demo goes on
# with synthetic data and says how to get the real set). A development checkout with
# ../shared/data beside it uses that folder; an NMFREC_DATA of your own wins.
ifneq ($(wildcard ../shared/data/ml-100k/u.data),)
export NMFREC_DATA ?= $(abspath ../shared/data)
endif

.PHONY: demo test test-fast test-newest install install-bench bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the library and its run-time dependencies only: what `pip install nmfrec` brings, and
# all that `nmfrec evaluate --baselines` needs
# (--no-compile: modules are byte-compiled when first imported, not all of scipy, pandas
# and scikit-learn up front, which took half of the install; PYTHONWARNINGS: setuptools'
# note on every editable install of a flat layout, which asks nothing of the user)
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --no-compile -e .
	touch $@

# the test tools, Spark and the pinned pandas 2; then compile the kernels of the common
# paths into numba's cache once, so that the tests' processes load them
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -e ".[dev]"
	$(BIN)/python -m nmfrec.warmup
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $@

install: $(VENV)/.installed-dev

install-bench: $(VENV)/.installed-bench

# on every core (pytest-xdist), tests handed out in collection order as workers free up
# (473 and 538 s on 2 cores). By test file (--dist loadfile) one worker was left alone
# with the largest files (823 s); the slow tests first were no faster (536, 557 s), and
# one test at a time (--maxschedchunk 1) rebuilt module fixtures and was far slower
PYTEST_PARALLEL := -n auto --dist load

test: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

test-fast: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow"

# make test runs on pandas 2 (the dev extra's pin); users on Python >= 3.11 get pandas 3.
# This runs the suite on what `pip install nmfrec` installs today: the newest release of
# every dependency, in an environment rebuilt on every run so that it follows releases.
# 1. nmfrec alone, no extra: it installs and works (warmup fits, predicts and ranks);
# 2. with the test tools: the whole suite. No pyarrow, so pandas keeps strings in its own
#    string type, as a plain install does; Spark's tests skip;
# 3. with the spark extra (pyspark, pyarrow): the tests that need them (Spark's, README's
#    Spark example, Parquet in and out); with NMFREC_REQUIRE_SPARK=1, as CI sets it, they
#    must run.
test-newest:
	$(PYTHON) -m venv --clear $(NEWEST)
	$(NBIN)/python -m pip install --quiet --upgrade pip
	$(NBIN)/python -m pip install --quiet -e .
	$(NBIN)/python .ci/newest_versions.py
	$(NBIN)/python -m nmfrec.warmup
	$(NBIN)/nmfrec --help > /dev/null
	$(NBIN)/python -m pip install --quiet -e ".[test]"
	NMFREC_REQUIRE_SPARK=0 $(NBIN)/python -m pytest $(PYTEST_PARALLEL)
	$(NBIN)/python -m pip install --quiet -e ".[test,spark]"
	$(NBIN)/python .ci/newest_versions.py pyarrow pyspark
	$(NBIN)/python -m pytest $(PYTEST_PARALLEL) tests/test_spark.py tests/test_readme.py \
	    tests/test_io.py
	$(NBIN)/python -m pytest tests/test_cli.py -k parquet

# the default model at both jobs (rating prediction and top-10 ranking) beside the
# baselines, on MovieLens 100K's five official folds, fitted on every core at once
demo: $(VENV)/.installed
	$(BIN)/nmfrec evaluate --dataset auto --baselines --n-jobs -1

bench: install-bench
	$(BIN)/python benchmarks/movielens.py
	$(BIN)/python benchmarks/bench_solvers.py
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) $(NEWEST) build *.egg-info .pytest_cache
