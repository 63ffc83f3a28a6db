"""Every example in README.md and datasets/README.md runs, and prints what the page shows.

The examples are written as doctests (``>>>`` lines inside fenced code blocks). Each page's
examples run in order in one namespace, from the repository root, with MovieLens 100K
found through ``NMFREC_DATA``. Printed numbers are compared to the precision the page
shows them with (``3.87`` matches ``3.8712...``), so a page cannot drift from the code
without a test failing; everything else must match exactly, up to runs of white space and
``...`` where the page elides.
"""

import doctest
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "datasets/README.md"]

_NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


class NumberChecker(doctest.OutputChecker):
    """Exact comparison, except that a number printed with d decimals in the expected
    output matches any number within half a unit of its last decimal."""

    def check_output(self, want, got, optionflags):
        if super().check_output(want, got, optionflags):
            return True
        wants, gots = _NUMBER.findall(want), _NUMBER.findall(got)
        if len(wants) != len(gots) or not wants:
            return False
        for w, g in zip(wants, gots):
            decimals = len(w.split(".")[1].split("e")[0].split("E")[0])
            if abs(float(w) - float(g)) > 0.5 * 10 ** -decimals + 1e-12:
                return False
        # the rest of the text must agree once the numbers are taken out
        strip = (lambda s: _NUMBER.sub("#", s))
        return super().check_output(strip(want), strip(got), optionflags)


def _examples(page):
    text = (ROOT / page).read_text()
    blocks = re.findall(r"```(?:python|pycon)?\n(.*?)```", text, flags=re.S)
    return "\n".join(b for b in blocks if b.lstrip().startswith(">>>"))


@pytest.mark.parametrize("page", PAGES)
def test_examples_run_and_print_what_the_page_shows(page, movielens_home, monkeypatch):
    source = _examples(page)
    if not source:
        pytest.skip(f"{page} has no examples")
    monkeypatch.setenv("NMFREC_DATA", str(movielens_home))
    monkeypatch.chdir(ROOT)
    test = doctest.DocTestParser().get_doctest(source, {}, page, page, 0)
    runner = doctest.DocTestRunner(
        checker=NumberChecker(),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    failures = runner.summarize(verbose=False).failed
    assert failures == 0, "".join(out)
