"""Print the versions ``make test-newest`` runs on; fail unless pandas is 3 or newer.

    python .ci/newest_versions.py [more distributions]
"""

import importlib.metadata as metadata
import sys

names = ["numpy", "scipy", "pandas", "scikit-learn", "numba", *sys.argv[1:]]
print("newest releases:", ", ".join(f"{n} {metadata.version(n)}" for n in names))
pandas = metadata.version("pandas")
if int(pandas.split(".")[0]) < 3:
    sys.exit(f"make test-newest: pandas {pandas} is not pandas 3 or newer (pandas 3 needs "
             f"Python >= 3.11; this is {sys.version.split()[0]})")
