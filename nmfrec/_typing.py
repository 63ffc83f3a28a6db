"""Type aliases of the public API, for annotations only.

The public modules import these under ``typing.TYPE_CHECKING`` and annotate with
``from __future__ import annotations``, so nothing here runs when nmfrec is imported.
The module itself imports only what nmfrec imports anyway (numpy, pandas, scipy); the
optional libraries (polars, pyarrow, pyspark, matplotlib) are named as strings and
resolved by type checkers alone.

The option literals spell the same values as the tuples the code validates against
(``nmfrec.ratings.DUPLICATE_POLICIES`` and the others); ``tests/test_typing.py`` checks
that they agree.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    import polars
    import pyarrow
    import pyspark.sql
    from typing_extensions import TypeAlias

    from .ratings import RatingsMatrix

#: A raw user or item id: an int or a str as in the training frame (numpy scalars too,
#: as they come out of a frame's column).
Label: TypeAlias = Union[int, str, np.integer, np.str_]
#: Several ids: a list, tuple, array, Series or Index of them.
Labels: TypeAlias = Union[Sequence[Label], np.ndarray, pd.Series, pd.Index]
#: A user or item id, or several.
LabelOrLabels: TypeAlias = Union[Label, Labels]

#: A table in memory: pandas, polars or pyarrow (converted by its own ``to_pandas``).
Frame: TypeAlias = Union[pd.DataFrame, "polars.DataFrame", "pyarrow.Table",
                         "pyarrow.RecordBatch"]
#: A scipy sparse matrix or array (users as rows, items as columns).
Sparse: TypeAlias = Union[sp.spmatrix, sp.sparray]
#: What ``Recommender.fit`` takes: a frame (Spark too), a sparse matrix or a RatingsMatrix.
RatingsInput: TypeAlias = Union[Frame, "pyspark.sql.DataFrame", Sparse, "RatingsMatrix"]
#: A matrix with missing entries: sparse (stored entries observed), dense (NaN missing),
#: or a RatingsMatrix.
MatrixLike: TypeAlias = Union[Sparse, npt.ArrayLike, "RatingsMatrix"]

#: A file name: a str or a path object.
StrPath: TypeAlias = Union[str, "os.PathLike[str]"]
#: Seed of the randomness: None, an int, or a numpy generator.
Seed: TypeAlias = Union[None, int, np.random.Generator, np.random.RandomState]
#: A numpy floating dtype, as a name or a type.
FloatDType: TypeAlias = Union[Literal["float64", "float32"], type[np.float64],
                              type[np.float32], np.dtype[Any]]
#: Item id -> title.
Titles: TypeAlias = Union[Mapping[Hashable, Any], pd.Series]

#: Options, spelled as the code checks them.
Duplicates: TypeAlias = Literal["raise", "last", "first", "mean"]
Feedback: TypeAlias = Literal["explicit", "implicit"]
Unknown: TypeAlias = Literal["nan", "baseline", "raise"]
Ranking: TypeAlias = Literal["preference", "rating", "popularity"]
Solver: TypeAlias = Literal["als", "mu", "pgd"]
Init: TypeAlias = Literal["random", "nndsvd", "nndsvda", "nndsvdar", "custom"]
Prior: TypeAlias = Literal["wishart", "ard"]
Noise: TypeAlias = Literal["row_col", "row_col_weighted", "shared"]
RegScale: TypeAlias = Literal["none", "count", "weight"]
Preference: TypeAlias = Literal["rating", "binary"]
Missing: TypeAlias = Literal["error", "ignore"]
Side: TypeAlias = Literal["user", "item"]

#: A float64 (or float32, on request) array.
FloatArray: TypeAlias = npt.NDArray[np.floating]
IntArray: TypeAlias = npt.NDArray[np.integer]
#: A new user's ratings: item -> rating (a dict or Series), a frame of item and rating
#: columns, or a list of items (one interaction each).
NewRatings: TypeAlias = Union[Mapping[Any, float], pd.Series, Frame, Sequence[Label]]
#: Ranked lists for the metrics: a 2-D int array padded with -1, or one 1-D array (or
#: list) per user.
Recommended: TypeAlias = Union[npt.ArrayLike, Sequence[npt.ArrayLike]]
#: The relevant items of each user, aligned with the ranked lists.
Relevant: TypeAlias = Sequence[Collection[Any]]
