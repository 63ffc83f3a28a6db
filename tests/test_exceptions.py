"""nmfrec.exceptions: one class per kind of failure, whichever layer raises it; and the
public names the packages export."""

import warnings

import pandas as pd
import pytest

from nmfrec import Recommender
from nmfrec.evaluation import Popularity, evaluate, random_split, temporal_split
from nmfrec.exceptions import MissingColumnError, ProtocolSkippedWarning


def _ratings():
    return pd.DataFrame({"user": [1, 1, 2, 2, 3, 3], "item": [1, 2, 1, 3, 2, 3],
                         "rating": [5.0, 3.0, 4.0, 2.0, 1.0, 4.0]})


def test_splits_raise_missing_column_error():
    # (a frame of only user and item columns is click data, which splits take)
    with pytest.raises(MissingColumnError, match=r"^ratings is missing column\(s\) \['item'\]"):
        random_split(_ratings().drop(columns="item"))
    # ... but not one with another column instead of the ratings
    with pytest.raises(MissingColumnError, match=r"^ratings: no rating column found"):
        random_split(_ratings().rename(columns={"rating": "stars"}))
    with pytest.raises(MissingColumnError, match=r"^ratings is missing column\(s\) \['when'\]"):
        temporal_split(_ratings(), timestamp_col="when")


def test_evaluate_refuses_a_stars_frame_with_missing_column_error():
    stars = _ratings().rename(columns={"rating": "stars"})
    with pytest.raises(MissingColumnError, match=r"^train: no rating column found.*'stars'"):
        evaluate(Popularity(), stars, stars)


def test_fit_raises_the_same_class_as_evaluation():
    # (a table of only user and item columns is click data, which fit takes)
    with pytest.raises(MissingColumnError, match="no rating column found"):
        Recommender(n_components=2, max_iter=2).fit(_ratings().rename(columns={"rating": "stars"}))


def test_skipped_protocol_warning_can_be_filtered_by_its_category():
    df = _ratings()

    class Scores(Popularity):
        predicts_ratings = False

    assert issubclass(ProtocolSkippedWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ProtocolSkippedWarning)
        res = evaluate(Scores(), df, df, protocols="rating")
    assert res["skipped"]["rating"].startswith("Scores.predict does not return ratings")


_EVALUATION = ["CVResult", "ColdStartReport", "GlobalMean", "Popularity", "Split",
               "SupportsPredict", "SupportsRecommend", "check_ratings_frame",
               "cold_start_report", "coverage_at_k", "cross_validate", "evaluate",
               "hit_rate_at_k", "implicit_precision_at_k", "kfold", "last_n_split",
               "limited_auc_at_k", "mae", "map_at_k", "ndcg_at_k", "precision_at_k",
               "predicts_ratings", "random_split", "recall_at_k", "rmse", "temporal_split",
               "user_kfold", "user_split", "PAD", "attribute_overlap", "similar_items_overlap",
               "interval_coverage", "log_score", "pit_histogram"]
_DATASETS = ["DOWNLOAD_TIMEOUT", "Dataset", "DatasetNotFoundError", "ENV_VAR",
             "ML100K_DEFAULT_FOLDS", "ML100K_FOLDS", "ML100K_GENRES", "MOVIELENS", "Release",
             "SIZE_ALIASES", "SYNTHETIC_SIZES", "data_home_source", "fetch_movielens",
             "find_movielens", "get_data_home", "load_movielens", "make_ratings",
             "make_ratings_like", "ml100k_folds", "synthetic_shape", "PLANTED_MEANS",
             "PlantedTastes", "make_planted"]


@pytest.mark.parametrize("package, names", [("nmfrec.evaluation", _EVALUATION),
                                            ("nmfrec.datasets", _DATASETS)])
def test_packages_export_their_public_names_once(package, names):
    """The packages' ``__all__``, built from their modules' lists, is the public surface."""
    namespace = {}
    exec(f"from {package} import *", namespace)
    pkg = __import__(package, fromlist=["__all__"])
    assert sorted(pkg.__all__) == sorted(names) and len(set(pkg.__all__)) == len(pkg.__all__)
    assert set(names) <= set(namespace)
