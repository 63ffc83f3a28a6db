"""What ``import nmfrec`` and the ``nmfrec`` command load, each in a fresh interpreter.

``nmfrec --help``, ``--version`` and a usage error at the top level answer from the
standard library alone: neither numba, scikit-learn, pandas nor the kernels are imported.
``import nmfrec`` imports its names on first use; ``from nmfrec import Recommender``
loads what a fit needs, and not Spark, plotting, the downloader (pooch, requests), the
docstring parser of the command, model selection or evaluation.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: imported only by what a first fit does not need
NOT_FOR_A_FIT = ("pyspark", "py4j", "matplotlib", "pooch", "requests", "docstring_parser",
                 "nmfrec.evaluation", "nmfrec.model_selection", "nmfrec.datasets",
                 "nmfrec.cli")
#: the library itself, which the command's top level does without
LIBRARY = ("numba", "sklearn", "pandas", "scipy", "nmfrec._kernels", "nmfrec.recommender",
           "nmfrec.exceptions")


def loaded_after(code, *, argv=()):
    """The top-level modules and nmfrec's modules that ``code`` leaves in sys.modules,
    run in a fresh interpreter from the checkout; and what it printed."""
    script = textwrap.dedent(code) + textwrap.dedent('''
        import json, sys
        print(json.dumps(sorted({m.partition(".")[0] for m in sys.modules}
                                | {m for m in sys.modules if m.startswith("nmfrec")})))
    ''')
    out = subprocess.run([sys.executable, "-c", script, *argv], cwd=ROOT, text=True,
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr
    *printed, modules = out.stdout.strip().splitlines()
    return set(json.loads(modules)), "\n".join(printed), out.stderr


@pytest.mark.parametrize("argv, code", [(["--help"], 0), (["--version"], 0),
                                        ([], 2), (["no-such-command"], 2),
                                        (["--no-such-flag"], 2)])
def test_command_top_level_imports_no_library(argv, code):
    modules, printed, err = loaded_after(f'''
        import io, contextlib
        from nmfrec.cli import main
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main({argv!r})
        print(code)
        print(repr(out.getvalue() + err.getvalue()))
    ''')
    assert printed.splitlines()[0] == str(code)
    assert not modules & set(LIBRARY), sorted(modules & set(LIBRARY))
    text = printed.splitlines()[1]
    if argv == ["--help"] or argv == []:
        assert "usage: nmfrec" in text and "recommend" in text and "similar" in text
    elif code == 2:
        assert "nmfrec: error:" in text and "see 'nmfrec --help'" in text


def test_python_m_nmfrec_help_imports_no_library():
    code = textwrap.dedent('''
        import runpy, sys
        sys.argv = ["nmfrec", "--help"]
        try:
            runpy.run_module("nmfrec", run_name="__main__", alter_sys=True)
        except SystemExit as e:
            print("exit", e.code)
    ''')
    modules, printed, _ = loaded_after(code)
    assert "exit 0" in printed and "usage: nmfrec" in printed
    assert not modules & set(LIBRARY), sorted(modules & set(LIBRARY))


def test_subcommand_help_still_lists_model_flags():
    # a subcommand's flags come from the Recommender: there the library is imported
    out = subprocess.run([sys.executable, "-m", "nmfrec", "fit", "--help"], cwd=ROOT,
                         text=True, capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "--n-components" in out.stdout and "-o MODEL.npz" in out.stdout


def test_import_nmfrec_loads_names_on_first_use():
    modules, printed, _ = loaded_after('''
        import nmfrec
        import sys
        print("sklearn" in sys.modules, "numba" in sys.modules)
        print(nmfrec.Recommender.__module__, nmfrec.evaluation.__name__)
    ''')
    before, after = printed.splitlines()
    assert before == "False False"
    assert after == "nmfrec.recommender nmfrec.evaluation"


def test_first_fit_imports_only_what_it_needs():
    modules, printed, _ = loaded_after('''
        import numpy as np, pandas as pd
        from nmfrec import Recommender
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({"user": rng.integers(0, 30, 400), "item": rng.integers(0, 40, 400),
                              "rating": rng.integers(1, 6, 400).astype(float)})
        frame = frame.drop_duplicates(["user", "item"])
        model = Recommender(random_state=0).fit(frame)
        print(len(model.recommend(int(frame.user.iloc[0]), k=3)))
    ''')
    assert printed == "3"
    assert not modules & set(NOT_FOR_A_FIT), sorted(modules & set(NOT_FOR_A_FIT))


def test_lazy_names_are_the_modules_names():
    import nmfrec
    from nmfrec import bayes, evaluation, exceptions, recommender

    assert nmfrec.Recommender is recommender.Recommender
    assert nmfrec.BayesianNMF is bayes.BayesianNMF
    assert nmfrec.NotFittedError is exceptions.NotFittedError
    assert nmfrec.evaluation is evaluation
    assert set(nmfrec.__all__) <= set(dir(nmfrec))
    namespace = {}
    exec("from nmfrec import *", namespace)
    assert set(nmfrec.__all__) <= set(namespace)


def test_unknown_name_is_an_attribute_error():
    import nmfrec

    with pytest.raises(AttributeError, match="module 'nmfrec' has no attribute 'Recomender'"):
        nmfrec.Recomender  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'Recomender'"):
        exec("from nmfrec import Recomender", {})
