"""nmfrec on Spark against Spark MLlib's ALS(nonnegative=True), on one local[2] machine.

    python benchmarks/spark.py                 # sizes M (1M ratings) and L (20M)
    python benchmarks/spark.py --sizes M       # 1M only (a few minutes)

For each size, in a fresh process with its own ``local[2]`` session (``--driver-memory``,
default 12g, holds the executors' caches in local mode):

* the synthetic set (``nmfrec.datasets.make_ratings`` at ``synthetic_shape(size)``, seed 0)
  is written once to Parquet by another process, and read by Spark: the measuring
  driver never holds the ratings;
* ``SparkRatings.from_frame``: checks, labels and the one shuffle into blocks (seconds);
* seconds per iteration, ``(t(max_iter=b) - t(max_iter=a)) / (b - a)`` (setup cancels),
  each ``t`` the median of ``REPEATS`` fits after a one-iteration warm-up fit:
  nmfrec ``MaskedNMF(rank, solver="als", init="random", tol=0)`` explicit and
  ``feedback="implicit"`` on the prebuilt blocks (implicit also with the factors routed
  to the blocks that need them instead of broadcast), against MLlib
  ``ALS(rank, regParam=0.1, nonnegative=True, implicitPrefs=False/True, alpha=1)``
  fitted on the same DataFrame (cached); and one sweep of the default model's Gibbs
  sampler (``BayesianNMF``, both halves), which MLlib has no counterpart of;
* the fixed cost of one Spark job over the cached blocks: the median of 10 jobs that each
  multiply every user block by a vector (``SparkRows.product``), almost no computing;
* the driver's peak resident memory (``VmHWM`` of the Python driver) against the bytes
  of the ratings as CSR (12 bytes per rating and the row pointers), the size a driver
  would need to collect them.

Writes ``benchmarks/results/spark.json`` and ``spark.md`` on a full run (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's nmfrec
sys.path.insert(1, str(HERE))

from _common import (git_commit, loadavg, log, machine_info, machine_line,  # noqa: E402
                     results_dir, run_python, write_results)

SIZES = ("M", "L")
RANK = 10                                  # MLlib's default rank
ITERS = {"M": (2, 12), "L": (1, 6)}         # (a, b): seconds per iteration from t(b) - t(a)
REPEATS = {"M": 3, "L": 1}                 # fits of each length; the median is used
DATA = Path(tempfile.gettempdir()) / "nmfrec-bench-spark"

_WRITE = """
import sys
sys.path.insert(0, {root!r})
from nmfrec.datasets import make_ratings, synthetic_shape
df = make_ratings(*synthetic_shape({size!r}), seed=0)
df[["user", "item", "rating"]].to_parquet({path!r}, index=False)
print("{{}}")
"""

_MEASURE = """
import json, sys, time, tempfile
sys.path.insert(0, {root!r})
import numpy as np
from nmfrec import BayesianNMF, MaskedNMF
from nmfrec.spark import SparkRatings, local_session

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024

spark = local_session(cores=2, driver_memory={mem!r}, app_name="nmfrec-bench")
spark.sparkContext.setLogLevel("ERROR")
spark.sparkContext.setCheckpointDir(tempfile.mkdtemp())
sdf = spark.read.parquet({path!r}).cache()
nnz = sdf.count()
out = {{"nnz": nnz, "rss_start": hwm()}}
t = time.perf_counter()
R = SparkRatings.from_frame(sdf)
out["blocks_s"] = time.perf_counter() - t
out["shape"] = R.shape
out["n_blocks"] = R.n_blocks
out["cached_bytes"] = R.cached_bytes()
# the fixed cost of a job: one sparse matrix-vector product per user block
rows, x = R.rows(), np.zeros(R.shape[1])
rows.product("W", x)
job_times = []
for _ in range(10):
    t = time.perf_counter()
    rows.product("W", x)
    job_times.append(time.perf_counter() - t)
out["job_s"] = float(np.median(job_times))
a, b = {iters!r}
repeats = {repeats}

def per_iter(fit):
    fit(1)                     # warm-up: JVM classes, numba cache, Python workers
    med = []
    for n in (a, b):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fit(n)
            times.append(time.perf_counter() - t)
        med.append(float(np.median(times)))
    return (med[1] - med[0]) / (b - a)

for mode in ("explicit", "implicit"):
    out["nmfrec_" + mode] = per_iter(lambda n: MaskedNMF(
        {rank}, solver="als", feedback=mode, init="random", tol=0, max_iter=n,
        random_state=0).fit(R))
out["nmfrec_gibbs"] = per_iter(lambda n: BayesianNMF(
    n_samples=n, n_burnin=0, n_kept=1, random_state=0).fit(R))
# the same implicit fit with the factors routed (each block sent only what it rates)
budget, R.broadcast_budget = R.broadcast_budget, 0
out["nmfrec_implicit_routed"] = per_iter(lambda n: MaskedNMF(
    {rank}, solver="als", feedback="implicit", init="random", tol=0, max_iter=n,
    random_state=0).fit(R))
R.broadcast_budget = budget
m, n = R.shape
f = {rank} + 2
out["factor_bytes"] = (m + n) * f * 8
# bytes a half-step sends: broadcast, both arrays once per executor; routed, each block
# its own rows and the other side's rows it touches
out["routed_bytes"] = {{side: sum((rows + used.size) * f * 8
                                  for _, rows, used in R.block_columns(side))
                        for side in ("W", "H")}}
out["rss_nmfrec"] = hwm()
R.unpersist()

from pyspark.ml.recommendation import ALS
for mode in ("explicit", "implicit"):
    out["mllib_" + mode] = per_iter(lambda n: ALS(
        rank={rank}, maxIter=n, regParam=0.1, nonnegative=True,
        implicitPrefs=mode == "implicit", alpha=1.0, userCol="user", itemCol="item",
        ratingCol="rating", seed=0).fit(sdf))
out["rss_end"] = hwm()
print(json.dumps(out))
"""


def measure(size, driver_memory):
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{size}.parquet"
    root = str(HERE.parent)
    if not path.exists():
        log(f"{size}: writing the synthetic set to {path}")
        run_python(_WRITE.format(root=root, size=size, path=str(path)))
    log(f"{size}: measuring (a fresh process, local[2])")
    t0 = time.perf_counter()
    res = run_python(_MEASURE.format(root=root, path=str(path), mem=driver_memory,
                                     iters=ITERS[size], rank=RANK, repeats=REPEATS[size]),
                     timeout=4 * 3600)
    res["wall_s"] = time.perf_counter() - t0
    m = res["shape"][0]
    res["csr_bytes"] = 12 * res["nnz"] + 8 * (m + 1)
    for mode in ("explicit", "implicit"):
        res["ratio_" + mode] = res["nmfrec_" + mode] / res["mllib_" + mode]
    res["ratio_implicit_routed"] = res["nmfrec_implicit_routed"] / res["mllib_implicit"]
    log(f"{size}: " + ", ".join(f"{k}={v:.3g}" for k, v in res.items()
                                 if isinstance(v, float)))
    return res


def markdown(result):
    info = result["machine"]
    lines = [
        "# nmfrec on Spark vs MLlib ALS(nonnegative=True)",
        "",
        f"Machine: {machine_line(info)}. Spark `local[2]`, driver memory "
        f"{result['driver_memory']}. Commit {result['commit']}, {result['date']}, load "
        f"{result['load']}. Rank {RANK}; seconds per iteration from "
        "`(t(b) - t(a)) / (b - a)`, iterations (a, b) and fits per length: "
        + ", ".join(f"{s} {ITERS[s]} x{REPEATS[s]}" for s in result["sizes"]) + ".",
        "",
        "| size | users x items | ratings | blocks | build s | job s | explicit s/it nmfrec | "
        "MLlib | ratio | implicit s/it nmfrec | MLlib | ratio | Gibbs sweep s | "
        "driver MB at start / peak | CSR MB | cached blocks MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in result["sizes"]:
        r = result["runs"][size]
        m, n = r["shape"]
        lines.append(
            f"| {size} | {m} x {n} | {r['nnz']:,} | {r['n_blocks']['W']} | "
            f"{r['blocks_s']:.1f} | {r['job_s']:.2f} | {r['nmfrec_explicit']:.2f} | {r['mllib_explicit']:.2f} | "
            f"{r['ratio_explicit']:.2f}x | {r['nmfrec_implicit']:.2f} | "
            f"{r['mllib_implicit']:.2f} | {r['ratio_implicit']:.2f}x | "
            f"{r['nmfrec_gibbs']:.2f} | {r['rss_start'] / 2**20:.0f} / "
            f"{r['rss_nmfrec'] / 2**20:.0f} | "
            f"{r['csr_bytes'] / 2**20:.0f} | {r['cached_bytes'] / 2**20:.0f} |")
    lines += ["", "Job s: the median time of a Spark job over the cached blocks that does "
              "almost nothing (one sparse product per user block): the fixed cost each "
              "half-step pays.", "", "Routed: the same implicit fit with every block sent only its own rows and "
              "the rows of the other side its ratings touch (`broadcast_budget=0`). Bytes "
              "per half-step: broadcast sends both factor arrays once per executor (one "
              "executor in local mode); routed sends each block its rows plus the touched "
              "rows of the other side.", "",
              "| size | factors MB (both sides) | routed MB, user half-step | routed MB, item "
              "half-step | implicit routed s/it | ratio to MLlib |",
              "|---|---|---|---|---|---|"]
    for size in result["sizes"]:
        r = result["runs"][size]
        lines.append(f"| {size} | {r['factor_bytes'] / 2**20:.1f} | "
                     f"{r['routed_bytes']['W'] / 2**20:.1f} | "
                     f"{r['routed_bytes']['H'] / 2**20:.1f} | "
                     f"{r['nmfrec_implicit_routed']:.2f} | "
                     f"{r['ratio_implicit_routed']:.2f}x |")
    lines += ["", "Driver MB: `VmHWM` of the Python driver once the session is up and "
              "the data are cached in Spark, then after the nmfrec fits (what the fits "
              "add: factors, labels, counts and the gathered rows of each half-step; the "
              "ratings stay in Spark). CSR MB: what collecting the ratings would take. "
              "Cached blocks MB: what Spark's storage reports for the user and item "
              "blocks (pickled NumPy arrays, compressed by Spark), against the cost "
              "model's bound 2 x (12 bytes x ratings) + row pointers.",
              ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(SIZES), help=f"subset of {','.join(SIZES)}")
    p.add_argument("--driver-memory", default="12g")
    p.add_argument("--out", default=None, help="folder for spark.json/.md")
    args = p.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        p.error(f"unknown sizes {bad}; choose from {SIZES}")
    result = {"machine": machine_info(), "commit": git_commit(),
              "date": time.strftime("%Y-%m-%d"), "load": loadavg(), "sizes": sizes,
              "driver_memory": args.driver_memory, "runs": {}}
    for size in sizes:
        result["runs"][size] = measure(size, args.driver_memory)
    result["load_end"] = loadavg()
    md = markdown(result)
    print(md)
    write_results("spark", result, md,
                  results_dir(args.out, full_run=sizes == list(SIZES)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
