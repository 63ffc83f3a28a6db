"""What every estimator shares: parameters, thread caps, warnings, the version."""

import inspect
import os
import sys
import warnings
from importlib.metadata import version

import numba
import numpy as np
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


# --------------------------------------------------------------------- metadata routing, help
class Options(ParamsBase):
    _takes_no_metadata = True

    def __init__(self, k=1):
        self.k = k

    def fit(self, X, y=None, column=None, *, policy="raise"):
        self.fitted_ = True
        return self

    def predict(self, X, clip=True):
        return X


def test_a_class_whose_arguments_are_options_gets_no_request_methods():
    from sklearn import config_context
    from sklearn.model_selection import cross_validate

    class Weighted(Options):     # a subclass adding true metadata: that one is routed
        _takes_no_metadata = False

        def fit(self, X, y=None, column=None, *, policy="raise", sample_weight=None):
            return self

    assert not [m for m in dir(Options) if m.endswith("_request") and m.startswith("set_")]
    assert list(inspect.signature(Weighted.set_fit_request).parameters) == ["self",
                                                                            "sample_weight"]
    with config_context(enable_metadata_routing=True):
        assert str(Options().get_metadata_routing()) == "{}"
        # a meta-estimator routes nothing to it, and refuses what it would have to route
        X = np.arange(20.0).reshape(10, 2)
        with pytest.raises(TypeError, match=r"unexpected argument\(s\) \{'column'\}, which "
                                            "are not routed"):
            cross_validate(Options(), X, params={"column": [0] * 10}, cv=2, scoring=lambda *a: 0.0)


def test_help_of_recommender_is_its_own_documentation():
    import pydoc

    from nmfrec import Recommender

    assert not [m for m in dir(Recommender) if m.startswith("set_") and m.endswith("_request")]
    text = pydoc.render_doc(Recommender, renderer=pydoc.plaintext)
    assert "_request(" not in text
    # the class docstring comes first, right after the signature
    body = [line.strip(" |") for line in text.splitlines()[3:]]
    first = next(line for line in body[1:] if line.strip())
    assert first == inspect.getdoc(Recommender).splitlines()[0]
    # the rest is the class's own methods and properties, plus the little scikit-learn
    # lends every estimator (get_params, set_params, get_metadata_routing: that one stays,
    # it is how meta-estimators ask what to route, and answers nothing)
    own = len(inspect.getdoc(Recommender).splitlines())
    for name, member in vars(Recommender).items():
        member = getattr(member, "__func__", member)
        if inspect.isfunction(member) or isinstance(member, property):
            own += len((inspect.getdoc(member) or "").splitlines()) + 3
    assert len(text.splitlines()) < own + 60      # 26 lines on scikit-learn 1.9
    assert "get_metadata_routing" in text


def test_a_recommender_searches_and_clones_with_routing_on():
    import pandas as pd
    from sklearn import clone, config_context
    from sklearn.model_selection import GridSearchCV
    from sklearn.utils.validation import check_is_fitted

    from nmfrec import Recommender

    rng = np.random.default_rng(0)
    keys = rng.choice(40 * 30, 500, replace=False)
    df = pd.DataFrame({"user": keys // 30, "item": keys % 30,
                       "rating": rng.integers(1, 6, keys.size).astype(float)})
    quick = Recommender(n_samples=10, preference_components=2, random_state=0)
    with config_context(enable_metadata_routing=True):
        assert str(quick.get_metadata_routing()) == "{}"
        search = GridSearchCV(quick, {"n_components": [1, 2]}, cv=2).fit(df)
        check_is_fitted(search.best_estimator_)
        assert clone(quick).get_params() == quick.get_params()
