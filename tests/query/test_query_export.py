"""Exports: each format's exact text or read-back, escaping, and refusals that write nothing."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import runlab
from runlab.errors import UsageError
from runlab.query import Column, DType, RunTable
from runlab.query.export import export, latex_escape

COLUMNS = (
    Column("id", "run", DType.STR),
    Column("start", "run", DType.DATETIME),
    Column("params.note", "params", DType.STR),
    Column("params.lr", "params", DType.FLOAT),
    Column("params.layers", "params", DType.JSON),
    Column("params.flag", "params", DType.BOOL),
    Column("metrics.acc_mean", "metrics", DType.FLOAT, source="metrics.acc"),
    Column("metrics.n", "metrics", DType.INT),
    Column("params.mixed", "params", DType.MIXED),
)
ROWS = [
    (
        "1",
        "2024-05-01T10:00:00.250000+00:00",
        "50% of a&b #1 $x_y {z} ~^\\",
        0.1,
        [64, 64],
        True,
        0.123456789,
        3,
        1,
    ),
    ("best", "2024-05-02T11:30:00+00:00", "<b>bold</b> | pipe", None, None, None, None, None, "a"),
]


@pytest.fixture
def table() -> RunTable:
    return RunTable(COLUMNS, tuple(zip(*ROWS, strict=True)))


def test_csv_has_one_flat_header_and_exact_values(table, tmp_path):
    path = export(table, tmp_path / "runs.csv")
    text = path.read_text()
    assert text.splitlines()[0] == (
        "id,start,params.note,params.lr,params.layers,params.flag,metrics.acc_mean,metrics.n,"
        "params.mixed"
    )
    assert list(csv.reader(text.splitlines()))[1:] == [
        ["1", "2024-05-01T10:00:00.250000+00:00", "50% of a&b #1 $x_y {z} ~^\\", "0.1",
         "[64, 64]", "True", "0.123456789", "3", "1"],
        ["best", "2024-05-02T11:30:00+00:00", "<b>bold</b> | pipe", "", "", "", "", "", "a"],
    ]  # fmt: skip


def test_json_loads_back_to_the_same_records(table, tmp_path):
    path = export(table, tmp_path / "runs.json")
    assert json.loads(path.read_text()) == table.records()
    assert table.records()[1]["params.lr"] is None


def test_json_round_trip_of_a_real_store(zoo, tmp_path):
    table = runlab.load(zoo).table()
    path = export(table, tmp_path / "all.json")
    assert json.loads(path.read_text()) == table.records()


def test_markdown_table(table, tmp_path):
    text = export(table, tmp_path / "runs.md").read_text()
    assert text.splitlines() == [
        "| id   | start               | params.note                | params.lr | params.layers "
        "| params.flag | metrics.acc_mean | metrics.n | params.mixed |",
        "|------|---------------------|----------------------------|----------:|---------------"
        "|-------------|-----------------:|----------:|--------------|",
        "| 1    | 2024-05-01 10:00:00 | 50% of a&b #1 $x_y {z} ~^\\ |       0.1 | [64, 64]      "
        "| True        |         0.123457 |         3 | 1            |",
        "| best | 2024-05-02 11:30:00 | <b>bold</b> \\| pipe        |           |               "
        "|             |                  |           | a            |",
    ]


def test_latex_escapes_specials_in_cells_and_headers(table, tmp_path):
    text = export(table, tmp_path / "runs.tex").read_text()
    lines = text.splitlines()
    assert lines[0] == "\\begin{tabular}{lllrllrrl}"
    assert lines[2] == (
        "id & start & params.note & params.lr & params.layers & params.flag & "
        "metrics.acc\\_mean & metrics.n & params.mixed \\\\"
    )
    assert lines[4] == (
        "1 & 2024-05-01 10:00:00 & 50\\% of a\\&b \\#1 \\$x\\_y \\{z\\} "
        "\\textasciitilde{}\\textasciicircum{}\\textbackslash{} & 0.1 & [64, 64] & True & "
        "0.123457 & 3 & 1 \\\\"
    )
    assert lines[5].startswith("best & 2024-05-02 11:30:00 & \\textless{}b\\textgreater{}bold")
    assert lines[-1] == "\\end{tabular}"
    assert latex_escape("a_b%c&d#e") == "a\\_b\\%c\\&d\\#e"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(table, tmp_path):
    export(table, tmp_path / "runs.tex")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\\begin{document}\\input{runs.tex}\\end{document}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_html_escapes_text(table, tmp_path):
    text = export(table, tmp_path / "runs.html").read_text()
    lines = text.splitlines()
    assert lines[0] == '<table class="runlab">'
    assert lines[1].startswith("<thead><tr><th>id</th><th>start</th><th>params.note</th>")
    assert "&lt;b&gt;bold&lt;/b&gt; | pipe" in lines[4]
    assert "<b>" not in text
    assert '<td class="num">0.1</td>' in lines[3]
    assert lines[-1] == "</table>"


def test_parquet_reads_back_with_pandas(table, tmp_path):
    path = export(table, tmp_path / "runs.parquet")
    df = pd.read_parquet(path)
    assert list(df.columns) == table.names
    assert str(df["params.lr"].dtype) == "float64"
    assert str(df["metrics.n"].dtype) in ("Int64", "int64", "float64")
    assert df["start"].dt.tz is not None
    assert df["start"][0] == pd.Timestamp("2024-05-01T10:00:00.25", tz="UTC")
    assert list(df["params.layers"][0]) == [64, 64]
    assert df["params.flag"][0] == True  # noqa: E712 (a numpy or pandas bool)
    assert list(df["params.mixed"]) == ["1", "a"]  # one Arrow type: mixed values as JSON text
    assert df["id"].tolist() == ["1", "best"]


def test_parquet_of_a_real_store(zoo, tmp_path):
    table = runlab.load(zoo).table()
    df = pd.read_parquet(export(table, tmp_path / "zoo.parquet"))
    assert df["id"].tolist() == list(table.values("id"))
    assert df["metrics.acc"].tolist()[:3] == [1.0, 2.0, 3.0]


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(table, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UsageError) as err:
        export(table, tmp_path / "runs.parquet")
    assert (
        str(err.value) == "exporting to runs.parquet needs pyarrow: pip install 'runlab[parquet]'"
    )
    assert not (tmp_path / "runs.parquet").exists()


@pytest.mark.parametrize(
    "name,got",
    [("runs.xlsx", "suffix '.xlsx'"), ("runs", "no suffix"), ("runs.CSVX", "suffix '.csvx'")],
)
def test_unknown_suffix_names_it_and_writes_nothing(table, tmp_path, name, got):
    with pytest.raises(UsageError) as err:
        export(table, tmp_path / name)
    assert str(err.value) == (
        f"cannot export to {tmp_path / name}: {got}; "
        "use one of .csv, .html, .json, .md, .parquet, .tex"
    )
    assert list(tmp_path.iterdir()) == []


def test_suffix_case_does_not_matter(table, tmp_path):
    assert export(table, tmp_path / "RUNS.CSV").read_text().startswith("id,start,")


def test_missing_folder_is_one_line(table, tmp_path):
    with pytest.raises(UsageError) as err:
        export(table, tmp_path / "nope" / "runs.csv")
    assert (
        str(err.value)
        == f"cannot write {tmp_path / 'nope' / 'runs.csv'}: No such file or directory"
    )
