"""Fast checks of benchmarks/shapes.py: its measures against hand-computed references, and
a smoke run on small planted sets with popularity and nmfrec."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import peers  # noqa: E402
import shapes  # noqa: E402
from nmfrec.datasets import make_planted  # noqa: E402


class _Lists:
    """A fitted 'model' that returns fixed top lists (best first)."""

    def __init__(self, lists):
        self.lists = lists

    def recommend_many(self, users, k=10, exclude_seen=True):
        rows = [(u, i, r + 1) for u in users for r, i in enumerate(self.lists[u][:k])]
        return pd.DataFrame(rows, columns=["user", "item", "rank"])


def _ndcg(hits, n_relevant, k):
    dcg = sum(h / np.log2(r + 2) for r, h in enumerate(hits[:k]))
    ideal = sum(1 / np.log2(r + 2) for r in range(min(k, n_relevant)))
    return dcg / ideal


def test_click_metrics_equal_hand_computed_values():
    # 30 train items; user 1 rated items 0-4, user 2 rated items 5-9 in train
    train = pd.DataFrame({"user": [1] * 5 + [2] * 5, "item": list(range(10))})
    train = pd.concat([train, pd.DataFrame({"user": 3, "item": list(range(10, 30))})])
    # held out: user 1 -> 10, 11, 25 (25 ranked 15th); user 2 -> 12 and 99 (not in train);
    # user 3 has nothing held out; user 4 is not in train (counted, not scored)
    test = pd.DataFrame({"user": [1, 1, 1, 2, 2, 4], "item": [10, 11, 25, 12, 99, 10]})
    lists = {1: [10, 13, 14, 11, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 5],
             2: [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 0, 1, 12],
             3: list(range(20))}
    got = shapes.click_metrics(_Lists(lists), train, test)
    hits1 = [1, 0, 0, 1] + [0] * 10 + [1] + [0] * 5
    hits2 = [0] * 19 + [1]
    assert got["p@10"] == pytest.approx((2 / 10 + 0 / 10) / 2)
    assert got["r@20"] == pytest.approx((3 / 3 + 1 / 2) / 2)
    assert got["ndcg@20"] == pytest.approx((_ndcg(hits1, 3, 20) + _ndcg(hits2, 2, 20)) / 2)
    assert got["n_users_scored"] == 2


def test_liked_share_and_chance_equal_brute_force():
    p = make_planted(30, 16, n_genres=4, liked_genres=1, density=0.3, seed=2)
    train, _ = shapes.permutation_split(p.data, 0.2)
    items = np.sort(train["item"].unique())
    rng = np.random.default_rng(0)
    lists, want, chance = {}, [], []
    for u in np.sort(train["user"].unique()):
        seen = set(train.loc[train["user"] == u, "item"])
        cand = [i for i in items if i not in seen]
        lists[u] = list(rng.permutation(cand)[:5])
        liked = [i in set(p.liked_items(u)) for i in lists[u]]
        want.append(np.mean(liked))
        chance.append(np.mean([i in set(p.liked_items(u)) for i in cand]))
    assert shapes.liked_share(_Lists(lists), train, p) == pytest.approx(np.mean(want))
    assert shapes.chance_share(train, p) == pytest.approx(np.mean(chance))


def test_permutation_split_is_the_ml1m_protocol():
    df = pd.DataFrame({"user": np.arange(50), "item": np.arange(50) % 7, "rating": 3.0})
    train, test = shapes.permutation_split(df, 0.1, seed=0)
    order = np.random.default_rng(0).permutation(50)
    assert train["user"].tolist() == order[:45].tolist()
    assert test["user"].tolist() == order[45:].tolist()


def test_validated_ease_chooses_on_train_only():
    p = make_planted(150, 40, tilt=0.8, density=0.3, seed=1)
    train, test = shapes.permutation_split(p.data, 0.2)
    model = shapes.ValidatedEASE(4.0, lambdas=(1.0, 30.0, 1000.0)).fit(train)
    # the documented rule, recomputed: best validation P@10 on a split of train
    fit_part, validation = shapes.permutation_split(train, 0.1)
    from nmfrec.evaluation import evaluate

    scores = {lam: evaluate(peers.EASE(lam), fit_part, validation, k=10, fit=True,
                            protocols="ranking")["precision"] for lam in (1.0, 30.0, 1000.0)}
    assert model.validation_ == pytest.approx(scores)
    best = max(scores.values())
    assert model.lam_ == max(lam for lam, s in scores.items() if s == best)
    # refitted on the whole training frame
    np.testing.assert_allclose(model.model_.B_, peers.EASE(model.lam_).fit(train).B_)


def test_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as e:
        shapes.parse_args(["--help"])
    assert e.value.code == 0
    assert "--sets" in capsys.readouterr().out
    assert shapes.main(["--sets", "ml-5m"]) == 2
    assert "unknown set 'ml-5m'" in capsys.readouterr().err
    assert shapes.main(["--sets", "planted", "--models", "nope"]) == 2
    assert shapes.main(["--folds", "u9"]) == 2
    assert shapes.main(["--scale-shape", "big"]) == 2
    assert shapes._expand_sets("planted-120x60") == [
        f"planted-120x60-{v}" for v in shapes.PLANTED_VARIANTS]


def test_smoke_run_on_planted_sets(tmp_path, capsys):
    sets = "planted-120x60-ratings-tilted,planted-120x60-clicks-tilted"
    assert shapes.main(["--sets", sets, "--models", "nmfrec,popularity",
                        "--out", str(tmp_path)]) == 0
    md = capsys.readouterr().out
    assert "**planted 120x60**" in md and "| popularity |" in md
    result = json.loads((tmp_path / "shapes.json").read_text())
    assert (tmp_path / "shapes.md").read_text() in md
    assert set(result["sets"]) == set(sets.split(","))
    for name, block in result["sets"].items():
        assert [m["name"] for m in block["models"]] == ["nmfrec", "popularity"]
        pop = block["models"][1]
        assert pop["status"] == "ok"
        split = pop["splits"]["80/20"]
        assert 0 <= split["liked@5"] <= 1 and split["fit_time"] >= 0
        assert ("precision" if block["kind"] == "ratings" else "p@10") in split
        assert 0 < block["extra"]["chance_liked"] < 1
        # nmfrec runs, or says why not (a click table it does not accept)
        assert block["models"][0]["status"] == "ok" or block["models"][0]["reason"]
    ratings = result["sets"]["planted-120x60-ratings-tilted"]["models"][0]
    assert ratings["status"] == "ok" and "rmse" in ratings["splits"]["80/20"]
    for key in ("machine", "git_commit", "date", "loadavg_start", "loadavg_end"):
        assert key in result


def test_partial_run_writes_nothing_without_out(monkeypatch, capsys):
    def results_dir(out, full):
        assert out is None and not full  # never benchmarks/results from a partial run
        return None

    monkeypatch.setattr(shapes, "results_dir", results_dir)
    assert shapes.main(["--sets", "planted-120x60-ratings-random", "--models",
                        "popularity"]) == 0
    assert "partial run: nothing written" in capsys.readouterr().out


@pytest.mark.slow
def test_scale_runs_in_a_fresh_process():
    rec = shapes.run_scale("300x200x6000")
    assert rec["status"] == "ok", rec.get("reason")
    assert rec["n_ratings"] == 6000 and rec["fit_s"] > 0
    assert rec["peak_rss"] >= rec["rss_after_import"] > 0
    assert rec["nmfrec_path"].startswith(str(shapes.ROOT))
