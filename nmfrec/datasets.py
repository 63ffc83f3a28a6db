"""MovieLens loaders, the data directory, and a synthetic MovieLens-shaped generator.

Every release is returned in one shape, a :class:`Dataset` whose ``ratings`` frame has the
columns ``user`` (int64), ``item`` (int64), ``rating`` (float64) and ``timestamp``
(int64, Unix seconds), and whose ``items`` frame is indexed by ``item`` with ``title`` and
``genres`` (genre names joined by ``|``).

MovieLens may not be redistributed (see ``datasets/README.md``), so nothing here ships the
data: :func:`load_movielens` reads it from the data directory and, where the network
allows, downloads the official zip from GroupLens first.

The data directory is, in order: the ``data_home`` argument, the ``NMFREC_DATA``
environment variable, ``$XDG_CACHE_HOME/nmfrec`` or ``~/.cache/nmfrec``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "Dataset",
    "DatasetNotFoundError",
    "MOVIELENS",
    "get_data_home",
    "load_movielens",
    "ml100k_folds",
    "make_ratings",
    "make_ratings_like",
    "SYNTHETIC_SIZES",
]

BASE_URL = "https://files.grouplens.org/datasets/movielens/"
#: Seconds to wait for GroupLens before giving up (an offline machine fails at once).
DOWNLOAD_TIMEOUT = 20.0

# The 19 genre flags of ml-100k's u.item, in column order (as listed in u.genre).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)


@dataclass(frozen=True)
class _Release:
    name: str
    folder: str  # folder inside the zip
    ratings: str  # ratings file inside the folder
    fmt: str  # "100k", "dat" or "csv"
    min_zip_bytes: int  # a truncated download is smaller than this

    @property
    def zip_name(self) -> str:
        return f"{self.name}.zip"

    @property
    def url(self) -> str:
        return BASE_URL + self.zip_name


#: Supported MovieLens releases.
MOVIELENS = {
    r.name: r
    for r in (
        _Release("ml-100k", "ml-100k", "u.data", "100k", 4_000_000),
        _Release("ml-1m", "ml-1m", "ratings.dat", "dat", 5_000_000),
        _Release("ml-10m", "ml-10M100K", "ratings.dat", "dat", 60_000_000),
        _Release("ml-20m", "ml-20m", "ratings.csv", "csv", 190_000_000),
        _Release("ml-25m", "ml-25m", "ratings.csv", "csv", 240_000_000),
        _Release("ml-32m", "ml-32m", "ratings.csv", "csv", 230_000_000),
        _Release("ml-latest-small", "ml-latest-small", "ratings.csv", "csv", 900_000),
    )
}


class DatasetNotFoundError(FileNotFoundError):
    """The dataset is not in the data directory and could not be downloaded."""


@dataclass
class Dataset:
    """A ratings dataset.

    Attributes
    ----------
    name : str
        Release name, e.g. ``"ml-100k"``.
    ratings : DataFrame
        Columns ``user`` int64, ``item`` int64, ``rating`` float64, ``timestamp`` int64,
        in file order.
    items : DataFrame
        Indexed by ``item``; columns ``title`` (str) and ``genres`` (``|``-joined
        names, ``""`` when none).
    path : Path or None
        Folder the files were read from (None for synthetic data).
    """

    name: str
    ratings: pd.DataFrame
    items: pd.DataFrame
    path: Path | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return int(self.ratings["user"].nunique())

    @property
    def n_items(self) -> int:
        return int(self.ratings["item"].nunique())

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.ratings):,} ratings, {self.n_users:,} "
            f"users, {self.n_items:,} items, path={str(self.path) if self.path else None!r})"
        )


# --------------------------------------------------------------------------------------
# data directory and download
# --------------------------------------------------------------------------------------


def get_data_home(data_home=None) -> Path:
    """The data directory: ``data_home``, else ``$NMFREC_DATA``, else the user cache.

    The user cache is ``$XDG_CACHE_HOME/nmfrec`` or ``~/.cache/nmfrec``. The folder is
    not created here.
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("NMFREC_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "nmfrec"


def _release(name) -> _Release:
    try:
        return MOVIELENS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown MovieLens release {name!r}; choose one of {sorted(MOVIELENS)}."
        ) from None


def _find_folder(rel: _Release, home: Path) -> Path | None:
    """The release folder under ``home``, or ``home`` itself if it is that folder."""
    for cand in (home / rel.folder, home / rel.name, home):
        if (cand / rel.ratings).is_file():
            return cand
    return None


def _where_to_put(rel: _Release, home: Path) -> str:
    return (
        f"Download {rel.url} by hand (terms: https://grouplens.org/datasets/movielens/), "
        f"unzip it so that {home / rel.folder / rel.ratings} exists, or point "
        f"data_home= / the NMFREC_DATA environment variable at the folder that holds "
        f"{rel.folder}/."
    )


def _download(rel: _Release, home: Path, timeout: float) -> Path:
    """Fetch the release zip into ``home``, verify it and unpack it."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetNotFoundError(
            f"{rel.name} is not in {home} and that folder cannot be created ({exc}). "
            + _where_to_put(rel, home)
        ) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{rel.name}-", suffix=".zip.part", dir=home)
    try:
        try:
            with urllib.request.urlopen(rel.url, timeout=timeout) as resp, os.fdopen(
                fd, "wb"
            ) as out:
                expected = resp.headers.get("Content-Length") if resp.headers else None
                shutil.copyfileobj(resp, out, length=1 << 20)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DatasetNotFoundError(
                f"{rel.name} is not in {home} and downloading {rel.url} failed "
                f"({reason}). " + _where_to_put(rel, home)
            ) from None
        _verify_zip(rel, Path(tmp), expected)
        with zipfile.ZipFile(tmp) as zf:
            _safe_extract(zf, home)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    folder = _find_folder(rel, home)
    if folder is None:
        raise DatasetNotFoundError(
            f"{rel.zip_name} unpacked into {home} but {rel.folder}/{rel.ratings} is not "
            "there; the archive layout is not the expected one."
        )
    return folder


def _verify_zip(rel: _Release, path: Path, expected_length=None) -> None:
    """Reject a truncated or corrupt archive with an error that says so."""
    size = path.stat().st_size
    if expected_length is not None and str(expected_length).isdigit() and size != int(
        expected_length
    ):
        raise DatasetNotFoundError(
            f"download of {rel.url} is truncated: got {size:,} of {int(expected_length):,} "
            "bytes. Try again, or " + _where_to_put(rel, path.parent)
        )
    if size < rel.min_zip_bytes:
        raise DatasetNotFoundError(
            f"download of {rel.url} is only {size:,} bytes (a real {rel.zip_name} is at "
            f"least {rel.min_zip_bytes:,}); it is truncated or not the archive. "
            + _where_to_put(rel, path.parent)
        )
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            names = set(zf.namelist())
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise DatasetNotFoundError(
            f"{rel.zip_name} from {rel.url} is not a valid zip or is corrupt ({exc}). "
            + _where_to_put(rel, path.parent)
        ) from None
    if bad is not None:
        raise DatasetNotFoundError(f"{rel.zip_name} is corrupt: CRC error in {bad}.")
    if f"{rel.folder}/{rel.ratings}" not in names:
        raise DatasetNotFoundError(
            f"{rel.zip_name} has no {rel.folder}/{rel.ratings}; not the expected archive."
        )


def _safe_extract(zf: zipfile.ZipFile, dest: Path) -> None:
    root = dest.resolve()
    for member in zf.namelist():
        target = (dest / member).resolve()
        if root != target and root not in target.parents:
            raise DatasetNotFoundError(f"refusing to extract {member!r} outside {dest}.")
    zf.extractall(dest)


# --------------------------------------------------------------------------------------
# parsers, one per release format
# --------------------------------------------------------------------------------------

_RATING_DTYPES = {"user": "int64", "item": "int64", "rating": "float64", "timestamp": "int64"}


def _finish_ratings(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    bad = df.isna().any(axis=1).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{path}: {int(bad.sum())} ratings rows have missing fields "
            f"(first: data row {row + 1}: {df.iloc[row].tolist()})."
        )
    try:
        return df.astype(_RATING_DTYPES).reset_index(drop=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: ratings are not numeric ({exc}).") from None


def _read_table(path: Path, **kw) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kw)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"could not parse {path}: {exc}") from None


def _read_ratings_100k(path: Path) -> pd.DataFrame:
    """``u.data`` / ``u1.base``…: tab-separated ``user item rating timestamp``."""
    df = _read_table(path, sep="\t", header=None, names=list(_RATING_DTYPES),
                     engine="c")
    return _finish_ratings(df, path)


def _read_ratings_dat(path: Path) -> pd.DataFrame:
    """``ratings.dat`` (ml-1m, ml-10m): ``UserID::MovieID::Rating::Timestamp``.

    The fields are numbers, so ``::`` can be read by the fast C parser as ``:`` with
    empty fields in between (columns 0, 2, 4, 6).
    """
    df = _read_table(path, sep=":", header=None, usecols=[0, 2, 4, 6], engine="c")
    if df.shape[1] != 4:
        raise ValueError(f"could not parse {path}: expected UserID::MovieID::Rating::Timestamp.")
    df.columns = list(_RATING_DTYPES)
    return _finish_ratings(df, path)


def _read_ratings_csv(path: Path) -> pd.DataFrame:
    """``ratings.csv`` (ml-20m and later): header ``userId,movieId,rating,timestamp``."""
    df = _read_table(path, engine="c")
    cols = ["userId", "movieId", "rating", "timestamp"]
    if list(df.columns[:4]) != cols:
        raise ValueError(f"{path}: expected header {','.join(cols)}; got {list(df.columns)}.")
    df = df[cols]
    df.columns = list(_RATING_DTYPES)
    return _finish_ratings(df, path)


def _items_frame(ids, titles, genres) -> pd.DataFrame:
    items = pd.DataFrame(
        {"title": pd.array(titles, dtype="string"), "genres": pd.array(genres, dtype="string")},
        index=pd.Index(np.asarray(ids, dtype=np.int64), name="item"),
    )
    return items


def _read_items_100k(path: Path) -> pd.DataFrame:
    """``u.item``: Latin-1, ``|``-separated: id|title|release|video|url|19 genre flags."""
    df = _read_table(path, sep="|", header=None, encoding="latin-1", engine="c",
                     dtype={1: str}, keep_default_na=False)
    if df.shape[1] != 5 + len(ML100K_GENRES):
        raise ValueError(
            f"{path}: expected {5 + len(ML100K_GENRES)} '|'-separated fields per line; "
            f"got {df.shape[1]}."
        )
    flags = df.iloc[:, 5:].to_numpy(dtype=np.int64) == 1
    names = np.array(ML100K_GENRES, dtype=object)
    genres = ["|".join(names[row]) for row in flags]
    return _items_frame(df[0], df[1], genres)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # ml-1m's movies.dat is Latin-1
        return raw.decode("latin-1")


def _read_items_dat(path: Path) -> pd.DataFrame:
    """``movies.dat``: ``MovieID::Title::Genres``, UTF-8 if it decodes, else Latin-1 (ml-1m)."""
    ids, titles, genres = [], [], []
    for n, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("::")
        if len(parts) != 3:
            raise ValueError(f"{path}, line {n}: expected MovieID::Title::Genres; got {line!r}.")
        ids.append(int(parts[0]))
        titles.append(parts[1])
        genres.append("" if parts[2] == "(no genres listed)" else parts[2])
    return _items_frame(ids, titles, genres)


def _read_items_csv(path: Path) -> pd.DataFrame:
    """``movies.csv``: header ``movieId,title,genres``, UTF-8, titles quoted when needed."""
    df = _read_table(path, engine="c", dtype={"title": str, "genres": str},
                     keep_default_na=False)
    if list(df.columns[:3]) != ["movieId", "title", "genres"]:
        raise ValueError(f"{path}: expected header movieId,title,genres; got {list(df.columns)}.")
    genres = df["genres"].where(df["genres"] != "(no genres listed)", "")
    return _items_frame(df["movieId"], df["title"], genres)


_PARSERS = {
    "100k": (_read_ratings_100k, "u.item", _read_items_100k),
    "dat": (_read_ratings_dat, "movies.dat", _read_items_dat),
    "csv": (_read_ratings_csv, "movies.csv", _read_items_csv),
}


def load_movielens(name="ml-100k", data_home=None, download=True,
                   timeout=DOWNLOAD_TIMEOUT) -> Dataset:
    """Load a MovieLens release as a :class:`Dataset`.

    Parameters
    ----------
    name : {"ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-32m", "ml-latest-small"}
    data_home : str or Path, optional
        Folder holding the unpacked release folder (e.g. ``<data_home>/ml-100k/u.data``);
        the release folder itself is accepted too. Defaults to :func:`get_data_home`.
    download : bool, default True
        If the files are absent, fetch ``<name>.zip`` from GroupLens into the data
        directory, check it (length against the server's, a minimum size, every CRC,
        the expected ratings file) and unpack it.
    timeout : float
        Seconds to wait for the server.

    Returns
    -------
    Dataset
        ``ratings`` (user, item, rating, timestamp) and ``items`` (title, genres).

    Raises
    ------
    DatasetNotFoundError
        The files are absent and downloading is off, failed, or gave a bad archive; the
        message says where to put the files.
    ValueError
        Unknown release, or a file that does not parse.
    """
    rel = _release(name)
    home = get_data_home(data_home)
    folder = _find_folder(rel, home)
    if folder is None:
        if not download:
            raise DatasetNotFoundError(
                f"{rel.name} is not in {home} and download=False. " + _where_to_put(rel, home)
            )
        folder = _download(rel, home, timeout)
    read_ratings, items_file, read_items = _PARSERS[rel.fmt]
    ratings = read_ratings(folder / rel.ratings)
    items_path = folder / items_file
    if items_path.is_file():
        items = read_items(items_path)
    else:
        items = _items_frame([], [], [])
    return Dataset(name=rel.name, ratings=ratings, items=items, path=folder)


def ml100k_folds(data_home=None, folds=("u1", "u2", "u3", "u4", "u5"), download=True):
    """The official ml-100k train/test splits.

    ``u1``…``u5`` are the five disjoint 80/20 folds of ``u.data`` (each rating in exactly
    one ``.test``); ``ua`` and ``ub`` hold out exactly 10 ratings per user.

    Parameters
    ----------
    data_home : str or Path, optional
        As in :func:`load_movielens`.
    folds : sequence of {"u1", …, "u5", "ua", "ub"}
    download : bool, default True

    Returns
    -------
    dict
        ``{fold name: (train, test)}`` in the order asked, each a ratings frame like
        ``load_movielens(...).ratings``; pass it straight to
        :func:`nmfrec.evaluation.cross_validate`.
    """
    valid = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
    if isinstance(folds, str):
        folds = (folds,)
    bad = [f for f in folds if f not in valid]
    if bad or not folds:
        raise ValueError(f"folds must be a non-empty subset of {valid}; got {tuple(folds)!r}.")
    rel = MOVIELENS["ml-100k"]
    home = get_data_home(data_home)
    folder = _find_folder(rel, home)
    if folder is None:
        if not download:
            raise DatasetNotFoundError(
                f"ml-100k is not in {home} and download=False. " + _where_to_put(rel, home)
            )
        folder = _download(rel, home, DOWNLOAD_TIMEOUT)
    out = {}
    for f in folds:
        pair = []
        for part in ("base", "test"):
            p = folder / f"{f}.{part}"
            if not p.is_file():
                raise DatasetNotFoundError(
                    f"{p} is missing; the ml-100k folder is incomplete. " + _where_to_put(rel, home)
                )
            pair.append(_read_ratings_100k(p))
        out[f] = tuple(pair)
    return out


# --------------------------------------------------------------------------------------
# synthetic MovieLens-shaped ratings
# --------------------------------------------------------------------------------------

#: EVALUATION.md's synthetic sizes: (n_users, n_items, n_ratings).
SYNTHETIC_SIZES = {
    "ml-100k": (943, 1_682, 100_000),
    "ml-1m": (6_040, 3_706, 1_000_209),
    "ml-20m": (138_493, 26_744, 20_000_263),
}
_SIZE_ALIASES = {"S": "ml-100k", "M": "ml-1m", "L": "ml-20m"}

# Share of each star in ml-100k (1..5); the planted scores are cut at these quantiles.
_STAR_SHARES = np.array([0.0611, 0.1137, 0.2715, 0.3417, 0.2120])
_T0 = 874_724_710  # 1997-09-20, ml-100k's first timestamp
_SPAN = 7 * 30 * 86_400  # about seven months, like ml-100k
_CHUNK = 1 << 20


def _sorted_unique(a):
    """Sorted distinct values; a plain sort (numpy's hash-based unique is slower here)."""
    a = np.sort(a)
    if a.size:
        keep = np.empty(a.size, dtype=bool)
        keep[0] = True
        np.not_equal(a[1:], a[:-1], out=keep[1:])
        a = a[keep]
    return a


def _in_sorted(values, sorted_ref):
    """Boolean mask: which ``values`` occur in the sorted array ``sorted_ref``."""
    if sorted_ref.size == 0:
        return np.zeros(values.size, dtype=bool)
    idx = np.searchsorted(sorted_ref, values)
    np.minimum(idx, sorted_ref.size - 1, out=idx)
    return sorted_ref[idx] == values


class _Alias:
    """Walker/Vose alias table: O(1) draws from a discrete distribution.

    ``Generator.choice(n, p=p)`` binary-searches the CDF per draw, which is cache-bound
    and about ten times slower for tens of millions of draws over 10^5 categories.
    """

    def __init__(self, p):
        n = p.size
        scaled = p * (n / p.sum())
        self.prob = np.ones(n)
        self.alias = np.arange(n)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            self.prob[s] = scaled[s]
            self.alias[s] = g
            scaled[g] -= 1.0 - scaled[s]
            (small if scaled[g] < 1.0 else large).append(g)
        # leftovers are 1 up to rounding
        self.n = n

    def draw(self, rng, size):
        idx = rng.integers(0, self.n, size=size)
        keep = rng.random(size) < self.prob[idx]
        return np.where(keep, idx, self.alias[idx])


def _sample_pairs(rng, n_users, n_items, n_ratings, p_user, p_item):
    """``n_ratings`` distinct (user, item) keys ``u·n_items + i``, sorted.

    Every user and every item gets one pair first (user → item drawn by popularity,
    then uncovered items → user drawn by activity); the rest is drawn from the product of
    the two distributions in batches, duplicates rejected. Memory stays O(n_ratings).
    """
    n_items64 = np.int64(n_items)
    user_dist, item_dist = _Alias(p_user), _Alias(p_item)
    seed_items = item_dist.draw(rng, n_users)
    keys = np.arange(n_users, dtype=np.int64) * n_items64 + seed_items
    uncovered = np.flatnonzero(np.bincount(seed_items, minlength=n_items) == 0)
    seed_users = user_dist.draw(rng, uncovered.size)
    keys = _sorted_unique(
        np.concatenate([keys, seed_users.astype(np.int64) * n_items64 + uncovered])
    )
    accept = 0.9  # running estimate of the share of fresh draws that are new pairs
    for _ in range(200):
        need = n_ratings - keys.size
        if need <= 0:
            break
        m = int(min(need / max(accept, 0.05) * 1.1 + 1000, 4 * n_ratings + 1000))
        cand = user_dist.draw(rng, m).astype(np.int64) * n_items64
        cand += item_dist.draw(rng, m)
        cand = _sorted_unique(cand)
        fresh = cand[~_in_sorted(cand, keys)]
        del cand
        accept = 0.5 * accept + 0.5 * fresh.size / m
        if fresh.size > need:
            fresh = np.sort(fresh[rng.permutation(fresh.size)[:need]])
        keys = np.concatenate([keys, fresh])
        keys.sort()
    else:  # pragma: no cover - needs a pathologically dense request
        raise RuntimeError(
            f"could not draw {n_ratings} distinct pairs of {n_users}x{n_items} "
            f"(reached {keys.size}); ask for fewer ratings."
        )
    return keys


def make_ratings(n_users, n_items, n_ratings, rank=10, noise=0.5, seed=0,
                 zipf_exponent=1.5, popularity_offset=0.05,
                 activity_sigma=1.0, return_factors=False):
    """Synthetic MovieLens-shaped explicit ratings, deterministic by ``seed``.

    How it is made:

    * item popularity is Zipf-like (Zipf–Mandelbrot), ``p_i ∝ (rank_i + q)^(−s)`` with
      ``s = zipf_exponent`` and ``q = popularity_offset·n_items``, over a random
      permutation of the items (the defaults match ml-100k's and ml-1m's most rated and
      median item counts within ~30 %);
    * user activity is log-normal, ``a_u ∝ exp(σ·z_u)`` (``σ = activity_sigma``);
    * (user, item) pairs are drawn from ``a ⊗ p`` without replacement (hashing the pair
      to ``u·n_items + i`` and rejecting repeats, in batches), after first giving **every
      user and every item at least one rating**;
    * ratings come from a planted non-negative rank-``rank`` model:
      ``s_ui = w_u·h_i`` with Gamma-distributed factors, plus Gaussian noise of standard
      deviation ``noise·std(s)``, then cut into 1–5 stars at the quantiles that give
      ml-100k's star shares (6 %, 11 %, 27 %, 34 %, 21 %);
    * timestamps: each user starts at a random time in ml-100k's seven months and rates
      at exponentially spread times after that.

    No users×items array is ever built; work and memory are O(n_ratings · rank) in
    chunks (20M ratings take tens of seconds).

    Parameters
    ----------
    n_users, n_items, n_ratings : int
        ``n_ratings`` must be at least ``n_users + n_items`` (every user and item is
        rated) and at most half of ``n_users·n_items``.
    rank : int, default 10
        Rank of the planted model.
    noise : float, default 0.5
        Noise standard deviation relative to that of the planted scores.
    seed : int, default 0
    zipf_exponent : float, default 1.5
    popularity_offset : float, default 0.05
    activity_sigma : float, default 1.0
    return_factors : bool, default False
        Also return the planted factors.

    Returns
    -------
    ratings : DataFrame
        Columns ``user``, ``item`` (int64, 1-based like MovieLens), ``rating`` (float64
        in {1, …, 5}), ``timestamp`` (int64 Unix seconds), sorted by user then item,
        unique (user, item) pairs.
    W, H : ndarray of shape (n_users, rank) and (n_items, rank)
        Only with ``return_factors``: the planted factors (row ``id − 1``); the
        noiseless score of a rating is ``W[user − 1] · H[item − 1]``.
    """
    for name, v in (("n_users", n_users), ("n_items", n_items), ("n_ratings", n_ratings),
                    ("rank", rank)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    n_users, n_items, n_ratings, rank = map(int, (n_users, n_items, n_ratings, rank))
    if n_ratings < n_users + n_items:
        raise ValueError(
            f"n_ratings={n_ratings} is too small: every user and item gets a rating, so it "
            f"must be at least n_users + n_items = {n_users + n_items}."
        )
    if n_ratings > n_users * n_items // 2:
        raise ValueError(
            f"n_ratings={n_ratings} is more than half of the {n_users}x{n_items} matrix; "
            "MovieLens-shaped data is sparse (ml-100k fills 6.3%)."
        )
    if noise < 0:
        raise ValueError(f"noise must be >= 0; got {noise}.")
    rng = np.random.default_rng(seed)

    # Zipf-Mandelbrot: the offset flattens the head, as in MovieLens where the most
    # rated film has ~0.5 % of the ratings rather than the ~10 % of a pure Zipf law.
    offset = popularity_offset * n_items
    p_item = (np.arange(1, n_items + 1, dtype=np.float64) + offset) ** -zipf_exponent
    p_item = rng.permutation(p_item / p_item.sum())
    p_user = np.exp(activity_sigma * rng.standard_normal(n_users))
    # Cap activity so that no user is expected to rate more than half the catalog.
    p_user = p_user / p_user.sum()
    p_user = np.minimum(p_user, 0.5 * n_items / n_ratings)
    p_user /= p_user.sum()

    keys = _sample_pairs(rng, n_users, n_items, n_ratings, p_user, p_item)
    users = keys // n_items
    items = keys - users * n_items

    # Planted non-negative factors; Gamma(shape 1) keeps them sparse-ish and positive.
    W = rng.gamma(1.0, 1.0, size=(n_users, rank))
    H = rng.gamma(1.0, 1.0, size=(n_items, rank))
    scores = np.empty(keys.size)
    for s in range(0, keys.size, _CHUNK):
        e = min(s + _CHUNK, keys.size)
        scores[s:e] = np.einsum("ij,ij->i", W[users[s:e]], H[items[s:e]])
    scores += noise * scores.std() * rng.standard_normal(keys.size)
    cuts = np.quantile(scores, np.cumsum(_STAR_SHARES)[:-1])
    rating = (1 + np.searchsorted(cuts, scores, side="right")).astype(np.float64)
    del scores

    start = rng.integers(0, _SPAN, size=n_users)
    spread = rng.exponential(30 * 86_400, size=keys.size).astype(np.int64)
    timestamp = _T0 + np.minimum(start[users] + spread, _SPAN)

    df = pd.DataFrame({
        "user": users + 1,
        "item": items + 1,
        "rating": rating,
        "timestamp": timestamp.astype(np.int64),
    })
    return (df, W, H) if return_factors else df


def make_ratings_like(name="ml-100k", seed=0, **kwargs) -> pd.DataFrame:
    """:func:`make_ratings` at the size of a MovieLens release (EVALUATION.md's S/M/L).

    Parameters
    ----------
    name : {"ml-100k", "ml-1m", "ml-20m", "S", "M", "L"}
        ``S`` = ml-100k (943 × 1,682, 100,000), ``M`` = ml-1m (6,040 × 3,706,
        1,000,209), ``L`` = ml-20m (138,493 × 26,744, 20,000,263).
    seed : int, default 0
    **kwargs
        Passed to :func:`make_ratings` (``rank``, ``noise``, …).
    """
    key = _SIZE_ALIASES.get(name, name)
    if key not in SYNTHETIC_SIZES:
        raise ValueError(
            f"unknown size {name!r}; choose one of {sorted(SYNTHETIC_SIZES) + sorted(_SIZE_ALIASES)}."
        )
    n_users, n_items, n_ratings = SYNTHETIC_SIZES[key]
    return make_ratings(n_users, n_items, n_ratings, seed=seed, **kwargs)
