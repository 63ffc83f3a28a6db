"""Loaders on fixtures in each release's exact format; download errors; the generator."""

import dataclasses
import functools
import hashlib
import http.server
import io
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nmfrec.datasets as ds
from nmfrec.datasets import movielens, synthetic
from nmfrec.datasets import (
    DatasetNotFoundError,
    load_movielens,
    make_ratings,
    make_ratings_like,
    ml100k_folds,
)

DTYPES = ["int64", "int64", "float64", "int64"]

# ---------------------------------------------------------------- fixture writers

U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)"
    "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|Café au lait (1993)|01-Jan-1993||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0|0|0|0\n"
    "3|Nowhere (1996)|01-Jan-1996|||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
)


def write_ml100k(root: Path) -> Path:
    d = root / "ml-100k"
    d.mkdir(parents=True)
    rows = [(1, 1, 5, 874965758), (1, 2, 3, 876893171), (2, 1, 4, 888550871),
            (2, 3, 1, 888551000), (3, 2, 2, 889237455)]
    (d / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows))
    (d / "u.item").write_bytes(U_ITEM.encode("latin-1"))
    for n, f in enumerate(["u1", "u2", "u3", "u4", "u5", "ua", "ub"]):
        test = [rows[n % len(rows)]]
        base = [r for r in rows if r not in test]
        for part, data in (("base", base), ("test", test)):
            (d / f"{f}.{part}").write_text(
                "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in data))
    return d


def write_dat(root: Path, folder: str, ratings: str, movies: bytes) -> Path:
    d = root / folder
    d.mkdir(parents=True)
    (d / "ratings.dat").write_text(ratings)
    (d / "movies.dat").write_bytes(movies)
    return d


ML1M_MOVIES = (
    "1::Toy Story (1995)::Animation|Children's|Comedy\n"
    "2::Café Society: A Story (1995)::Drama\n"  # Latin-1, ':' inside a title
).encode("latin-1")
ML10M_MOVIES = (
    "1::Toy Story (1995)::Adventure|Animation\n"
    "7::Léon: The Professional (1994)::(no genres listed)\n"
).encode("utf-8")

CSV_MOVIES = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '11,"American President, The (1995)",Comedy|Drama|Romance\n'
    "209171,Café (2010),(no genres listed)\n"
)
CSV_RATINGS = (
    "userId,movieId,rating,timestamp\n"
    "1,1,4.0,964982703\n1,11,3.5,964981247\n2,209171,0.5,1445714835\n"
)


def write_csv(root: Path, folder: str) -> Path:
    d = root / folder
    d.mkdir(parents=True)
    (d / "ratings.csv").write_text(CSV_RATINGS, encoding="utf-8")
    (d / "movies.csv").write_text(CSV_MOVIES, encoding="utf-8")
    return d


def _check_frame(ratings):
    assert list(ratings.columns) == ["user", "item", "rating", "timestamp"]
    assert [str(t) for t in ratings.dtypes] == DTYPES


# ---------------------------------------------------------------- loaders


def test_ml100k_fixture(tmp_path):
    folder = write_ml100k(tmp_path)
    d = load_movielens("ml-100k", data_home=tmp_path, download=False)
    _check_frame(d.ratings)
    assert d.ratings.iloc[0].tolist() == [1, 1, 5.0, 874965758]
    assert len(d.ratings) == 5 and d.path == folder
    assert d.items.loc[2, "title"] == "Café au lait (1993)"
    assert d.items.loc[2, "genres"] == "Comedy|Romance"
    assert d.items.loc[1, "genres"] == "Animation|Children's|Comedy"
    assert d.items.loc[3, "genres"] == "unknown"
    assert d.items.index.name == "item"
    # forgiving: data_home may be the release folder itself
    assert len(load_movielens("ml-100k", data_home=folder, download=False).ratings) == 5


def test_ml1m_dat_latin1(tmp_path):
    write_dat(tmp_path, "ml-1m", "1::1::5::978300760\n2::2::3::978302109\n", ML1M_MOVIES)
    d = load_movielens("ml-1m", data_home=tmp_path, download=False)
    _check_frame(d.ratings)
    assert d.ratings.values.tolist() == [[1, 1, 5, 978300760], [2, 2, 3, 978302109]]
    assert d.items.loc[2, "title"] == "Café Society: A Story (1995)"
    assert d.items.loc[1, "genres"] == "Animation|Children's|Comedy"


def write_ml1m_without_timestamps(root: Path, lines: str) -> Path:
    d = root / "ml-1m"
    d.mkdir(parents=True)
    (d / "ratings_no_timestamps.dat").write_text(lines)
    (d / "movies.dat").write_bytes(ML1M_MOVIES)
    return d


def test_ml1m_copy_without_timestamps(tmp_path):
    from nmfrec.evaluation import random_split, temporal_split
    from nmfrec.exceptions import MissingColumnError

    folder = write_ml1m_without_timestamps(tmp_path, "1::1::5\n2::2::3\n2::1::4\n")
    assert ds.find_movielens("ml-1m", tmp_path) == folder
    assert ds.fetch_movielens("ml-1m", tmp_path, download=False) == folder
    d = load_movielens("ml-1m", data_home=tmp_path, download=False)
    assert list(d.ratings.columns) == ["user", "item", "rating"]
    assert [str(t) for t in d.ratings.dtypes] == DTYPES[:3]
    assert d.ratings.values.tolist() == [[1, 1, 5], [2, 2, 3], [2, 1, 4]]
    assert d.meta == {"ratings_file": "ratings_no_timestamps.dat", "timestamps": False}
    assert d.items.loc[2, "title"] == "Café Society: A Story (1995)"
    # the rest of the library works on it; a split by time says what is missing
    assert len(random_split(d.ratings, 1, random_state=0).test) == 1
    with pytest.raises(MissingColumnError, match=r"missing column\(s\) \['timestamp'\]"):
        temporal_split(d.ratings)


def test_ml1m_full_ratings_file_comes_first(tmp_path):
    folder = write_ml1m_without_timestamps(tmp_path, "1::1::5\n")
    (folder / "ratings.dat").write_text("1::1::4::978300760\n")
    d = load_movielens("ml-1m", data_home=tmp_path, download=False)
    _check_frame(d.ratings)
    assert d.ratings.values.tolist() == [[1, 1, 4, 978300760]]
    assert d.meta == {"ratings_file": "ratings.dat", "timestamps": True}


@pytest.mark.parametrize(
    "lines, match",
    [
        ("1::1::5\n2::2::3::978302109\n", r"ratings_no_timestamps.dat: .*Expected 5 fields "
                                          "in line 2, saw 7"),
        ("1::1::5::978300760\n", r"ratings_no_timestamps.dat, line 1: expected "
                                 r"UserID::MovieID::Rating without a timestamp; got "
                                 "'1::1::5::978300760'"),
        ("1::1::5\n2:2::3:\n", r"ratings_no_timestamps.dat, line 2: fields must be "
                                "separated by '::'"),
        ("1::1::5\n2::x::3\n", r"ratings_no_timestamps.dat, line 2: non-numeric field"),
        ("1::1::5\n2::2\n", r"ratings_no_timestamps.dat, line 2: missing field"),
    ],
)
def test_ml1m_copy_without_timestamps_errors(tmp_path, lines, match):
    write_ml1m_without_timestamps(tmp_path, lines)
    with pytest.raises(ValueError, match=match):
        load_movielens("ml-1m", data_home=tmp_path, download=False)


def test_read_ratings_without_timestamps_is_for_dat_files(tmp_path):
    from nmfrec.io import read_movielens_ratings

    p = tmp_path / "u.data"
    p.write_text("1\t1\t5\n")
    with pytest.raises(ValueError, match="timestamps=False reads 'dat' files .*got "
                                         "fmt='100k'"):
        read_movielens_ratings(p, timestamps=False)


def test_ml10m_folder_half_stars_utf8(tmp_path):
    write_dat(tmp_path, "ml-10M100K", "1::122::5::838985046\n1::185::4.5::838983525\n",
              ML10M_MOVIES)
    d = load_movielens("ml-10m", data_home=tmp_path, download=False)
    _check_frame(d.ratings)
    assert d.ratings["rating"].tolist() == [5.0, 4.5]
    assert d.items.loc[7, "title"] == "Léon: The Professional (1994)"
    assert d.items.loc[7, "genres"] == ""
    assert d.path.name == "ml-10M100K"


@pytest.mark.parametrize("name", ["ml-20m", "ml-25m", "ml-32m", "ml-latest-small"])
def test_csv_releases(tmp_path, name):
    write_csv(tmp_path, name)
    d = load_movielens(name, data_home=tmp_path, download=False)
    _check_frame(d.ratings)
    assert d.ratings.values.tolist() == [
        [1, 1, 4.0, 964982703], [1, 11, 3.5, 964981247], [2, 209171, 0.5, 1445714835]]
    assert d.items.loc[11, "title"] == "American President, The (1995)"
    assert d.items.loc[209171, "title"] == "Café (2010)"
    assert d.items.loc[209171, "genres"] == ""


def test_env_var_is_the_default_data_home(tmp_path, monkeypatch):
    write_csv(tmp_path, "ml-latest-small")
    monkeypatch.setenv("NMFREC_DATA", str(tmp_path))
    assert ds.get_data_home() == tmp_path
    assert len(load_movielens("ml-latest-small", download=False).ratings) == 3
    monkeypatch.delenv("NMFREC_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ds.get_data_home() == tmp_path / "cache" / "nmfrec"


def test_ml100k_folds_fixture(tmp_path):
    write_ml100k(tmp_path)
    folds = ml100k_folds(data_home=tmp_path, folds=("u1", "ub"), download=False)
    assert list(folds) == ["u1", "ub"]
    train, test = folds["u1"]
    _check_frame(train)
    assert len(train) == 4 and test.values.tolist() == [[1, 1, 5, 874965758]]
    with pytest.raises(ValueError, match="folds must be a non-empty subset"):
        ml100k_folds(data_home=tmp_path, folds=("u6",))


def test_parse_errors_name_the_file(tmp_path):
    d = write_csv(tmp_path, "ml-20m")
    (d / "ratings.csv").write_text("user,item,rating,timestamp\n1,2,3,4\n")
    with pytest.raises(ValueError, match="ratings.csv: expected header userId"):
        load_movielens("ml-20m", data_home=tmp_path, download=False)
    d = write_dat(tmp_path, "ml-1m", "1::1::5\n", ML1M_MOVIES)
    with pytest.raises(ValueError, match="ratings.dat"):
        load_movielens("ml-1m", data_home=tmp_path, download=False)


def test_unknown_release():
    with pytest.raises(ValueError, match="unknown MovieLens release 'ml-5m'"):
        load_movielens("ml-5m")


# ---------------------------------------------------------------- download path


def test_missing_without_download_says_where_to_put_it(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"ml-1m is not in .*download=False") as e:
        load_movielens("ml-1m", data_home=tmp_path, download=False)
    assert str(tmp_path / "ml-1m" / "ratings.dat") in str(e.value)
    assert "data_home=" in str(e.value)  # the Python name of the option
    assert "--data-home" in e.value.advice("--data-home")
    assert "data_home=" not in e.value.advice("--data-home")


def test_offline_download_fails_fast_with_instructions(tmp_path, capsys):
    # the conftest sandbox refuses every non-local request, as an offline machine does
    home = tmp_path / "new-home"
    t0 = time.perf_counter()
    with pytest.raises(DatasetNotFoundError, match="downloading .*ml-100k.zip failed") as e:
        load_movielens("ml-100k", data_home=home)
    assert time.perf_counter() - t0 < 5
    assert "unzip it so that" in str(e.value) and "NMFREC_DATA" in str(e.value)
    assert not home.exists()  # the folder made for the download is gone again
    assert "downloading MovieLens 100K" in capsys.readouterr().err


class _Server:
    """A local HTTP server for a folder; ``url`` is its base URL."""

    def __init__(self, folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _zip_of(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{folder.name}/{f.name}")
    return buf.getvalue()


@pytest.fixture
def grouplens(tmp_path, monkeypatch):
    """A local stand-in for GroupLens serving a small ml-100k.zip, its SHA-256 known."""
    served = tmp_path / "served"
    served.mkdir()
    payload = _zip_of(write_ml100k(tmp_path / "src"))
    (served / "ml-100k.zip").write_bytes(payload)
    server = _Server(served)
    monkeypatch.setattr(movielens, "BASE_URL", server.url)
    rel = dataclasses.replace(ds.MOVIELENS["ml-100k"],
                              known_hash="sha256:" + hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(ds.MOVIELENS, "ml-100k", rel)
    yield served
    server.close()


def test_download_verifies_unpacks_and_says_where(tmp_path, grouplens, capsys):
    home = tmp_path / "home"
    d = load_movielens("ml-100k", data_home=home)
    assert len(d.ratings) == 5 and d.path == home / "ml-100k"
    assert d.items.loc[2, "title"] == "Café au lait (1993)"
    assert not list(home.glob("*.zip")) and not list(home.glob("tmp*"))
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if "Licence" in ln)
    assert str(home / "ml-100k") in line and "SHA256 verified" in line
    assert "do not redistribute" in line
    # found the second time, no download
    folds = ml100k_folds(data_home=home, folds="u1", download=False)
    assert len(folds["u1"][0]) == 4
    assert "downloading" not in capsys.readouterr().err


def test_download_goes_to_the_user_cache_by_default(tmp_path, grouplens, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = ds.fetch_movielens("ml-100k")
    assert folder == tmp_path / "xdg" / "nmfrec" / "ml-100k"
    assert ds.find_movielens("ml-100k") == folder


def test_download_rejects_a_changed_archive(tmp_path, grouplens):
    (grouplens / "ml-100k.zip").write_bytes(b"PK\x03\x04 not the published archive")
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError, match="(?i)sha256 hash .* does not match"):
        load_movielens("ml-100k", data_home=home)
    assert not home.exists()  # no partial file, no archive, no folder left


def test_download_reports_a_server_error(tmp_path, grouplens):
    (grouplens / "ml-100k.zip").unlink()
    with pytest.raises(DatasetNotFoundError, match="404"):
        load_movielens("ml-100k", data_home=tmp_path / "home")


def test_download_rejects_an_archive_without_the_release(tmp_path, grouplens, monkeypatch):
    other = tmp_path / "other"
    (other / "something").mkdir(parents=True)
    (other / "something" / "file.txt").write_text("hello")
    payload = _zip_of(other / "something")
    (grouplens / "ml-100k.zip").write_bytes(payload)
    rel = dataclasses.replace(ds.MOVIELENS["ml-100k"],
                              known_hash="sha256:" + hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(ds.MOVIELENS, "ml-100k", rel)
    with pytest.raises(DatasetNotFoundError, match="not the expected one"):
        load_movielens("ml-100k", data_home=tmp_path / "home")


def test_unzip_stays_inside_the_data_home(tmp_path, grouplens, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-100k/u.data", "1\t1\t5\t874965758\n")
        zf.writestr("../escaped.txt", "outside")
    payload = buf.getvalue()
    (grouplens / "ml-100k.zip").write_bytes(payload)
    rel = dataclasses.replace(ds.MOVIELENS["ml-100k"],
                              known_hash="sha256:" + hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(ds.MOVIELENS, "ml-100k", rel)
    home = tmp_path / "deep" / "home"
    assert len(load_movielens("ml-100k", data_home=home).ratings) == 1
    assert not (tmp_path / "deep" / "escaped.txt").exists()


def test_every_release_has_a_published_checksum():
    for rel in ds.MOVIELENS.values():
        algo, _, digest = rel.known_hash.partition(":")
        assert (algo, len(digest)) in (("sha256", 64), ("md5", 32)), rel.name
    assert ds.MOVIELENS["ml-100k"].known_hash.startswith("sha256:")


def test_search_order(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ds.get_data_home() == tmp_path / "xdg" / "nmfrec"
    assert ds.data_home_source() == "user cache"
    monkeypatch.setenv("NMFREC_DATA", str(tmp_path / "env"))
    assert ds.get_data_home() == tmp_path / "env" and ds.data_home_source() == "NMFREC_DATA"
    assert ds.get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert ds.data_home_source(tmp_path / "arg") == "data_home"
    # inside the data home: the archive's folder, the short name, or the home itself
    write_dat(tmp_path / "env", "ml-10m", "1::1::5::1\n", ML10M_MOVIES)
    assert ds.find_movielens("ml-10m") == tmp_path / "env" / "ml-10m"
    write_dat(tmp_path / "env", "ml-10M100K", "1::1::5::1\n", ML10M_MOVIES)
    assert ds.find_movielens("ml-10m") == tmp_path / "env" / "ml-10M100K"
    assert ds.find_movielens("ml-10m", tmp_path / "env" / "ml-10m") == tmp_path / "env" / "ml-10m"
    assert ds.find_movielens("ml-1m") is None


# ---------------------------------------------------------------- real MovieLens 100K


@pytest.mark.movielens
def test_real_ml100k(movielens_home):
    d = load_movielens("ml-100k", data_home=movielens_home, download=False)
    r = d.ratings
    _check_frame(r)
    assert (len(r), r["user"].nunique(), r["item"].nunique()) == (100_000, 943, 1_682)
    assert len(d.items) == 1_682
    assert set(r["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}


@pytest.mark.movielens
def test_real_ml100k_official_folds_partition_u_data(movielens_home):
    home = movielens_home
    folds = ml100k_folds(data_home=home, download=False)
    full = load_movielens("ml-100k", data_home=home, download=False).ratings
    tests = pd.concat([te for _, te in folds.values()])
    assert len(tests) == 100_000
    assert not tests.duplicated(["user", "item"]).any()
    for train, test in folds.values():
        assert len(train) + len(test) == 100_000
        assert not set(zip(train["user"], train["item"])) & set(zip(test["user"], test["item"]))
    keys = lambda f: set(zip(f["user"], f["item"]))  # noqa: E731
    assert keys(tests) == keys(full)
    ua = ml100k_folds(data_home=home, folds="ua", download=False)["ua"][1]
    assert (ua.groupby("user").size() == 10).all()


@pytest.mark.movielens
def test_real_ml1m_copy_without_timestamps(movielens_home):
    # the shared copy of ml-1m (../shared/data/ml-1m) keeps only UserID::MovieID::Rating;
    # its README gives these checks
    if not (movielens_home / "ml-1m").is_dir():
        pytest.skip(f"no ml-1m in {movielens_home}")
    d = load_movielens("ml-1m", data_home=movielens_home, download=False)
    folder = d.path
    r = d.ratings
    if d.meta["timestamps"]:
        _check_frame(r)
    else:
        assert list(r.columns) == ["user", "item", "rating"]
        digest = hashlib.md5((folder / "ratings_no_timestamps.dat").read_bytes()).hexdigest()
        assert digest == "d8eeb79f6661276a634f2147731aca44"
        assert r.iloc[0].tolist() == [1, 1193, 5.0]
    assert (len(r), r["user"].nunique(), r["item"].nunique()) == (1_000_209, 6_040, 3_706)
    assert r["rating"].value_counts().sort_index().to_dict() == {
        1.0: 56_174, 2.0: 107_557, 3.0: 261_197, 4.0: 348_971, 5.0: 226_310}
    assert len(d.items) == 3_883


# ---------------------------------------------------------------- synthetic generator


def test_make_ratings_shape_and_invariants():
    df = make_ratings(200, 300, 6000, rank=5, seed=1)
    _check_frame(df)
    assert len(df) == 6000
    assert not df.duplicated(["user", "item"]).any()
    assert set(df["user"]) == set(range(1, 201)) and set(df["item"]) == set(range(1, 301))
    assert set(df["rating"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    shares = df["rating"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, synthetic._STAR_SHARES, atol=0.01)
    counts = df.groupby("item").size()
    assert counts.max() > 5 * counts.median()  # popularity is skewed


def test_make_ratings_deterministic_by_seed():
    a = make_ratings(100, 120, 2000, seed=3)
    pd.testing.assert_frame_equal(a, make_ratings(100, 120, 2000, seed=3))
    assert not a.equals(make_ratings(100, 120, 2000, seed=4))


def test_noise_changes_ratings_not_pairs():
    clean = make_ratings(50, 60, 800, rank=3, noise=0.0, seed=2)
    noisy = make_ratings(50, 60, 800, rank=3, noise=1.0, seed=2)
    assert (noisy[["user", "item"]].to_numpy() == clean[["user", "item"]].to_numpy()).all()
    assert (noisy["rating"] != clean["rating"]).any()


def test_noiseless_stars_are_monotone_in_the_planted_score():
    df, W, H = make_ratings(80, 90, 1500, rank=4, noise=0.0, seed=5, return_factors=True)
    assert W.shape == (80, 4) and H.shape == (90, 4) and (W >= 0).all() and (H >= 0).all()
    score = np.einsum("ij,ij->i", W[df["user"] - 1], H[df["item"] - 1])
    stars = df["rating"].to_numpy()[np.argsort(score, kind="stable")]
    assert (np.diff(stars) >= 0).all()


def test_alias_sampler_matches_probabilities():
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])
    draws = synthetic._Alias(p).draw(np.random.default_rng(0), 200_000)
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / draws.size, p, atol=0.005)


def test_make_ratings_like_sizes():
    df = make_ratings_like("S", seed=0)
    assert (len(df), df["user"].nunique(), df["item"].nunique()) == (100_000, 943, 1_682)
    with pytest.raises(ValueError, match="unknown size 'XL'"):
        make_ratings_like("XL")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_users": 10, "n_items": 10, "n_ratings": 15}, "at least n_users \\+ n_items = 20"),
        ({"n_users": 10, "n_items": 10, "n_ratings": 60}, "more than half"),
        ({"n_users": 0, "n_items": 10, "n_ratings": 60}, "n_users must be a positive"),
        ({"n_users": 10, "n_items": 10, "n_ratings": 30, "noise": -1}, "noise must be >= 0"),
    ],
)
def test_make_ratings_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_ratings(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"taste_concentration": 0}, "taste_concentration must be > 0"),
        ({"selection_bias": 1.5}, r"selection_bias must be in \[0, 1\]"),
    ],
)
def test_make_ratings_taste_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_ratings(30, 40, 400, **kwargs)


def test_synthetic_shape():
    assert ds.synthetic_shape("S") == ds.synthetic_shape("ml-100k") == (943, 1_682, 100_000)
    assert ds.synthetic_shape("L") == (138_493, 26_744, 20_000_263)
    assert ds.synthetic_shape("500x800x20_000") == (500, 800, 20_000)
    assert ds.synthetic_shape((5, 6, 7)) == (5, 6, 7)
    for bad in ("huge", "5x6", "0x5x5", (1, 2)):
        with pytest.raises(ValueError, match="size must be one of S, M, L"):
            ds.synthetic_shape(bad)


def test_selection_bias_makes_users_rate_what_they_like():
    # the planted affinity of the rated pairs is above that of random pairs when the
    # selection follows taste, and about the same when it does not
    def lift(b):
        df, W, H = make_ratings(300, 400, 12_000, seed=4, selection_bias=b,
                                return_factors=True)
        rated = np.einsum("ij,ij->i", W[df["user"] - 1], H[df["item"] - 1]).mean()
        rng = np.random.default_rng(0)
        u, i = rng.integers(0, 300, 20_000), rng.integers(0, 400, 20_000)
        return rated / np.einsum("ij,ij->i", W[u], H[i]).mean()

    assert lift(0.8) > 1.5
    assert abs(lift(0.0) - 1) < 0.25


def test_tastes_cluster_the_items():
    # two items of the same planted cluster share more raters than two of different
    # ones (cosine of their rater sets), unless the selection ignores taste
    def ratio(b):
        df, W, H = make_ratings(400, 200, 10_000, rank=5, seed=2, selection_bias=b,
                                return_factors=True)
        cluster = H.argmax(axis=1)
        X = np.zeros((400, 200))  # a dense reference on a small problem
        X[df["user"] - 1, df["item"] - 1] = 1
        X /= np.linalg.norm(X, axis=0, keepdims=True)
        cos = X.T @ X
        same = cluster[:, None] == cluster[None, :]
        off = ~np.eye(200, dtype=bool)
        return cos[same & off].mean() / cos[~same].mean()

    assert ratio(0.8) > 1.25
    assert abs(ratio(0.0) - 1) < 0.05


@pytest.mark.slow
def test_a_learned_model_beats_popularity_on_synthetic_data():
    from nmfrec import Recommender
    from nmfrec.evaluation import Popularity, evaluate, kfold

    df = make_ratings_like("S", seed=0)
    train, test = next(iter(kfold(df, n_splits=5, random_state=0)))
    model = evaluate(Recommender(feedback="implicit", random_state=0), train, test,
                     protocols="ranking")
    popular = evaluate(Popularity(), train, test, protocols="ranking")
    assert model["precision"] >= 1.3 * popular["precision"], (model["precision"],
                                                               popular["precision"])


def test_incomplete_ml100k_folder(tmp_path):
    folder = write_ml100k(tmp_path)
    (folder / "u3.test").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"u3.test is missing; the ml-100k folder is "
                                                   "incomplete"):
        ml100k_folds(data_home=tmp_path, folds=("u1", "u3"))
