"""The meticulous command: the README's invocation for real, then each option and error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from runlab.compat.meticulous import experiments_dataframe
from runlab.compat.meticulous.cli import main
from runlab.compat.meticulous.table import shape

# 18 experiments (2 strategies × 3 k × 3 seeds) whose significance has mean BASE[k]
# (minus 5 for holdout) and standard deviation 0.5 over the seeds, then one that fails.
DATA = """
    from runlab.compat.meticulous import Experiment

    BASE = {8: 15.0, 16: 18.0, 32: 19.5}
    for strategy in ("xval", "holdout"):
        for k in (8, 16, 32):
            for seed in (0, 1, 2):
                args = {"xval_strategy": strategy, "k": k, "method": "KMeans", "seed": seed}
                with Experiment(args) as exp:
                    shift = 0.0 if strategy == "xval" else -5.0
                    exp.summary({"significance": BASE[k] + shift + (seed - 1) * 0.5})
    with Experiment({"xval_strategy": "xval", "k": 64, "method": "KMeans", "seed": 0}):
        raise ValueError("k=64 does not fit")
"""

README_COMMAND = (
    "experiments/",
    "--filter",
    "args_xval_strategy=='xval'",
    "--groupby",
    "args_k,args_method",
    "--columns",
    "summary_significance_mean,summary_significance_std",
    "--sort",
    "summary_significance_mean",
    "--export",
    "table.md",
)
GROUPED = ["--filter", "args_xval_strategy=='xval'", "--groupby", "args_k,args_method"]


@pytest.fixture(scope="module")
def recorded(make_project, tmp_path_factory):
    """A project whose experiments/ holds the 19 experiments of DATA."""
    project = make_project(tmp_path_factory.mktemp("command") / "project")
    project.write("kmeans.py", DATA)
    project.commit("kmeans.py")
    done = project.python("kmeans.py")
    assert done.returncode == 0, done.stderr
    return project


@pytest.fixture
def experiments(recorded, monkeypatch) -> Path:
    monkeypatch.chdir(recorded.root)
    return Path("experiments")


def test_the_readme_command_groups_sorts_and_exports(recorded):
    done = recorded.meticulous(*README_COMMAND)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == (
        "                    summary_significance_mean  summary_significance_std\n"
        "args_k args_method                                                     \n"
        "32     KMeans                            19.5                       0.5\n"
        "16     KMeans                            18.0                       0.5\n"
        "8      KMeans                            15.0                       0.5\n"
        "64     KMeans                             NaN                       NaN\n"
    )
    assert (recorded.root / "table.md").read_text() == (
        "| args_k | args_method | summary_significance_mean | summary_significance_std |\n"
        "|-------:|-------------|--------------------------:|-------------------------:|\n"
        "|     32 | KMeans      |                      19.5 |                      0.5 |\n"
        "|     16 | KMeans      |                        18 |                      0.5 |\n"
        "|      8 | KMeans      |                        15 |                      0.5 |\n"
        "|     64 | KMeans      |                           |                          |\n"
    )


def test_the_dataframe_follows_meticulous_column_naming(experiments):
    frame = experiments_dataframe(experiments)
    assert frame.index.names == ["sha", "expid"]
    assert frame.index.get_level_values("expid").tolist() == [str(i) for i in range(1, 20)]
    assert list(frame.columns) == [
        "curexpdir",
        "begin_time",
        "status",
        "status_message",
        "args_xval_strategy",
        "args_k",
        "args_method",
        "args_seed",
        "summary_significance",
    ]
    assert frame["curexpdir"].iloc[0] == "experiments/1/"
    assert str(frame["args_k"].dtype) == "Int64"
    last = frame.iloc[-1]
    assert (last["status"], last["status_message"]) == ("ERROR", "ValueError: k=64 does not fit")
    assert pd.isna(last["summary_significance"])


def test_groupby_gives_numeric_columns_mean_and_std_and_others_a_count(experiments):
    grouped = shape(experiments_dataframe(experiments), groupby=["args_k"])
    assert grouped.index.name == "args_k"
    assert grouped.index.tolist() == [8, 16, 32, 64]
    assert list(grouped.columns) == [
        "sha_count",
        "expid_count",
        "curexpdir_count",
        "begin_time_count",
        "status_count",
        "status_message_count",
        "args_xval_strategy_count",
        "args_method_count",
        "args_seed_mean",
        "args_seed_std",
        "summary_significance_mean",
        "summary_significance_std",
    ]
    assert grouped["expid_count"].tolist() == [6, 6, 6, 1]
    assert grouped.loc[16, "summary_significance_mean"] == 15.5  # xval 18, holdout 13


def test_sort_reverse_puts_the_smallest_first_and_tail_keeps_the_last_rows(experiments, capsys):
    args = [*GROUPED, "--sort", "summary_significance_mean", "--sort_reverse"]
    assert main([str(experiments), *args, "--columns", "summary_significance_mean"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows == [
        ["8", "KMeans", "15.0"],
        ["16", "KMeans", "18.0"],
        ["32", "KMeans", "19.5"],
        ["64", "KMeans", "NaN"],  # missing last, either way
    ]
    assert (
        main([str(experiments), *args, "--columns", "summary_significance_mean", "--tail", "2"])
        == 0
    )
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["32", "64"]


def test_without_options_every_experiment_is_listed(experiments, capsys):
    assert main([str(experiments), "--columns", "status,args_k", "--tail", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["status", "args_k"]
    assert out[1].split() == ["sha", "expid"]
    assert [line.split()[-3:] for line in out[2:]] == [
        ["18", "SUCCESS", "32"],
        ["19", "ERROR", "64"],
    ]


def test_exports_csv_json_tex_and_a_pickled_dataframe(experiments, tmp_path, capsys):
    common = [str(experiments), *GROUPED, "--sort", "summary_significance_mean"]
    common += ["--columns", "summary_significance_mean"]
    for suffix in (".csv", ".json", ".tex", ".pd"):
        assert main([*common, "--export", str(tmp_path / f"table{suffix}")]) == 0
    assert (tmp_path / "table.csv").read_text() == (
        "args_k,args_method,summary_significance_mean\n"
        "32,KMeans,19.5\n"
        "16,KMeans,18.0\n"
        "8,KMeans,15.0\n"
        "64,KMeans,\n"
    )
    assert json.loads((tmp_path / "table.json").read_text()) == [
        {"args_k": 32, "args_method": "KMeans", "summary_significance_mean": 19.5},
        {"args_k": 16, "args_method": "KMeans", "summary_significance_mean": 18.0},
        {"args_k": 8, "args_method": "KMeans", "summary_significance_mean": 15.0},
        {"args_k": 64, "args_method": "KMeans", "summary_significance_mean": None},
    ]
    tex = (tmp_path / "table.tex").read_text().splitlines()
    assert tex[:4] == [
        "\\begin{tabular}{rlr}",
        "\\hline",
        "args\\_k & args\\_method & summary\\_significance\\_mean \\\\",
        "\\hline",
    ]
    assert tex[4] == "32 & KMeans & 19.5 \\\\"
    frame = pd.read_pickle(tmp_path / "table.pd")
    assert frame.index.names == ["args_k", "args_method"]
    assert frame["summary_significance_mean"].tolist()[:3] == [19.5, 18.0, 15.0]


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--columns", "summary_significance_mea"],
            "--columns: no column 'summary_significance_mea'; did you mean summary_significance?",
        ),
        (["--groupby", "k"], "--groupby: no column 'k'; did you mean args_k?"),
        (["--sort", "status,nope"], "--sort: no column 'nope'; columns: sha, expid, curexpdir,"),
        (["--filter", "args_k >"], "--filter 'args_k >': invalid syntax"),
        (["--filter", "nope == 1"], "--filter 'nope == 1': name 'nope' is not defined"),
        (["--tail", "-1"], "--tail -1: give a count of rows, 0 or more"),
        (
            ["--export", "table.xlsx"],
            "cannot export to table.xlsx: suffix '.xlsx'; use one of .csv, .html, .json, .md, "
            ".parquet, .pd, .tex",
        ),
    ],
)
def test_a_user_error_is_one_line_and_exit_code_2(experiments, capsys, args, message):
    assert main([str(experiments), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {message}")
    assert captured.err.count("\n") == 1
    assert not Path("table.xlsx").exists()


def test_a_missing_directory_is_an_error_and_an_empty_one_is_not(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere")]) == 2
    assert (
        capsys.readouterr().err == f"error: {tmp_path / 'nowhere'}: no such experiments directory\n"
    )
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().err == f"no experiments in {tmp_path}\n"


def test_help_shows_an_example(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert "--sort_reverse" in out
    assert "--groupby args_k,args_method" in out
