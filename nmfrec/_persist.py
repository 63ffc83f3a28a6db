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

Format version 2, written by ``Recommender.save``: arrays ``ratings_indptr``/
``ratings_indices``/``ratings_data`` (the CSR of the ratings), ``item_means``,
``user_means``, ``user_labels``, ``item_labels`` (see :func:`encode_labels`) and, with
titles, ``item_titles`` and ``item_titles_missing``; the arrays of the fitted state of the
rating part (``get_fitted_state`` of ``MaskedNMF`` or ``BayesianNMF``: ``W``, ``H_t``, ...)
under their own names, and those of a separate preference part prefixed ``ranking__``;
metadata ``params``, ``labels``, ``columns``, ``rating_range``, ``global_mean``,
``n_users``, ``n_items``, ``has_titles``, and ``model`` / ``ranking_model`` (None without a
separate part): the part's ``kind`` (``"masked_nmf"`` or ``"bayesian_nmf"``) and the
non-array values of its state.

Format version 1 (nmfrec 0.1): one penalized model, arrays ``W``, ``H_t``,
``loss_history`` and the ones above; metadata as above without ``ranking_model``, with
``n_components`` (the factor columns) and ``model`` without ``kind``. It still loads.
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
