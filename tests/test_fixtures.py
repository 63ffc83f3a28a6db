"""The test suite finds MovieLens where the library does, and says so when it skips."""

from pathlib import Path

import conftest
from nmfrec.datasets import ENV_VAR


def _release(home):
    folder = home / "ml-100k"
    folder.mkdir(parents=True)
    (folder / "u.data").write_text("1\t1\t5\t0\n")
    return home


def test_the_data_make_demo_downloads_is_found(tmp_path, monkeypatch):
    # make demo downloads into the user cache: <XDG_CACHE_HOME>/nmfrec/ml-100k
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    home = _release(tmp_path / "nmfrec")
    assert conftest._find_movielens_home() == home


def test_nmfrec_data_wins_over_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _release(tmp_path / "cache" / "nmfrec")
    monkeypatch.setenv(ENV_VAR, str(_release(tmp_path / "mine")))
    assert conftest._find_movielens_home() == tmp_path / "mine"
    # and a data home that is the release folder itself is the release's parent
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "mine" / "ml-100k"))
    assert conftest._find_movielens_home() == tmp_path / "mine"


def test_nothing_else_is_searched(tmp_path, monkeypatch):
    # NMFREC_DATA hides the user cache, as it does for the library
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _release(tmp_path / "cache" / "nmfrec")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "empty"))
    assert conftest._find_movielens_home() is None


def test_the_skip_says_where_the_library_looked_and_how_to_get_the_data(tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    reason = conftest._no_movielens_reason()
    assert reason.startswith(f"MovieLens 100K not found: looked for ml-100k in "
                             f"{tmp_path / 'nmfrec'} (the user cache). `make demo` "
                             "downloads it there"), reason
    assert f"set {ENV_VAR}" in reason and "shared" not in reason
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "elsewhere"))
    assert f"in {tmp_path / 'elsewhere'} (${ENV_VAR})." in conftest._no_movielens_reason()


def test_the_suite_searched_before_the_sandbox_moved_the_cache():
    home = conftest.MOVIELENS_HOME
    assert home is None or (Path(home) / "ml-100k" / "u.data").is_file()
    assert (conftest.NO_MOVIELENS is None) == (home is not None)
