"""Shared fixtures: where the real MovieLens 100K is, and a sandbox that keeps tests offline.

* ``movielens_home``: the data home holding ``ml-100k/``, found as the library finds it
  (:func:`nmfrec.datasets.find_movielens`: ``$NMFREC_DATA``, else the user cache, where
  ``make demo`` downloads it); tests that need it are skipped, saying where the library
  looked and how to get the data, when it is not there. The search runs once, before
  any test moves the user cache; tests pass the folder explicitly. (``make test`` sets
  ``NMFREC_DATA`` to ``../shared/data`` on a development machine that keeps it there.)
* ``spark``: one ``local[2]`` SparkSession for the whole run (tasks retried up to four
  times). Without pyspark or a Java runtime the tests that use it skip with the reason;
  with ``NMFREC_REQUIRE_SPARK=1`` (set by ``.ci/run``) that is a failure instead, so CI
  always runs them.
* Every test runs with the user cache in a temporary folder, without ``NMFREC_DATA``,
  and with HTTP(S) requests to anything but this machine refused (raised as
  ``requests.ConnectionError``, what an offline machine gives), so no test writes into
  ``~/.cache`` or reaches the network. Downloads are tested against a local server.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import urllib.parse
from pathlib import Path

import pytest
import requests

from nmfrec.datasets import ENV_VAR, data_home_source, find_movielens, get_data_home


def _find_movielens_home():
    """The data home holding ml-100k, by the library's own search order, or None."""
    folder = find_movielens("ml-100k")
    if folder is None:
        return None
    return folder.parent if folder.name == "ml-100k" else folder


def _no_movielens_reason():
    """Why the MovieLens tests skip: where the library looked, and how to get the data."""
    home, source = get_data_home(), data_home_source()
    where = "the user cache" if source == "user cache" else f"${source}"
    return (f"MovieLens 100K not found: looked for ml-100k in {home} ({where}). "
            "`make demo` downloads it there (or nmfrec.datasets.fetch_movielens()); "
            f"set {ENV_VAR} to a folder that holds ml-100k/ to use another copy")


# decided once, before any test changes the environment
MOVIELENS_HOME = _find_movielens_home()
NO_MOVIELENS = _no_movielens_reason() if MOVIELENS_HOME is None else None


@pytest.fixture(scope="session")
def movielens_home() -> Path:
    """The data home holding the real ``ml-100k/`` (skips the test when there is none)."""
    if MOVIELENS_HOME is None:
        pytest.skip(NO_MOVIELENS)
    return MOVIELENS_HOME


def _why_no_spark():
    try:
        import pyspark
        del pyspark
    except ImportError:
        return "pyspark is not installed (pip install 'nmfrec[spark]')"
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        return "no Java runtime found (Spark needs Java 17; set JAVA_HOME)"
    return None


@pytest.fixture(scope="session")
def spark():
    """The run's SparkSession (see the module docstring)."""
    why = _why_no_spark()
    if why:
        if os.environ.get("NMFREC_REQUIRE_SPARK") == "1":
            pytest.fail(f"NMFREC_REQUIRE_SPARK=1 but {why}")
        pytest.skip(why)
    from nmfrec.spark import local_session

    session = local_session(cores=2, max_failures=4, app_name="nmfrec-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _is_local(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _offline_sandbox(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
    monkeypatch.delenv(ENV_VAR, raising=False)
    original = requests.Session.request

    def local_only(self, method, url, *args, **kwargs):
        if not _is_local(url):
            raise requests.ConnectionError(f"network disabled in tests: {method} {url}")
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", local_only)
