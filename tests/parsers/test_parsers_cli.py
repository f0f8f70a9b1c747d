"""``runlab parse`` through click's test runner: exact output, summaries, index, workers."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from parsers_helpers import RUNS, by_bleu, summaries

import runlab
from runlab.cli import cli
from runlab.store import Store

SWEEP = """\
template:
  test: echo BLEU4 = {bleu}
default:
  bleu: 1.0
metrics:
  bleu: {log: test, regex: 'BLEU4 = ([0-9.]+)'}
  first: {log: test, regex: 'BLEU4 = ([0-9.]+)', last: false}
  words: {log: test, regex: 'words= (\\d+)', type: int}
"""

PARSERS = """\
import os
import runlab

@runlab.parser
def loss(run):
    text = run.latest_log("train").read_text()
    return {"loss": float(text.split("loss = ")[-1].split()[0]), "bleu": -1.0}

@runlab.parser
def picky(run):
    if run.params["bleu"] == 20.5:
        raise RuntimeError("no good")
    return {"picky": True}

def pid(run):
    (run.dir.parent.parent / "pids" / str(os.getpid())).touch()
    return {}
"""


def invoke(store: Store, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store.root), "parse", *args])


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "params.yaml").write_text(SWEEP)
    (tmp_path / "parsers.py").write_text(textwrap.dedent(PARSERS))
    return tmp_path


def test_sweep_metrics_land_in_each_summary(store, files):
    result = invoke(store, "--sweep", "params.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "parsed 3 runs, 9 values; skipped 0\n",
        "",
    )
    ids = by_bleu(store)
    assert summaries(store) == {ids[b]: {"bleu": b, "first": 1.5, "words": 7} for b in RUNS}


def test_the_index_picks_up_parsed_values(store, files):
    before = runlab.load(store).df()
    assert not any(c.startswith("metrics.") for c in before.columns)
    assert invoke(store, "--sweep", "params.yaml").exit_code == 0
    after = runlab.load(store).df().set_index("id")
    ids = by_bleu(store)
    assert {b: after.loc[ids[b], "metrics.bleu"] for b in RUNS} == {b: b for b in RUNS}
    assert after["metrics.words"].tolist() == [7, 7, 7]


def test_parsers_run_after_the_sweep_metrics_and_warn_per_run(store, files):
    result = invoke(store, "--sweep", "params.yaml", "--parser", "parsers.py")
    ids = by_bleu(store)
    assert result.exit_code == 0
    assert result.stdout == "parsed 3 runs, 14 values; skipped 1\n"
    assert result.stderr == (
        f"warning: run {ids[20.5]}: parser parsers.py:picky raised RuntimeError: no good\n"
    )
    # The parser's bleu comes after the sweep's: the later value wins.
    assert summaries(store)[ids[10.25]] == {
        "bleu": -1.0,
        "first": 1.5,
        "words": 7,
        "loss": 0.5,
        "picky": True,
    }
    assert "picky" not in summaries(store)[ids[20.5]]


def test_one_or_two_workers_give_identical_summaries_and_output(store, files, tmp_path):
    twin = Store.at(tmp_path / "twin")
    shutil.copytree(store.root, twin.root)
    args = ("--sweep", "params.yaml", "-p", "parsers.py:loss", "-p", "parsers.py:picky")
    one = invoke(store, *args, "--workers", "1")
    two = invoke(twin, *args, "--workers", "2")
    assert one.exit_code == two.exit_code == 0
    assert (one.stdout, one.stderr) == (two.stdout, two.stderr)
    assert summaries(store) == summaries(twin)
    assert len(summaries(store)) == 3 and all(
        s["loss"] in RUNS.values() for s in summaries(twin).values()
    )


def test_two_workers_parse_in_other_processes(store, files, tmp_path):
    (tmp_path / "pids").mkdir()
    result = invoke(store, "-p", "parsers.py:pid", "-w", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == "parsed 0 runs, 0 values; skipped 0\n"
    pids = {int(p.name) for p in (tmp_path / "pids").iterdir()}
    assert pids and os.getpid() not in pids


def test_where_picks_the_runs(store, files):
    result = invoke(store, "--sweep", "params.yaml", "--where", "params.bleu > 15")
    assert result.exit_code == 0
    assert result.stdout == "parsed 2 runs, 6 values; skipped 0\n"
    ids = by_bleu(store)
    assert summaries(store)[ids[10.25]] == {}
    assert summaries(store)[ids[30.75]]["bleu"] == 30.75


def test_a_bad_where_is_one_error_line(store, files):
    result = invoke(store, "--sweep", "params.yaml", "--where", "params.bleu >")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_folders_without_params_and_running_runs_are_skipped_with_a_notice(store, files):
    ids = by_bleu(store)
    store.layout.run_dir(ids[10.25]).params_json.unlink()
    record_path = store.layout.run_dir(ids[20.5]).run_json
    record = json.loads(record_path.read_text())
    record.update(status="running", pid=os.getpid())
    record_path.write_text(json.dumps(record))
    store.layout.run_dir(ids[20.5]).beat()
    result = invoke(store, "--sweep", "params.yaml", "--workers", "2")
    assert result.exit_code == 0
    assert result.stdout == "parsed 1 runs, 3 values; skipped 2\n"
    assert result.stderr == (
        f"warning: run {ids[10.25]}: no params.json; skipped\n"
        f"warning: run {ids[20.5]}: still running; skipped\n"
    )


def test_a_missing_log_is_a_warning_and_the_other_values_land(store, tmp_path):
    (tmp_path / "s.yaml").write_text(
        SWEEP.replace("  words:", "  dev: {log: dev, regex: 'x (.)'}\n  words:")
    )
    result = invoke(store, "--sweep", "s.yaml")
    ids = sorted(by_bleu(store).values(), key=lambda i: (len(i), i))
    assert result.exit_code == 0
    assert result.stdout == "parsed 3 runs, 9 values; skipped 3\n"
    assert sorted(result.stderr.splitlines()) == sorted(
        f"warning: run {i}: metrics.dev: no log 'dev'" for i in ids
    )
    assert all("dev" not in s for s in summaries(store).values())


def test_nothing_to_parse_with_is_an_error(store):
    result = invoke(store)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: nothing to parse with: give --sweep FILE (its metrics:) or --parser MODULE[:FN]\n",
    )


def test_a_sweep_file_without_metrics_is_an_error(store, tmp_path):
    (tmp_path / "plain.yaml").write_text("template: echo hi\n")
    result = invoke(store, "--sweep", "plain.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: plain.yaml has no metrics: section; add one like")
    assert invoke(store, "--sweep", "nope.yaml").stderr == "error: no sweep file nope.yaml\n"


def test_a_regex_without_group_in_the_sweep_file_is_one_line(store, tmp_path):
    (tmp_path / "s.yaml").write_text(SWEEP.replace("([0-9.]+)'}", "[0-9.]+'}", 1))
    result = invoke(store, "--sweep", "s.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: s.yaml:6: metrics.bleu.regex: 'BLEU4 = [0-9.]+' has no group; put the value "
        "in parentheses, like 'BLEU4 = ([0-9.]+)'\n"
    )


def test_an_empty_store_parses_nothing(tmp_path, files):
    result = invoke(Store.at(tmp_path / "empty"), "--sweep", "params.yaml")
    assert (result.exit_code, result.stdout) == (0, "parsed 0 runs, 0 values; skipped 0\n")


def test_help_shows_examples():
    result = CliRunner().invoke(cli, ["parse", "--help"])
    assert result.exit_code == 0
    assert "runlab parse --sweep params.yaml" in result.stdout
