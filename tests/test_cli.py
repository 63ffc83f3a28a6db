"""The ``nmfrec`` command end to end, in a subprocess, against in-process references.

fit -> recommend -> evaluate run as ``python -m nmfrec`` on a small synthetic set; the
outputs are compared with what the library computes in this process (the saved model
with ``Recommender.fit``, the printed list with ``Recommender.recommend``, the table with
``nmfrec.evaluation.evaluate`` on the same split and seed). Error paths check the exit
code and the one-line message on stderr. Cheap checks call ``main(argv)`` in-process.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nmfrec
from nmfrec import Recommender
from nmfrec.cli import build_parser, main
from nmfrec._validation import locate_row
from nmfrec.cli._data import _canonical, label, read_ratings
from nmfrec.cli._params import model_params as _model_params
from nmfrec.datasets import make_ratings
from nmfrec.evaluation import (Popularity, evaluate, kfold, random_split, temporal_split,
                               user_split)
from nmfrec.io import id_from_text, ids_from_text
from nmfrec.ratings import Vocabulary

FAST = ["--n-components", "4", "--max-iter", "5"]
FAST_PARAMS = dict(n_components=4, max_iter=5, random_state=0)  # the CLI seeds with 0


def _has_parquet_engine():
    import importlib.util
    return any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet"))


# a plain `pip install nmfrec` has no Parquet engine (make test-newest's second step runs
# that way); the table outputs are checked in a format every install writes, and in
# Parquet where an engine is installed
TABLE_SUFFIXES = [".json", pytest.param(".parquet", marks=pytest.mark.skipif(
    not _has_parquet_engine(), reason="writing Parquet needs pyarrow or fastparquet"))]


def read_table(path):
    """Read back a table the CLI wrote with -o, by its suffix."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".json":
        return pd.read_json(path, orient="records", dtype=False)
    return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")

# max_iter=5 stops before convergence on purpose (speed)
pytestmark = pytest.mark.filterwarnings("ignore:.*reached max_iter")


def run(*args, cwd=None):
    """``python -m nmfrec ARGS`` with the current interpreter; CompletedProcess.

    The subprocess imports the ``nmfrec`` this process imports (the folder holding it
    goes first on PYTHONPATH), whatever its working directory (by default tests/) and
    whichever copy is installed.
    """
    cwd = Path(__file__).resolve().parent if cwd is None else cwd
    env = dict(os.environ)
    env.pop("NMFREC_DATA", None)
    home = str(Path(nmfrec.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([home, *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run([sys.executable, "-m", "nmfrec", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=180)


def assert_one_line_error(proc, code, *needles):
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("nmfrec: error: ")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])


def parse_table(stdout):
    """{row label: [numbers]} from the evaluate table ('-' becomes NaN)."""
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.split()[-1:] == ["fit(s)"])
    header = lines[start].split()
    rows = {}
    for ln in lines[start + 2:]:
        if not ln.strip():
            break
        if set(ln.replace(" ", "")) == {"-"}:
            continue
        toks = ln.split()
        vals = toks[-len(header):]
        rows[" ".join(toks[:-len(header)])] = [np.nan if v == "-" else float(v) for v in vals]
    return header, rows


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ratings_csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    df = make_ratings(60, 80, 1200, rank=4, seed=3)[["user", "item", "rating"]]
    path = d / "ratings.csv"
    df.to_csv(path, index=False)
    titles = pd.DataFrame({"item": np.arange(1, 81), "title": [f"Film {i}" for i in range(1, 81)]})
    titles.to_csv(d / "titles.csv", index=False)
    return path, df


@pytest.fixture(scope="module")
def fitted(ratings_csv):
    path, df = ratings_csv
    model = path.parent / "model.npz"
    proc = run("fit", path, "-o", model, "--titles", path.parent / "titles.csv", *FAST,
               "--solver", "als", "--l2", "1")
    assert proc.returncode == 0, proc.stderr
    return model, df, proc


# --------------------------------------------------------------------------- fit / recommend
def test_fit_saves_the_model_the_library_fits(fitted):
    model, df, proc = fitted
    assert model.is_file()
    assert "saved to" in proc.stdout
    got = Recommender.load(model)
    ref = Recommender(**FAST_PARAMS, solver="als", l2_W=1.0, l2_H=1.0).fit(df)
    assert got.get_params() == ref.get_params()
    np.testing.assert_allclose(got.model_.W_, ref.model_.W_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.model_.components_, ref.model_.components_, rtol=1e-10, atol=1e-12)
    assert got.item_titles_[0] == "Film 1"


def test_recommend_equals_library_recommend(fitted):
    model, df, _ = fitted
    user = int(df["user"].iloc[0])
    ref = Recommender.load(model).recommend(user, k=7)
    proc = run("recommend", model, "--user", user, "--k", 7, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout))
    assert got["rank"].tolist() == list(range(1, 8))
    assert got["item"].tolist() == ref["item"].tolist()
    np.testing.assert_allclose(got["score"], ref["score"], rtol=1e-12)
    assert got["title"].tolist() == ref["title"].tolist()

    table = run("recommend", model, "--user", user, "--k", 7, "--include-seen")
    assert table.returncode == 0, table.stderr
    ref_all = Recommender.load(model).recommend(user, k=7, exclude_seen=False)
    body = table.stdout.splitlines()[2:]
    assert [int(ln.split()[1]) for ln in body] == ref_all["item"].tolist()
    assert all(f"Film {i}" in table.stdout for i in ref_all["item"])


def test_headerless_tab_file_and_u_item_titles(tmp_path, capsys):
    df = make_ratings(30, 40, 400, seed=1)
    data = tmp_path / "u.data"
    df.to_csv(data, sep="\t", header=False, index=False)
    lines = [f"{i}|Caf\xe9 {i} (1995)|01-Jan-1995||http://x|" + "|".join(["0"] * 19)
             for i in range(1, 41)]
    (tmp_path / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    model = tmp_path / "m.npz"
    assert main(["fit", str(data), "-o", str(model), "--titles", str(tmp_path / "u.item"),
                 *FAST]) == 0
    rec = Recommender.load(model)
    assert rec.ratings_.nnz == 400 and rec.columns_ == ("user", "item", "rating")
    assert main(["recommend", str(model), "--user", "1", "--k", "3"]) == 0
    out = capsys.readouterr().out
    assert "Caf\xe9" in out


def test_explicit_sep_and_names(tmp_path):
    df = make_ratings(30, 40, 400, seed=2)
    data = tmp_path / "ratings.txt"
    df[["item", "user", "rating"]].to_csv(data, sep=";", header=False, index=False)
    model = tmp_path / "m.npz"
    assert main(["fit", str(data), "-o", str(model), "--sep", ";", "--names",
                 "movie,person,stars", "--user-col", "person", "--item-col", "movie",
                 "--rating-col", "stars", *FAST]) == 0
    rec = Recommender.load(model)
    assert len(rec.users_) == df["user"].nunique()
    assert rec.columns_ == ("person", "movie", "stars")


# --------------------------------------------------------------------------- evaluate
@pytest.mark.slow
def test_evaluate_synthetic_table_equals_library_evaluate(tmp_path):
    out_json = tmp_path / "res.json"
    proc = run("evaluate", "--dataset", "synthetic", "--synthetic-size", "120x150x3000",
               "--kfold", 3, "--seed", 5, "--baselines", "--json", out_json, *FAST,
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert "SYNTHETIC" in first and "120 users x 150 items" in first
    assert proc.stderr.count("[nmfrec ") == 3  # a progress line per fold

    df = make_ratings(120, 150, 3000, seed=5)
    splits = list(kfold(df, n_splits=3, random_state=5))
    ref = [evaluate(Recommender(**FAST_PARAMS), s.train, s.test, k=10) for s in splits]
    pop = [evaluate(Popularity(), s.train, s.test, k=10) for s in splits]
    keys = ["rmse", "mae", "precision", "recall", "ndcg", "map", "coverage"]

    doc = json.loads(out_json.read_text())
    for got, want in zip(doc["models"]["nmfrec"]["folds"], ref):
        np.testing.assert_allclose([got[k] for k in keys], [want[k] for k in keys],
                                   rtol=1e-9)

    header, rows = parse_table(proc.stdout)
    assert header == ["RMSE", "MAE", "P@10", "R@10", "NDCG@10", "MAP@10", "coverage",
                      "fit(s)"]
    for f, want in enumerate(ref, start=1):
        np.testing.assert_allclose(rows[f"fold{f}"][:7], [want[k] for k in keys], atol=5e-5)
    mean = {k: np.mean([r[k] for r in ref]) for k in keys}
    std = {k: np.std([r[k] for r in ref], ddof=1) for k in keys}
    np.testing.assert_allclose(rows["mean"][:7], [mean[k] for k in keys], atol=5e-5)
    np.testing.assert_allclose(rows["± std"][:7], [std[k] for k in keys], atol=5e-5)
    pmean = [np.mean([r[k] for r in pop]) for k in keys]
    np.testing.assert_allclose(rows["popularity mean"][:7], pmean, atol=5e-5)
    gm = rows["global mean mean"]
    assert not np.isnan(gm[0]) and np.isnan(gm[2])  # rating metrics only


def test_evaluate_in_worker_processes_prints_what_one_process_prints(tmp_path, capsys):
    # --n-jobs 2: the folds fitted in two worker processes (joblib), the same table, the
    # progress lines in fold order, and the workers' warnings said by this process
    # (the set of test_evaluate_synthetic_table_equals_library_evaluate, whose folds warn)
    argv = ["evaluate", "--dataset", "synthetic", "--synthetic-size", "120x150x3000",
            "--kfold", "3", "--seed", "5", "--baselines", *FAST]
    said = {}
    for n_jobs in ("1", "2"):
        assert main([*argv, "--n-jobs", n_jobs]) == 0
        cap = capsys.readouterr()
        header, rows = parse_table(cap.out)
        said[n_jobs] = (header, {name: row[:-1] for name, row in rows.items()},  # not fit(s)
                        [re.sub(r", [\d.]+s$", "", line) for line in cap.err.splitlines()])
    (h1, rows1, err1), (h2, rows2, err2) = said["1"], said["2"]
    assert h1 == h2 and rows1.keys() == rows2.keys()
    for name in rows1:
        np.testing.assert_allclose(rows2[name], rows1[name], rtol=1e-9, equal_nan=True)
    assert err2 == err1
    assert [line.split("]")[0] for line in err1 if line.startswith("[")] == [
        f"[{m} {f}/3" for m in ("nmfrec", "popularity", "global mean") for f in (1, 2, 3)]
    assert any(line.startswith("nmfrec: warning: ") for line in err1)


def test_evaluate_auto_says_synthetic_when_no_movielens(tmp_path, capsys):
    empty = tmp_path / "nothing-here"
    code = main(["evaluate", "--data-home", str(empty), "--synthetic-size", "80x100x1500",
                 "--kfold", "2", "--protocol", "rating", *FAST])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("nmfrec evaluate: MovieLens 100K not found")
    assert str(empty) in out[0]
    assert "SYNTHETIC" in out[1]
    header, rows = parse_table("\n".join(out))
    assert header[:2] == ["RMSE", "MAE"] and "P@10" not in header
    assert set(rows) == {"fold1", "fold2", "mean", "± std"}


@pytest.mark.movielens
def test_evaluate_movielens_100k_fold(tmp_path, movielens_home):
    proc = run("evaluate", "--dataset", "ml-100k", "--data-home", movielens_home,
               "--folds", "u1", "--max-iter", 5, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert "using MovieLens 100K (real data)" in first and "u1" in first
    assert str(movielens_home / "ml-100k") in first
    _, rows = parse_table(proc.stdout)
    assert set(rows) == {"u1", "mean", "± std"}
    assert 0.8 < rows["u1"][0] < 1.2  # RMSE of a real model on real ratings


# --------------------------------------------------------------------------- errors
@pytest.mark.slow
def test_missing_files_bad_column_unknown_user(fitted, ratings_csv, tmp_path):
    model, df, _ = fitted
    path, _ = ratings_csv
    assert_one_line_error(run("fit", tmp_path / "nope.csv", "-o", tmp_path / "m.npz"),
                          1, "nope.csv", "does not exist")
    assert_one_line_error(run("recommend", tmp_path / "nope.npz", "--user", 1),
                          1, "nope.npz", "does not exist")
    assert_one_line_error(run("fit", path, "-o", tmp_path / "m.npz", "--user-col", "usr"),
                          1, "user column 'usr' not found", "'user', 'item', 'rating'")
    assert not (tmp_path / "m.npz").exists()
    # an output that cannot be written is refused before the fit, not after it
    for where, words in ((tmp_path, "it is a folder; give the model file's name"),
                         (tmp_path / "no" / "m.npz", "does not exist")):
        proc = run("fit", path, "-o", where)
        assert_one_line_error(proc, 1, f"cannot write {where}: ", words)
        assert "fitting" not in proc.stderr and "cannot save" not in proc.stderr
    assert_one_line_error(run("recommend", model, "--user", 99999), 1,
                          "user 99999 is not in the training data")
    assert_one_line_error(run("recommend", model, "--user", "bob"), 1,
                          "'bob'", "integers")


@pytest.mark.parametrize("argv, needle", [
    (["evaluate", "--n-components", "0"], "--n-components must be None or an integer >= 1; got 0"),
    (["evaluate", "--l2", "-1"], "--l2 must be None or a finite number >= 0"),
    (["evaluate", "--l2", "3"], "--l2-W and --l2-H (both set by --l2) are penalties of a "
                                "penalized rating part (--l2 3.0), which the Bayesian"),
    (["evaluate", "--solver", "newton"], "--solver must be one of None, 'gibbs', 'als', 'mu', 'pgd'"),
    (["evaluate", "--max-iter", "many"], "--max-iter: expected an integer; got 'many'"),
    (["evaluate", "--dataset", "ml-7"], "invalid choice: 'ml-7'"),
    (["evaluate", "--folds", "u9"], "--folds must be comma-separated official ml-100k folds"),
    (["evaluate", "--folds", "u1", "--kfold", "3"], "either --folds"),
    (["evaluate", "--synthetic-size", "huge"], "--synthetic-size must be"),
    (["recommend", "m.npz"], "one of the arguments --user --all --users is required"),
    (["recommend", "m.npz", "--user", "1", "--all"], "argument --all: not allowed with "
                                                     "argument --user"),
    (["similar", "m.npz"], "the following arguments are required: --item"),
    (["predict", "m.npz"], "the following arguments are required: --pairs"),
    (["predict", "m.npz", "--pairs", "p.csv", "--unknown", "zero"],
     "argument --unknown: invalid choice: 'zero'"),
    (["fit", "r.csv"], "the following arguments are required: -o/--output"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_usage_errors_exit_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nmfrec: error: "), err
    assert needle in err[0]


def test_parquet_without_engine_suggests_csv(tmp_path, capsys, monkeypatch):
    # pandas' own error when neither pyarrow nor fastparquet is importable (the test
    # environment has pyarrow, for Spark)
    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow', "
                          "'fastparquet'.")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    (tmp_path / "r.parquet").write_bytes(b"PAR1")
    assert main(["fit", str(tmp_path / "r.parquet"), "-o", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert "pyarrow" in err and "CSV" in err


def test_debug_shows_the_traceback(tmp_path):
    proc = run("recommend", tmp_path / "nope.npz", "--user", 1, "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


# --------------------------------------------------------------------------- help and flags
@pytest.mark.parametrize("cmd", [[], ["evaluate"], ["fit"], ["recommend"], ["similar"],
                                 ["predict"]])
def test_help_has_examples(cmd, capsys):
    assert main([*cmd, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: nmfrec") and "examples:" in out


def test_model_flags_follow_recommender_params(capsys):
    assert main(["evaluate", "--help"]) == 0
    out = capsys.readouterr().out
    for name, default in Recommender().get_params().items():
        assert "--" + name.replace("_", "-") in out, name
    args = build_parser().parse_args(["fit", "r.csv", "-o", "m.npz", "--solver", "als", "--l2", "3",
                                      "--l2-H", "0.5", "--random-state", "none",
                                      "--n-threads", "2"])
    params = _model_params(args)
    assert params["l2_W"] == 3.0 and params["l2_H"] == 0.5
    assert params["random_state"] is None and params["n_threads"] == 2
    assert set(params) == set(Recommender().get_params())
    # a boolean parameter (if the Recommender has one) takes true/false
    flags = [n for n, v in Recommender().get_params().items() if isinstance(v, bool)]
    if flags:
        flag = "--" + flags[0].replace("_", "-")
        for text, value in (("false", False), ("true", True)):
            args = build_parser().parse_args(["fit", "r.csv", "-o", "m.npz", flag, text])
            assert _model_params(args)[flags[0]] is value


# --------------------------------------------------------------------------- evaluate --ratings
@pytest.fixture(scope="module")
def own_ratings(tmp_path_factory):
    """A user's CSV with its own column names and a time column, and a titles file."""
    d = tmp_path_factory.mktemp("own")
    df = make_ratings(80, 100, 2000, rank=4, seed=7)
    own = df.rename(columns={"user": "listener", "item": "song", "rating": "stars",
                             "timestamp": "played_at"})
    path = d / "plays.csv"
    own.to_csv(path, index=False)
    titles = d / "songs.csv"
    pd.DataFrame({"song": np.arange(1, 101),
                  "title": [f"Song {i}" for i in range(1, 101)]}).to_csv(titles, index=False)
    return path, titles, df


COLS = ["--user-col", "listener", "--item-col", "song", "--rating-col", "stars",
        "--timestamp-col", "played_at"]


@pytest.mark.parametrize("split, make_split", [
    ("random", lambda df: random_split(df, test_size=0.25, random_state=3)),
    ("user", lambda df: user_split(df, test_size=0.25, random_state=3)),
    ("temporal", lambda df: temporal_split(df, test_size=0.25)),
])
@pytest.mark.slow
def test_evaluate_own_ratings_file(own_ratings, tmp_path, capsys, split, make_split):
    path, _, df = own_ratings
    out_json = tmp_path / "res.json"
    assert main(["evaluate", "--ratings", str(path), *COLS, "--split", split,
                 "--test-size", "0.25", "--seed", "3", "--json", str(out_json),
                 *FAST]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert str(path) in first and "2,000 ratings" in first and split.split("-")[0] in first
    train, test = make_split(df)
    want = evaluate(Recommender(**FAST_PARAMS), train, test, k=10)
    got = json.loads(out_json.read_text())["models"]["nmfrec"]["folds"]
    assert len(got) == 1
    keys = ["rmse", "mae", "precision", "recall", "ndcg"]
    np.testing.assert_allclose([got[0][k] for k in keys], [want[k] for k in keys], rtol=1e-9)
    assert got[0]["n_test"] == len(test)


@pytest.mark.slow
def test_evaluate_own_ratings_kfold_and_titles(own_ratings, capsys):
    path, titles, df = own_ratings
    assert main(["evaluate", "--ratings", str(path), *COLS, "--kfold", "2", "--titles",
                 str(titles), "--protocol", "ranking", *FAST]) == 0
    out = capsys.readouterr().out
    _, rows = parse_table(out)
    assert set(rows) == {"fold1", "fold2", "mean", "± std"}
    ref = [evaluate(Recommender(**FAST_PARAMS), s.train, s.test, protocols="ranking")
           for s in kfold(df, n_splits=2, random_state=0)]
    np.testing.assert_allclose([rows["fold1"][0], rows["fold2"][0]],
                               [r["precision"] for r in ref], atol=5e-5)
    example = next(ln for ln in out.splitlines() if ln.startswith("example: top 5"))
    assert example.count("Song ") == 5


@pytest.mark.parametrize("extra, code, needle", [
    (["--split", "temporal", "--timestamp-col", "nope"], 1, "timestamp column 'nope' not found"),
    (["--user-col", "usr"], 1, "user column 'usr' not found"),
    (["--user-col", "song"], 1, "user and item columns must differ; got 'song', 'song'"),
    (["--dataset", "ml-1m"], 2, "either --ratings FILE or --dataset"),
    (["--folds", "u1"], 2, "ratings file is split by"),
    (["--kfold", "3", "--split", "random"], 2, "--kfold N goes with --split kfold"),
    (["--test-size", "1.5", "--split", "random"], 2, "--test-size must be a number in (0, 1)"),
])
def test_evaluate_own_ratings_errors(own_ratings, capsys, extra, code, needle):
    path, _, _ = own_ratings
    cols = [] if "--user-col" in extra else ["--user-col", "listener"]
    assert main(["evaluate", "--ratings", str(path), *cols, "--item-col", "song",
                 "--rating-col", "stars", *extra, *FAST]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nmfrec: error: "), err
    assert needle in err[0]


def test_column_errors_name_the_flags(own_ratings, capsys):
    path, _, _ = own_ratings
    assert main(["evaluate", "--ratings", str(path), "--item-col", "song", "--rating-col",
                 "stars", *FAST]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"nmfrec: error: {path}: no user column found: expected one of "
                          "['user', 'userId'")
    assert "or --user-col; the frame has columns ['listener', 'song'" in err
    assert "user_col" not in err


def test_evaluate_says_once_why_rmse_is_missing(own_ratings, capsys):
    """An implicit-feedback model has no RMSE: one line says why, no warning per fold."""
    path, _, df = own_ratings
    assert main(["evaluate", "--ratings", str(path), *COLS, "--kfold", "2", "--feedback",
                 "implicit", "--baselines", *FAST]) == 0
    out, err = capsys.readouterr()
    s = next(iter(kfold(df, n_splits=2, random_state=0)))
    with pytest.warns(UserWarning, match="rating protocol skipped"):
        res = evaluate(Recommender(**FAST_PARAMS, feedback="implicit"), s.train, s.test)
    why = res["skipped"]["rating"]
    assert [ln for ln in out.splitlines() if "not computed" in ln] == [
        f"RMSE and MAE of nmfrec not computed ('-' in the table): {why}; --protocol ranking "
        "leaves them out."]
    assert "rating protocol skipped" not in err and "predicts_ratings" not in err
    _, rows = parse_table(out)   # the line does not run into the table
    assert np.isnan(rows["mean"][0]) and rows["popularity mean"][0] > 0


def test_evaluate_temporal_needs_a_time_column(tmp_path, capsys):
    path = tmp_path / "r.csv"
    make_ratings(30, 40, 400, seed=1)[["user", "item", "rating"]].to_csv(path, index=False)
    assert main(["evaluate", "--ratings", str(path), "--split", "temporal", *FAST]) == 2
    assert "--split temporal needs a timestamp column" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_duplicate_pairs(tmp_path, capsys):
    df = make_ratings(30, 40, 400, seed=1)[["user", "item", "rating"]]
    doubled = pd.concat([df, df.iloc[:5].assign(rating=1.0)])
    path = tmp_path / "r.csv"
    doubled.to_csv(path, index=False)
    assert main(["evaluate", "--ratings", str(path), "--kfold", "2", *FAST]) == 1
    assert "10 rows repeat a (user, item) pair" in capsys.readouterr().err
    out = tmp_path / "res.json"
    assert main(["evaluate", "--ratings", str(path), "--kfold", "2", "--duplicates", "first",
                 "--json", str(out), *FAST]) == 0
    assert "400 ratings" in capsys.readouterr().out
    folds = json.loads(out.read_text())["models"]["nmfrec"]["folds"]
    assert sum(f["n_test"] for f in folds) == 400


# --------------------------------------------------------------------------- make demo's path
@pytest.mark.slow
def test_demo_offline_hints_and_beats_popularity(tmp_path, capsys):
    """``make demo``'s ranking run on a machine without the data and without a network."""
    empty = tmp_path / "fresh"
    assert main(["evaluate", "--data-home", str(empty), "--protocol", "ranking",
                 "--baselines", "--kfold", "2"]) == 0
    out = capsys.readouterr().out
    hint = out.splitlines()[0]
    assert hint.startswith("nmfrec evaluate: MovieLens 100K not found")
    assert "offline" in hint and "--data-home" in hint and "data_home=" not in hint
    assert "https://files.grouplens.org/datasets/movielens/ml-100k.zip" in hint
    assert "SYNTHETIC" in out.splitlines()[1]
    _, rows = parse_table(out)
    assert rows["mean"][0] >= 1.3 * rows["popularity mean"][0], rows
    assert not empty.exists()


def test_no_download_says_so_in_cli_words(tmp_path, capsys):
    assert main(["evaluate", "--dataset", "ml-1m", "--data-home", str(tmp_path),
                 "--no-download", *FAST]) == 1
    err = capsys.readouterr().err
    assert "--no-download was given" in err and "--data-home" in err
    assert "download=False" not in err and "data_home=" not in err
    assert main(["evaluate", "--data-home", str(tmp_path), "--no-download", "--kfold", "2",
                 "--synthetic-size", "60x80x1200", "--protocol", "rating", *FAST]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "--no-download was given" in out[0] and "SYNTHETIC" in out[1]


def test_evaluate_downloads_movielens_when_missing(tmp_path, capsys, monkeypatch):
    from test_datasets import _Server, _zip_of, write_ml100k

    import hashlib
    import dataclasses
    from nmfrec import datasets
    from nmfrec.datasets import movielens

    served = tmp_path / "served"
    served.mkdir()
    payload = _zip_of(write_ml100k(tmp_path / "src"))
    (served / "ml-100k.zip").write_bytes(payload)
    server = _Server(served)
    try:
        monkeypatch.setattr(movielens, "BASE_URL", server.url)
        monkeypatch.setitem(datasets.MOVIELENS, "ml-100k", dataclasses.replace(
            datasets.MOVIELENS["ml-100k"],
            known_hash="sha256:" + hashlib.sha256(payload).hexdigest()))
        home = tmp_path / "home"
        assert main(["evaluate", "--data-home", str(home), "--folds", "u1", "--protocol",
                     "rating", "--n-components", "1", "--max-iter", "2"]) == 0
    finally:
        server.close()
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert "using MovieLens 100K (real data)" in first and "found via downloaded" in first
    assert str(home / "ml-100k") in first
    assert "Licence" in captured.err


# --------------------------------------------------------------------------- help from docstrings
def _normalized_doc(cls):
    text = cls.__doc__
    text = re.sub(r":[a-z]+:`~?([^`]*)`", lambda m: m.group(1).split(".")[-1], text)
    return " ".join(text.replace("``", "").split())


def test_every_model_flag_has_its_docstring_help():
    from nmfrec import MaskedNMF

    docs = _normalized_doc(Recommender) + " " + _normalized_doc(MaskedNMF)
    ev = next(a for a in build_parser()._subparsers._group_actions[0].choices.values()
              if a.prog.endswith("evaluate"))
    helps = {a.dest: a.help for a in ev._actions}
    for name in Recommender().get_params():
        text = helps[f"_param_{name}"].split(" (default:")[0].replace("%%", "%")
        assert len(text.split()) >= 4, (name, text)
        # taken from the docstring: its opening words are there verbatim
        assert " ".join(text.split()[:6]) in docs, (name, text)
        assert text != name.replace("_", " ")
    assert "implicit" in helps["_param_feedback"] and "feedback; one of" not in \
        helps["_param_feedback"]
    assert helps["_both_l2"].startswith("set both --l2-W and --l2-H: ")


def test_flags_accept_what_the_docstring_types_say():
    args = build_parser().parse_args(["fit", "r.csv", "-o", "m.npz", "--user-bias", "no",
                                      "--init", "random", "--alpha", "2", "--dtype",
                                      "float32", "--n-components", "none"])
    params = _model_params(args)
    assert params["user_bias"] is False and params["init"] == "random"
    assert params["alpha"] == 2.0 and isinstance(params["alpha"], float)
    assert params["dtype"] == "float32" and params["n_components"] is None


def test_read_file_helpers_moved_to_io_with_a_warning():
    import nmfrec.cli
    import nmfrec.io

    with pytest.warns(DeprecationWarning, match="use nmfrec.io.read_ratings_file"):
        assert nmfrec.cli.read_ratings_file is nmfrec.io.read_ratings_file
    with pytest.warns(DeprecationWarning, match="use nmfrec.io.read_titles_file"):
        assert nmfrec.cli.read_titles_file is nmfrec.io.read_titles_file
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nmfrec.cli.nope


# --------------------------------------------------------------------------- more error paths
@pytest.mark.parametrize("argv, code, needle", [
    (["evaluate", "--kfold", "1"], 2, "--kfold must be an integer >= 2; got 1"),
    (["evaluate", "--k", "0"], 2, "--k must be an integer >= 1; got 0"),
    (["recommend", "m.npz", "--user", "1", "--k", "0"], 2, "--k must be an integer >= 1"),
    (["evaluate", "--folds", "u1", "--split", "random"], 2,
     "--folds names official ml-100k folds; it goes with --split official"),
    (["evaluate", "--dataset", "synthetic", "--folds", "u1"], 2,
     "synthetic set does not have"),
    (["evaluate", "--dataset", "synthetic", "--synthetic-size", "10x10x15"], 2,
     "--synthetic-size 10x10x15: n_ratings=15 is too small"),
    (["fit", "r.csv", "-o", "m.npz", "--names", "a,a"], 2,
     "--names must be distinct column names"),
])
def test_more_usage_errors(argv, code, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.csv").write_text("1,2,3\n")
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nmfrec: error: "), err
    assert needle in err[0]


def test_folds_name_only_ml100k(tmp_path, capsys):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text("1::1::5::978300760\n")
    assert main(["evaluate", "--dataset", "ml-1m", "--data-home", str(tmp_path), "--folds",
                 "u1", *FAST]) == 2
    assert "ml-1m has none" in capsys.readouterr().err


def test_write_errors_and_a_corrupt_model(ratings_csv, tmp_path, capsys):
    path, _ = ratings_csv
    assert main(["fit", str(path), "-o", str(tmp_path / "no" / "m.npz"), *FAST]) == 1
    assert "folder" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    assert main(["recommend", str(bad), "--user", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.npz" in err[0], err
    assert main(["evaluate", "--ratings", str(path), "--kfold", "2", "--protocol", "rating",
                 "--json", str(tmp_path / "no" / "r.json"), *FAST]) == 1
    assert "cannot write --json" in capsys.readouterr().err


def test_a_parameter_error_from_fit_names_the_flag(monkeypatch, capsys):
    # the up-front check is the Recommender's own; if it let a value through, the fit's
    # error would still be reported as a usage error naming the flag
    import nmfrec.cli._params as params_mod

    monkeypatch.setattr(params_mod, "check_params", lambda params, given=None: None)
    assert main(["evaluate", "--dataset", "synthetic", "--synthetic-size", "60x80x1200",
                 "--kfold", "2", "--n-components", "0"]) == 2
    err = capsys.readouterr().err
    assert "nmfrec: error: --n-components must be" in err


def test_an_error_of_the_fit_that_names_no_parameter(monkeypatch, capsys):
    # not taken for a parameter error by the up-front check; reported by the real fit
    def refuse(self, ratings, *args, **kwargs):
        raise ValueError("something about the data")

    monkeypatch.setattr(Recommender, "fit", refuse)
    assert main(["evaluate", "--dataset", "synthetic", "--kfold", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "nmfrec: error: something about the data"


# --------------------------------------------------------------------------- errors speak flags
def _command_flags(name):
    sub = build_parser()._subparsers._group_actions[0].choices[name]
    return sub.get_default("flags")


def test_flags_speak_rewrites_each_form_of_a_parameter():
    from nmfrec.cli._errors import Flags

    flags = Flags({"duplicates": "--duplicates", "user_col": "--user-col", "k": "--k",
                   "max_iter": "--max-iter", "tol": "--tol", "solver": "--solver",
                   "download": "--no-download", "l2_W": "--l2", "l2_H": "--l2"},
                  {("download", False): "--no-download"}, params={"tol", "solver"})
    cases = {
        "Pass duplicates='last', 'first' or 'mean' to combine them.":
            "Pass --duplicates last, first or mean to combine them.",
        "expected one of ['user', 'userId'] or user_col=...; the frame has columns ['a'].":
            "expected one of ['user', 'userId'] or --user-col; the frame has columns ['a'].",
        "ambiguous user column; pass user_col= to choose one.":
            "ambiguous user column; pass --user-col to choose one.",
        "reached max_iter=3 before tol=0.0001; increase max_iter or tol.":
            "reached --max-iter 3 before --tol 0.0001; increase --max-iter or --tol.",
        "k must be an integer >= 1; got 0.": "--k must be an integer >= 1; got 0.",
        "r.csv: k must be an integer >= 1; got 0.": "r.csv: --k must be an integer >= 1; got 0.",
        "download=False was given": "--no-download was given",
        "solver='gibbs' samples; use solver='als' (or 'mu', 'pgd').":
            "--solver gibbs samples; use --solver als (or mu, pgd).",
        "l2_W and l2_H are penalties (l2_W=3.0, l2_H=3.0)":
            "the two parameters that --l2 sets are penalties (--l2 3.0)",
        "l2_W or l2_H must be >= 0": "either parameter that --l2 sets must be >= 0",
        # not parameters: a column value, a word, a file name, a quoted column name
        "e.g. row 3: k=1, item=2; the k nearest": "e.g. row 3: k=1, item=2; the k nearest",
        "cannot read data/user_col.csv or 'max_iter'": "cannot read data/user_col.csv or 'max_iter'",
    }
    for text, want in cases.items():
        assert flags.speak(text) == want, text
    # where each has a flag of its own, the message names those and the flag typed
    typed = Flags({"l2_W": "--l2-W", "l2_H": "--l2-H", "tol": "--tol"}).with_names(
        {"l2_W": "--l2", "l2_H": "--l2"})
    assert typed.speak("l2_W and l2_H are penalties (l2_W=3.0, l2_H=3.0); tol is not") == \
        "--l2-W and --l2-H (both set by --l2) are penalties (--l2 3.0); tol is not"
    assert typed.speak("l2_W must be >= 0") == "--l2 must be >= 0"


def test_each_command_knows_its_own_flags():
    fit, ev, rc = (_command_flags(c) for c in ("fit", "evaluate", "recommend"))
    assert fit.speak("pass rating_col=...") == "pass --rating-col"
    assert fit.speak("n_components must be >= 1") == "--n-components must be >= 1"
    assert ev.speak("relevance_threshold must be a number") == "--threshold must be a number"
    assert ev.speak("n_splits=1 is less than 2") == "--kfold 1 is less than 2"
    assert ev.speak("not there and download=False was given") == \
        "not there and --no-download was given"
    assert rc.speak("exclude_seen=False") == "--include-seen"
    assert rc.speak("exclude_seen=True") == "--exclude-seen"
    assert "--threshold" not in fit.speak("relevance_threshold must be a number")


def test_fit_errors_and_warnings_name_flags(tmp_path, capsys):
    df = make_ratings(30, 40, 400, seed=1)[["user", "item", "rating"]]
    doubled = tmp_path / "doubled.csv"
    pd.concat([df, df.iloc[:3]]).to_csv(doubled, index=False)
    assert main(["fit", str(doubled), "-o", str(tmp_path / "m.npz"), *FAST]) == 1
    err = capsys.readouterr().err
    assert "Pass --duplicates last, first or mean to combine them." in err
    assert "duplicates=" not in err

    two = tmp_path / "two_users.csv"
    df.assign(userId=df["user"]).to_csv(two, index=False)
    assert main(["fit", str(two), "-o", str(tmp_path / "m.npz"), *FAST]) == 1
    err = capsys.readouterr().err
    assert "pass --user-col to choose one" in err and "user_col" not in err

    nameless = tmp_path / "nameless.csv"
    df.rename(columns={"rating": "stars"}).to_csv(nameless, index=False)
    assert main(["fit", str(nameless), "-o", str(tmp_path / "m.npz"), *FAST]) == 1
    err = capsys.readouterr().err
    assert "or --rating-col; the frame has columns ['user', 'item', 'stars']" in err

    path = tmp_path / "r.csv"
    df.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # this module ignores max_iter warnings
        assert main(["fit", str(path), "-o", str(tmp_path / "m.npz"), "--solver", "als",
                     "--max-iter", "2", "--n-components", "2"]) == 0
    warning = next(ln for ln in capsys.readouterr().err.splitlines()
                   if ln.startswith("nmfrec: warning: "))
    assert "reached --max-iter 2" in warning and "increase --max-iter or --tol" in warning
    assert "max_iter" not in warning and "solver='als'" not in warning


def test_evaluate_refuses_a_parameter_combination_before_any_data(capsys):
    # the Recommender refuses it as "solver='gibbs' ...": a usage error, found before
    # the data are made, in flags
    assert main(["evaluate", "--dataset", "synthetic", "--solver", "gibbs", "--feedback",
                 "implicit"]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == ("nmfrec: error: --solver gibbs samples the rating model; with "
                           "--feedback implicit use --solver als or mu.")
    assert "SYNTHETIC" not in out


# --------------------------------------------------------------------------- what fit says
def _fit_lines(capsys, argv):
    assert main(argv) == 0
    out, err = capsys.readouterr()
    return out.strip().splitlines()[-1], next(ln for ln in err.splitlines()
                                              if ln.startswith("nmfrec fit: "))


def test_fit_says_what_each_part_did(tmp_path, capsys):
    df = make_ratings(40, 50, 800, rank=3, seed=4)[["user", "item", "rating"]]
    path, model = tmp_path / "r.csv", tmp_path / "m.npz"
    df.to_csv(path, index=False)

    # the default model: a Bayesian rating part and a penalized preference part
    summary, banner = _fit_lines(capsys, ["fit", str(path), "-o", str(model),
                                          "--n-samples", "12"])
    ref = Recommender(n_samples=12, random_state=0).fit(df)
    rating, pref = ref.model_, ref.ranking_model_
    assert pref is not rating      # the preference part ranks this set
    assert (f"; rating part: rank {rating.n_components_}, 12 Gibbs draws after "
            f"{rating.n_burnin_} burn-in, 12 kept; preference part: rank "
            f"{pref.n_components_}, 16 iterations (--tol 0: all of --max-iter)") in summary
    # then the values the data chose, as the flags that would fix them
    assert f"chosen from the data: --n-components {rating.n_components_}" in summary
    assert f"--preference-components {pref.n_components_}" in summary
    assert "?" not in summary and "max_iter" not in summary
    assert summary.startswith("fitted 40 users x 50 items (800 ratings, columns user, item, "
                              "rating) in ")
    # the banner names the rank n_components (k is the list length elsewhere) and
    # the solver that a None resolves to
    assert "Recommender(n_components=<auto: " in banner and "solver='gibbs'" in banner
    assert "n_samples=12, random_state=0)" in banner
    assert "k=" not in banner

    # one penalized part that stops at max_iter, and one that runs all of it with tol=0
    summary, banner = _fit_lines(capsys, ["fit", str(path), "-o", str(model), "--feedback",
                                          "implicit", "--n-components", "3", "--max-iter", "2",
                                          "--tol", "1e-4", "--ranking", "preference"])
    assert "; preference part (the only part): rank 3, 2 iterations, stopped at " \
           "--max-iter 2 before converging;" in summary
    assert "(800 interactions, columns user, item, rating)" in summary  # not ratings
    assert "Recommender(n_components=3, solver='als', max_iter=2, tol=0.0001, feedback='implicit'" in banner
    summary, _ = _fit_lines(capsys, ["fit", str(path), "-o", str(model), "--solver", "als",
                                     "--ranking", "rating", "--n-components", "2", "--tol",
                                     "0", "--max-iter", "3"])
    assert "; rating part (which also ranks): rank 2, 3 iterations (--tol 0: all of " \
           "--max-iter);" in summary


def test_fit_summary_reads_what_the_model_reports_and_leaves_out_what_it_does_not():
    from nmfrec.cli._output import fit_summary

    df = make_ratings(40, 50, 800, rank=3, seed=4)[["user", "item", "rating"]]
    rec = Recommender(**FAST_PARAMS, solver="als").fit(df)
    rating, pref = rec.model_, rec.ranking_model_
    full = fit_summary(rec)
    assert full.startswith(f"rating part: rank 4, {rating.n_iter_} iterations, stopped at "
                           f"--max-iter 5 before converging; preference part: rank "
                           f"{pref.n_components_}, {pref.n_iter_} iterations")
    # a part without converged_ (or a model without some attribute): no state, no failure
    del pref.converged_, rating.n_components_
    assert fit_summary(rec).startswith(
        f"rating part: {rating.n_iter_} iterations, stopped at --max-iter 5 before "
        f"converging; preference part: rank {pref.n_components_}, {pref.n_iter_} iterations "
        "(--tol 0: all of --max-iter); chosen from the data: ")
    # the values the data chose, as the flags that would fix them
    rec.fitted_params_ = {"n_components": 6, "preference_l2": 0.25, "draws": 200}
    assert fit_summary(rec).endswith("; chosen from the data: --n-components 6, "
                                     "--preference-l2 0.25, draws 200")


# --------------------------------------------------------------------------- click data
@pytest.fixture(scope="module")
def clicks(tmp_path_factory):
    """Who chose what: a two-column file, and the same with a count column of ones."""
    d = tmp_path_factory.mktemp("clicks")
    df = make_ratings(60, 80, 1500, rank=4, seed=2)[["user", "item"]]
    df.to_csv(d / "clicks.csv", index=False)
    df.assign(clicks=1).to_csv(d / "counts.csv", index=False)
    return d, df


CLICK_PARAMS = dict(FAST_PARAMS, feedback="implicit")


def _fits_click_frames():
    """Whether Recommender.fit takes a (user, item) frame as click data."""
    try:
        Recommender(n_components=1, max_iter=1, feedback="implicit").fit(
            pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 2]}))
    except (KeyError, ValueError):
        return False
    return True


def test_evaluate_counts_as_clicks(clicks, tmp_path, capsys):
    d, df = clicks
    out_json = tmp_path / "res.json"
    assert main(["evaluate", "--ratings", str(d / "counts.csv"), "--rating-col", "clicks",
                 "--threshold", "none", "--feedback", "implicit", "--kfold", "2",
                 "--baselines", "--json", str(out_json), *FAST]) == 0
    out = capsys.readouterr().out
    assert "relevant = every held-out interaction (click data)" in out
    header, rows = parse_table(out)
    assert header == ["P@10", "P@20", "R@10", "R@20", "NDCG@10", "NDCG@20", "MAP@10",
                      "coverage@10", "fit(s)"]
    assert set(rows) == {"fold1", "fold2", "mean", "± std", "popularity mean",
                         "popularity ± std"}   # no global mean: nothing to predict
    frame = df.assign(rating=1.0)
    keys = ["precision@10", "precision@20", "recall@10", "recall@20", "ndcg@10", "ndcg@20",
            "map@10", "coverage@10"]
    got = json.loads(out_json.read_text())
    assert got["k"] == [10, 20] and got["threshold"] is None and got["protocol"] == "ranking"
    for fold, s in zip(got["models"]["nmfrec"]["folds"], kfold(frame, 2, random_state=0)):
        want = evaluate(Recommender(**CLICK_PARAMS), s.train, s.test, k=(10, 20),
                        relevance_threshold=None, protocols="ranking")
        np.testing.assert_allclose([fold[key] for key in keys], [want[key] for key in keys],
                                   rtol=1e-9)
        assert fold["n_users_no_relevant"] == 0
    np.testing.assert_allclose(rows["fold1"][:8], [got["models"]["nmfrec"]["folds"][0][key]
                                                   for key in keys], atol=5e-5)


def test_evaluate_says_why_nothing_is_relevant(clicks, capsys):
    d, _ = clicks
    assert main(["evaluate", "--ratings", str(d / "counts.csv"), "--rating-col", "clicks",
                 "--feedback", "implicit", "--kfold", "2", "--protocol", "ranking",
                 *FAST]) == 0
    out = capsys.readouterr().out
    _, rows = parse_table(out)
    assert np.isnan(rows["mean"][0])
    assert ("no test rating is >= 4 (test ratings range from 1 to 1), so no item was "
            "relevant and the ranking metrics are '-'; lower --threshold, or for clicks or "
            "counts pass --threshold none") in out


@pytest.mark.skipif(not _fits_click_frames(),
                    reason="Recommender.fit does not take (user, item) frames yet")
def test_evaluate_a_two_column_file_as_clicks(clicks, tmp_path, capsys):
    d, df = clicks
    out_json = tmp_path / "res.json"
    assert main(["evaluate", "--ratings", str(d / "clicks.csv"), "--feedback", "implicit",
                 "--kfold", "2", "--json", str(out_json), *FAST]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "1,500 interactions (click data: no rating column)" in first
    for fold, s in zip(json.loads(out_json.read_text())["models"]["nmfrec"]["folds"],
                       kfold(df, 2, random_state=0)):
        want = evaluate(Recommender(**CLICK_PARAMS), s.train, s.test, k=(10, 20),
                        protocols="ranking")
        assert fold["recall@20"] == pytest.approx(want["recall@20"], rel=1e-9)


@pytest.mark.parametrize("extra, needle", [
    (["--threshold", "3"], "--threshold 3 compares ratings, but {path} has no rating column"),
    (["--protocol", "both"], "--protocol both predicts ratings, but {path} has no rating "
                             "column (click data); use --protocol ranking"),
    (["--k", "10,10"], "--k repeats a list length: 10,10"),
    (["--k", "10,x"], "expected an integer or integers separated by commas (10,20); got '10,x'"),
    (["--k", "0,5"], "--k must be an integer >= 1; got 0"),
])
def test_evaluate_click_data_usage_errors(clicks, capsys, extra, needle):
    d, _ = clicks
    path = d / "clicks.csv"
    assert main(["evaluate", "--ratings", str(path), "--kfold", "2", *extra, *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle.format(path=path) in err[0], err


@pytest.mark.parametrize("extra, needle", [
    (["--threshold", "3"], "--threshold 3 compares ratings, but {path} holds interaction "
                           "counts, not ratings (click data: every held-out item is relevant)"),
    (["--protocol", "both"], "--protocol both predicts ratings, but {path} holds interaction "
                             "counts, not ratings (click data); use --protocol ranking"),
])
def test_evaluate_a_count_column_makes_click_data(clicks, capsys, extra, needle):
    d, _ = clicks
    path = d / "counts.csv"       # user, item, clicks
    assert main(["evaluate", "--ratings", str(path), "--kfold", "2", *extra, *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle.format(path=path) in err[0], err


def _fits_count_frames():
    """Whether Recommender.fit takes a (user, item, count) frame as implicit feedback."""
    try:
        Recommender(n_components=1, max_iter=1, feedback="implicit").fit(
            pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 2], "count": [3, 1, 2]}))
    except (KeyError, ValueError):
        return False
    return True


@pytest.mark.skipif(not _fits_count_frames(),
                    reason="Recommender.fit does not take (user, item, count) frames yet")
def test_evaluate_counts_gives_the_model_the_counts(clicks, tmp_path, capsys):
    d, df = clicks
    plays = df.assign(plays=np.arange(len(df)) % 4 + 1)
    path = tmp_path / "plays.csv"
    plays.to_csv(path, index=False)
    out_json = tmp_path / "res.json"
    assert main(["evaluate", "--ratings", str(path), "--feedback", "implicit",
                 "--kfold", "2", "--json", str(out_json), *FAST]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "1,500 interactions (click data: counts, no rating column)" in first
    canonical = plays.rename(columns={"plays": "count"})
    for fold, s in zip(json.loads(out_json.read_text())["models"]["nmfrec"]["folds"],
                       kfold(canonical, 2, random_state=0)):
        want = evaluate(Recommender(**CLICK_PARAMS), s.train, s.test, k=(10, 20),
                        protocols="ranking")
        assert fold["recall@20"] == pytest.approx(want["recall@20"], rel=1e-9)


def test_evaluate_refuses_a_file_that_is_neither_ratings_nor_clicks(tmp_path, capsys):
    """A stars column is not a rating column the CLI knows: an error, not click data."""
    path = tmp_path / "stars.csv"
    make_ratings(30, 40, 400, seed=1)[["user", "item", "rating"]].rename(
        columns={"rating": "stars"}).to_csv(path, index=False)
    assert main(["evaluate", "--ratings", str(path), "--kfold", "2", *FAST]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"nmfrec: error: {path}: no rating column found: expected one of "
                          "['rating', 'ratings', 'score'] or --rating-col; the frame has "
                          "columns ['user', 'item', 'stars']."), err
    assert main(["evaluate", "--ratings", str(path), "--rating-col", "stars", "--kfold", "2",
                 "--protocol", "rating", *FAST]) == 0


def test_evaluate_refuses_non_numeric_ratings_before_averaging(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("user,item,stars\n1,1,5\n1,1,4\n2,1,five\n")
    assert main(["evaluate", "--ratings", str(path), "--rating-col", "stars", "--duplicates",
                 "mean", "--kfold", "2", *FAST]) == 1
    err = capsys.readouterr().err
    assert f"{path}: column 'stars' must hold numeric ratings" in err
    assert "agg function" not in err
    assert f"'five' at row 2 (line 4 of {path}) is not a number" in err


@pytest.mark.parametrize("duplicates", ["mean", "last"])
def test_evaluate_checks_every_row_before_combining_and_names_its_line(tmp_path, capsys,
                                                                       duplicates):
    """A missing id is an error naming its line, not a row that averaging drops."""
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\n1,1,4\n1,1,5\n2,1,3\n\n,2,4\n3,2,4\n3,1,2\n")
    assert main(["evaluate", "--ratings", str(path), "--duplicates", duplicates,
                 "--kfold", "2", *FAST]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"nmfrec: error: {path}: column 'user' has 1 missing values (first at "
                   f"row 3 (line 6 of {path})).")
    path.write_text("user,item,rating\n1,1,4\n2,1,3\n1,1,5\n")
    assert main(["evaluate", "--ratings", str(path), "--kfold", "2", *FAST]) == 1
    err = capsys.readouterr().err
    assert (f"2 rows repeat a (user, item) pair (first: user 1, item 1 at row 0 (line 2 of "
            f"{path}), again at row 2 (line 4 of {path})); pass --duplicates") in err


def test_evaluate_combines_duplicates_keeping_the_rows_of_the_file(tmp_path):
    """--duplicates mean: one row per pair where its first row was (its label, so its
    line), the mean rating and the latest time; the other rows as read."""
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating,timestamp\n1,1,4,10\n2,1,3,20\n1,1,5,30\n3,2,1,5\n"
                    "2,1,2,15\n")
    args = build_parser().parse_args(["evaluate", "--ratings", str(path), "--duplicates",
                                      "mean"])
    out = _canonical(read_ratings(args), args)
    want = pd.DataFrame({"user": [1, 2, 3], "item": [1, 1, 2], "rating": [4.5, 2.5, 1.0],
                         "timestamp": [30, 20, 5]}, index=[0, 1, 3])
    pd.testing.assert_frame_equal(out, want)
    assert locate_row(out, 2) == f"row 3 (line 5 of {path})"


# --------------------------------------------------------------------------- predict
@pytest.fixture(scope="module")
def pairs_csv(fitted):
    """Pairs to predict, with a column of their own and pairs the model does not know."""
    model, df, _ = fitted
    pairs = df.iloc[:6][["user", "item"]].assign(note=list("abcdef"))
    pairs = pd.concat([pairs, pd.DataFrame({"user": [99999, int(df["user"].iloc[0])],
                                            "item": [1, 77777], "note": ["x", "y"]})],
                      ignore_index=True)
    path = model.parent / "pairs.csv"
    pairs.to_csv(path, index=False)
    return path, pairs


@pytest.mark.parametrize("flags, kwargs", [
    ([], {}),
    (["--no-clip", "--unknown", "baseline"], {"clip": False, "unknown": "baseline"}),
])
def test_predict_writes_the_pairs_with_the_library_predictions(fitted, pairs_csv, capsys,
                                                               flags, kwargs):
    model, _, _ = fitted
    path, pairs = pairs_csv
    assert main(["predict", str(model), "--pairs", str(path), *flags]) == 0
    out, err = capsys.readouterr()
    got = pd.read_csv(io.StringIO(out))
    want = Recommender.load(model).predict(pairs, **kwargs)
    assert list(got.columns) == ["user", "item", "note", "prediction"]
    pd.testing.assert_frame_equal(got[["user", "item", "note"]], pairs)
    np.testing.assert_allclose(got["prediction"], want, rtol=1e-12)   # NaN where NaN
    if kwargs:
        assert not got["prediction"].isna().any() and err == ""
    else:
        assert got["prediction"].isna().sum() == 2
        assert "nmfrec predict: 2 of 8 pairs have a user or item the model does not know; " \
               "their prediction is empty (NaN); --unknown baseline fills them" in err


@pytest.mark.parametrize("suffix", TABLE_SUFFIXES)
def test_predict_to_files_and_headerless_pairs(fitted, pairs_csv, tmp_path, capsys, suffix):
    model, _, _ = fitted
    path, pairs = pairs_csv
    want = Recommender.load(model).predict(pairs)
    out = tmp_path / f"pred{suffix}"
    assert main(["predict", str(model), "--pairs", str(path), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 8 predictions to {out}"
    np.testing.assert_allclose(read_table(out)["prediction"], want, rtol=1e-12)
    bare = tmp_path / "pairs.tsv"
    pairs[["user", "item"]].to_csv(bare, sep="\t", header=False, index=False)
    assert main(["predict", str(model), "--pairs", str(bare), "-o",
                 str(tmp_path / "p.tsv")]) == 0
    got = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert list(got.columns) == ["user", "item", "prediction"]
    np.testing.assert_allclose(got["prediction"], want, rtol=1e-12)


def test_predict_error_paths(fitted, pairs_csv, tmp_path, capsys):
    model, df, _ = fitted
    path, pairs = pairs_csv

    def fails(code, *argv):
        assert main(["predict", str(model), *argv]) == code
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("nmfrec: error: "), err
        return err[0]

    assert "does not exist" in fails(1, "--pairs", str(tmp_path / "nope.csv"))
    no_item = tmp_path / "users_only.csv"
    pairs[["user", "note"]].to_csv(no_item, index=False)
    err = fails(1, "--pairs", str(no_item))
    assert f"{no_item}: no item column found" in err and "or --item-col;" in err
    taken = tmp_path / "taken.csv"
    pairs.assign(prediction=1.0).to_csv(taken, index=False)
    assert "already has a column 'prediction'" in fails(1, "--pairs", str(taken))
    assert "the format is read from the suffix" in fails(2, "--pairs", str(path), "-o",
                                                         str(tmp_path / "p.xlsx"))
    # a value the model refuses, in flags: an implicit model has no mean ratings
    implicit = tmp_path / "implicit.npz"
    Recommender(**CLICK_PARAMS).fit(df).save(implicit)
    assert main(["predict", str(implicit), "--pairs", str(path), "--unknown",
                 "baseline"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nmfrec: error: --unknown baseline falls back to mean ratings")


def test_predict_prints_standard_deviations_and_intervals(fitted, pairs_csv, tmp_path,
                                                         capsys):
    _, df, _ = fitted
    path, pairs = pairs_csv
    bayes = tmp_path / "bayes.npz"
    Recommender(n_components=2, n_samples=20, prior="wishart", ranking="preference",
                random_state=0).fit(df).save(bayes)
    rec = Recommender.load(bayes)
    assert main(["predict", str(bayes), "--pairs", str(path), "--std", "--interval",
                 "0.8"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(got.columns) == ["user", "item", "note", "prediction", "std", "lower", "upper",
                                 "mass"]
    mean, std = rec.predict(pairs, return_std=True)
    iv = rec.predict_interval(pairs, level=0.8)
    np.testing.assert_allclose(got["prediction"], mean, rtol=1e-12)
    np.testing.assert_allclose(got["std"], std, rtol=1e-12)
    for name in ("lower", "upper", "mass"):
        np.testing.assert_allclose(got[name], iv[name], rtol=1e-12)   # NaN where unknown
    assert got["lower"].isna().sum() == 2
    # a model without a posterior, and a level that is not a probability
    for model, flags, text in [
            (fitted[0], ["--interval", "0.9"], "--interval needs the Bayesian rating part"),
            (fitted[0], ["--std"], "--std needs the Bayesian rating part"),
            (bayes, ["--interval", "90"], "--interval must be a probability in (0, 1]")]:
        assert main(["predict", str(model), "--pairs", str(path), *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("nmfrec: error: " + text), err


# --------------------------------------------------------------------------- similar
def test_similar_equals_library_similar_items(fitted, capsys):
    model, _, _ = fitted
    ref = Recommender.load(model).similar_items(5, k=6)
    assert main(["similar", str(model), "--item", "5", "--k", "6", "--format", "csv"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert got["rank"].tolist() == list(range(1, 7))
    assert got["item"].tolist() == ref["item"].tolist()
    np.testing.assert_allclose(got["similarity"], ref["similarity"], rtol=1e-12)
    assert got["title"].tolist() == [f"Film {i}" for i in ref["item"]]

    assert main(["similar", str(model), "--item", "5", "--k", "6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "the 6 items most similar to item 5 (Film 5):"
    assert [int(ln.split()[1]) for ln in lines[2:]] == ref["item"].tolist()
    # an item named by its title, as the library takes it
    assert main(["similar", str(model), "--item", "Film 5", "--k", "6"]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_similar_error_paths(fitted, capsys):
    model, _, _ = fitted
    assert main(["similar", str(model), "--item", "12345"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("nmfrec: error: item 12345 is not in the training data (the model "
                          "knows 80 items, e.g. 1, 2, 3)")
    assert main(["similar", str(model), "--item", "Film 99"]) == 1
    err = capsys.readouterr().err
    assert "item 'Film 99' is not in the training data, whose item ids are integers" in err
    assert "nor is it an item's title (close ones: 'Film 9' (item 9)" in err
    assert main(["similar", str(model), "--item", "5", "--k", "0"]) == 2
    assert "--k must be an integer >= 1; got 0" in capsys.readouterr().err


# --------------------------------------------------------------------------- ids typed
def test_ids_typed_follow_the_rule_of_ids_read_from_files(tmp_path, capsys):
    """``--user 007`` is the user 007, not 7: a typed id is an int only where a file's
    id would be one (a plain integer), and only for a model of integer ids."""
    df = make_ratings(30, 40, 400, seed=4)[["user", "item", "rating"]]
    df["user"] = df["user"].astype(str).replace({"1": "007"})      # and "7" stays
    path = tmp_path / "r.csv"
    df.to_csv(path, index=False)
    model = tmp_path / "m.npz"
    assert main(["fit", str(path), "-o", str(model), *FAST, "--solver", "als"]) == 0
    rec = Recommender.load(model)
    assert {"007", "7"} <= set(rec.users_.labels_)   # read as text: not all plain integers
    capsys.readouterr()
    for user in ("007", "7"):
        assert main(["recommend", str(model), "--user", user, "--k", "5",
                     "--format", "csv"]) == 0
        got = pd.read_csv(io.StringIO(capsys.readouterr().out))
        assert got["item"].tolist() == rec.recommend(user, k=5)["item"].tolist()
    assert main(["recommend", str(model), "--user", "007", "--k", "5"]) == 0
    assert capsys.readouterr().out.startswith("top 5 for user '007' ")
    assert rec.recommend("007", k=5)["item"].tolist() != rec.recommend("7", k=5)["item"].tolist()

    # one rule for typed ids and ids in files: -0, +7, 07 and 7.0 are text, 7 and -12 ints
    ints = Vocabulary(np.arange(-20, 20))
    for text, want in [("7", 7), (" -12 ", -12), ("0", 0), ("-0", "-0"), ("+7", "+7"),
                       ("07", "07"), ("7.0", "7.0"), ("99999999999999999999",
                                                      "99999999999999999999")]:
        assert label(ints, text) == want == id_from_text(text), text
        assert label(rec.users_, text) == text.strip() == id_from_text(text, integer=False)
        read = pd.read_csv(io.StringIO(f"user\n{text}\n"), dtype=str)["user"]
        assert ids_from_text(read).tolist() == [want], text


def test_columns_named_by_flags_keep_their_ids_text(tmp_path, capsys):
    """--user-col/--item-col name id columns: 007 and 7 stay two listeners there too, in
    the ratings file, in predict's pairs (by the model's columns) and in a users table."""
    df = make_ratings(30, 40, 400, seed=4)[["user", "item", "rating"]]
    df["user"] = df["user"].astype(str).replace({"1": "007"})      # and "7" stays
    df["item"] = "0" + df["item"].astype(str)
    plays = df.rename(columns={"user": "listener", "item": "song", "rating": "stars"})
    path = tmp_path / "plays.csv"
    plays.to_csv(path, index=False)
    model = tmp_path / "m.npz"
    assert main(["fit", str(path), "-o", str(model), *FAST, "--solver", "als", "--user-col",
                 "listener", "--item-col", "song", "--rating-col", "stars"]) == 0
    rec = Recommender.load(model)
    assert {"007", "7"} <= set(rec.users_.labels_) and rec.users_.labels_.size == 30
    assert set(rec.items_.labels_) == set(df["item"])              # "01", not 1
    ref = Recommender(**FAST_PARAMS, solver="als").fit(df)
    np.testing.assert_allclose(rec.model_.W_, ref.model_.W_, rtol=1e-10, atol=1e-12)

    pairs = tmp_path / "pairs.csv"
    plays[["listener", "song"]].iloc[:6].to_csv(pairs, index=False)
    capsys.readouterr()
    assert main(["predict", str(model), "--pairs", str(pairs)]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"listener": str,
                                                                     "song": str})
    want = rec.predict(plays[["listener", "song"]].iloc[:6])
    np.testing.assert_allclose(got["prediction"], want, rtol=1e-12)
    assert not np.isnan(want).any()

    users = tmp_path / "users.csv"
    pd.DataFrame({"listener": ["007", "7"], "segment": ["a", "b"]}).to_csv(users, index=False)
    assert main(["recommend", str(model), "--users", str(users), "--k", "3", "-o",
                 str(tmp_path / "recs.csv")]) == 0
    recs = pd.read_csv(tmp_path / "recs.csv", dtype={"user": str, "item": str})
    assert recs["user"].tolist() == ["007"] * 3 + ["7"] * 3
    assert recs["item"].tolist() == rec.recommend_many(["007", "7"], k=3)["item"].tolist()


# --------------------------------------------------------------------------- recommend many
@pytest.mark.parametrize("suffix", TABLE_SUFFIXES)
def test_recommend_all_equals_recommend_many(fitted, tmp_path, capsys, suffix):
    model, _, _ = fitted
    ref = Recommender.load(model).recommend_many(k=4)
    assert main(["recommend", str(model), "--all", "--k", "4"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(got.columns) == ["user", "rank", "item", "score", "title"]
    pd.testing.assert_frame_equal(got, ref[list(got.columns)], check_dtype=False)

    out = tmp_path / f"recs{suffix}"
    assert main(["recommend", str(model), "--all", "--k", "4", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == \
        f"wrote the top 4 for 60 users (240 rows) to {out}"
    pd.testing.assert_frame_equal(read_table(out), ref[list(got.columns)],
                                  check_dtype=False)


def test_recommend_users_from_a_list_or_a_table(fitted, tmp_path, capsys):
    model, df, _ = fitted
    users = [int(u) for u in pd.unique(df["user"])[[4, 0, 9]]]
    ref = Recommender.load(model).recommend_many(users, k=3, exclude_seen=False)
    cols = ["user", "rank", "item", "score", "title"]
    one_per_line = tmp_path / "users.txt"
    one_per_line.write_text("\n".join(map(str, users)) + "\n\n")
    table = tmp_path / "users.csv"
    pd.DataFrame({"segment": ["a", "b", "c"], "user": users}).to_csv(table, index=False)
    for path in (one_per_line, table):
        out = tmp_path / "recs.csv"
        assert main(["recommend", str(model), "--users", str(path), "--k", "3",
                     "--include-seen", "-o", str(out)]) == 0
        pd.testing.assert_frame_equal(pd.read_csv(out), ref[cols], check_dtype=False)
    capsys.readouterr()
    assert main(["recommend", str(model), "--users", str(one_per_line), "--k", "3",
                 "--include-seen", "--format", "json"]) == 0
    got = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert got["item"].tolist() == ref["item"].tolist()


def test_recommend_many_error_paths(fitted, tmp_path, capsys, monkeypatch):
    model, _, _ = fitted

    def fails(code, *argv):
        assert main(["recommend", str(model), *argv]) == code
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("nmfrec: error: "), err
        return err[0]

    users = tmp_path / "users.txt"
    users.write_text("1\n99999\n")
    assert f"{users}: user 99999 is not in the training data" in fails(1, "--users",
                                                                        str(users))
    headed = tmp_path / "people.csv"
    headed.write_text("person,segment\n1,a\n")
    err = fails(1, "--users", str(headed))
    assert "no user column found" in err and "or --user-col;" in err
    assert "--format table shows one user's list" in fails(2, "--all", "--format", "table")
    assert "give -o FILE (the format is its suffix) or --format, not both" in fails(
        2, "--all", "-o", str(tmp_path / "r.csv"), "--format", "csv")
    assert "folder" in fails(1, "--all", "-o", str(tmp_path / "no" / "r.csv"))

    def no_engine(self, *args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow', "
                          "'fastparquet'.")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_engine)
    err = fails(1, "--all", "-o", str(tmp_path / "recs.parquet"))
    assert "writing Parquet needs pyarrow (pip install pyarrow)" in err and ".csv" in err


def test_query_flags_take_the_docstrings_of_the_methods():
    from nmfrec.cli._params import method_doc

    sub = build_parser()._subparsers._group_actions[0].choices
    helps = {name: {a.dest: a for a in reversed(sub[name]._actions)}   # the first per dest
             for name in ("predict", "similar", "recommend")}
    for cmd, dest, method in [("predict", "clip", Recommender.predict),
                              ("predict", "unknown", Recommender.predict),
                              ("similar", "k", Recommender.similar_items),
                              ("recommend", "k", Recommender.recommend),
                              ("recommend", "exclude_seen", Recommender.recommend)]:
        text = helps[cmd][dest].help.split(" (default:")[0]
        assert text == method_doc(method, dest).help and len(text.split()) >= 3, (cmd, dest)
    assert helps["predict"]["unknown"].choices == method_doc(Recommender.predict,
                                                             "unknown").choices
    assert "Recommender.predict" in sub["predict"].description


@pytest.mark.slow
def test_query_commands_as_a_process(fitted, pairs_csv, tmp_path):
    model, _, _ = fitted
    path, pairs = pairs_csv
    proc = run("predict", model, "--pairs", path, "--unknown", "baseline")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(pd.read_csv(io.StringIO(proc.stdout))["prediction"],
                               Recommender.load(model).predict(pairs, unknown="baseline"),
                               rtol=1e-12)
    out = tmp_path / "recs.tsv"
    proc = run("recommend", model, "--all", "--k", 2, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert read_table(out)["item"].tolist() == \
        Recommender.load(model).recommend_many(k=2)["item"].tolist()
    assert_one_line_error(run("similar", model, "--item", 0), 1, "item 0 is not in the "
                          "training data")


def test_recommend_explore_equals_library_draws(fitted, capsys):
    model, df, _ = fitted
    rec = Recommender.load(model)
    user = int(df["user"].iloc[0])
    ref = rec.recommend(user, k=5, explore=True, random_state=7)
    assert main(["recommend", str(model), "--user", str(user), "--k", "5", "--explore",
                 "--seed", "7", "--format", "csv"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert got["item"].tolist() == ref["item"].tolist()
    np.testing.assert_allclose(got["score"], ref["score"], rtol=1e-12)
    ref_all = rec.recommend_many(k=3, explore=0.5, random_state=2)
    assert main(["recommend", str(model), "--all", "--k", "3", "--explore", "0.5",
                 "--seed", "2"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(got, ref_all[list(got.columns)], check_dtype=False)


@pytest.mark.parametrize("flags, needle", [
    (["--seed", "3"], "--seed sets the draw of --explore"),
    (["--explore", "-1"], "--explore must be a finite number >= 0"),
    (["--explore", "--seed", "-2"], "--seed"),
])
def test_recommend_explore_flag_errors(fitted, flags, needle):
    model, df, _ = fitted
    proc = run("recommend", model, "--user", int(df["user"].iloc[0]), *flags)
    assert_one_line_error(proc, 2, needle)
