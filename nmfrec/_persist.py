"""The model file: one portable ``.npz`` (no pickle), checksummed and written atomically.

A model file is a NumPy ``.npz`` archive of named arrays plus two entries of its own:

* ``__nmfrec_meta__``: a JSON object (a 0-d unicode array) with at least ``format``
  (:data:`FORMAT_NAME`), ``format_version`` (:data:`FORMAT_VERSION`) and
  ``nmfrec_version``, and whatever else the writer stores there;
* ``__nmfrec_sha256__``: the SHA-256 of the metadata and of every array's name, dtype,
  shape and bytes (:func:`digest`), so that any damage is detected on reading.

:func:`write_npz` writes to a temporary file in the target's directory and moves it into
place, so an interrupted write never leaves a half-written file; :func:`read_npz` refuses
anything that is not an intact file of this format, naming the file and the problem.

A temporary file is named ``.nmfrec-{host}-{pid}-{random}.tmp`` after the machine and
the process writing it. A writer killed part-way (``SIGKILL``, a power cut) cannot remove
its own, so every write into a folder removes the temporaries there that a process of
this machine wrote and that is gone; never one of a live process (a concurrent save),
nor one written on another machine (a shared folder), whose processes it cannot see.

Format version 3, written by ``Recommender.save``: arrays ``ratings_indptr``/
``ratings_indices``/``ratings_data`` (the CSR of the training values), ``item_means``,
``user_means``, ``user_labels``, ``item_labels`` (see :func:`encode_labels`) and, with
titles, ``item_titles`` and ``item_titles_missing``; the arrays of the fitted state of the
rating part (``get_fitted_state`` of ``MaskedNMF``, ``BayesianNMF`` or the popularity
part: ``W``, ``H_t``, ...) under their own names, and those of a separate ranking part
prefixed ``ranking__``; metadata ``params`` (the Recommender's, as given), ``labels``,
``columns``, ``rating_range``, ``global_mean``, ``n_users``, ``n_items``, ``has_titles``,
what the fit found (``feedback``, ``table_kind``, ``ranking``, ``fitted_params``,
``held_out``), and ``model`` / ``ranking_model`` (None without a separate part): the
part's ``kind`` (``"masked_nmf"``, ``"bayesian_nmf"`` or ``"popularity"``), its own
parameters as fitted (``params``), and the non-array values of its state.

Older files load through :func:`upgrade`, which writes in what their version left
implicit, so that they answer as saved. Version 2 had the same arrays and
kept only the Recommender's parameters, None meaning the defaults of that time; version 1
(the first): one penalized model, arrays ``W``, ``H_t``, ``loss_history`` and the ones
above; metadata without ``ranking_model``, with ``n_components`` (the factor columns) and
``model`` without ``kind``.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import re
import socket
import tempfile

import numpy as np

from ._version import __version__
from .ratings import Vocabulary

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "write_npz", "read_npz", "digest", "remove_orphans",
           "encode_labels", "decode_labels", "json_params"]

#: Name and version of the model file format. Bump the version on any incompatible
#: change; :func:`read_npz` refuses files whose version is newer than the one it knows.
FORMAT_NAME = "nmfrec.Recommender"
FORMAT_VERSION = 3
META_KEY = "__nmfrec_meta__"
CHECKSUM_KEY = "__nmfrec_sha256__"


def write_npz(path, meta: dict, arrays: dict) -> str:
    """Write ``arrays`` and ``meta`` to ``path`` as a model file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination, used as given (no suffix is added; ``.npz`` is conventional). Its
        folder must exist; the temporaries of writers killed part-way in that folder are
        removed (:func:`remove_orphans`).
    meta : dict
        JSON-serialisable metadata; ``format``, ``format_version`` and
        ``nmfrec_version`` are added.
    arrays : dict
        Name -> NumPy array (no object arrays).

    Returns
    -------
    str
        The path written.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save {path}: it is a folder; give the model "
                                f"file's name, e.g. {os.path.join(path, 'model.npz')}.")
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "nmfrec_version": __version__, **meta}
    meta_json = json.dumps(meta, sort_keys=True)
    checksum = digest(meta_json, arrays)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _temporary(path, directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays, **{META_KEY: np.array(meta_json),
                                     CHECKSUM_KEY: np.array(checksum)})
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp creates 0600; give a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    remove_orphans(directory)
    return path


def _host():
    """This machine's name as it may stand in a file name."""
    return re.sub(r"[^A-Za-z0-9_.]+", "_", socket.gethostname()) or "host"


def _temporary(path, directory):
    """A new temporary file beside ``path``, named after this machine and process; an
    error names the folder, not the temporary file it could not create."""
    if not os.path.isdir(directory):
        what = "is not a folder" if os.path.exists(directory) else "does not exist"
        error = NotADirectoryError if os.path.exists(directory) else FileNotFoundError
        raise error(f"cannot save {path}: the folder {directory} {what}.")
    try:
        return tempfile.mkstemp(prefix=f".nmfrec-{_host()}-{os.getpid()}-", suffix=".tmp",
                                dir=directory)
    except OSError as e:
        raise type(e)(f"cannot save {path}: cannot create a file in the folder {directory} "
                      f"({e.strerror or e}).") from None


_TEMPORARY = re.compile(r"\.nmfrec-(?P<host>.+)-(?P<pid>[0-9]+)-[^-]+\.tmp\Z")


def remove_orphans(directory):
    """Remove the temporary files in ``directory`` whose writer is gone.

    Those named after this machine and a process that no longer exists, left by a
    writer that was killed part-way. A live process's (a concurrent save) and another
    machine's are kept. A process id the system has given to a new process since keeps
    its temporary until that one ends too: litter, never a lost file.

    Parameters
    ----------
    directory : str or os.PathLike
        The folder of a model file.

    Returns
    -------
    list of str
        The files removed.
    """
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    host = _host()
    for name in names:
        m = _TEMPORARY.match(name)
        if m is None or m["host"] != host or _alive(int(m["pid"])):
            continue
        try:
            os.unlink(os.path.join(directory, name))
            removed.append(os.path.join(os.fspath(directory), name))
        except OSError:             # removed by another save, or not ours to remove
            pass
    return removed


def _alive(pid):
    """Whether process ``pid`` exists (True where that cannot be known)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True                 # no signal 0 to ask with: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                 # e.g. another user's process: it exists
        return True
    return True


class _FileProblem(Exception):
    """A read failure whose message is already complete (wrapped into ValueError)."""


#: The first bytes of a zip archive (an ``.npz``): a local file header, or an empty archive.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _check_zip(path):
    """Refuse, by its first bytes, a file that is not a zip archive, saying what it
    looks like: an empty file, a text file (a ratings CSV given for the model), a
    single NumPy array."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return                      # np.load says why it cannot be opened
    if head[:4] in _ZIP_MAGIC:
        return
    if not head:
        what = "it is empty"
    elif head.startswith(b"\x93NUMPY"):
        what = "it is a single .npy array, not an .npz archive"
    else:
        try:
            first = head.decode("utf-8").lstrip("\ufeff").splitlines()[0]
        except (UnicodeDecodeError, IndexError):
            first = None
        what = (f"it is a text file (first line {first[:60]!r})" if first is not None
                else "it is not a zip archive")
    raise ValueError(f"{path}: not an nmfrec model file; {what}. A model file is the "
                     ".npz archive that Recommender.save (nmfrec fit -o) writes.")


def read_npz(path):
    """Read and check a model file written by :func:`write_npz`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    meta : dict
        The metadata.
    arrays : dict
        Name -> array, without the metadata and checksum entries.

    Raises
    ------
    FileNotFoundError
        No such file (also ``IsADirectoryError``, ``PermissionError`` as the OS says).
    ValueError
        Naming the file and the problem: not a zip/npz file, truncated or corrupted
        (unreadable, or its checksum does not match), an npz that is not an nmfrec
        model, or a format version newer than this nmfrec reads.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file {path!r} does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"model file {path!r} is a folder, not a file.")
    _check_zip(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as e:
        raise ValueError(f"{path}: cannot be read as an nmfrec model file; it is not an "
                         f"npz archive, or it is truncated or corrupted "
                         f"({type(e).__name__}: {e}).") from e
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an nmfrec model file (a single .npy array, not an "
                         ".npz archive written by Recommender.save).")
    try:
        with npz:
            names = list(npz.files)
            if META_KEY not in names:
                raise _FileProblem(
                    f"not an nmfrec model file: the npz has no {META_KEY!r} entry (it "
                    f"holds {names[:6]}{' ...' if len(names) > 6 else ''}).")
            meta_json = str(npz[META_KEY][()])
            meta = json.loads(meta_json)
            if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                found = meta.get("format") if isinstance(meta, dict) else None
                raise _FileProblem(f"not an nmfrec Recommender file (format {found!r}, "
                                   f"expected {FORMAT_NAME!r}).")
            version = meta.get("format_version")
            if not isinstance(version, int):
                raise _FileProblem(f"corrupted: format_version is {version!r}.")
            if version > FORMAT_VERSION:
                raise _FileProblem(
                    f"written in format version {version} (nmfrec "
                    f"{meta.get('nmfrec_version')}), newer than the version "
                    f"{FORMAT_VERSION} this nmfrec reads; upgrade nmfrec to load it.")
            arrays = {name: npz[name] for name in names if name not in (META_KEY, CHECKSUM_KEY)}
            stored = str(npz[CHECKSUM_KEY][()]) if CHECKSUM_KEY in names else None
    except _FileProblem as e:
        raise ValueError(f"{path}: {e}") from None
    except Exception as e:
        raise ValueError(f"{path}: cannot be read as an nmfrec model file; it is "
                         f"truncated or corrupted ({type(e).__name__}: {e}).") from e
    if stored != digest(meta_json, arrays):
        raise ValueError(f"{path}: corrupted: the SHA-256 checksum of its contents does "
                         "not match the one recorded at save time.")
    return meta, arrays


def digest(meta_json, arrays):
    """SHA-256 over the metadata and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(meta_json.encode("utf-8"))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def encode_labels(vocab: Vocabulary):
    """A vocabulary as an array and its metadata: int labels as int64, else unicode."""
    labels = vocab.labels_
    if vocab.is_integer:
        return labels.astype(np.int64), {"kind": "int", "dtype": str(labels.dtype)}
    return np.array([str(x) for x in labels], dtype=str), {"kind": "str"}


def decode_labels(arr, info) -> Vocabulary:
    """The vocabulary :func:`encode_labels` stored."""
    if info["kind"] == "int":
        return Vocabulary(arr.astype(np.dtype(info["dtype"])))
    return Vocabulary(arr.astype(object))


def json_params(params: dict) -> dict:
    """Estimator parameters as JSON values (a Generator seed becomes None, dtypes names)."""
    out = {}
    for key, value in params.items():
        if key == "random_state" and not (value is None or isinstance(value, numbers.Integral)):
            value = None   # a Generator has no portable form; the fit is already done
        elif key == "dtype":
            value = np.dtype(value).name
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


# ================================================================ older versions
#: Parameters of format-version-1 files left at None, as version 1 resolved them.
_V1_AUTO = {"explicit": {"n_components": 30, "l2_W": 0.1, "l2_H": 0.15, "user_bias": True,
                         "item_bias": True, "reg_scale": "count", "preference": "binary",
                         "alpha": 1.0, "missing_weight": 1.0},
            "implicit": {"n_components": 80, "l2_W": 30.0, "l2_H": 30.0, "user_bias": False,
                         "item_bias": False, "reg_scale": "none", "preference": "rating"}}


def upgrade(meta, arrays):
    """The metadata of a file of any version this nmfrec reads, in today's terms (the
    arrays are read as they are)."""
    if meta["format_version"] == 1:
        return _upgrade_v1(meta)
    if meta["format_version"] == 2:
        return _upgrade_v2(meta, arrays)
    return meta


def _upgrade_v2(meta, arrays):
    """Metadata of a format-version-2 file in today's terms.

    Version 2 wrote the Recommender's parameters only, with None for "auto": each part's
    parameters are written in as version 2 resolved them (absolute penalties, a fixed
    number of Gibbs sweeps with two coordinate sweeps each, the Normal-Wishart prior), so
    that the file answers as it did, folding new users in as it did.
    """
    meta = dict(meta)
    params = meta["params"]
    get = lambda name, default: default if params.get(name) is None else params[name]
    common = {name: params.get(name) for name in ("random_state", "n_threads", "dtype",
                                                  "verbose")}
    feedback = get("feedback", "explicit")
    explicit = feedback == "explicit"
    preference = get("preference", "rating")
    implicit_objective = {"alpha": get("alpha", 0.0 if preference == "rating" else 1.0),
                          "missing_weight": get("missing_weight",
                                                0.3 if preference == "rating" else 1.0),
                          "preference": preference}
    fit = {name: params[name] for name in ("init", "max_iter", "tol", "n_init")}

    def rank(prefix, n_bias):
        return int(arrays[prefix + "W"].shape[1]) - n_bias

    model = dict(meta["model"])
    if model["kind"] == "bayesian_nmf":
        n_samples = get("n_samples", 200)
        model["params"] = dict(n_components=None, n_samples=n_samples,
                               n_burnin=20, n_kept=min(40, n_samples), n_sweeps=2,
                               prior="wishart", user_bias=get("user_bias", True),
                               item_bias=get("item_bias", True), **common)
    else:
        auto_values = {"n_components": 30, "l2_W": 0.1, "l2_H": 0.15, "user_bias": True,
                       "item_bias": True, "reg_scale": "count"} if explicit else \
            {"n_components": 80, "l2_W": 30.0, "l2_H": 30.0, "user_bias": False,
             "item_bias": False, "reg_scale": "none"}
        part = {name: get(name, value) for name, value in auto_values.items()}
        part["n_components"] = rank("", int(part["user_bias"]) + int(part["item_bias"]))
        model["params"] = dict(part, solver=get("solver", "als"), l1_W=params["l1_W"],
                               l1_H=params["l1_H"], feedback=feedback,
                               **(implicit_objective if not explicit else {}), **fit, **common)
    meta["model"] = model
    ranking_model = meta.get("ranking_model")
    if ranking_model is not None:
        l2 = get("preference_l2", 30.0)
        ranking_model = dict(ranking_model)
        ranking_model["params"] = dict(n_components=rank("ranking__", 0), solver="als",
                                       l2_W=l2, l2_H=l2, reg_scale="none",
                                       feedback="implicit", **implicit_objective, **fit,
                                       **common)
        meta["ranking_model"] = ranking_model
    meta["feedback"] = feedback
    meta["table_kind"] = "ratings"        # values used as given, counts or not
    meta["ranking"] = ("preference" if ranking_model is not None or not explicit
                       else "rating")
    meta["fitted_params"] = {}
    return meta


def _upgrade_v1(meta):
    """Metadata of a format-version-1 file in today's terms.

    Version 1 had one penalized model, ranked by its scores, and resolved the None
    parameters with the defaults of that time: those values are written in, so that the
    file still means what it meant.
    """
    meta = dict(meta)
    params = dict(meta["params"])
    for name, value in _V1_AUTO[params.get("feedback", "explicit")].items():
        if params.get(name) is None:
            params[name] = value
    if params["feedback"] == "explicit":
        params["ranking"] = "rating"
        for name in ("preference", "alpha", "missing_weight"):
            params[name] = None       # not read by an explicit-feedback model
    elif params["preference"] == "rating":
        params["alpha"] = 0.0 if params.get("alpha") is None else params["alpha"]
        if params.get("missing_weight") is None:
            params["missing_weight"] = 0.3
    meta["params"] = params
    meta["model"] = {"kind": "masked_nmf", **meta["model"]}
    meta["ranking_model"] = None
    meta["feedback"] = params["feedback"]
    meta["table_kind"] = "ratings"        # values used as given
    meta["ranking"] = "rating" if params["feedback"] == "explicit" else "preference"
    meta["fitted_params"] = {}
    return meta
