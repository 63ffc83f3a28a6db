"""nmfrec's type hints, as a user's type checker reads them.

* every function and method of the public API is annotated, parameters and return;
* a user's script type-checks under ``mypy --strict``, and the types it sees are the ones
  the documentation promises (``assert_type``): ``fit`` returns the estimator, ``predict``
  a float for one pair and an array for several, a metric a float unless
  ``average=False``; a misspelt option is a type error (an expected error is marked
  ``# type: ignore[code]``, and ``--strict`` reports an ignore that is not needed);
* mypy finds no broken annotation in the package (an undefined name, a default that its
  annotation does not admit, overlapping overloads);
* the option literals spell the same values as the tuples the code validates against;
* the package ships the ``py.typed`` marker.
"""

import importlib
import inspect
import os
import re
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest

import nmfrec
from nmfrec import _typing

ROOT = Path(__file__).resolve().parents[1]

#: The public modules; each one's ``__all__`` is its public API.
MODULES = ["nmfrec", "nmfrec.io", "nmfrec.ratings", "nmfrec.evaluation", "nmfrec.datasets",
           "nmfrec.model_selection", "nmfrec.spark", "nmfrec.exceptions"]


def _functions(obj):
    """The function behind a method, classmethod, staticmethod or property."""
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        return [f for f in (obj.fget, obj.fset) if f is not None]
    return [obj] if inspect.isfunction(obj) else []


def _public_callables():
    """(qualified name, function) of every public function and method, those a class
    inherits from nmfrec's own base classes included."""
    seen = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found = [(f"{module_name}.{name}", obj)]
            elif inspect.isclass(obj):
                found = []
                for klass in reversed(obj.__mro__):
                    if not klass.__module__.startswith("nmfrec"):
                        continue
                    for attr, value in vars(klass).items():
                        if attr.startswith("_") and attr != "__init__":
                            continue
                        found += [(f"{module_name}.{name}.{attr}", f)
                                  for f in _functions(value)]
            else:
                continue
            for qualname, function in found:
                # typing.Protocol puts its own __init__ on a protocol class
                if function.__module__.startswith("nmfrec") and function not in seen:
                    seen.add(function)
                    yield qualname, function


PUBLIC = list(_public_callables())


def test_the_public_api_is_found():
    names = {q for q, _ in PUBLIC}
    assert {"nmfrec.Recommender.fit", "nmfrec.Recommender.predict",
            "nmfrec.Recommender.__init__", "nmfrec.Recommender.component_names_",
            "nmfrec.MaskedNMF.predict_entries", "nmfrec.BayesianNMF.transform",
            "nmfrec.RatingsMatrix.from_frame", "nmfrec.io.read_ratings_file",
            "nmfrec.evaluation.precision_at_k", "nmfrec.spark.local_session",
            "nmfrec.model_selection.GridSearch.plot"} <= names
    assert len(PUBLIC) > 150


def _unannotated(function):
    sig = inspect.signature(function)
    missing = [p.name for i, p in enumerate(sig.parameters.values())
               if p.annotation is inspect.Parameter.empty
               and not (i == 0 and p.name in ("self", "cls"))]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("qualname, function", PUBLIC, ids=[q for q, _ in PUBLIC])
def test_every_public_signature_is_annotated(qualname, function):
    assert _unannotated(function) == [], f"{qualname} lacks annotations"


def test_the_check_sees_a_missing_annotation():
    def half(self, x: int, y):
        return x

    def whole(self, x: int, *, y: str = "") -> int:
        return x

    assert _unannotated(half) == ["y", "return"]
    assert _unannotated(whole) == []


def test_option_literals_match_the_validated_values():
    from nmfrec import _init, bayes, nmf, ratings, recommender
    from nmfrec.evaluation import protocol

    def values(alias):
        return set(typing.get_args(alias))

    assert values(_typing.Duplicates) == set(ratings.DUPLICATE_POLICIES)
    assert values(_typing.Feedback) == set(nmf.FEEDBACKS)
    assert values(_typing.Solver) == set(nmf.SOLVERS) == set(recommender.MAP_SOLVERS)
    assert values(_typing.Init) == set(_init.INITS)
    assert values(_typing.Prior) == set(bayes.PRIORS)
    assert values(_typing.Noise) == set(bayes.NOISE)
    assert values(_typing.RegScale) == set(nmf.REG_SCALES)
    assert values(_typing.Preference) == set(nmf.PREFERENCES)
    assert values(_typing.Unknown) == set(recommender.UNKNOWN_POLICIES)
    assert values(_typing.Ranking) == set(recommender.RANKINGS)
    assert set(protocol.PROTOCOLS) == {"rating", "ranking"}
    # the rating part's solver: the Bayesian one or a penalized fit
    hints = nmfrec.Recommender.__init__.__annotations__["solver"]
    assert set(re.findall(r"['\"](\w+)['\"]", hints)) == {"gibbs", *recommender.MAP_SOLVERS}
    # metrics: missing="error" or "ignore", and nothing else is accepted
    from nmfrec.evaluation import rmse
    assert values(_typing.Missing) == {"error", "ignore"}
    with pytest.raises(ValueError, match="missing must be 'error' or 'ignore'"):
        rmse([1.0], [1.0], missing="drop")


def test_the_marker_ships():
    assert (ROOT / "nmfrec" / "py.typed").is_file()
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["nmfrec"]


USER_SCRIPT = '''
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from typing_extensions import assert_type

import nmfrec
from nmfrec import BayesianNMF, MaskedNMF, RatingsMatrix, Recommender, Vocabulary
from nmfrec.datasets import make_ratings
from nmfrec.evaluation import (CVResult, Split, cross_validate, evaluate, kfold, precision_at_k,
                               random_split, rmse)
from nmfrec.io import read_ratings_file
from nmfrec.model_selection import GridSearch, select_rank

df = make_ratings(50, 40, 600, seed=0)
assert_type(df, pd.DataFrame)
df2, W, H = make_ratings(50, 40, 600, return_factors=True)
assert_type(W, npt.NDArray[np.floating[Any]])

rec = Recommender(n_components=2, solver="gibbs", feedback="explicit", random_state=0)
assert_type(rec.fit(df), Recommender)
assert_type(rec.fit(df, duplicates="mean", item_titles={1: "Toy Story"}), Recommender)
assert_type(rec.predict(1, 2), float)
assert_type(rec.predict("u1", "i2"), float)
assert_type(rec.predict(np.int64(1), 2), float)
assert_type(rec.predict([1, 2], [3, 4]), npt.NDArray[np.floating[Any]])
assert_type(rec.predict(df[["user", "item"]]), npt.NDArray[np.floating[Any]])
assert_type(rec.predict(1, 2, clip=False, unknown="baseline"), float)
assert_type(rec.recommend(1, k=5, exclude=[3]), pd.DataFrame)
assert_type(rec.recommend_many([1, 2], k=5), pd.DataFrame)
assert_type(rec.recommend_new({1: 5.0, 2: 3.0}, k=3), pd.DataFrame)
assert_type(rec.similar_items(3), pd.DataFrame)
assert_type(rec.explain(1, 2), pd.DataFrame)
assert_type(rec.fold_in({1: 4.0}), npt.NDArray[np.floating[Any]])
assert_type(rec.component_names_, list[str])
assert_type(rec.resolved_params(), dict[str, Any])
assert_type(rec.score(df), float)
assert_type(rec.save(Path("model.npz")), str)
assert_type(rec.save("model.npz"), str)
assert_type(Recommender.load("model.npz"), Recommender)
assert_type(Recommender.load(Path("model.npz")), Recommender)

class MyRecommender(Recommender):
    pass

assert_type(MyRecommender().fit(df), MyRecommender)
assert_type(MyRecommender.load("model.npz"), MyRecommender)

X = sp.random(20, 10, density=0.3, format="csr", random_state=0)
nmf = MaskedNMF(n_components=3, solver="mu", init="nndsvda", random_state=np.random.default_rng(0))
assert_type(nmf.fit(X), MaskedNMF)
assert_type(nmf.fit_transform(np.full((3, 3), np.nan)), npt.NDArray[np.floating[Any]])
assert_type(nmf.transform(X), npt.NDArray[np.floating[Any]])
assert_type(nmf.predict_entries([0, 1], [2, 3]), npt.NDArray[np.floating[Any]])
assert_type(nmf.score(X), float)
assert_type(BayesianNMF(prior="ard").fit(X), BayesianNMF)

R = RatingsMatrix.from_frame(df)
assert_type(R, RatingsMatrix)
assert_type(R.shape, tuple[int, int])
assert_type(nmfrec.as_ratings_matrix(X), RatingsMatrix)
assert_type(Vocabulary(["a", "b"]).index(["a"]), npt.NDArray[np.integer[Any]])
assert_type(read_ratings_file("ratings.csv", sep=","), pd.DataFrame)
assert_type(read_ratings_file(Path("ratings.csv")), pd.DataFrame)

split = random_split(df, test_size=0.2, random_state=0)
assert_type(split, Split)
train, test = split
assert_type(evaluate(rec, train, test, k=10), dict[str, Any])
assert_type(cross_validate(Recommender, kfold(df, 3)), CVResult)
assert_type(rmse([1.0, 2.0], np.array([1.5, 2.0])), float)
recs = np.array([[1, 2, 3]])
assert_type(precision_at_k(recs, [{1, 3}], k=3), float)
assert_type(precision_at_k(recs, [{1, 3}], k=3, average=False), npt.NDArray[np.floating[Any]])
assert_type(GridSearch(Recommender(), {"n_components": [2, 4]}).fit(df), GridSearch)
assert_type(select_rank(Recommender(), df, ranks=[2, 4]), tuple[int, pd.DataFrame])
assert_type(select_rank(Recommender(), df, return_search=True),
            tuple[int, pd.DataFrame, GridSearch])

# misspelt options and wrong kinds of argument are type errors
rec.predict(1, 2, unknown="zero")  # type: ignore[call-overload]
rec.fit(df, duplicates="sum")  # type: ignore[arg-type]
Recommender(solver="sgd")  # type: ignore[arg-type]
Recommender(n_components="10")  # type: ignore[arg-type]
MaskedNMF(reg_scale="rating")  # type: ignore[arg-type]
rec.recommend(1, k=2.5)  # type: ignore[arg-type]
rec.save(42)  # type: ignore[arg-type]
rmse([1.0], [1.0], missing="drop")  # type: ignore[arg-type]
'''


def test_a_users_script_type_checks(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (the test extra brings it)")
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(USER_SCRIPT), encoding="utf-8")
    # the checkout's nmfrec, as a source tree (an installed copy is read through
    # py.typed the same way, its own errors silenced)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
           "--show-error-codes", "--hide-error-context", "--no-pretty",
           "--cache-dir", str(ROOT / ".mypy_cache"),
           # pandas, scipy and scikit-learn ship no type information of their own
           "--disable-error-code", "import-untyped",
           str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=600)
    lines = [l for l in out.stdout.splitlines() if ": error:" in l or ": note:" in l]
    # mypy names the script relative to its working folder, the package by MYPYPATH
    user = [l for l in lines if (tmp_path / l.partition(":")[0]).resolve() == script.resolve()]
    # in the package itself, only a broken annotation (its bodies are not typed yet)
    broken = re.compile(r"\[(name-defined|valid-type|overload-overlap|no-overload-impl|"
                        r"syntax)\]|Incompatible default for parameter")
    package = [l for l in lines if l not in user and broken.search(l)]
    assert out.returncode in (0, 1), out.stderr
    assert lines or out.returncode == 0, out.stdout
    assert user == [], "\n".join(user)
    assert package == [], "\n".join(package)
