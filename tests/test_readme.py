"""Every example in README.md and datasets/README.md runs, and prints what the page shows.

The Python examples are written as doctests (``>>>`` lines inside fenced code blocks).
Each page's examples run in order in one namespace, from the repository root, with
MovieLens 100K found through ``NMFREC_DATA`` (and, for a page with a Spark example, the
run's Spark session started first). The ``console`` blocks are commands
(``$ nmfrec ...``) that run in a folder holding the ``ratings.csv`` and ``movies.csv`` they
name (MovieLens 100K's) and must succeed; ``bash``/``sh`` blocks are the install and
make commands, which the test suite itself is run by. Printed numbers are compared to the precision the page
shows them with (``3.87`` matches ``3.8712...``), so a page cannot drift from the code
without a test failing; everything else must match exactly, up to runs of white space and
``...`` where the page elides.
"""

import doctest
import os
import re
import shlex
import subprocess
import sys
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


def _blocks(page):
    """(info string, text) of every fenced code block of a Markdown page, in order."""
    blocks, info, lines = [], None, []
    for line in (ROOT / page).read_text().splitlines():
        if line.startswith("```"):
            if info is None:
                info, lines = line[3:].strip(), []
            else:
                blocks.append((info, "\n".join(lines) + "\n"))
                info = None
        elif info is not None:
            lines.append(line)
    return blocks


def _examples(page):
    return "\n".join(text for info, text in _blocks(page)
                     if info in ("python", "pycon") and text.lstrip().startswith(">>>"))


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_examples_run_and_print_what_the_page_shows(page, movielens_home, monkeypatch,
                                                   request):
    source = _examples(page)
    if not source:
        pytest.skip(f"{page} has no examples")
    if "nmfrec.spark" in source:
        # the page's local_session() then finds the run's session (getOrCreate)
        request.getfixturevalue("spark")
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


def _commands(page):
    cmds = []
    for info, text in _blocks(page):
        if info == "console":
            for line in text.splitlines():
                if line.startswith("$ "):
                    cmds.append(line[2:].split(" #")[0].strip())
    return cmds


def _command_cases():
    """(page, command) of every command but ``nmfrec fit`` (run by ``command_folders``,
    which the others' model files come from), one test each, so that the workers of
    pytest -n share them out."""
    cases = [pytest.param(page, cmd, id=f"{page}: {cmd}") for page in PAGES
             for cmd in _commands(page) if shlex.split(cmd)[1] != "fit"]
    return cases or [pytest.param(None, None, marks=pytest.mark.skip("no page has commands"))]


def _run_command(cmd, folder, movielens_home):
    argv = shlex.split(cmd)
    assert argv[0] == "nmfrec", cmd
    env = {**os.environ, "NMFREC_DATA": str(movielens_home)}
    proc = subprocess.run([sys.executable, "-m", "nmfrec", *argv[1:]], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    if argv[1] in ("recommend", "similar") and "-o" not in argv:
        assert "Star Wars" in proc.stdout or "(19" in proc.stdout, proc.stdout


@pytest.fixture(scope="module")
def command_folders(movielens_home, tmp_path_factory):
    """A folder per page holding the ``ratings.csv`` and ``movies.csv`` its commands name
    (MovieLens 100K's, as MovieLens' CSV releases have them) and the model files its
    ``nmfrec fit`` commands write (each must succeed)."""
    from nmfrec.datasets import load_movielens

    ml = load_movielens("ml-100k", data_home=movielens_home)
    folders = {}
    for page in [page for page in PAGES if _commands(page)]:
        folder = folders[page] = tmp_path_factory.mktemp("commands")
        ml.ratings.rename(columns={"user": "userId", "item": "movieId"}).to_csv(
            folder / "ratings.csv", index=False)
        ml.items.rename_axis("movieId").reset_index().to_csv(folder / "movies.csv",
                                                              index=False)
        for cmd in _commands(page):
            if shlex.split(cmd)[1] == "fit":
                _run_command(cmd, folder, movielens_home)
    return folders


@pytest.mark.slow
@pytest.mark.parametrize("page, cmd", _command_cases())
def test_commands_run(page, cmd, command_folders, movielens_home):
    _run_command(cmd, command_folders[page], movielens_home)
