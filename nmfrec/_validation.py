"""Parameter validation: one declarative table per estimator, checked in ``fit``.

Error wording is parameter, then constraint, then value:
``"n_components must be an integer >= 1; got 0."``
"""

from __future__ import annotations

import numbers

import numpy as np


class Interval:
    """A numeric constraint ``low <= x <= high`` (bounds optional, open or closed)."""

    def __init__(self, kind, low=None, high=None, closed="both"):
        self.kind = kind  # "int" or "real"
        self.low, self.high, self.closed = low, high, closed

    def is_satisfied_by(self, x):
        if isinstance(x, (bool, np.bool_)):
            return False
        if self.kind == "int" and not isinstance(x, numbers.Integral):
            return False
        if self.kind == "real" and not isinstance(x, numbers.Real):
            return False
        if self.kind == "real" and not np.isfinite(x):
            return False
        lo_ok = self.low is None or (x >= self.low if self.closed in ("both", "left") else x > self.low)
        hi_ok = self.high is None or (x <= self.high if self.closed in ("both", "right") else x < self.high)
        return lo_ok and hi_ok

    def __str__(self):
        what = "an integer" if self.kind == "int" else "a finite number"
        if self.low is not None and self.high is not None:
            lb = "[" if self.closed in ("both", "left") else "("
            rb = "]" if self.closed in ("both", "right") else ")"
            return f"{what} in {lb}{self.low}, {self.high}{rb}"
        if self.low is not None:
            op = ">=" if self.closed in ("both", "left") else ">"
            return f"{what} {op} {self.low}"
        if self.high is not None:
            op = "<=" if self.closed in ("both", "right") else "<"
            return f"{what} {op} {self.high}"
        return what


class Options:
    """One of a fixed set of values."""

    def __init__(self, *values):
        self.values = values

    def is_satisfied_by(self, x):
        try:
            return any(x is v or (v is not None and x == v and type(x) is type(v)) for v in self.values)
        except Exception:  # pragma: no cover - exotic __eq__
            return False

    def __str__(self):
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of " + ", ".join(repr(v) for v in self.values)


class RandomState:
    """None, an int seed or a numpy Generator/RandomState."""

    def is_satisfied_by(self, x):
        return (x is None or isinstance(x, (np.random.Generator, np.random.RandomState))
                or (isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 0))

    def __str__(self):
        return "None, a non-negative integer seed or a numpy Generator"


class Dtype:
    def is_satisfied_by(self, x):
        try:
            return np.dtype(x) in (np.dtype(np.float32), np.dtype(np.float64))
        except TypeError:
            return False

    def __str__(self):
        return "'float32' or 'float64'"


def check_params(params: dict, table: dict):
    """Validate ``params`` against ``table`` {name: [constraint, ...]} (any may match)."""
    for name, constraints in table.items():
        value = params[name]
        if not any(c.is_satisfied_by(value) for c in constraints):
            wanted = " or ".join(str(c) for c in constraints)
            raise ValueError(f"{name} must be {wanted}; got {value!r}.")


def check_random_state(seed) -> np.random.Generator:
    """Turn ``seed`` into a ``np.random.Generator`` (the only randomness source)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    return np.random.default_rng(seed)
