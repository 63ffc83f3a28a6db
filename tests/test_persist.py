"""The model file format: files written before still load and answer as they did.

``data/recommender_v1.npz`` was written by ``Recommender.save`` of nmfrec 0.1.0.dev0 at git
b36fa93 (before the file format moved to ``nmfrec._persist``), on synthetic ratings with
string user ids, integer item ids, titles with gaps and a user added by ``update``.
``data/recommender_v1.json`` holds what that model answered then: predictions,
rankings, factors, parameters.

``data/recommender_v2_explicit.npz`` and ``data/recommender_v2_implicit.npz`` were written by
``Recommender.save`` at git 959cfcb (format version 2, before the defaults followed the
data): the default model (Bayesian rating part with 20 sweeps, preference part) and
``feedback="implicit"``, on synthetic ratings with string user ids, titles with gaps and a
user added by ``update``; the ``.json`` files beside them hold what they answered then.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nmfrec import Recommender
from nmfrec._persist import (CHECKSUM_KEY, FORMAT_NAME, FORMAT_VERSION, META_KEY, digest,
                             read_npz, write_npz)
from nmfrec._serving import TOLERANCE

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def v1():
    with open(DATA / "recommender_v1.json") as f:
        expected = json.load(f)
    return Recommender.load(DATA / "recommender_v1.npz"), expected


def test_a_v1_file_loads_and_answers_as_when_it_was_saved(v1):
    rec, expected = v1
    params = rec.get_params()
    # the parameters left at None then are written in with the values they had then, and
    # a version-1 model ranks by its own predictions, as it did
    for name, value in expected["params"].items():
        if value is not None or name in ("alpha", "missing_weight", "preference"):
            assert params[name] == value, name
    assert (params["n_components"], params["l2_W"], params["l2_H"], params["reg_scale"]) == \
        (3, 0.1, 0.15, "count")
    assert params["ranking"] == "rating" and rec.ranking_model_ is rec.model_
    assert list(rec.columns_) == expected["columns"]
    assert (len(rec.users_), len(rec.items_)) == (expected["n_users"], expected["n_items"])
    assert rec.component_names_ == expected["component_names"]
    pairs = pd.DataFrame(expected["pairs"])
    assert rec.predict(pairs).tolist() == expected["predict"]          # bitwise
    for user, ref in expected["recommend"].items():
        got = rec.recommend(user, k=4)
        assert got["item"].tolist() == ref["item"]
        assert got["score"].tolist() == ref["score"]
        assert [None if pd.isna(t) else t for t in got["title"]] == ref["title"]
    assert rec.user_factors("new").tolist() == expected["user_factors_new"]


def test_a_v1_model_saved_again_is_written_in_the_current_format_and_answers_alike(v1, tmp_path):
    rec, expected = v1
    path = rec.save(tmp_path / "again.npz")
    meta, arrays = read_npz(path)
    assert meta["format"] == FORMAT_NAME and meta["format_version"] == FORMAT_VERSION == 3
    assert meta["model"]["kind"] == "masked_nmf" and meta["ranking_model"] is None
    with np.load(DATA / "recommender_v1.npz") as old:
        for name in ("W", "H_t", "ratings_data", "ratings_indices", "user_labels", "item_titles"):
            np.testing.assert_array_equal(arrays[name], old[name], err_msg=name)
    again = Recommender.load(path)
    assert again.get_params() == rec.get_params()
    pairs = pd.DataFrame(expected["pairs"])
    assert again.predict(pairs).tolist() == expected["predict"]


def test_write_and_read_round_trip_with_checksum(tmp_path):
    arrays = {"a": np.arange(5.0), "b": np.array(["x", "yz"])}
    path = write_npz(tmp_path / "m.npz", {"answer": 42}, arrays)
    meta, back = read_npz(path)
    assert meta["answer"] == 42 and meta["format"] == FORMAT_NAME
    assert back.keys() == arrays.keys()
    for name in arrays:
        np.testing.assert_array_equal(back[name], arrays[name])
    # the checksum covers names, dtypes, shapes and bytes
    meta_json = json.dumps(meta, sort_keys=True)
    assert digest(meta_json, back) == digest(meta_json, arrays)
    assert digest(meta_json, {"a": arrays["a"].astype(np.float32), "b": arrays["b"]}) != \
        digest(meta_json, arrays)
    assert digest(meta_json, {"a": arrays["a"].reshape(5, 1), "b": arrays["b"]}) != \
        digest(meta_json, arrays)


def test_read_refuses_a_changed_array(tmp_path):
    path = write_npz(tmp_path / "m.npz", {}, {"a": np.arange(5.0)})
    with np.load(path) as npz:
        content = {name: npz[name] for name in npz.files}
    content["a"] = content["a"] + 1
    np.savez(tmp_path / "changed.npz", **content)
    with pytest.raises(ValueError, match=r"changed\.npz: corrupted: the SHA-256 checksum"):
        read_npz(tmp_path / "changed.npz")


@pytest.fixture(scope="module", params=["explicit", "implicit"])
def v2(request):
    with open(DATA / f"recommender_v2_{request.param}.json") as f:
        expected = json.load(f)
    return Recommender.load(DATA / f"recommender_v2_{request.param}.npz"), expected


def _answers_as_saved(rec, expected):
    pairs = pd.DataFrame(expected["pairs"])
    assert rec.predict(pairs).tolist() == expected["predict"]          # bitwise
    for user, ref in expected["recommend"].items():
        got = rec.recommend(user, k=4)
        assert got["item"].tolist() == ref["item"]
        # served scores are BLAS products: predict's sums to the documented tolerance
        np.testing.assert_allclose(got["score"], ref["score"], rtol=TOLERANCE[np.dtype("f8")])
    got = rec.recommend_new({1: 5.0, 4: 3.0}, k=3)       # folded in as version 2 did
    assert got["item"].tolist() == expected["recommend_new"]["item"]
    np.testing.assert_allclose(got["score"], expected["recommend_new"]["score"], rtol=1e-12)
    assert rec.user_factors("new").tolist() == expected["user_factors_new"]
    assert rec.component_names_ == expected["component_names"]


def test_a_v2_file_loads_and_answers_as_when_it_was_saved(v2):
    rec, expected = v2
    assert rec.get_params() == {**expected["params"], "prior": None}  # None: "as saved"
    feedback = expected["params"]["feedback"]
    assert rec.feedback_ == feedback and rec.predicts_ratings == (feedback == "explicit")
    # the parts keep version 2's absolute penalties and fixed sweeps
    part = rec.ranking_model_
    assert (part.reg_scale, part.l2_W) == ("none", 30.0)
    if feedback == "explicit":
        assert (rec.model_.n_sweeps, rec.model_.prior, rec.model_.n_samples) == (2, "wishart", 20)
    _answers_as_saved(rec, expected)


def test_a_v2_model_saved_again_answers_alike(v2, tmp_path):
    rec, expected = v2
    path = rec.save(tmp_path / "again.npz")
    meta, _ = read_npz(path)
    assert meta["format_version"] == FORMAT_VERSION == 3
    assert meta["ranking_model"] is None or meta["ranking_model"]["params"]["reg_scale"] == "none"
    again = Recommender.load(path)
    _answers_as_saved(again, expected)
