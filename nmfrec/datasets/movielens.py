"""MovieLens: the releases, find-or-download, loaders and the official ml-100k folds.

Every release is returned in one shape, a :class:`Dataset` whose ``ratings`` frame has the
columns ``user`` (int64), ``item`` (int64), ``rating`` (float64) and ``timestamp``
(int64, Unix seconds), and whose ``items`` frame is indexed by ``item`` with ``title`` and
``genres`` (genre names joined by ``|``). A copy of ml-1m that kept only
``UserID::MovieID::Rating`` (``ratings_no_timestamps.dat`` in place of ``ratings.dat``)
loads too, without the ``timestamp`` column.

MovieLens may not be redistributed, so nothing here ships the data: a release is read from
the data home (see :func:`~nmfrec.datasets.get_data_home` for the search order) and, when
it is not there and the network allows, downloaded from GroupLens with pooch, checked
against its published hash and unpacked into the data home first.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass, field
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pooch
import requests

from ..io import ML100K_GENRES, read_movielens_items, read_movielens_ratings
from ._home import ENV_VAR, find_folder, get_data_home

if TYPE_CHECKING:
    from .._typing import StrPath

__all__ = [
    "Dataset",
    "DatasetNotFoundError",
    "Release",
    "MOVIELENS",
    "ML100K_FOLDS",
    "ML100K_DEFAULT_FOLDS",
    "ML100K_GENRES",
    "DOWNLOAD_TIMEOUT",
    "find_movielens",
    "fetch_movielens",
    "load_movielens",
    "ml100k_folds",
]

BASE_URL = "https://files.grouplens.org/datasets/movielens/"
TERMS_URL = "https://grouplens.org/datasets/movielens/"
#: Seconds to wait for GroupLens before giving up (an offline machine fails at once).
DOWNLOAD_TIMEOUT = 20.0

#: The official ml-100k splits: ``u1``-``u5`` are five disjoint 80/20 folds of ``u.data``
#: (each rating in exactly one ``.test``); ``ua`` and ``ub`` hold out 10 ratings per user.
ML100K_FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
#: The folds :func:`ml100k_folds` returns by default: the five disjoint ones.
ML100K_DEFAULT_FOLDS = ML100K_FOLDS[:5]


@dataclass(frozen=True)
class Release:
    """One MovieLens release: where it is published and how its files look.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"ml-100k"``; the archive is ``<name>.zip``.
    folder : str
        Folder inside the archive (``"ml-10M100K"`` for ml-10m).
    ratings : str
        Ratings file inside the folder.
    fmt : {"100k", "dat", "csv"}
        Format of the ratings and items files (see :func:`nmfrec.io.read_movielens_ratings`).
    items : str
        Items (titles, genres) file inside the folder.
    title : str
        Name for people, e.g. ``"MovieLens 100K"``.
    known_hash : str or None
        Published checksum of the archive, ``"sha256:<hex>"`` (``"md5:<hex>"`` where
        only GroupLens's MD5 is published); None skips the check.
    ratings_without_timestamps : str or None
        Ratings file of copies that kept only ``UserID::MovieID::Rating`` (ml-1m's
        ``ratings_no_timestamps.dat``), read when ``ratings`` is absent; the frame then
        has no ``timestamp`` column.
    """

    name: str
    folder: str
    ratings: str
    fmt: str
    items: str
    title: str
    known_hash: str | None = None
    ratings_without_timestamps: str | None = None

    @property
    def zip_name(self) -> str:
        return f"{self.name}.zip"

    @property
    def url(self) -> str:
        return BASE_URL + self.zip_name


# SHA-256 sums as published in TensorFlow Datasets' url_checksums/movielens.txt; ml-10m
# and ml-32m have only GroupLens's published MD5 (<name>.zip.md5).
#: Supported MovieLens releases, by name.
MOVIELENS = {
    r.name: r
    for r in (
        Release("ml-100k", "ml-100k", "u.data", "100k", "u.item", "MovieLens 100K",
                "sha256:50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"),
        Release("ml-1m", "ml-1m", "ratings.dat", "dat", "movies.dat", "MovieLens 1M",
                "sha256:a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
                "ratings_no_timestamps.dat"),
        Release("ml-10m", "ml-10M100K", "ratings.dat", "dat", "movies.dat", "MovieLens 10M",
                "md5:ce571fd55effeba0271552578f2648bd"),
        Release("ml-20m", "ml-20m", "ratings.csv", "csv", "movies.csv", "MovieLens 20M",
                "sha256:96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3"),
        Release("ml-25m", "ml-25m", "ratings.csv", "csv", "movies.csv", "MovieLens 25M",
                "sha256:8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa"),
        Release("ml-32m", "ml-32m", "ratings.csv", "csv", "movies.csv", "MovieLens 32M",
                "md5:d472be332d4daa821edc399621853b57"),
        Release("ml-latest-small", "ml-latest-small", "ratings.csv", "csv", "movies.csv",
                "MovieLens latest-small",
                "sha256:696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"),
    )
}


class DatasetNotFoundError(FileNotFoundError):
    """A data set is not in the data home and could not be downloaded.

    The message says what happened and how to provide the files.

    Parameters
    ----------
    reason : str
        What happened, e.g. ``"ml-1m is not in /data and download=False."``.
    release : Release, optional
        The release that was looked for.
    data_home : path-like, optional
        The data home that was searched.

    Attributes
    ----------
    reason, release, data_home
        As given.
    """

    def __init__(self, reason: str, *, release: Release | None = None,
                 data_home: StrPath | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.release = release
        self.data_home = None if data_home is None else Path(data_home)

    def advice(self, option: str = "data_home=") -> str:

        """How to provide the files by hand.

        Parameters
        ----------
        option : str, default="data_home="
            How the caller names the data home: ``"data_home="`` in Python,
            ``"--data-home"`` on the command line.

        Returns
        -------
        str
            One or two sentences: where to download the archive, where to unpack it,
            or which folder to point at. Empty when the release is not known.
        """
        rel = self.release
        if rel is None:
            return ""
        where = (self.data_home or get_data_home()) / rel.folder / rel.ratings
        return (f"Download {rel.url} by hand (terms: {TERMS_URL}), unzip it so that {where} "
                f"exists, or point {option} or the {ENV_VAR} environment variable at the "
                f"folder that holds {rel.folder}/.")

    def __str__(self):
        advice = self.advice()
        return f"{self.reason} {advice}" if advice else self.reason


@dataclass
class Dataset:
    """A ratings dataset.

    Attributes
    ----------
    name : str
        Release name, e.g. ``"ml-100k"``.
    ratings : DataFrame
        Columns ``user`` int64, ``item`` int64, ``rating`` float64, ``timestamp`` int64,
        in file order (no ``timestamp`` for a copy without timestamps: see
        :attr:`Release.ratings_without_timestamps`).
    items : DataFrame
        Indexed by ``item``; columns ``title`` (str) and ``genres`` (``|``-joined
        names, ``""`` when none).
    path : Path or None
        Folder the files were read from (None for synthetic data).
    meta : dict
        Free-form facts about the data; for MovieLens ``ratings_file`` (the name of the
        file read) and ``timestamps`` (whether ``ratings`` has them).
    """

    name: str
    ratings: pd.DataFrame
    items: pd.DataFrame
    path: Path | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        """Number of distinct users in ``ratings``."""
        return int(self.ratings["user"].nunique())

    @property
    def n_items(self) -> int:
        """Number of distinct items in ``ratings``."""
        return int(self.ratings["item"].nunique())

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.ratings):,} ratings, {self.n_users:,} "
            f"users, {self.n_items:,} items, path={str(self.path) if self.path else None!r})"
        )


# --------------------------------------------------------------------------------------
# find or download
# --------------------------------------------------------------------------------------


def _release(name) -> Release:
    try:
        return MOVIELENS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown MovieLens release {name!r}; choose one of {sorted(MOVIELENS)}."
        ) from None


def _ratings_file(rel: Release, home) -> Path | None:
    """The release's ratings file in ``home`` (see :func:`find_movielens`), the full
    release's before a copy's without timestamps; None when neither is there."""
    for marker in (rel.ratings, rel.ratings_without_timestamps):
        folder = marker and find_folder(home, (rel.folder, rel.name), marker)
        if folder:
            return folder / marker
    return None


def find_movielens(name: str = "ml-100k", data_home: StrPath | None = None) -> Path | None:
    """The folder of a MovieLens release in the data home, without downloading.

    Parameters
    ----------
    name : str, default="ml-100k"
        A key of :data:`MOVIELENS`.
    data_home : str or path-like, optional
        Searched as :func:`~nmfrec.datasets.get_data_home` says: the release folder as
        the archive unpacks (``<data home>/ml-10M100K``), or under its short name
        (``<data home>/ml-10m``), or the data home itself when it is that folder.

    Returns
    -------
    Path or None
        The folder holding the release's ratings file (or, for ml-1m, the
        ``ratings_no_timestamps.dat`` of a copy without timestamps), None when it is
        not there.

    Raises
    ------
    ValueError
        Unknown release.
    """
    rel = _release(name)
    path = _ratings_file(rel, get_data_home(data_home))
    return None if path is None else path.parent


def _say(message):
    print(f"nmfrec: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _quiet(logger):
    """Silence ``logger`` below warnings for the block (we print our own two lines)."""
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _why(exc, url, timeout):
    """A short reason for a failed download (requests' own messages run to lines)."""
    host = url.split("/")[2]
    if isinstance(exc, requests.Timeout):
        return f"{host} did not answer within {timeout:g} s"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot connect to {host}; is the machine offline?"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"{host} answered {exc.response.status_code} {exc.response.reason}"
    return str(exc)


def _download(rel: Release, home: Path, timeout: float) -> Path:
    """Fetch ``rel``'s archive into ``home``, check its hash, unpack it, drop the zip."""
    created = not home.exists()
    archive = home / rel.zip_name
    _say(f"downloading {rel.title} from {rel.url} into {home} ...")
    try:
        with _quiet(pooch.get_logger()):
            pooch.retrieve(
                rel.url, known_hash=rel.known_hash, fname=rel.zip_name, path=home,
                processor=pooch.Unzip(extract_dir="."),
                downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False),
            )
    except (OSError, ValueError, RuntimeError) as exc:
        # requests' errors are OSErrors; pooch reports a hash mismatch as a ValueError
        if created and home.is_dir() and not any(home.iterdir()):
            home.rmdir()
        raise DatasetNotFoundError(
            f"{rel.name} is not in {home} and downloading {rel.url} failed "
            f"({_why(exc, rel.url, timeout)}).",
            release=rel, data_home=home) from None
    finally:
        archive.unlink(missing_ok=True)
    folder = find_folder(home, (rel.folder, rel.name), rel.ratings)
    if folder is None:
        raise DatasetNotFoundError(
            f"{rel.zip_name} unpacked into {home} but {rel.folder}/{rel.ratings} is not "
            "there; the archive layout is not the expected one.", release=rel, data_home=home)
    algo = rel.known_hash.split(":")[0].upper() if rel.known_hash else "no checksum"
    _say(f"{rel.title} ({algo} verified) saved in {folder}. Licence: GroupLens research "
         f"use only, do not redistribute, cite Harper & Konstan 2015 ({TERMS_URL}).")
    return folder


def fetch_movielens(name: str = "ml-100k", data_home: StrPath | None = None,
                    download: bool = True, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """The folder of a MovieLens release, downloading it first when it is missing.

    Parameters
    ----------
    name : str, default="ml-100k"
        A key of :data:`MOVIELENS`: ``"ml-100k"``, ``"ml-1m"``, ``"ml-10m"``,
        ``"ml-20m"``, ``"ml-25m"``, ``"ml-32m"``, ``"ml-latest-small"``.
    data_home : str or path-like, optional
        Where to look and where a download goes; see
        :func:`~nmfrec.datasets.get_data_home` for the default.
    download : bool, default=True
        If the release is not in the data home, fetch ``<name>.zip`` from GroupLens
        (pooch), check it against the release's published SHA-256 (MD5 where only
        that is published), unpack it into the data home and delete the zip. Two lines
        on stderr say what is downloaded, where it was saved and the licence terms.
    timeout : float, default=DOWNLOAD_TIMEOUT
        Seconds to wait for the server (connection and each read).

    Returns
    -------
    Path
        The release folder, holding the ratings file.

    Raises
    ------
    DatasetNotFoundError
        The release is missing and ``download`` is False, the download failed (no
        network, a server error, a checksum mismatch, an unwritable folder) or the
        archive did not hold the expected files. The message says how to provide the
        files by hand.
    ValueError
        Unknown release.
    """
    rel = _release(name)
    home = get_data_home(data_home)
    path = _ratings_file(rel, home)
    if path is not None:
        return path.parent
    if not download:
        raise DatasetNotFoundError(f"{rel.name} is not in {home} and download=False.",
                                   release=rel, data_home=home)
    return _download(rel, home, timeout)


def load_movielens(name: str = "ml-100k", data_home: StrPath | None = None,
                   download: bool = True, timeout: float = DOWNLOAD_TIMEOUT) -> Dataset:
    """Load a MovieLens release as a :class:`Dataset`.

    Parameters
    ----------
    name : {"ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-32m", "ml-latest-small"}, \
default="ml-100k"
        The release.
    data_home : str or path-like, optional
        Folder holding the unpacked release folder (e.g. ``<data_home>/ml-100k/u.data``);
        the release folder itself is accepted too. Default: ``$NMFREC_DATA``, else the
        user cache (see :func:`~nmfrec.datasets.get_data_home`).
    download : bool, default=True
        Download the release when it is missing (see :func:`fetch_movielens`).
    timeout : float, default=DOWNLOAD_TIMEOUT
        Seconds to wait for the server.

    Returns
    -------
    Dataset
        ``ratings`` (user, item, rating, timestamp) and ``items`` (title, genres; empty
        when the release folder has no items file). A copy of ml-1m with
        ``ratings_no_timestamps.dat`` in place of ``ratings.dat`` gives ``ratings``
        without the ``timestamp`` column (so a split by time raises
        ``MissingColumnError``), and ``meta["timestamps"]`` is False.

    Raises
    ------
    DatasetNotFoundError
        The files are absent and downloading is off, failed, or gave a bad archive; the
        message says where to put the files.
    ValueError
        Unknown release, or a file that does not parse (the message names the file and
        the line).
    """
    rel = _release(name)
    folder = fetch_movielens(name, data_home, download, timeout)
    path = _ratings_file(rel, folder)
    full = path.name == rel.ratings
    ratings = read_movielens_ratings(path, rel.fmt, timestamps=full)
    items_path = folder / rel.items
    if items_path.is_file():
        items = read_movielens_items(items_path, rel.fmt)
    else:
        items = pd.DataFrame({"title": pd.array([], dtype="string"),
                              "genres": pd.array([], dtype="string")},
                             index=pd.Index([], dtype="int64", name="item"))
    return Dataset(name=rel.name, ratings=ratings, items=items, path=folder,
                   meta={"ratings_file": path.name, "timestamps": full})


def ml100k_folds(data_home: StrPath | None = None,
                 folds: str | Sequence[str] = ML100K_DEFAULT_FOLDS, download: bool = True,
                 timeout: float = DOWNLOAD_TIMEOUT
                 ) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The official ml-100k train/test splits.

    ``u1``...``u5`` are the five disjoint 80/20 folds of ``u.data`` (each rating in
    exactly one ``.test``); ``ua`` and ``ub`` hold out exactly 10 ratings per user.

    Parameters
    ----------
    data_home : str or path-like, optional
        As in :func:`load_movielens`.
    folds : str or sequence of {"u1", "u2", "u3", "u4", "u5", "ua", "ub"}, \
default=("u1", "u2", "u3", "u4", "u5")
        The folds to read, in the order wanted.
    download : bool, default=True
        Download ml-100k when it is missing (see :func:`fetch_movielens`).
    timeout : float, default=DOWNLOAD_TIMEOUT
        Seconds to wait for the server.

    Returns
    -------
    dict
        ``{fold name: (train, test)}`` in the order asked, each a ratings frame like
        ``load_movielens(...).ratings``; pass it straight to
        :func:`nmfrec.evaluation.cross_validate`.

    Raises
    ------
    ValueError
        ``folds`` is empty or names an unknown fold.
    DatasetNotFoundError
        As in :func:`fetch_movielens`, or a fold's files are missing from the folder.
    """
    if isinstance(folds, str):
        folds = (folds,)
    folds = tuple(folds)
    bad = [f for f in folds if f not in ML100K_FOLDS]
    if bad or not folds:
        raise ValueError(f"folds must be a non-empty subset of {ML100K_FOLDS}; got {folds!r}.")
    rel = MOVIELENS["ml-100k"]
    folder = fetch_movielens(rel.name, data_home, download, timeout)
    out = {}
    for f in folds:
        pair = []
        for part in ("base", "test"):
            p = folder / f"{f}.{part}"
            if not p.is_file():
                raise DatasetNotFoundError(
                    f"{p} is missing; the ml-100k folder is incomplete.", release=rel,
                    data_home=get_data_home(data_home))
            pair.append(read_movielens_ratings(p, rel.fmt))
        out[f] = tuple(pair)
    return out
