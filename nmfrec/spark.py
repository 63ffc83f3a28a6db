"""Fit nmfrec's models on Spark, where the ratings already live.

``Recommender(...).fit(spark_df)`` with a ``pyspark.sql.DataFrame`` of ratings fits the
same model, with the same defaults, as ``fit(pandas_df)`` and returns the same ordinary
fitted :class:`~nmfrec.Recommender`: the two agree to rounding (the tests hold them within
1e-6 in every factor). What runs where:

- **Once, on the executors**: the ratings are checked (the errors of a pandas frame,
  raised before any fitting), the labels of users and items are counted and sorted (the
  driver holds the two label arrays and the per-row counts, O(users + items)), and the
  ratings are shuffled once into **user blocks** and **item blocks** — contiguous ranges
  of rows (columns) balanced by their number of ratings, each held as one CSR array
  triple and cached, like Spark MLlib's ALS in-blocks (:class:`SparkRatings`).
- **Each half-step** is one Spark job: nmfrec's own jitted row kernel runs on every
  cached block (numba at one thread per task; Spark's tasks are the parallelism). Each
  side's factors reach the tasks broadcast while they fit :data:`BROADCAST_BUDGET`, and
  beyond it routed: each block is sent only its own rows and the other side's rows it
  rates.
  The driver gathers the updated rows and computes what is global (Gram matrices, the
  Gibbs sampler's hyper-parameters, the objective) exactly as a local fit does
  (:class:`SparkRows`). Each block carries the global index of its first row, so the
  Gibbs sampler's per-row random streams are those of the local fit.
- **Lineage** never grows: every half-step is one job over the cached blocks, whose
  lineage is the single shuffle; a lost block is recomputed from it and a failed task is
  retried with the same inputs, so a retried fit gives the same factors.

The driver holds the factors, (users + items) x k floats, and never the ratings during
the fit; every half-step passes the factors through it, which carries to factors of a
few GB (about 10^7 users and items at rank 64). Larger models would need the factors
kept on the executors, which this module does not do. The fitted Recommender then
holds the training ratings as a CSR matrix (16 bytes per rating), as every fitted
Recommender does, to exclude seen items when it serves; :func:`recommend_all` ranks every
user on the executors, the model broadcast to them.

Needs ``pip install "nmfrec[spark]"`` (pyspark and pyarrow) and Java 17. The executors
run the Python that has nmfrec installed: for a local session :func:`local_session` sets
it; on a cluster, ship nmfrec to the executors (e.g. a packed virtual environment).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import _kernels as K
from ._rows import check_side, fill_args
from ._clicks import INTERACTION
from .ratings import (DUPLICATE_POLICIES, RatingsMatrix, Vocabulary, _show, bad_values_error,
                      feedback_columns)

if TYPE_CHECKING:
    import numpy.typing as npt
    import pyspark.sql

    from ._typing import Feedback, FloatArray, FloatDType
    from .recommender import Recommender

__all__ = ["SparkRatings", "SparkRows", "is_spark_frame", "local_session", "recommend_all",
           "factors_frame"]

_TARGET_BLOCK_NNZ = 2_000_000    # ratings per block beyond which more blocks are made
_BLOCK_SCHEMA = ("block long, row0 long, n_rows long, indptr binary, indices binary, "
                 "data binary, cols binary")
BROADCAST_BUDGET = 256 * 2**20
"""Bytes of one side's factors up to which every task gets all of them in the job's
closure; beyond, each block is sent only the rows of that side it needs (see
:class:`SparkRows`)."""


def _require_pyspark():
    try:
        import pyspark
        del pyspark
    except ImportError as e:          # pragma: no cover - the tests need pyspark
        raise ImportError("fitting a Spark DataFrame needs pyspark: pip install "
                          "'nmfrec[spark]'") from e


def is_spark_frame(obj: object) -> bool:
    """Whether ``obj`` is a ``pyspark.sql.DataFrame`` (classic or Spark Connect), checked
    without importing pyspark (a fit needs a classic session: see
    :meth:`SparkRatings.from_frame`)."""
    cls = type(obj)
    return cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql")


def local_session(cores: int = 2, max_failures: int = 1, app_name: str = "nmfrec",
                  driver_memory: str | None = None) -> pyspark.sql.SparkSession:
    """A ``local[cores]`` SparkSession set up for this machine.

    The driver binds to the loopback interface, the web UI is off, the executors run this
    process's Python (the one with nmfrec installed) and Arrow carries pandas batches.

    Parameters
    ----------
    cores : int, default=2
        Executor threads.
    max_failures : int, default=1
        Attempts of each task (``local[cores, max_failures]``); above 1, a failed task is
        retried.
    app_name : str, default="nmfrec"
    driver_memory : str, optional
        E.g. ``"8g"``: the JVM's heap, which in local mode also holds the executors'
        cached blocks (Spark's default is 1g). Takes effect only when this call starts
        the JVM.

    Returns
    -------
    pyspark.sql.SparkSession
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = f"local[{int(cores)}]" if max_failures <= 1 else \
        f"local[{int(cores)},{int(max_failures)}]"
    builder = SparkSession.builder
    if driver_memory:
        builder = builder.config("spark.driver.memory", str(driver_memory))
    return (builder.master(master).appName(app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.shuffle.partitions", str(max(2, 2 * int(cores))))
            .config("spark.python.worker.reuse", "true")
            .getOrCreate())


# ----------------------------------------------------------------------------- blocks
def _index_dtype(n_cols, nnz):
    """scipy's choice for CSR index arrays (int32 while everything fits)."""
    return np.int32 if max(n_cols, nnz) < 2**31 else np.int64


def _block_starts(counts, n_blocks):
    """Boundaries of ``n_blocks`` contiguous row ranges with about equal ratings."""
    n_blocks = max(1, min(int(n_blocks), counts.size))
    cum = np.cumsum(counts, dtype=np.int64)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_blocks) / n_blocks, side="left") + 1
    starts = np.unique(np.concatenate([[0], np.minimum(cuts, counts.size - 1)]))
    return np.append(starts, counts.size).astype(np.int64)


def _decode(buf, dtype):
    return np.frombuffer(buf, dtype=dtype)


class SparkRatings:
    """A ratings table held by Spark as cached user and item blocks (see the module
    docstring); the distributed stand-in of :class:`~nmfrec.ratings.RatingsMatrix`.

    Build it with :meth:`from_frame`; the fits read it through :meth:`rows`.
    """

    distributed = True

    def __init__(self, spark: pyspark.sql.SparkSession, blocks: dict[str, Any],
                 starts: dict[str, np.ndarray], users: Vocabulary, items: Vocabulary,
                 columns: tuple[str | None, ...], row_counts: np.ndarray,
                 col_counts: np.ndarray, stats: dict[str, float], dtype: npt.DTypeLike,
                 itype: npt.DTypeLike, row_sums: np.ndarray | None = None,
                 col_sums: np.ndarray | None = None) -> None:
        self.spark = spark
        self._blocks = blocks            # side -> cached DataFrame of blocks
        self._starts = starts            # side -> block boundaries
        self.users = users
        self.items = items
        self.columns = columns
        self._row_counts = row_counts
        self._col_counts = col_counts
        self._row_sums = row_sums
        self._col_sums = col_sums
        self._stats = stats              # nnz, sum, sum of squares, min, max (float64)
        self._dtype = np.dtype(dtype)
        self._itype = np.dtype(itype)
        self._routes = {}
        self.broadcast_budget = BROADCAST_BUDGET

    # -- what a fit reads of a RatingsMatrix
    @property
    def shape(self) -> tuple[int, int]:
        return (self._row_counts.size, self._col_counts.size)

    @property
    def nnz(self) -> int:
        return int(self._stats["nnz"])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._dtype

    @property
    def density(self) -> float:
        m, n = self.shape
        return self.nnz / (m * n)

    @property
    def mean(self) -> float:
        return self._stats["sum"] / self.nnz

    @property
    def rating_range(self) -> tuple[float, float]:
        return (self._stats["min"], self._stats["max"])

    def row_counts(self) -> np.ndarray:
        return self._row_counts.copy()

    def col_counts(self) -> np.ndarray:
        return self._col_counts.copy()

    def row_sums(self) -> np.ndarray:
        return self._row_sums.copy()

    def col_sums(self) -> np.ndarray:
        return self._col_sums.copy()

    @property
    def n_blocks(self) -> dict[str, int]:
        """Blocks per side, ``{"W": user blocks, "H": item blocks}``."""
        return {side: s.size - 1 for side, s in self._starts.items()}

    def rows(self) -> "SparkRows":
        """Where a fit's row kernels run: on the blocks (see :mod:`nmfrec._rows`)."""
        return SparkRows(self)

    def collect(self) -> RatingsMatrix:
        """The ratings as an in-memory RatingsMatrix on the driver (for serving)."""
        parts = sorted((blk for _, blk in self._blocks["W"].collect()), key=lambda b: b[0])
        m, n = self.shape
        indptr = np.zeros(m + 1, dtype=self._itype)
        indices, data = [None] * len(parts), [None] * len(parts)
        for j, (row0, n_rows, ip, ix, d, used) in enumerate(parts):
            indptr[row0 + 1:row0 + n_rows + 1] = ip[1:] + indptr[row0]
            indices[j], data[j] = used[ix].astype(self._itype), d
        csr = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr),
                            shape=(m, n))
        csc = csr.tocsc()
        csc.sort_indices()
        return RatingsMatrix(csr, csc, self.users, self.items, self.columns)

    def block_columns(self, side: Literal["W", "H"]) -> list[tuple[int, int, np.ndarray]]:
        """Per block of ``side``, in block order: ``(first row, number of rows, the
        sorted columns its ratings touch)`` — what a routed half-step sends it. Fetched
        from the executors once, then kept (at most one index per rating)."""
        check_side(side)
        if side not in self._routes:
            got = self._blocks[side].map(lambda kv: (kv[1][0], kv[1][1], kv[1][5])).collect()
            self._routes[side] = sorted(got, key=lambda r: r[0])
        return self._routes[side]

    def cached_bytes(self) -> int:
        """Bytes Spark's storage holds for the blocks (memory and disk, both sides)."""
        ids = {blocks.id() for blocks in self._blocks.values()}
        infos = self.spark.sparkContext._jsc.sc().getRDDStorageInfo()
        return sum(int(i.memSize()) + int(i.diskSize()) for i in infos if i.id() in ids)

    def unpersist(self) -> None:
        """Drop the cached blocks from the executors."""
        for blocks in self._blocks.values():
            blocks.unpersist()

    def __repr__(self):
        m, n = self.shape
        return (f"SparkRatings({m} users x {n} items, {self.nnz} ratings, "
                f"blocks={self.n_blocks})")

    # -- construction
    @classmethod
    def from_frame(cls, df: pyspark.sql.DataFrame, user_col: str | None = None,
                   item_col: str | None = None, rating_col: str | None = None,
                   duplicates: Literal["raise", "mean"] = "raise",
                   dtype: FloatDType = np.float64, n_blocks: int | None = None,
                   broadcast_budget: int | None = None,
                   feedback: Feedback | None = None) -> SparkRatings:
        """Check a Spark ratings table, then shuffle it once into cached blocks.

        Parameters
        ----------
        df : pyspark.sql.DataFrame
            One ``(user, item, rating)`` per row; column names resolve as for a pandas
            frame (see :func:`~nmfrec.ratings.resolve_columns`).
        user_col, item_col, rating_col : str, optional
        duplicates : {"raise", "mean"}, default="raise"
            A pair rated more than once: an error, or the mean of its ratings. ("first"
            and "last" need a row order, which a Spark table does not have.)
        dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        n_blocks : int, optional
            Blocks per side; default: the session's parallelism, more when blocks
            would exceed two million ratings.
        broadcast_budget : int, optional
            Bytes of one side's factors up to which they are broadcast, beyond which
            they are routed to the blocks that need them (default
            :data:`BROADCAST_BUDGET`).
        feedback : {"explicit", "implicit"} or None, default=None
            What the values are; None decides from the columns, as for a pandas frame
            (:func:`~nmfrec.ratings.feedback_columns`): a table without a rating column
            is click data, and counts are stored as their confidences
            (:mod:`nmfrec._clicks`). The result's ``kind`` says what it holds.

        Raises
        ------
        KeyError
            A named column is missing, or no column is recognised for a role.
        ValueError
            An empty table, missing ids, NaN, infinite or negative ratings, duplicate
            pairs with ``duplicates="raise"``.
        TypeError
            Non-numeric ratings, ids that are neither integers nor strings.
        """
        _require_pyspark()
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        if duplicates not in DUPLICATE_POLICIES:
            raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}; got "
                             f"{duplicates!r}.")
        if duplicates in ("first", "last"):
            raise ValueError(f"duplicates={duplicates!r} needs a row order, which a Spark "
                             "DataFrame does not have; pass 'mean' or 'raise'.")
        if type(df).__module__.startswith("pyspark.sql.connect"):
            raise TypeError("a Spark Connect DataFrame cannot be fitted: the blocks are "
                            "cached RDDs, which Spark Connect does not offer; use a classic "
                            "SparkSession (e.g. SparkSession.builder.master(...)).")
        spark = df.sparkSession
        ucol, icol, rcol, table = feedback_columns(pd.DataFrame(columns=list(df.columns)),
                                                   user_col, item_col, rating_col,
                                                   feedback=feedback)
        if table == "clicks":
            rcol = INTERACTION
            df = df.select(ucol, icol).withColumn(rcol, F.lit(1.0))
        types = dict((f.name, f.dataType) for f in df.schema.fields)
        for col in (ucol, icol):
            t = types[col]
            if isinstance(t, T.BooleanType):
                raise TypeError(f"column {col!r} must hold integer or string ids; got booleans.")
            if not isinstance(t, (T.IntegralType, T.StringType)):
                raise TypeError(f"column {col!r} must hold integer or string ids; got Spark "
                                f"type {t.simpleString()}.")
        rt = types[rcol]
        if isinstance(rt, T.BooleanType):
            raise TypeError(f"column {rcol!r} must hold numeric ratings; got booleans.")
        if not isinstance(rt, T.NumericType):
            raise TypeError(f"column {rcol!r} must hold numeric ratings; got Spark type "
                            f"{rt.simpleString()}.")
        data = df.select(F.col(ucol).alias("u"), F.col(icol).alias("i"),
                         F.col(rcol).cast("double").alias("r"))

        # one pass: sizes, missing values and the rating statistics
        r = F.col("r")
        s = data.agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.col("u").isNull().cast("long")).alias("null_u"),
            F.sum(F.col("i").isNull().cast("long")).alias("null_i"),
            F.sum(r.isNull().cast("long")).alias("null_r"),
            F.sum(F.isnan(r).cast("long")).alias("nan"),
            F.sum((F.abs(r) == float("inf")).cast("long")).alias("inf"),
            F.sum((r < 0).cast("long")).alias("neg"),
        ).first()
        if s["rows"] == 0:
            raise ValueError("the ratings frame is empty: there is nothing to fit.")

        def first(cond):
            row = data.filter(cond).first()
            return f"user={_show(row['u'])}, item={_show(row['i'])}", row["r"]

        for col, key, cond in ((ucol, "null_u", F.col("u").isNull()),
                               (icol, "null_i", F.col("i").isNull())):
            if s[key]:
                row = data.filter(cond).first()
                raise ValueError(f"column {col!r} has {s[key]} missing ids; e.g. the row "
                                 f"{row.asDict()}.")
        name = f"column {rcol!r}"
        # a pandas frame's NaN arrives in Spark as null: both are a missing rating
        for kind, count, cond in (("NaN", s["null_r"] + s["nan"], r.isNull() | F.isnan(r)),
                                  ("infinite", s["inf"], F.abs(r) == float("inf")),
                                  ("negative", s["neg"], r < 0)):
            if count:
                raise bad_values_error(kind, name, count, *first(cond))

        pairs = data.groupBy("u", "i").agg(F.count(F.lit(1)).alias("n"), F.avg("r").alias("r"))
        dup = pairs.filter(F.col("n") > 1)
        if duplicates == "raise":
            d = dup.agg(F.sum(F.col("n") - 1).alias("extra"), F.first("u").alias("u"),
                        F.first("i").alias("i")).first()
            if d["extra"]:
                raise ValueError(
                    f"{d['extra']} duplicate ({ucol}, {icol}) pairs; e.g. {ucol}="
                    f"{_show(d['u'])}, {icol}={_show(d['i'])}. Pass duplicates='mean' to "
                    "combine them.")
        else:
            data = pairs.select("u", "i", "r")

        def statistics(data):
            got = data.agg(F.count(F.lit(1)).alias("nnz"), F.sum("r").alias("sum"),
                           F.sum(r * r).alias("sumsq"), F.min("r").alias("min"),
                           F.max("r").alias("max")).first().asDict()
            return {k: (int(v) if k == "nnz" else float(v)) for k, v in got.items()}

        stats = statistics(data)
        if table != "ratings":
            # implicit values: all ones are clicks, others counts (their confidences)
            table = "clicks" if stats["min"] == stats["max"] == 1.0 else "counts"
            if table == "counts":
                data = data.withColumn("r", F.log1p("r"))
                stats = statistics(data)
        if dtype is not None and np.dtype(dtype) == np.float32 and \
                stats["max"] > float(np.finfo(np.float32).max):
            raise ValueError(f"{name}: ratings up to {stats['max']:g} overflow float32; "
                             "rescale them or use dtype='float64'.")

        # labels (unique: grouped) sorted, as a pandas frame's are, with their counts and
        # the sums of their values
        def vocab(col):
            counts = data.groupBy(col).agg(F.count(F.lit(1)).alias("count"),
                                           F.sum("r").alias("sum")).toPandas()
            labels = counts[col].to_numpy()
            if labels.dtype.kind == "O" and len(labels) and not isinstance(labels[0], str):
                labels = labels.astype(np.int64)
            order = np.argsort(labels, kind="stable")
            return (Vocabulary(labels[order]),
                    counts["count"].to_numpy()[order].astype(np.int64),
                    counts["sum"].to_numpy()[order].astype(np.float64))

        users, row_counts, row_sums = vocab("u")
        items, col_counts, col_sums = vocab("i")
        m, n = len(users), len(items)
        nnz = stats["nnz"]
        if n_blocks is None:
            n_blocks = max(spark.sparkContext.defaultParallelism,
                           -(-nnz // _TARGET_BLOCK_NNZ))
        starts = {"W": _block_starts(row_counts, n_blocks),
                  "H": _block_starts(col_counts, n_blocks)}
        itype = _index_dtype(max(m, n), nnz)
        sc = spark.sparkContext
        shared = sc.broadcast({"users": users.labels_, "items": items.labels_,
                               "starts": starts, "dtype": np.dtype(dtype).str,
                               "itype": np.dtype(itype).str, "shape": (m, n)})
        coded = data.mapInPandas(lambda it: _code_pairs(it, shared),
                                 "ub long, ib long, ui long, ii long, r double")
        from pyspark.serializers import BatchedSerializer, CPickleSerializer

        blocks = {}
        for side in ("W", "H"):
            key = "ub" if side == "W" else "ib"
            n_side = starts[side].size - 1
            # one block per partition, as NumPy arrays pickled one per batch: the
            # serializer of a parallelized list of one payload per block, so that a
            # routed job zips the two without re-serializing the cached blocks
            blocks[side] = (coded.groupBy(key)
                            .applyInPandas(_block_builder(side, shared), _BLOCK_SCHEMA)
                            .rdd.map(_block_arrays(itype, dtype))
                            .partitionBy(n_side, _block_partition)
                            ._reserialize(BatchedSerializer(CPickleSerializer(), 1))
                            .persist())
        got = [blocks[side].count() for side in ("W", "H")]
        if got != [starts["W"].size - 1, starts["H"].size - 1]:   # pragma: no cover
            raise RuntimeError(f"internal error: {got} blocks built, expected "
                               f"{[starts['W'].size - 1, starts['H'].size - 1]}")
        R = cls(spark, blocks, starts, users, items,
                (ucol, icol, None if table == "clicks" else rcol), row_counts,
                col_counts, stats, dtype, itype, row_sums, col_sums)
        R.kind = table
        R.broadcast_budget = BROADCAST_BUDGET if broadcast_budget is None else \
            int(broadcast_budget)
        return R


def _code_pairs(batches, shared):
    """Executor side: ids -> row and column indices and block numbers."""
    info = shared.value
    users, items, starts = info["users"], info["items"], info["starts"]
    for pdf in batches:
        u = np.searchsorted(users, pdf["u"].to_numpy(dtype=users.dtype))
        i = np.searchsorted(items, pdf["i"].to_numpy(dtype=items.dtype))
        yield pd.DataFrame({
            "ub": np.searchsorted(starts["W"], u, side="right") - 1,
            "ib": np.searchsorted(starts["H"], i, side="right") - 1,
            "ui": u, "ii": i, "r": pdf["r"].to_numpy()})


def _block_arrays(itype, dtype):
    itype, dtype = np.dtype(itype).str, np.dtype(dtype).str

    def arrays(r):
        return r.block, (r.row0, r.n_rows, _decode(r.indptr, itype), _decode(r.indices, itype),
                         _decode(r.data, dtype), _decode(r.cols, np.int64))
    return arrays


def _block_partition(block):
    return int(block)


def _block_builder(side, shared):
    return lambda pdf: _build_block(pdf, side, shared)


def _build_block(pdf, side, shared):
    """Executor side: one block's CSR arrays (rows sorted, indices sorted in each row)."""
    info = shared.value
    m, n = info["shape"]
    itype, dtype = np.dtype(info["itype"]), np.dtype(info["dtype"])
    b = int(pdf["ub" if side == "W" else "ib"].iloc[0])
    row0 = int(info["starts"][side][b])
    n_rows = int(info["starts"][side][b + 1]) - row0
    rows = pdf["ui" if side == "W" else "ii"].to_numpy() - row0
    cols = pdf["ii" if side == "W" else "ui"].to_numpy()
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n_rows + 1, dtype=itype)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    data = pdf["r"].to_numpy()[order].astype(dtype)
    # indices into the block's own sorted columns: the other side's rows it needs
    used, local = np.unique(cols, return_inverse=True)
    return pd.DataFrame({"block": [b], "row0": [row0], "n_rows": [n_rows],
                         "indptr": [indptr.tobytes()], "indices": [local.astype(itype).tobytes()],
                         "data": [data.tobytes()], "cols": [used.astype(np.int64).tobytes()]})


# ------------------------------------------------------------------------ row engine
class SparkRows:
    """The row interface of :mod:`nmfrec._rows` on a :class:`SparkRatings`' blocks.

    Each ``run`` is one Spark job over the cached blocks of a side: every block's task
    runs the kernel (then ``then``'s) on its rows and returns them, and the driver writes
    them back. How the factors reach the tasks depends on their size:

    - **broadcast** (an array of at most :data:`BROADCAST_BUDGET` bytes): it travels in
      the job's closure, which PySpark ships as a broadcast above 1 MB, fetched once per
      executor;
    - **routed** (a larger array): each block is sent only its own rows of the updated
      side, and only the other side's rows its ratings touch (MLlib's out-blocks), as a
      partition of a parallelized payload zipped with the blocks, partition by partition
      (no shuffle of the ratings).

    Each array is decided by its own size: e.g. the many users' factors routed, the
    fewer items' broadcast.

    A block's column indices point into its own sorted list of touched columns in both
    modes, so each task computes with exactly the same numbers whichever way they came.
    """

    def __init__(self, ratings: SparkRatings, divisor: float | None = None,
                 dtype: npt.DTypeLike | None = None, binary: bool = False) -> None:
        self.ratings = ratings
        self._divisor = divisor
        self._data_dtype = None if dtype is None else np.dtype(dtype).str
        self._binary = binary
        self._fault = None            # tests: (call number, marker file) fails one task once
        self._calls = 0

    @property
    def shape(self) -> tuple[int, int]:
        return self.ratings.shape

    @property
    def nnz(self) -> int:
        return self.ratings.nnz

    def scaled(self, divisor: float | None, dtype: npt.DTypeLike | None) -> SparkRows:
        return SparkRows(self.ratings, divisor, dtype)

    def binary(self) -> SparkRows:
        return SparkRows(self.ratings, binary=True)

    def _factor(self):
        return 1.0 if self._divisor is None else float(self._divisor)

    def mean(self) -> float:
        return 1.0 if self._binary else self.ratings.mean / self._factor()

    def mean_square(self) -> float:
        return 1.0 if self._binary else \
            self.ratings._stats["sumsq"] / self.nnz / self._factor() ** 2

    def max_abs(self) -> float:
        s = self.ratings._stats
        return 1.0 if self._binary else max(s["max"], -s["min"]) / self._factor()

    def data_sum(self) -> float:
        return float(self.nnz) if self._binary else self.ratings._stats["sum"] / self._factor()

    def run(self, side: Literal["W", "H"], kernel: Callable[..., Any], X: np.ndarray,
            Y: np.ndarray, args: tuple[Any, ...], out: np.ndarray | None = None,
            then: tuple[Callable[..., Any], tuple[Any, ...], np.ndarray | None] | None = None
            ) -> None:
        check_side(side)
        calls = [(kernel, args, out)] + ([then] if then is not None else [])
        steps = []
        for kern, a, o in calls:
            name = kern.__name__
            if getattr(K, name, None) is not kern:
                raise ValueError(f"{name} is not a kernel of nmfrec._kernels.")
            steps.append((name, a, None if o is None else (o.shape[1:], o.dtype.str)))
        self._calls += 1
        fault = self._fault[1] if self._fault and self._fault[0] == self._calls else None
        writes = any(name.endswith("_update_rows") for name, _, _ in steps)
        results = self._job(side, {"op": "run", "steps": steps, "writes": writes,
                                   "fault": fault}, X, Y)
        for row0, n_rows, x, outs in results:
            if writes:
                X[row0:row0 + n_rows] = x
            for (_, _, o), block in zip(calls, outs):
                if o is not None:
                    o[row0:row0 + n_rows] = block

    def product(self, side: Literal["W", "H"], X: npt.ArrayLike) -> FloatArray:
        check_side(side)
        X = np.asarray(X, dtype=np.float64)
        m, n = self.shape
        res = np.empty(((m if side == "W" else n),) + X.shape[1:])
        for row0, n_rows, _, o in self._job(side, {"op": "product", "fault": None}, None, X):
            res[row0:row0 + n_rows] = o
        return res

    def routed(self, X: np.ndarray | None, Y: np.ndarray) -> tuple[bool, bool]:
        """``(route X?, route Y?)``: each factor array is routed when its bytes exceed
        the budget, else broadcast (see the class docstring)."""
        budget = self.ratings.broadcast_budget
        return (X is not None and X.nbytes > budget), bool(Y.nbytes > budget)

    def _job(self, side, task, X, Y):
        task = {**task, "divisor": self._divisor, "dtype": self._data_dtype,
                "binary": self._binary}
        blocks = self.ratings._blocks[side]
        route_X, route_Y = self.routed(X, Y)
        # broadcast arrays travel in the closure: PySpark ships one above 1 MB as a
        # broadcast (spark.broadcast.UDFCompressionThreshold), fetched once per executor
        shipped = (task, None if route_X else X, None if route_Y else Y)
        if not (route_X or route_Y):
            return blocks.map(lambda kv: _run_block(kv[1], shipped[0], *_slices(
                kv[1], shipped[1], shipped[2]))).collect()
        routes = self.ratings.block_columns(side)
        payload = [(X[row0:row0 + n_rows] if route_X else None, Y[used] if route_Y else None)
                   for row0, n_rows, used in routes]
        parts = self.ratings.spark.sparkContext.parallelize(payload, len(payload))
        return blocks.zip(parts).map(lambda pair: _run_block(
            pair[0][1], shipped[0], *_slices(pair[0][1], shipped[1], shipped[2], pair[1]))
        ).collect()


def _slices(blk, X, Y, routed=(None, None)):
    """A block's own rows of X and the rows of Y its ratings touch: those it was routed,
    else cut from the broadcast arrays."""
    row0, n_rows, used = blk[0], blk[1], blk[5]
    Xb = routed[0] if routed[0] is not None else \
        (None if X is None else X[row0:row0 + n_rows])
    Yb = routed[1] if routed[1] is not None else Y[used]
    return Xb, Yb


def _run_block(blk, task, Xb, Yb):
    """Executor side: one kernel call (or product) on one block, numba at one thread.
    ``Xb``: the block's rows of X; ``Yb``: the rows of Y at the block's used columns.
    Returns ``(row0, n_rows, X's rows or None, output rows)``."""
    import numba

    numba.set_num_threads(1)
    row0, n_rows, indptr, indices, data, used = blk
    if task["binary"]:
        data = np.ones(indices.size)
    elif task["divisor"] is not None:
        data = (data / task["divisor"]).astype(task["dtype"])
    fault = task["fault"]
    if fault is not None and os.path.exists(fault) and row0 == 0:
        os.remove(fault)
        raise RuntimeError("nmfrec.spark: a task failure injected by a test")
    Y = np.ascontiguousarray(Yb)
    if task["op"] == "product":
        A = sp.csr_matrix((data, indices, indptr), shape=(n_rows, used.size))
        return row0, n_rows, None, np.ascontiguousarray(A @ Y)
    Xb = np.array(Xb, order="C")
    outs = []
    for name, args, out_meta in task["steps"]:
        out = None if out_meta is None else np.zeros((n_rows,) + tuple(out_meta[0]),
                                                     dtype=out_meta[1])
        getattr(K, name)(indptr, indices, data, Xb, Y, *fill_args(args, out, row0))
        outs.append(out)
    return row0, n_rows, (Xb if task["writes"] else None), outs


# ----------------------------------------------------------------------------- serving
def recommend_all(rec: Recommender, spark: pyspark.sql.SparkSession, k: int = 10, *,
                  exclude_seen: bool = True, n_tasks: int | None = None
                  ) -> pyspark.sql.DataFrame:
    """Top-``k`` items for every user of a fitted Recommender, computed on the executors.

    The model is broadcast once; each task ranks a range of users with
    :meth:`~nmfrec.Recommender.recommend_many` (same scores and order as on one machine).

    Parameters
    ----------
    rec : Recommender
        Fitted (on Spark or not).
    spark : pyspark.sql.SparkSession
    k : int, default=10
    exclude_seen : bool, default=True
    n_tasks : int, optional
        Default: the session's parallelism.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``user``, ``item``, ``score``, ``rank`` (1 = best).
    """
    _require_pyspark()
    rec._check_fitted("recommend_all")
    n_users = len(rec.users_)
    n_tasks = int(n_tasks or spark.sparkContext.defaultParallelism)
    n_tasks = max(1, min(n_tasks, n_users))
    bc = spark.sparkContext.broadcast(rec)
    bounds = np.linspace(0, n_users, n_tasks + 1).astype(np.int64)
    schema = (f"user {_spark_type(rec.users_)}, item {_spark_type(rec.items_)}, "
              "score double, rank long")

    def task(batches):
        model = bc.value
        labels = model.users_.labels_
        for pdf in batches:
            for t in pdf["id"].to_numpy():
                users = labels[bounds[t]:bounds[t + 1]]
                frame = model.recommend_many(users, k=k, exclude_seen=exclude_seen)
                yield frame[["user", "item", "score", "rank"]]

    return spark.range(n_tasks, numPartitions=n_tasks).mapInPandas(task, schema)


def factors_frame(rec: Recommender, spark: pyspark.sql.SparkSession,
                  side: Literal["users", "items"] = "users") -> pyspark.sql.DataFrame:

    """A fitted Recommender's rating-part factors as a Spark DataFrame, in the shape of
    MLlib's ``ALSModel.userFactors``: ``id`` and ``features`` (an array of the values of
    :meth:`~nmfrec.Recommender.user_factors` or ``item_factors``, named by
    ``rec.model_.factor_names_``).

    Parameters
    ----------
    rec : Recommender
    spark : pyspark.sql.SparkSession
    side : {"users", "items"}, default="users"

    Returns
    -------
    pyspark.sql.DataFrame
    """
    if side not in ("users", "items"):
        raise ValueError(f"side must be 'users' or 'items'; got {side!r}.")
    rec._check_fitted("factors_frame")
    vocab, values = ((rec.users_, rec.user_factors()) if side == "users"
                     else (rec.items_, rec.item_factors()))
    frame = pd.DataFrame({"id": vocab.labels_,
                          "features": list(np.asarray(values, dtype=np.float64))})
    return spark.createDataFrame(frame, f"id {_spark_type(vocab)}, features array<double>")


def _spark_type(vocab):
    return "long" if vocab.is_integer else "string"
