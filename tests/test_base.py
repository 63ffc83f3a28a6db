"""What every estimator shares: parameters, thread caps, warnings, the version."""

import os
import sys
import warnings
from importlib.metadata import version

import numba
import pytest

import nmfrec
from nmfrec._base import ParamsBase, ThreadLimits, warn
from nmfrec._version import __version__


class Toy(ParamsBase):
    def __init__(self, b=2, *, a="x", c=None):
        self.b = b
        self.a = a
        self.c = c


def test_params_in_signature_order_and_repr_of_the_changed_ones():
    toy = Toy(a="y", c=[1])
    assert list(toy.get_params()) == ["b", "a", "c"]         # scikit-learn would sort them
    assert repr(toy) == "Toy(a='y', c=[1])"
    assert repr(Toy()) == "Toy()"
    assert toy.set_params(b=3) is toy and repr(toy) == "Toy(b=3, a='y', c=[1])"
    with pytest.raises(ValueError, match="Invalid parameter 'z'"):
        toy.set_params(z=1)


def test_thread_limits_restore_numba_threads_even_on_error():
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError):
        with ThreadLimits(1):
            assert numba.get_num_threads() == 1
            raise RuntimeError
    assert numba.get_num_threads() == before


def test_warn_names_the_first_frame_outside_the_package():
    # two functions whose code lives in the package (by file name), the inner one warning
    inside = os.path.join(os.path.dirname(nmfrec.__file__), "_somewhere.py")
    ns = {"warn": warn}
    exec(compile("def deep(m):\n    warn(m)\n\ndef outer(m):\n    deep(m)\n", inside, "exec"), ns)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        ns["outer"]("hello")
    assert (record[0].filename, record[0].lineno) == (__file__, line)
    assert str(record[0].message) == "hello" and record[0].category is UserWarning


def test_one_version_source():
    assert nmfrec.__version__ == __version__ == version("nmfrec")
