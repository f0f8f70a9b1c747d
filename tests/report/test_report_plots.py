"""``runlab.report.plot_xy`` and ``plot_curves``: what is drawn, checked on the Figure."""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from report_helpers import CS, SEEDS, STEPS, accuracy, loss

import runlab
from runlab.errors import ColumnNotFound, UsageError
from runlab.report import FORMATS, plot_curves, plot_xy
from runlab.report.figure import axis_label, value_label


def legend_texts(fig: Figure) -> list[str]:
    legend = fig.axes[0].get_legend()
    return [t.get_text() for t in legend.get_texts()]


def legend_title(fig: Figure) -> str:
    return fig.axes[0].get_legend().get_title().get_text()


def bands(fig: Figure) -> list[PolyCollection]:
    return [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]


def legend_outside(fig: Figure) -> bool:
    fig.draw_without_rendering()
    ax = fig.axes[0]
    return ax.get_legend().get_window_extent().x0 > ax.get_window_extent().x1


# -- plot_xy ---------------------------------------------------------------------------------
def test_xy_over_seeds_draws_a_mean_line_and_a_std_band_per_hue_value(svm: Path):
    fig = plot_xy(
        runlab.load(svm), x="params.C", y="metrics.acc", hue="params.kernel", over="params.seed"
    )
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("C", "acc")
    assert ax.get_title() == "mean ± std over 3 values of seed"
    assert (legend_title(fig), legend_texts(fig)) == ("kernel", ["linear", "rbf"])
    assert len(ax.lines) == 2
    assert len(bands(fig)) == 2
    for line, kernel in zip(ax.lines, ["linear", "rbf"], strict=True):
        assert list(line.get_xdata()) == [0.1, 1.0, 10.0]  # sorted numerically
        expected = [statistics.mean(accuracy(kernel, c, s) for s in SEEDS) for c in sorted(CS)]
        assert list(line.get_ydata()) == pytest.approx(expected)


def test_xy_band_is_one_std_around_the_mean(svm: Path):
    fig = plot_xy(runlab.load(svm).where("kernel == 'rbf'"), x="C", y="acc", over="seed")
    (band,) = bands(fig)
    accs = [accuracy("rbf", 0.1, s) for s in SEEDS]
    mean, std = statistics.mean(accs), statistics.stdev(accs)
    ys = band.get_paths()[0].vertices[:, 1]
    assert min(ys) == pytest.approx(mean - std)
    assert fig.axes[0].get_legend() is None  # one series, no hue: nothing to tell apart


def test_xy_over_counts_each_value_once_by_its_mean():
    # Seed 1 was run twice (0 and 2, mean 1); seed 2 once (4): mean 2.5 over 2 seeds.
    frame = pd.DataFrame({"x": [1.0, 1.0, 1.0], "y": [0.0, 2.0, 4.0], "seed": [1, 1, 2]})
    fig = plot_xy(frame, x="x", y="y", over="seed")
    assert list(fig.axes[0].lines[0].get_ydata()) == [2.5]
    assert fig.axes[0].get_title() == "mean ± std over 2 values of seed"
    ys = bands(fig)[0].get_paths()[0].vertices[:, 1]
    assert max(ys) == pytest.approx(2.5 + statistics.stdev([1, 4]))


def test_xy_without_over_plots_every_run_as_a_point(svm: Path):
    fig = plot_xy(runlab.load(svm), x="C", y="acc", hue="kernel", logx=True)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_xscale()) == ("C (log)", "log")
    assert [len(line.get_xdata()) for line in ax.lines] == [9, 9]
    # Three seeds share each C: a line through them would zigzag, so points only.
    assert {line.get_linestyle() for line in ax.lines} == {"None"}
    assert bands(fig) == []


def test_xy_without_over_joins_points_when_each_x_is_one_run(svm: Path):
    fig = plot_xy(runlab.load(svm).where("seed == 1"), x="C", y="acc", hue="kernel")
    lines = fig.axes[0].lines
    assert [line.get_linestyle() for line in lines] == ["-", "-"]
    assert list(lines[0].get_xdata()) == [0.1, 1.0, 10.0]


def test_xy_categorical_x_gets_named_ticks_and_error_bars(svm: Path):
    fig = plot_xy(runlab.load(svm), x="kernel", y="acc", hue="C", over="seed")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["linear", "rbf"]
    assert (legend_title(fig), legend_texts(fig)) == ("C", ["0.1", "1", "10"])
    assert len(ax.containers) == 3  # one errorbar per value of C
    means = [line.get_ydata() for line in ax.lines if len(line.get_xdata()) == 2]
    assert list(means[0]) == pytest.approx(
        [statistics.mean(accuracy(k, 0.1, s) for s in SEEDS) for k in ["linear", "rbf"]]
    )


def test_xy_hue_values_sort_by_value_and_missing_ones_come_last():
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0], "lr": [0.1, None, 0.01, 1]},
        dtype=object,
    )
    fig = plot_xy(frame, x="x", y="y", hue="lr")
    assert legend_texts(fig) == ["0.01", "0.1", "1", "(none)"]
    assert [list(line.get_xdata()) for line in fig.axes[0].lines] == [[3.0], [1.0], [4.0], [2.0]]


def test_xy_boolean_x_is_a_category():
    frame = pd.DataFrame({"aug": pd.array([True, False, True], dtype="boolean"), "y": [1, 2, 3]})
    fig = plot_xy(frame, x="aug", y="y")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["False", "True"]


def test_xy_legend_moves_outside_for_many_series():
    frame = pd.DataFrame(
        {"x": [1, 2] * 8, "y": range(16), "model": [f"m{i // 2}" for i in range(16)]}
    )
    fig = plot_xy(frame, x="x", y="y", hue="model", title="Eight models")
    assert len(legend_texts(fig)) == 8
    assert legend_outside(fig)
    assert fig.axes[0].get_title() == "Eight models"


def test_xy_legend_moves_outside_rather_than_cover_data():
    # Points everywhere: no corner is free, so the legend may not sit inside.
    grid = [(x, y) for x in range(20) for y in range(20)]
    frame = pd.DataFrame(
        {"x": [p[0] for p in grid], "y": [p[1] for p in grid], "h": ["a", "b"] * 200}
    )
    assert legend_outside(plot_xy(frame, x="x", y="y", hue="h"))
    # An empty corner is used.
    corner = pd.DataFrame({"x": [0, 1, 2, 3], "y": [0, 1, 2, 3], "h": ["a", "a", "b", "b"]})
    assert not legend_outside(plot_xy(corner, x="x", y="y", hue="h"))


def test_xy_short_names_resolve_and_unknown_ones_name_the_column(svm: Path):
    runs = runlab.load(svm)
    with pytest.raises(ColumnNotFound, match=r"unknown column 'acx'; did you mean metrics\.acc"):
        plot_xy(runs, x="C", y="acx")
    with pytest.raises(UsageError, match=r"^params.kernel is not numeric"):
        plot_xy(runs, x="C", y="kernel")
    with pytest.raises(UsageError, match=r"^log x: params.kernel is not numeric$"):
        plot_xy(runs, x="kernel", y="acc", logx=True)
    with pytest.raises(UsageError, match=r"^over: params.C is already on the plot"):
        plot_xy(runs, x="C", y="acc", over="C")


def test_xy_log_scale_refuses_values_not_above_zero():
    frame = pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 2.0]})
    with pytest.raises(UsageError, match=r"^log x: x has values <= 0 \(smallest 0\)$"):
        plot_xy(frame, x="x", y="y", logx=True)


def test_xy_empty_selection_is_an_error(svm: Path):
    with pytest.raises(UsageError, match=r"^no runs to plot$"):
        plot_xy(runlab.load(svm).where("C > 100"), x="C", y="acc")
    frame = pd.DataFrame({"x": [1.0, None], "y": [None, 2.0]})
    with pytest.raises(UsageError, match=r"^no run has both x and y$"):
        plot_xy(frame, x="x", y="y")


# -- plot_curves -----------------------------------------------------------------------------
def test_curves_draw_one_line_per_run(svm: Path):
    runs = runlab.load(svm).where("kernel == 'linear' and C == 1")
    fig = plot_curves(runs, y="loss")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step", "loss")
    ids = runs.ids()
    assert legend_texts(fig) == [f"run {i}" for i in ids]
    assert [list(line.get_xdata()) for line in ax.lines] == [list(range(STEPS))] * 3
    assert list(ax.lines[0].get_ydata()) == [loss("linear", 1.0, 1, s) for s in range(STEPS)]
    assert bands(fig) == []


def test_curves_with_hue_draw_mean_and_std_over_the_runs_of_each_value(svm: Path):
    runs = runlab.load(svm).where("kernel == 'rbf'")
    fig = plot_curves(runs, y="metrics.loss", hue="params.C", logy=True)
    ax = fig.axes[0]
    assert (legend_title(fig), legend_texts(fig)) == ("C", ["0.1", "1", "10"])
    assert ax.get_ylabel() == "loss (log)"
    assert ax.get_title() == "mean ± std over 3 runs per C"
    assert len(ax.lines) == 3
    assert len(bands(fig)) == 3
    step3 = [loss("rbf", 10.0, s, 3) for s in SEEDS]
    assert ax.lines[2].get_ydata()[3] == pytest.approx(statistics.mean(step3))


def test_curves_against_time_start_at_zero(svm: Path):
    fig = plot_curves(runlab.load(svm).where("seed == 1"), y="loss", x="time")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (s)"
    assert {line.get_xdata()[0] for line in ax.lines} == {0.0}
    assert len(ax.lines) == 6


def test_curves_errors_name_what_is_missing(svm: Path, tmp_path: Path):
    runs = runlab.load(svm)
    with pytest.raises(UsageError, match=r"^no run logged 'acc' \(logged: loss\)$"):
        plot_curves(runs, y="acc")
    with pytest.raises(UsageError, match=r"^no run logged 'epoch' to plot against"):
        plot_curves(runs, y="loss", x="epoch")
    with pytest.raises(ColumnNotFound, match="unknown column 'lr'"):
        plot_curves(runs, y="loss", hue="lr")
    with pytest.raises(UsageError, match=r"^no runs to plot$"):
        plot_curves(runs.where("seed > 5"), y="loss")


def test_curves_leave_out_runs_without_the_key_with_a_warning(tmp_path: Path):
    store = tmp_path / "runs"
    with runlab.start({"a": 1}, store=store, capture=False, git=False) as run:
        run.log(loss=1.0)
        run.log(loss=0.5)
    with runlab.start({"a": 2}, store=store, capture=False, git=False) as run:
        run.summary(acc=1.0)
    with runlab.start({"a": 3}, store=store, capture=False, git=False) as run:
        run.log(loss=2.0)
    with pytest.warns(UserWarning, match=r"^1 of 3 runs have no 'loss' against 'step'; left out"):
        fig = plot_curves(runlab.load(store), y="loss")
    assert [line.get_marker() for line in fig.axes[0].lines] == ["None", "o"]  # one point: a dot


# -- files -----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", list(FORMATS))
def test_path_writes_the_format_its_suffix_names(svm: Path, tmp_path: Path, suffix: str):
    path = tmp_path / f"acc{suffix}"
    fig = plot_xy(runlab.load(svm), x="C", y="acc", hue="kernel", path=path)
    assert isinstance(fig, Figure)
    head = path.read_bytes()[:8]
    assert head.startswith(
        {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix]
    )
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_the_same_figure_is_the_same_bytes(svm: Path, tmp_path: Path, suffix: str):
    runs = runlab.load(svm)
    for name in ("a", "b"):
        plot_xy(runs, x="C", y="acc", hue="kernel", path=tmp_path / f"{name}{suffix}")
    assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


def test_a_bad_path_fails_before_drawing_and_writes_nothing(svm: Path, tmp_path: Path):
    runs = runlab.load(svm)
    with pytest.raises(UsageError, match=r"suffix '\.jpg'; an image file ends in .png, .svg, .pdf"):
        plot_xy(runs, x="C", y="acc", path=tmp_path / "acc.jpg")
    with pytest.raises(UsageError, match=r"folder .*missing does not exist"):
        plot_curves(runs, y="loss", path=tmp_path / "missing" / "c.png")
    assert list(tmp_path.iterdir()) == []


# -- labels ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "column,log,label",
    [
        ("metrics.acc", False, "acc"),
        ("params.C", True, "C (log)"),
        ("duration", False, "duration (s)"),
        ("time", True, "time (s, log)"),
        ("tags.team", False, "team"),
        ("params.", False, "params."),
    ],
)
def test_axis_label(column: str, log: bool, label: str):
    assert axis_label(column, log=log) == label


@pytest.mark.parametrize(
    "value,label", [(0.01, "0.01"), (1e-05, "1e-05"), (10.0, "10"), (3, "3"), (None, "(none)")]
)
def test_value_label(value: object, label: str):
    assert value_label(value) == label
