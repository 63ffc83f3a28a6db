"""Fast checks of benchmarks/validation.py: the values it gives each fit against the rules
computed by hand, its verdicts, and a smoke run on a small planted set that checks the
validation split is cut from the training part only and that factor 1 is the default."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import shapes  # noqa: E402
import validation  # noqa: E402
from nmfrec._auto import DataStats  # noqa: E402

CONSTANTS = {c.name: c for c in validation.CONSTANTS}


def test_values_are_the_rules_times_the_factor():
    # an ml-100k validation split's shape: 943 users, 1,650 items, 64,000 ratings
    s = DataStats(943, 1650, 64000)
    rank = CONSTANTS["rating rank"]          # 0.17 * 40 = 6.8 -> 7
    assert [rank.value(s, f) for f in (0.5, 1.0, 2.0)] == [4, 7, 14]
    pref = CONSTANTS["preference rank"]      # sqrt(64000) / 3.5 = 72.3 -> 72
    assert [pref.value(s, f) for f in (0.5, 1.0, 2.0)] == [36, 72, 144]
    mw = CONSTANTS["missing weight"]         # 8 * 64000 / (943 * 1650) = 0.3291
    assert [mw.value(s, f) for f in (0.5, 1.0, 2.0)] == [0.165, 0.329, 0.658]
    assert mw.value(s, 4.0) == 1.0           # the rule's bound
    l2 = CONSTANTS["preference L2"]          # 0.09 / sqrt(64000 / 1650) = 0.01445
    assert [l2.value(s, f) for f in (0.5, 1.0, 2.0)] == [0.00725, 0.0145, 0.029]
    # a rank stays within 1 and the smaller side less one
    tiny = DataStats(30, 20, 500)            # rule: max(8, 6.4) = 8
    assert [pref.value(tiny, f) for f in (1.0, 2.0, 4.0)] == [8, 16, 19]
    assert rank.value(DataStats(30, 20, 3), 0.1) == 1


def _entry(factor, better, se):
    return {"factor": factor, "better_than_1x": better, "se": se,
            "clearly_better": factor != 1.0 and better > validation.CLEAR * se}


def test_verdicts():
    one = _entry(1.0, 0.0, 0.0)
    assert validation.verdict([_entry(0.5, -0.01, 0.001), one, _entry(2, -0.02, 0.001)]
                              )["kind"] == "best"
    v = validation.verdict([_entry(0.5, 0.003, 0.002), one, _entry(2, -0.02, 0.001)])
    assert v["kind"] == "within noise" and v["factor"] == 0.5 and "1.5 SE" in v["text"]
    v = validation.verdict([_entry(0.5, 0.003, 0.002), one, _entry(2, 0.01, 0.001)])
    assert v["kind"] == "beaten" and v["factor"] == 2 and "x2 is clearly better" in v["text"]


def test_user_groups_partition_the_users():
    p = shapes.load_set("planted-120x60-ratings-tilted")
    train = p.splits["80/20"][0]
    groups = validation.user_groups(train)
    assert len(groups) == validation.N_GROUPS
    allu = np.concatenate(groups)
    assert sorted(allu.tolist()) == sorted(train["user"].unique().tolist())
    assert max(map(len, groups)) - min(map(len, groups)) <= 1


def test_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as e:
        validation.parse_args(["--help"])
    assert e.value.code == 0
    assert "--combine" in capsys.readouterr().out
    assert validation.main(["--sets", "ml-5m"]) == 2
    assert "unknown set 'ml-5m'" in capsys.readouterr().err
    assert validation.main(["--folds", "u9"]) == 2
    assert validation.main(["--combine", "/nonexistent"]) == 2
    assert validation.main(["--constants", "rank"]) == 2
    assert "unknown constant 'rank'" in capsys.readouterr().err
    assert validation.grid_of("ml-1m", "missing weight, preference rank:0.5/4") == {
        "missing weight": (0.5, 1.0, 2.0), "preference rank": (0.5, 1.0, 4.0)}
    assert validation.grid_of("planted-x") == {c: validation.GRIDS["planted"]
                                               for c in CONSTANTS}


@pytest.fixture
def small_sets(monkeypatch):
    """The script's planted sets replaced by two of the smallest shape."""
    sets = ("planted-120x60-ratings-tilted", "planted-120x60-clicks-tilted")
    monkeypatch.setattr(validation, "PLANTED_SETS", sets)
    monkeypatch.setattr(validation, "SETS", sets)
    monkeypatch.setattr(validation, "GRIDS", {**validation.GRIDS, "planted": (0.5, 1.0)})
    return sets


@pytest.mark.slow
def test_smoke_run_on_planted_sets(small_sets, tmp_path, capsys):
    name = small_sets[0]
    assert validation.main(["--sets", name, "--out", str(tmp_path)]) == 0
    md = capsys.readouterr().out
    result = json.loads((tmp_path / "validation.json").read_text())
    assert (tmp_path / "validation.md").read_text() in md
    assert result["complete"] and list(result["sets"]) == [name]
    for key in ("machine", "git_commit", "date", "loadavg_start", "loadavg_end",
                "wall_time_s"):
        assert key in result
    block = result["sets"][name]
    # the validation split is a partition of the set's training part: its test part unread
    train, _test = shapes.load_set(name).splits["80/20"]
    assert block["n_fit"] + block["n_valid"] == len(train)
    fit = validation.validation_splits(name, None, validation.ML100K_FOLDS, {}).splits
    fit_part = fit["80/20"][0]
    stats = validation.stats_of(fit_part)
    runs = {(r["constant"], r["factor"]): r["splits"]["80/20"] for r in block["runs"]}
    assert set(runs) == {(c.name, f) for c in validation.CONSTANTS for f in (0.5, 1.0)}
    assert validation.not_measured(block) == [] and "Not measured" not in md
    part = {**block, "factors": {"missing weight": [0.5, 1.0], "preference rank": [1.0]}}
    assert validation.not_measured(part) == ["rating rank x0.5", "rating rank x1",
                                             "preference rank x0.5", "preference L2 x0.5",
                                             "preference L2 x1"]
    for (constant, factor), run in runs.items():
        value = CONSTANTS[constant].value(stats, factor)
        assert all(run["params"][n] == value
                   for n in CONSTANTS[constant].params["ratings"])
        assert len(run["groups"]) == validation.N_GROUPS
    # factor 1 of a constant the held-out check does not choose is the default fit itself
    default = block["default"]["80/20"]
    assert runs[("missing weight", 1.0)]["all"] == default["all"]
    assert default["fitted_params"]["missing_weight"] == CONSTANTS["missing weight"].value(
        stats, 1.0)
    # a table per set, rows marked, and a verdict per constant
    assert f"**{name}**" in md and "x1 (default)" in md
    assert md.count("Verdicts:") == 1
    assert all(s["verdict"]["kind"] in ("best", "within noise", "beaten")
               for s in block["summary"])


def test_partial_runs_combine(small_sets, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert validation.main(["--sets", small_sets[1], "--out", str(a)]) == 0
    result = json.loads((a / "validation.json").read_text())
    clicks = result["sets"][small_sets[1]]
    assert {s["constant"] for s in clicks["summary"]} == {
        "preference rank", "missing weight", "preference L2"}   # no rating part on clicks
    assert all(p == {"feedback": "implicit", "n_components": p["n_components"]}
               for r in clicks["runs"] for p in [r["splits"]["80/20"]["params"]]
               if r["constant"] == "preference rank")
    # the other set's run, as a second process would have written it
    result["sets"] = {small_sets[0]: {**clicks, "name": small_sets[0]}}
    b.mkdir()
    (b / "validation.json").write_text(json.dumps(result))
    capsys.readouterr()
    out = tmp_path / "both"
    assert validation.main(["--combine", str(a), str(b), "--out", str(out)]) == 0
    md = capsys.readouterr().out
    result = json.loads((out / "validation.json").read_text())
    assert list(result["sets"]) == list(small_sets)          # in the order of SETS
    assert result["complete"] and len(result["parts"]) == 2
    assert "2 runs side by side" in md
    # a setting measured twice is refused
    assert validation.main(["--combine", str(a), str(a), "--out", str(out)]) == 2
    assert "preference rank x0.5 is in more than one run" in capsys.readouterr().err


def test_runs_of_one_set_merge(small_sets, tmp_path, capsys):
    name = small_sets[1]
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "both"
    assert validation.main(["--sets", name, "--constants", "missing weight:2",
                            "--out", str(a)]) == 0
    assert validation.main(["--sets", name, "--constants", "missing weight:0.5,preference L2",
                            "--out", str(b)]) == 0
    capsys.readouterr()
    assert validation.main(["--combine", str(a), str(b), "--out", str(out)]) == 0
    md = capsys.readouterr().out
    block = json.loads((out / "validation.json").read_text())["sets"][name]
    assert block["factors"] == {"missing weight": [0.5, 1.0, 2.0],
                                "preference L2": [0.5, 1.0]}
    rows = {s["constant"]: [e["factor"] for e in s["rows"]] for s in block["summary"]}
    assert rows == {"missing weight": [0.5, 1.0, 2.0], "preference L2": [0.5, 1.0]}
    assert validation.not_measured(block) == ["preference rank x0.5", "preference rank x1"]
    assert "Not measured on this set" in md
