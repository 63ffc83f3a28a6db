"""Faults: interrupted fits, failing saves, damaged files, and concurrent queries."""

import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmfrec import MaskedNMF, NotFittedError, RatingsMatrix
from nmfrec import _progress
from nmfrec._persist import digest
from nmfrec.recommender import Recommender

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")


def ratings(seed=0, n_users=30, n_items=20, n=240):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"user": rng.integers(0, n_users, n), "item": rng.integers(0, n_items, n),
                       "rating": rng.integers(1, 6, n).astype(float)})
    return df.drop_duplicates(["user", "item"], ignore_index=True)


PARAMS = dict(n_components=3, max_iter=6, tol=0.0, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    return Recommender(**PARAMS).fit(ratings())


# ===================================================================== interrupted fits
def _interrupt_at(monkeypatch, at):
    calls = []

    def update(self, it, **info):
        calls.append(it)
        if it == at:
            raise KeyboardInterrupt

    monkeypatch.setattr(_progress.Progress, "update", update)
    return calls


def _state(obj):
    out = {}
    for name, value in vars(obj).items():
        if name.endswith("_") and not name.startswith("_"):
            if sp.issparse(value):
                value = value.toarray()
            out[name] = value.copy() if isinstance(value, np.ndarray) else value
    return out


def _assert_same_state(before, obj):
    after = _state(obj)
    assert before.keys() == after.keys()
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value, err_msg=name)
        elif name == "model_":
            assert after[name] is value, name          # the same estimator object
        else:
            assert after[name] == value, name


@pytest.mark.parametrize("solver", ["als", "mu", "pgd"])
def test_interrupted_fresh_fit_stays_unfitted(monkeypatch, solver, capsys):
    calls = _interrupt_at(monkeypatch, 3)
    X = RatingsMatrix.from_frame(ratings())
    model = MaskedNMF(3, solver=solver, max_iter=10, tol=0.0, verbose=1, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    assert calls == [1, 2, 3]
    with pytest.raises(NotFittedError):
        model.predict_entries([0], [0])
    assert not [n for n in vars(model) if n.endswith("_")]
    rec = Recommender(**PARAMS, solver=solver, verbose=1)
    with pytest.raises(KeyboardInterrupt):
        rec.fit(ratings())
    with pytest.raises(NotFittedError, match="call fit before recommend"):
        rec.recommend(0)
    assert not hasattr(rec, "users_")


@pytest.mark.parametrize("solver", ["als", "mu"])
def test_interrupted_refit_keeps_the_previous_fit(monkeypatch, solver, tmp_path):
    rec = Recommender(**PARAMS, solver=solver).fit(ratings(0))
    before = _state(rec)
    model_before = _state(rec.model_)
    top_before = rec.recommend(0)
    rec.save(tmp_path / "before.npz")
    _interrupt_at(monkeypatch, 2)
    rec.set_params(verbose=1)
    with pytest.raises(KeyboardInterrupt):
        rec.fit(ratings(1, n_users=40, n_items=25))      # other data, other shapes
    rec.set_params(verbose=0)
    _assert_same_state(before, rec)
    _assert_same_state(model_before, rec.model_)
    pd.testing.assert_frame_equal(rec.recommend(0), top_before)
    # still consistent: factors agree with the vocabularies and round-trip unchanged
    assert rec.model_.W_.shape[0] == len(rec.users_) == rec.ratings_.shape[0]
    assert rec.model_.components_.shape[1] == len(rec.items_) == rec.ratings_.shape[1]
    rec.save(tmp_path / "after.npz")
    again = Recommender.load(tmp_path / "after.npz")
    np.testing.assert_array_equal(again.model_.W_, Recommender.load(tmp_path / "before.npz").model_.W_)


def test_interrupt_restores_thread_settings(monkeypatch):
    import numba
    prev = numba.get_num_threads()
    _interrupt_at(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        Recommender(**PARAMS, n_threads=1, verbose=1).fit(ratings())
    assert numba.get_num_threads() == prev


# ===================================================================== atomic saves
def _leftovers(directory):
    return sorted(p for p in os.listdir(directory) if p.startswith(".nmfrec-") or p.endswith(".tmp"))


@pytest.mark.parametrize("target, exc", [
    ("numpy.savez", OSError("disk full")),
    ("os.fsync", OSError("I/O error")),
    ("os.replace", PermissionError("read-only")),
    ("numpy.savez", KeyboardInterrupt()),
])
def test_failed_save_leaves_the_previous_file_and_no_temp_file(fitted, tmp_path, monkeypatch,
                                                               target, exc):
    path = tmp_path / "model.npz"
    fitted.save(path)
    original = path.read_bytes()
    other = Recommender(**PARAMS).fit(ratings(2))

    def boom(*args, **kwargs):
        raise exc

    module, name = target.rsplit(".", 1)
    if module == "numpy":
        def half_then_boom(file, *args, **kwargs):
            file.write(b"PK\x03\x04 partial")      # something reached the temp file
            raise exc
        monkeypatch.setattr(np, name, half_then_boom)
    else:
        monkeypatch.setattr(os, name, boom)
    with pytest.raises(type(exc)):
        other.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert _leftovers(tmp_path) == []
    loaded = Recommender.load(path)
    np.testing.assert_array_equal(loaded.model_.W_, fitted.model_.W_)


def test_save_into_a_missing_directory_is_a_clear_error(fitted, tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=rf"^cannot save .*model.npz: the folder "
                       rf"{re.escape(str(missing))} does not exist\.$"):
        fitted.save(missing / "model.npz")
    assert _leftovers(tmp_path) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match=r"the folder .*file is not a folder"):
        fitted.save(tmp_path / "file" / "model.npz")


# A writer that stops inside the save, after its temporary file got bytes, and says so.
_STALLED_WRITER = """
import os, sys, time
import numpy as np
from nmfrec._persist import write_npz

def stall(fd):
    print("writing", flush=True)
    time.sleep(600)

os.fsync = stall
write_npz(sys.argv[1], {}, {"a": np.arange(100_000.0)})
"""


def _stalled_writer(path):
    """A process stopped in the middle of saving ``path``, once its temporary exists."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", _STALLED_WRITER, str(path)], env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    return proc


def test_a_save_killed_part_way_leaves_a_temporary_that_a_later_save_removes(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    original = path.read_bytes()
    killed = _stalled_writer(path)
    mine = [p for p in _leftovers(tmp_path) if f"-{killed.pid}-" in p]
    assert len(mine) == 1 and os.path.getsize(tmp_path / mine[0]) > 0
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=60) == -signal.SIGKILL
    assert _leftovers(tmp_path) == mine                 # the litter of a killed writer
    np.testing.assert_array_equal(Recommender.load(path).model_.W_, fitted.model_.W_)
    assert path.read_bytes() == original

    # another machine's writer (a shared folder): its processes cannot be seen from here
    elsewhere = f".nmfrec-elsewhere-{killed.pid}-abc123.tmp"
    (tmp_path / elsewhere).write_bytes(b"PK")
    live = _stalled_writer(tmp_path / "other.npz")     # a concurrent save, still writing
    try:
        theirs = [p for p in _leftovers(tmp_path) if f"-{live.pid}-" in p]
        assert len(theirs) == 1
        fitted.save(tmp_path / "again.npz")              # a later save into the folder
        # the dead writer's temporary is gone; the live one's and the other machine's stay
        assert _leftovers(tmp_path) == sorted(theirs + [elsewhere])
        Recommender.load(tmp_path / "again.npz")
    finally:
        live.kill()
        live.wait(timeout=60)
    fitted.save(path)
    assert _leftovers(tmp_path) == [elsewhere]


# ===================================================================== damaged files
@pytest.fixture(scope="module")
def saved_bytes(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.npz"
    fitted.save(path)
    return path.read_bytes()


def _same_model(a, b):
    np.testing.assert_array_equal(a.model_.W_, b.model_.W_)
    np.testing.assert_array_equal(a.model_.components_, b.model_.components_)
    assert a.users_ == b.users_ and a.items_ == b.items_


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_file_is_refused_or_loads_unchanged(fitted, saved_bytes, tmp_path, data):
    damage = data.draw(st.sampled_from(["flip", "truncate", "zero", "append"]))
    raw = bytearray(saved_bytes)
    if damage == "flip":
        for _ in range(data.draw(st.integers(1, 3))):
            pos = data.draw(st.integers(0, len(raw) - 1))
            raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    elif damage == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    elif damage == "zero":
        start = data.draw(st.integers(0, len(raw) - 1))
        stop = start + data.draw(st.integers(1, 64))
        raw[start:stop] = bytes(len(raw[start:stop]))
    else:
        raw += data.draw(st.binary(min_size=1, max_size=64))
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(raw))
    try:
        loaded = Recommender.load(path)
    except ValueError as e:
        assert "damaged.npz" in str(e)
        assert any(w in str(e) for w in ("corrupted", "truncated", "not an nmfrec", "cannot be read"))
        return
    _same_model(loaded, fitted)          # only bytes the format does not depend on changed


@pytest.mark.parametrize("content", [b"", b"\x00" * 100, b"PK\x05\x06" + b"\x00" * 18,
                                     b"\x93NUMPY garbage", "user,item\n1,2\n".encode()])
def test_foreign_bytes_are_refused(tmp_path, content):
    path = tmp_path / "foreign.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"foreign\.npz: (cannot be read|not an nmfrec)"):
        Recommender.load(path)


def test_wellformed_npz_with_bad_contents_is_refused(saved_bytes, tmp_path):
    import json
    good = tmp_path / "good.npz"
    good.write_bytes(saved_bytes)
    with np.load(good) as npz:
        arrays = {name: npz[name] for name in npz.files}
    cases = {
        "garbage_meta": {**arrays, "__nmfrec_meta__": np.array("{not json")},
        "list_meta": {**arrays, "__nmfrec_meta__": np.array("[1, 2]")},
        "no_checksum": {k: v for k, v in arrays.items() if k != "__nmfrec_sha256__"},
        "pickled": {**arrays, "W": np.array([object()], dtype=object)},
    }
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **content)
        with pytest.raises(ValueError, match=rf"{name}\.npz: "):
            Recommender.load(path)
    # a consistent checksum over inconsistent contents: shapes that do not match the meta
    meta_json = str(arrays["__nmfrec_meta__"])
    bad = {k: v for k, v in arrays.items() if not k.startswith("__")}
    bad["W"] = bad["W"][:-1]
    path = tmp_path / "inconsistent.npz"
    np.savez(path, **bad, __nmfrec_meta__=np.array(meta_json),
             __nmfrec_sha256__=np.array(digest(meta_json, bad)))
    with pytest.raises(ValueError, match=r"inconsistent\.npz: corrupted or inconsistent.*factor shapes"):
        Recommender.load(path)
    meta = json.loads(meta_json)
    del meta["params"]
    mj = json.dumps(meta)
    path = tmp_path / "nokeys.npz"
    good_arrays = {k: v for k, v in arrays.items() if not k.startswith("__")}
    np.savez(path, **good_arrays, __nmfrec_meta__=np.array(mj),
             __nmfrec_sha256__=np.array(digest(mj, good_arrays)))
    with pytest.raises(ValueError, match=r"nokeys\.npz: corrupted or inconsistent.*KeyError"):
        Recommender.load(path)


# ===================================================================== concurrency
def test_queries_from_eight_threads_equal_serial_calls(fitted):
    rec = fitted
    users = rec.users_.labels_
    frame = ratings(3)
    serial_rec = {u: rec.recommend(u, k=5) for u in users}
    serial_pred = rec.predict(frame)
    serial_many = rec.recommend_many(k=4, batch_size=7)
    serial_sim = {i: rec.similar_items(i, k=3) for i in rec.items_.labels_[:5]}
    barrier = threading.Barrier(8)

    def work(t):
        barrier.wait()                           # start all eight together
        for rep in range(3):
            for u in users[(t + rep) % 8::8]:
                pd.testing.assert_frame_equal(rec.recommend(u, k=5), serial_rec[u])
            np.testing.assert_array_equal(rec.predict(frame), serial_pred)
            pd.testing.assert_frame_equal(rec.recommend_many(k=4, batch_size=7), serial_many)
            for i, ref in serial_sim.items():
                pd.testing.assert_frame_equal(rec.similar_items(i, k=3), ref)
        return True

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))
