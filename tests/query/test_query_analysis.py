"""Statistics, groupby(...).agg(...) with `over`, best and varying: values computed by hand."""

from __future__ import annotations

import math
import re

import pytest
from query_helpers import record

import runlab
from runlab.errors import UsageError
from runlab.query import Mode, Stat
from runlab.query.analysis import group_keys
from runlab.query.stats import Summary, betainc, t_cdf, t_quantile


def rounded(rows, digits=6):
    """Rows with floats rounded, to compare with values computed by hand."""
    return [tuple(round(v, digits) if isinstance(v, float) else v for v in r) for r in rows]


T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 9: 2.262, 29: 2.045, 30: 2.042, 120: 1.980}


@pytest.mark.parametrize("df,expected", sorted(T975.items()))
def test_t_quantile_matches_the_tables(df, expected):
    assert round(t_quantile(0.975, df), 3) == expected


def test_t_quantile_other_levels_and_symmetry():
    assert t_quantile(0.995, 5) == pytest.approx(4.032143, abs=1e-6)
    assert t_quantile(0.95, 10) == pytest.approx(1.812461, abs=1e-6)
    assert t_quantile(0.025, 4) == pytest.approx(-2.776445, abs=1e-6)
    assert t_quantile(0.5, 3) == 0.0
    assert t_quantile(0.975, 10**7) == pytest.approx(1.959964, abs=1e-5)  # the normal's
    assert t_cdf(12.706205, 1) == pytest.approx(0.975, abs=1e-7)
    assert betainc(2, 3, 0.4) == pytest.approx(0.5248, abs=1e-12)  # 1 - 0.6^4 - 4*0.4*0.6^3
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)


def test_summary_of_three_seeds_by_hand():
    s = Summary.of([0.80, 0.82, 0.84])
    sem = 0.02 / math.sqrt(3)
    half = 4.302652729749464 * sem
    assert (s.n, s.min, s.max) == (3, 0.80, 0.84)
    assert s.mean == pytest.approx(0.82, abs=1e-12)
    assert s.std == pytest.approx(0.02, abs=1e-12)
    assert s.sem == pytest.approx(0.011547005383792516, abs=1e-12)
    assert (s.ci_low, s.ci_high) == pytest.approx((0.82 - half, 0.82 + half), abs=1e-9)
    assert (round(s.ci_low, 6), round(s.ci_high, 6)) == (0.770317, 0.869683)


def test_summary_of_two_one_and_no_values():
    two = Summary.of([0.80, 0.84])  # t(0.975, 1) = 12.706: a wide interval
    assert two.std == pytest.approx(math.sqrt(0.0008)) and two.sem == pytest.approx(0.02)
    assert (round(two.ci_low, 4), round(two.ci_high, 4)) == (0.5659, 1.0741)
    assert Summary.of([0.5]) == Summary(1, 0.5, None, None, 0.5, 0.5, None, None)
    assert Summary.of([]) == Summary(0)


@pytest.fixture(scope="module")
def runs(grid, load_runs):
    return load_runs(grid)


def test_varying_params_and_the_concise_table(runs):
    assert runs.varying_params() == ["params.C", "params.kernel", "params.out", "params.seed"]
    table = runs.where("seed == 1 and kernel == 'rbf'").varying()
    assert table.names == [
        "id",
        "name",
        "status",
        "params.C",
        "params.out",
        "metrics.acc",
        "metrics.val_loss",
    ]
    assert table.rows() == [
        ("7", "7", "completed", 0.1, "/mnt/scratch/rbf-0.1-1", 0.88, 0.12),
        ("10", "10", "completed", 1.0, "/mnt/scratch/rbf-1-1", 0.87, 0.13),
    ]


def test_groupby_over_seed_keeps_the_other_params_fixed(runs):
    table = runs.groupby(["kernel"], over="seed", ignore=["out"]).agg("acc")
    assert table.names == [
        "params.kernel",
        "params.C",
        "runs",
        *(f"metrics.acc_{s}" for s in ("mean", "std", "sem", "n", "min", "max")),
        "metrics.acc_ci_low",
        "metrics.acc_ci_high",
    ]
    assert rounded(table.rows()) == [
        ("linear", 0.1, 3, 0.82, 0.02, 0.011547, 3, 0.80, 0.84, 0.770317, 0.869683),
        ("linear", 1.0, 3, 0.86, 0.01, 0.005774, 3, 0.85, 0.87, 0.835159, 0.884841),
        ("rbf", 0.1, 3, 0.90, 0.02, 0.011547, 3, 0.88, 0.92, 0.850317, 0.949683),
        ("rbf", 1.0, 3, 0.87, 0.02, 0.011547, 3, 0.85, 0.89, 0.820317, 0.919683),
    ]


def test_groupby_over_without_keys_groups_by_everything_else(runs):
    table = runs.groupby(over="seed", ignore="out").agg("val_loss", stats=[Stat.MEAN, "n"])
    assert rounded(table.rows()) == [
        (0.1, "linear", 3, 0.18, 3),
        (0.1, "rbf", 3, 0.10, 3),
        (1.0, "linear", 3, 0.14, 3),
        (1.0, "rbf", 3, 0.13, 3),
    ]


def test_groupby_without_over_pools_everything_else(runs):
    table = runs.groupby("kernel").agg("acc", stats=["mean", "std", "n"])
    # squares of the deviations from the mean sum to 0.0034 (linear) and 0.00295 (rbf)
    assert rounded(table.rows()) == rounded(
        [
            ("linear", 6, 0.84, math.sqrt(0.0034 / 5), 6),
            ("rbf", 6, 0.885, math.sqrt(0.00295 / 5), 6),
        ]
    )


def test_agg_without_columns_sums_up_every_numeric_metric(runs):
    table = runs.groupby(["kernel", "C"]).agg(stats=["mean"])
    assert table.names == [
        "params.kernel",
        "params.C",
        "runs",
        "metrics.acc_mean",
        "metrics.val_loss_mean",
    ]


def test_a_per_run_param_splits_every_group_and_says_so(runs):
    with pytest.warns(UserWarning, match=r"every group holds one run: the keys \(params\.kernel"):
        table = runs.groupby(["kernel"], over="seed").agg("acc")
    assert len(table) == 12 and set(table.values("runs")) == {1}


def test_repeated_samples_are_kept_and_warned_about(tmp_path):
    store = tmp_path / "runs"
    for seed, acc in ((1, 0.5), (1, 0.7), (2, 0.9)):
        record(store, {"lr": 0.1, "seed": seed}, {"acc": acc})
    runs = runlab.load(store)
    with pytest.warns(UserWarning, match="all runs: several runs have params.seed=1"):
        table = runs.groupby(over="seed").agg("acc", stats=["n", "mean"])
    assert table.rows() == [(3, 3, pytest.approx(0.7))]


def test_group_keys_rules():
    varying = ["params.C", "params.kernel", "params.out", "params.seed"]
    assert group_keys(["params.kernel"], None, varying) == ["params.kernel"]
    assert group_keys(["params.kernel"], "params.seed", varying) == [
        "params.kernel",
        "params.C",
        "params.out",
    ]
    assert group_keys([], "params.seed", varying, ["params.out"]) == [
        "params.C",
        "params.kernel",
    ]
    with pytest.raises(UsageError, match=re.escape("params.seed is both a group key and --over")):
        group_keys(["params.seed"], "params.seed", varying)


def test_agg_needs_numbers(runs):
    with pytest.raises(
        UsageError, match=re.escape("params.out holds str values: only numbers have a mean")
    ):
        runs.groupby("kernel").agg("out")
    with pytest.raises(UsageError, match="statistic 'median': use one of mean, std"):
        runs.groupby("kernel").agg("acc", stats=["median"])


def test_best_overall_and_per_group(runs):
    best = runs.best("val_loss", mode="min")
    assert best.names[:6] == ["id", "name", "status", "params.C", "params.kernel", "params.out"]
    assert best.records() == [
        {
            "id": "9",
            "name": "9",
            "status": "completed",
            "params.C": 0.1,
            "params.kernel": "rbf",
            "params.out": "/mnt/scratch/rbf-0.1-3",
            "params.seed": 3,
            "metrics.val_loss": 0.08,
            "metrics.acc": 0.92,
        }
    ]
    per = runs.best("acc", mode=Mode.MAX, by=["C"])
    assert [(r["params.C"], r["id"], r["metrics.acc"]) for r in per.records()] == [
        (0.1, "9", 0.92),
        (1.0, "11", 0.89),
    ]
    assert per.names[:2] == ["params.C", "id"]


def test_best_ties_go_to_the_first_run_and_missing_values_are_skipped(tmp_path):
    store = tmp_path / "runs"
    record(store, {"m": "a"}, {"acc": 0.5})
    record(store, {"m": "a"}, {"acc": 0.9})
    record(store, {"m": "a"}, {"acc": 0.9})
    record(store, {"m": "b"})
    runs = runlab.load(store)
    assert runs.best("acc").values("id") == ("2",)
    assert runs.best("acc", by="m").values("id") == ("2",)  # b has no acc: no row


def test_best_errors(runs):
    with pytest.raises(UsageError, match="mode 'low': use min or max"):
        runs.best("acc", mode="low")
    with pytest.raises(
        UsageError, match=re.escape("params.kernel holds str values: best needs numbers")
    ):
        runs.best("kernel")
