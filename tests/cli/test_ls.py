"""`runlab ls` and `runlab index` through CliRunner: exact output, exit codes, files."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.cli.terminal import fit_columns

LONG = "a_very_long_model_name_that_cannot_fit"


def record(store: Path, params: dict, summary: dict | None = None, **kw) -> None:
    with runlab.start(params, store=store, capture=False, git=False, **kw) as run:
        if summary:
            run.summary(summary)


def pin_times(store: Path) -> None:
    """Give every run fixed times, so tables that show them can be compared exactly."""
    for n, run_json in enumerate(sorted(store.glob("*/run.json")), 1):
        data = json.loads(run_json.read_text())
        data.update(start=f"2024-05-0{n}T10:00:00.5+00:00", end=None, duration=n * 1.5)
        run_json.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("ls") / "runs"
    record(store, {"model": "cnn", "lr": 0.1, "seed": 1}, {"acc": 1.0, "loss": 0.5})
    record(store, {"model": "cnn", "lr": 0.1, "seed": 2}, {"acc": 3.0, "loss": 0.25})
    record(store, {"model": "mlp", "lr": 0.01, "seed": 1}, {"acc": 2.0})
    record(store, {"model": "mlp", "lr": 0.01, "seed": 2})
    with runlab.start(
        {"model": LONG, "lr": 0.001, "seed": 1}, store=store, capture=False, git=False, catch=True
    ) as run:
        run.summary(acc=0.5)
        raise ValueError("boom")
    pin_times(store)
    return store


def ls(store: Path, *args: str, width: int = 120):
    result = CliRunner().invoke(cli, ["ls", str(store), *args], env={"COLUMNS": str(width)})
    return result


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_default_table(store):
    result = ls(store)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert lines(result.stdout) == [
        "                                                    params   params           params   metrics   metrics",  # noqa: E501
        "id   name   status      start            duration       lr   model              seed       acc      loss   message",  # noqa: E501
        "─" * 120,
        "1    1      completed   2024-05-01 10…        1.5      0.1   cnn                   1         1       0.5",  # noqa: E501
        "2    2      completed   2024-05-02 10…          3      0.1   cnn                   2         3      0.25",  # noqa: E501
        "3    3      completed   2024-05-03 10…        4.5     0.01   mlp                   1         2",  # noqa: E501
        "4    4      completed   2024-05-04 10…          6     0.01   mlp                   2",
        "5    5      failed      2024-05-05 10…        7.5    0.001   a_very_long_m…        1       0.5             ValueError: …",  # noqa: E501
    ]  # fmt: skip


def test_narrow_terminal_cuts_cells_and_leaves_columns_out(store):
    result = ls(store, width=60)
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "                 params   params           metrics   metrics",
        "id   status          lr   model                acc      loss",
        "─" * 60,
        "1    completed      0.1   cnn                    1       0.5",
        "2    completed      0.1   cnn                    3      0.25",
        "3    completed     0.01   mlp                    2",
        "4    completed     0.01   mlp",
        "5    failed       0.001   a_very_long_m…       0.5",
        "5 more columns not shown: name, start, duration, params.seed, message "
        "(pick with --columns or --varying)",
    ]


def test_columns_sort_desc_tail(store):
    result = ls(store, "--columns", "id,model,acc", "--sort", "acc", "--desc", "--tail", "3")
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "     params                                   metrics",
        "id   model                                        acc",
        "─" * 53,
        "1    cnn                                            1",
        "5    a_very_long_model_name_that_cannot_fit       0.5",
        "4    mlp",  # no acc: last, descending too
    ]


def test_groupby_mean_std_count(store):
    result = ls(store, "--groupby", "params.model", "--where", "lr > 0.005", width=80)
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "params           metrics   metrics     metrics    metrics    params      params",
        "model    runs   acc_mean   acc_std   loss_mean   loss_std   lr_mean   seed_mean",
        "─" * 79,
        "cnn         2          2   1.41421       0.375   0.176777       0.1         1.5",
        "mlp         2          2                                       0.01         1.5",
        "9 more columns not shown: metrics.acc_count, metrics.loss_count, params.lr_std, "
        "params.lr_count, params.seed_std, params.seed_count, duration_mean, duration_std, … "
        "(pick with --columns or --varying)",
    ]


def test_groupby_values_exactly(store):
    result = ls(store, "--groupby", "model", "--columns", "model,runs,acc", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"params.model": LONG, "runs": 1, "metrics.acc_mean": 0.5, "metrics.acc_std": None,
         "metrics.acc_count": 1},
        {"params.model": "cnn", "runs": 2, "metrics.acc_mean": 2.0, "metrics.acc_std": 2**0.5,
         "metrics.acc_count": 2},
        {"params.model": "mlp", "runs": 2, "metrics.acc_mean": 2.0, "metrics.acc_std": None,
         "metrics.acc_count": 1},
    ]  # fmt: skip


def test_groupby_two_keys_sorted_by_an_aggregate(store):
    result = ls(
        store, "-g", "model,lr", "-c", "model,lr,acc_mean", "-s", "acc_mean", "--desc", "--json"
    )
    assert result.exit_code == 0
    assert [tuple(r.values()) for r in json.loads(result.stdout)] == [
        ("cnn", 0.1, 2.0),
        ("mlp", 0.01, 2.0),
        (LONG, 0.001, 0.5),
    ]


def test_json_records_and_varying(store):
    result = ls(store, "--varying", "--where", "model == 'cnn'", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"id": "1", "name": "1", "status": "completed", "params.seed": 1,
         "metrics.acc": 1.0, "metrics.loss": 0.5},
        {"id": "2", "name": "2", "status": "completed", "params.seed": 2,
         "metrics.acc": 3.0, "metrics.loss": 0.25},
    ]  # fmt: skip


def test_where_repeated_adds_up(store):
    result = ls(store, "-w", "model == 'mlp'", "-w", "acc == None", "-c", "id", "--json")
    assert json.loads(result.stdout) == [{"id": "4"}]


def test_filter_that_matches_nothing(store):
    result = ls(store, "--where", "lr > 5")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "no runs match\n", "")
    result = ls(store, "--where", "lr > 5", "--json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")


@pytest.mark.parametrize("suffix", [".csv", ".json", ".md", ".tex", ".parquet", ".html"])
def test_export_each_format(store, tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    result = ls(store, "--columns", "id,model,acc", "--export", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"wrote 5 rows to {path}\n"
    if suffix == ".csv":
        assert path.read_text().splitlines()[:2] == ["id,params.model,metrics.acc", "1,cnn,1.0"]
    elif suffix == ".json":
        assert json.loads(path.read_text())[3] == {
            "id": "4",
            "params.model": "mlp",
            "metrics.acc": None,
        }
    elif suffix == ".parquet":
        assert pd.read_parquet(path)["metrics.acc"].tolist()[:3] == [1.0, 3.0, 2.0]
    elif suffix == ".tex":
        assert "a\\_very\\_long" in path.read_text()
    else:
        assert "a_very_long_model_name_that_cannot_fit" in path.read_text()


def test_export_json_equals_json_output(store, tmp_path):
    path = tmp_path / "out.json"
    ls(store, "--export", str(path))
    assert path.read_text() == ls(store, "--json").stdout


def test_unknown_export_suffix_exits_2_and_writes_nothing(store, tmp_path):
    path = tmp_path / "out.xlsx"
    result = ls(store, "--export", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: cannot export to {path}: suffix '.xlsx'; "
        "use one of .csv, .html, .json, .md, .parquet, .tex\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--sort", "acc,nope"],
            "unknown column 'nope' (columns: id, name, status, start, end, "
            "duration, exit_code, git_sha, git_dirty, host, …)",
        ),
        (["--columns", "id,modle"], "unknown column 'modle'; did you mean params.model?"),
        (
            ["--groupby", "params.mdl"],
            "unknown column 'params.mdl'; did you mean params.model, params.lr, params.seed?",
        ),
        (
            ["-g", "model", "-c", "acc_median"],
            "unknown column 'acc_median'; did you mean metrics.acc_mean?",
        ),
        (["--where", "lr >"], "expression 'lr >': invalid syntax at the end"),
        (["--where", "lr > 1 1"], "expression 'lr > 1 1': invalid syntax at column 8"),
        (
            ["--where", "accc > 1"],
            "expression 'accc > 1': unknown column 'accc'; did you mean metrics.acc?",
        ),
        (
            ["--columns", "id", "--varying"],
            "--columns and --varying both choose the columns: use one",
        ),
    ],
)
def test_bad_option_is_one_line_exit_2(store, args, message):
    result = ls(store, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


def test_negative_tail_is_a_usage_error(store):
    result = ls(store, "--tail", "-1")
    assert result.exit_code == 2
    assert "Invalid value for '-t' / '--tail'" in result.stderr


def test_store_argument_overrides_the_group_option(store, tmp_path):
    result = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "elsewhere"), "ls", str(store), "-c", "id", "--json"]
    )
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 5
    via_group = CliRunner().invoke(cli, ["--store", str(store), "ls", "-c", "id", "--json"])
    assert via_group.stdout == result.stdout


def test_empty_store_prints_no_runs(tmp_path):
    (tmp_path / "runs").mkdir()
    result = ls(tmp_path / "runs", "--groupby", "params.model")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "no runs\n", "")
    result = ls(tmp_path / "runs", "--json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")


def test_missing_store_is_one_line_exit_2(tmp_path):
    result = ls(tmp_path / "nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: no store at {tmp_path / 'nope'} (record a run there, or pass --store)\n"
    )
    index = CliRunner().invoke(cli, ["index", str(tmp_path / "nope")])
    assert index.exit_code == 2
    assert index.stderr.startswith("error: no store at ")
    assert not (tmp_path / "nope").exists()


def test_damaged_summary_is_a_warning_and_ls_goes_on(tmp_path):
    store = tmp_path / "runs"
    record(store, {"lr": 0.1}, {"acc": 0.5})
    record(store, {"lr": 0.2}, {"acc": 0.7})
    summary = store / "2" / "summary.json"
    summary.write_text('{"acc": 0.')
    with pytest.raises(ValueError) as why:
        json.loads(summary.read_text())
    result = ls(store, "-c", "id,lr,acc")
    assert result.exit_code == 0
    assert result.stderr == f"warning: {summary}: unreadable JSON ({why.value}); ignored\n"
    assert lines(result.stdout)[-2:] == ["1       0.1       0.5", "2       0.2"]


def test_status_lost_through_the_cli(tmp_path):
    store = tmp_path / "runs"
    record(store, {"lr": 0.1})
    shutil.copytree(store / "1", store / "2")
    data = json.loads((store / "2" / "run.json").read_text())
    data.update(status="running", host="gone-host")
    (store / "2" / "run.json").write_text(json.dumps(data))
    (store / "2" / ".heartbeat").unlink(missing_ok=True)
    old = time.time() - 3600  # run.json stands for the first heartbeat: make it old too
    os.utime(store / "2" / "run.json", (old, old))
    (store / ".changed" / "2").touch()
    result = ls(store, "--where", "status == 'lost'", "-c", "id,status", "--json")
    assert json.loads(result.stdout) == [{"id": "2", "status": "lost"}]


def test_index_and_index_full_give_the_same_table(tmp_path):
    store = tmp_path / "runs"
    record(store, {"model": "cnn", "lr": 0.1, "layers": [1, 2]}, {"acc": 0.5})
    record(store, {"model": "mlp", "flag": True}, {"acc": 0.7, "n": 3})
    record(store, {"model": "x"}, run_id="named", name="named")
    runner = CliRunner()
    result = runner.invoke(cli, ["index", str(store)])
    assert (result.exit_code, result.stdout) == (0, f"re-read 3 runs; 3 runs indexed in {store}\n")
    incremental = runlab.load(store).df()
    result = runner.invoke(cli, ["--store", str(store), "index", "--full"])
    assert (result.exit_code, result.stdout) == (
        0,
        f"rebuilt the index from 3 runs; 3 runs indexed in {store}\n",
    )
    pd.testing.assert_frame_equal(runlab.load(store).df(), incremental)
    again = runner.invoke(cli, ["index", str(store)])
    assert again.stdout == f"re-read 0 runs; 3 runs indexed in {store}\n"


def test_run_folder_copied_in_appears_after_index(tmp_path):
    other, store = tmp_path / "other", tmp_path / "runs"
    record(other, {"model": "copied"}, {"acc": 0.9})
    record(store, {"model": "here"}, {"acc": 0.1})
    assert ls(store, "-c", "id", "--json").stdout == '[\n  {\n    "id": "1"\n  }\n]\n'
    shutil.copytree(other / "1", store / "7")
    assert len(json.loads(ls(store, "-c", "id", "--json").stdout)) == 1  # not yet
    result = CliRunner().invoke(cli, ["index", str(store)])
    assert result.stdout == f"re-read 1 run; 2 runs indexed in {store}\n"
    got = json.loads(ls(store, "-c", "id,model,acc", "--json").stdout)
    assert got == [
        {"id": "1", "params.model": "here", "metrics.acc": 0.1},
        {"id": "7", "params.model": "copied", "metrics.acc": 0.9},
    ]


def test_help_has_runnable_examples():
    for command in ("ls", "index"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0
        assert f"runlab {command}" in result.stdout
        assert "Examples:" in result.stdout


def test_help_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    record(Path("runs"), {"model": "cnn", "lr": 0.1}, {"acc": 0.5})
    record(Path("runs"), {"model": "mlp", "lr": 0.01}, {"acc": 0.7})
    for command in ("ls", "index"):
        help_text = cli.commands[command].help or ""
        examples = [
            line.strip() for line in help_text.splitlines() if line.strip().startswith("runlab ")
        ]
        assert len(examples) >= 2
        for example in examples:
            argv = shlex.split(example.split(" | ")[0])[1:]
            result = CliRunner().invoke(cli, argv, env={"COLUMNS": "100"})
            assert result.exit_code == 0, (example, result.output)
            assert "error" not in result.output


def test_ls_as_a_real_process(store):
    done = subprocess.run(
        [sys.executable, "-m", "runlab", "ls", str(store), "-c", "id,acc", "-s", "acc", "-t", "1"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert lines(done.stdout)[-1] == "4"  # missing acc sorts last


@pytest.mark.parametrize(
    "natural,priority,width,kept,widths",
    [
        ([4, 10, 6], [0, 1, 2], 80, [0, 1, 2], [4, 10, 6]),  # everything fits
        ([4, 30, 30], [0, 1, 2], 40, [0, 1, 2], [4, 15, 15]),  # both cut, space shared
        ([4, 30, 30], [0, 1, 2], 50, [0, 1, 2], [4, 20, 20]),
        ([4, 30, 30], [0, 1, 2], 30, [0, 1], [4, 23]),  # no room for a third
        ([4, 30, 6], [0, 2, 1], 20, [0, 2], [4, 6]),  # by priority, shown in place
        ([4, 8, 30], [0, 1, 2], 30, [0, 1, 2], [4, 8, 12]),  # short columns are never cut
        ([100], [0], 20, [0], [20]),  # one column is always shown
    ],
)
def test_fit_columns(natural, priority, width, kept, widths):
    got_kept, got_widths = fit_columns(natural, priority, width)
    assert got_kept == kept
    assert [got_widths[i] for i in got_kept] == widths
