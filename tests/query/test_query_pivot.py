"""runs.pivot: pymake's tables, cell texts, the best cell per row, and every export format."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess

import pytest
from query_helpers import record

import runlab
from runlab.errors import UsageError
from runlab.query import Reduce
from runlab.query.pivot import auto_digits


@pytest.fixture(scope="module")
def runs(grid, load_runs):
    return load_runs(grid)


@pytest.fixture(scope="module")
def pivot(runs):
    return runs.pivot(
        rows="params.kernel",
        cols="params.C",
        value="metrics.acc",
        reduce="mean±std",
        over="params.seed",
        ignore="out",
    )


def texts(p):
    return [[p.text(i, j) for j in range(len(p.cols))] for i in range(len(p.rows))]


def test_cells_are_mean_pm_std_over_seeds(pivot):
    assert pivot.names == ("kernel", "C=0.1", "C=1")
    assert pivot.rows == (("linear",), ("rbf",))
    assert pivot.cols == (0.1, 1)
    assert texts(pivot) == [["0.82±0.02", "0.86±0.01"], ["0.90±0.02", "0.87±0.02"]]
    assert pivot.best == {(0, 1), (1, 0)}
    assert pivot.cells[0][0].n == 3


def test_min_mode_marks_the_lowest(runs):
    p = runs.pivot(rows="kernel", cols="C", value="val_loss", over="seed", ignore="out", mode="min")
    assert texts(p) == [["0.18±0.02", "0.14±0.01"], ["0.10±0.02", "0.13±0.02"]]
    assert p.best == {(0, 1), (1, 0)}


@pytest.mark.parametrize(
    "reduce,expected",
    [
        ("mean", [["0.82", "0.86"], ["0.90", "0.87"]]),
        ("max", [["0.84", "0.87"], ["0.92", "0.89"]]),
        ("min", [["0.80", "0.85"], ["0.88", "0.85"]]),
        ("count", [["3", "3"], ["3", "3"]]),
        ("mean+-std", [["0.82±0.02", "0.86±0.01"], ["0.90±0.02", "0.87±0.02"]]),
    ],
)
def test_reductions(runs, reduce, expected):
    p = runs.pivot(rows="kernel", cols="C", value="acc", reduce=reduce)
    assert texts(p) == expected
    assert p.best == (set() if reduce == "count" else {(0, 1), (1, 0)})


def test_without_over_a_cell_pools_its_runs_and_rows_can_be_several(runs):
    p = runs.pivot(rows=["C", "kernel"], cols="seed", value="acc", reduce="mean")
    assert p.names == ("C", "kernel", "seed=1", "seed=2", "seed=3")
    assert texts(p)[0] == ["0.80", "0.82", "0.84"]
    assert p.best == {(0, 2), (1, 2), (2, 2), (3, 1)}


def test_ties_are_all_marked_and_digits_decide_them(runs):
    p = runs.pivot(rows="kernel", cols="C", value="acc", reduce="mean", digits=1)
    assert texts(p) == [["0.8", "0.9"], ["0.9", "0.9"]]
    assert p.best == {(0, 1), (1, 0), (1, 1)}


def test_missing_cells_are_empty(tmp_path):
    store = tmp_path / "runs"
    record(store, {"m": "a", "lr": 0.1}, {"acc": 0.5})
    record(store, {"m": "b", "lr": 0.2}, {"acc": 0.25})
    record(store, {"m": "b", "lr": 0.2})
    p = runlab.load(store).pivot(rows="m", cols="lr", value="acc")
    assert texts(p) == [["0.50", ""], ["", "0.25"]]
    assert p.cells[1][1].n == 1


def test_auto_digits():
    assert auto_digits([0.91, 0.5]) == 2
    assert auto_digits([0.0031, 0.5]) == 4
    assert auto_digits([1234.5]) == 2
    assert auto_digits([1e-9]) == 6
    assert auto_digits([0.0]) == 2


def test_markdown_bolds_the_best_cell(pivot, tmp_path):
    path = pivot.export(tmp_path / "t.md")
    assert path.read_text().splitlines() == [
        "| kernel |         C=0.1 |           C=1 |",
        "|--------|--------------:|--------------:|",
        "| linear |     0.82±0.02 | **0.86±0.01** |",
        "| rbf    | **0.90±0.02** |     0.87±0.02 |",
    ]


def test_latex_uses_pm_and_textbf_unescaped(pivot, tmp_path):
    path = pivot.export(tmp_path / "t.tex")
    assert path.read_text() == (
        "\\begin{tabular}{lrr}\n"
        "\\hline\n"
        "kernel & C=0.1 & C=1 \\\\\n"
        "\\hline\n"
        "linear & 0.82$\\pm$0.02 & \\textbf{0.86$\\pm$0.01} \\\\\n"
        "rbf & \\textbf{0.90$\\pm$0.02} & 0.87$\\pm$0.02 \\\\\n"
        "\\hline\n"
        "\\end{tabular}\n"
    )


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_table_compiles_with_pdflatex(runs, tmp_path):
    p = runs.pivot(rows="out", cols="C", value="acc", reduce="mean±std")  # names with _ and -
    p.export(tmp_path / "table.tex")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\input{table.tex}\n\\end{document}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 0


def test_html_marks_the_best_cell_strong(pivot, tmp_path):
    text = pivot.export(tmp_path / "t.html").read_text()
    assert '<tr><td>linear</td><td class="num">0.82±0.02</td>' in text
    assert '<td class="num"><strong>0.86±0.01</strong></td></tr>' in text


def test_data_formats_hold_the_values(runs, pivot, tmp_path):
    rows = list(csv.reader(pivot.export(tmp_path / "t.csv").open()))
    assert rows == [
        ["kernel", "C=0.1", "C=1"],
        ["linear", "0.82±0.02", "0.86±0.01"],
        ["rbf", "0.90±0.02", "0.87±0.02"],
    ]
    means = runs.pivot(
        rows="kernel", cols="C", value="acc", reduce="mean", over="seed", ignore="out"
    )
    records = json.loads(means.export(tmp_path / "t.json").read_text())
    assert records == [
        {"kernel": "linear", "C=0.1": pytest.approx(0.82), "C=1": pytest.approx(0.86)},
        {"kernel": "rbf", "C=0.1": pytest.approx(0.90), "C=1": pytest.approx(0.87)},
    ]
    pytest.importorskip("pyarrow")
    import pandas as pd

    frame = pd.read_parquet(means.export(tmp_path / "t.parquet"))
    assert list(frame.columns) == ["kernel", "C=0.1", "C=1"]
    assert frame["C=1"].round(6).tolist() == [0.86, 0.87] and frame["C=1"].dtype == "float64"


def test_df(pivot):
    df = pivot.df()
    assert df.to_dict("list") == {
        "kernel": ["linear", "rbf"],
        "C=0.1": ["0.82±0.02", "0.90±0.02"],
        "C=1": ["0.86±0.01", "0.87±0.02"],
    }


def test_errors(runs):
    with pytest.raises(UsageError, match="reduce 'median': use one of mean±std, mean"):
        runs.pivot(rows="kernel", cols="C", value="acc", reduce="median")
    with pytest.raises(UsageError, match=re.escape("params.C is both a row and the columns")):
        runs.pivot(rows=["C"], cols="C", value="acc")
    with pytest.raises(
        UsageError, match=re.escape("params.out holds str values: reduce it with count")
    ):
        runs.pivot(rows="kernel", cols="C", value="out")
    counted = runs.pivot(rows="kernel", cols="C", value="out", reduce=Reduce.COUNT)
    assert counted.text(0, 0) == "3"
