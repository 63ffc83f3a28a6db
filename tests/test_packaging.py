"""nmfrec works as ``pip install nmfrec`` installs it: without any of its extras.

The library runs in a fresh interpreter where every package that only an extra brings
(Spark, pyarrow, the test tools, the benchmarks' peers) fails to import, as on a machine
where it is not installed: every module imports, and a fit, its answers, a save and a
load, reading a CSV file, and the ``nmfrec`` command all work. Without pyarrow, pandas 3
keeps strings in its own Python-backed string type, which this covers too.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: import names of the packages that only an extra installs (see pyproject.toml)
EXTRAS_ONLY = ("pyspark", "py4j", "pyarrow", "fastparquet", "pytest", "xdist", "execnet",
               "hypothesis", "implicit", "matplotlib", "surprise", "cornac", "polars", "mypy")

SCRIPT = textwrap.dedent('''
    import importlib, importlib.abc, pkgutil, sys
    BLOCKED = set(sys.argv[1].split(","))

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())

    import numpy as np
    import pandas as pd
    import nmfrec
    for info in pkgutil.walk_packages(nmfrec.__path__, "nmfrec."):
        if info.name != "nmfrec.__main__":          # that one runs the command
            importlib.import_module(info.name)

    from nmfrec import Recommender
    from nmfrec.cli import main
    from nmfrec.datasets import make_ratings
    from nmfrec.io import read_ratings_file

    folder = sys.argv[2]
    df = make_ratings(60, 40, 900, seed=0)
    df["user"] = "u" + df["user"].astype(str)
    df.to_csv(f"{folder}/ratings.csv", index=False)
    ratings = read_ratings_file(f"{folder}/ratings.csv")
    quick = dict(random_state=0, n_samples=10, preference_components=4, max_iter=5)
    rec = Recommender(**quick).fit(ratings)
    top = rec.recommend("u1", k=3)
    assert len(top) == 3, top
    pred = rec.predict(ratings[["user", "item"]])
    assert np.isfinite(pred).all()
    rec.save(f"{folder}/model.npz")
    again = Recommender.load(f"{folder}/model.npz")
    pd.testing.assert_frame_equal(again.recommend("u1", k=3), top)
    assert main(["fit", f"{folder}/ratings.csv", "-o", f"{folder}/cli.npz", "--max-iter",
                 "5", "--n-samples", "10", "--random-state", "0"]) == 0
    assert main(["recommend", f"{folder}/cli.npz", "--user", "u1", "--k", "3"]) == 0
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("pandas", pd.__version__, "ok")
''')


def test_the_library_works_without_any_extra(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, ",".join(EXTRAS_ONLY), str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok"), proc.stdout


def test_a_blocked_package_is_missing_as_on_a_machine_without_it():
    # the check above can fail: an import of a blocked package raises ImportError
    code = SCRIPT.split("import numpy as np")[0] + "import pyarrow\n"
    proc = subprocess.run([sys.executable, "-c", code, "pyarrow", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "ModuleNotFoundError: No module named 'pyarrow'" in proc.stderr, proc.stderr
