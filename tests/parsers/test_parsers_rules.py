"""Sweep ``metrics:`` rules over real run logs, ``latest_log``, and the checks of ``metrics:``."""

from __future__ import annotations

import os
import random
import re
import textwrap
from pathlib import Path

import pytest
from parsers_helpers import RUNS, by_bleu, summaries

from runlab.design.sweep import check_metrics
from runlab.design.sweepfile import load_sweep
from runlab.errors import UsageError
from runlab.record.parsers import (
    MetricRule,
    _lines_backwards,
    apply_parsers,
    metric_rules,
    parse_run,
)
from runlab.record.reader import RunReader
from runlab.store import Store

BLEU = {"log": "test", "regex": "BLEU4 = ([0-9.]+)"}


def rules(**metrics: dict[str, object]) -> tuple[MetricRule, ...]:
    """The parsers of a ``metrics:`` mapping, checked as a sweep file's would be."""
    return metric_rules(check_metrics(metrics))


def parse(store: Store, run_id: str, **metrics: dict[str, object]):
    return parse_run(RunReader(store.layout.run_dir(run_id)), rules(**metrics))


# -- what a rule finds ---------------------------------------------------------------


def test_last_is_the_default_and_takes_the_last_matching_line(store):
    for bleu, run_id in by_bleu(store).items():
        result = parse(store, run_id, bleu=BLEU)
        assert result.values == {"bleu": bleu}
        assert result.notices == ()
        assert parse(store, run_id, bleu={**BLEU, "last": True}).values == {"bleu": bleu}


def test_last_false_takes_the_first_matching_line(store):
    run_id = by_bleu(store)[20.5]
    assert parse(store, run_id, bleu={**BLEU, "last": False}).values == {"bleu": 1.5}
    loss = {"log": "train", "regex": r"loss = (\S+)"}
    assert parse(store, run_id, first={**loss, "last": False}, final=loss).values == {
        "first": 0.9,
        "final": RUNS[20.5],
    }


def test_types_convert_the_text(store):
    run_id = by_bleu(store)[30.75]
    words = {"log": "test", "regex": r"words= (\d+)"}
    result = parse(
        store,
        run_id,
        as_int={**words, "type": "int"},
        as_str={**words, "type": "str"},
        as_float=words,
        bleu_text={**BLEU, "type": "str"},
    )
    assert result.values == {"as_int": 7, "as_str": "7", "as_float": 7.0, "bleu_text": "30.75"}
    assert type(result.values["as_int"]) is int
    assert type(result.values["as_float"]) is float


def test_text_that_does_not_convert_is_a_notice_and_no_value(store):
    run_id = by_bleu(store)[10.25]
    result = parse(store, run_id, bleu={**BLEU, "type": "int"})
    assert result.values == {}
    assert result.notices == (f"run {run_id}: metrics.bleu: logs/test.log: '10.25' is not an int",)


def test_named_groups_give_one_value_each_under_the_metric(store):
    run_id = by_bleu(store)[10.25]
    regex = r"beam=(?P<beam>\d+) words= (?P<words>\d+)"
    result = parse(store, run_id, decode={"log": "test", "regex": regex, "type": "int"})
    assert result.values == {"decode": {"beam": 5, "words": 7}}


def test_a_missing_log_leaves_the_value_out_with_a_notice(store):
    run_id = by_bleu(store)[10.25]
    result = parse(store, run_id, bleu=BLEU, dev={"log": "dev", "regex": "BLEU4 = (.+)"})
    assert result.values == {"bleu": 10.25}
    assert result.notices == (f"run {run_id}: metrics.dev: no log 'dev'",)


def test_a_regex_that_matches_nothing_leaves_the_value_out_with_a_notice(store):
    run_id = by_bleu(store)[10.25]
    result = parse(store, run_id, acc={"log": "train", "regex": r"acc = (\S+)"})
    assert result.values == {}
    assert result.notices == (
        rf"run {run_id}: metrics.acc: logs/train.log: no line matches 'acc = (\\S+)'",
    )


def test_apply_parsers_merges_into_the_summary_and_keeps_other_values(store):
    run_id = by_bleu(store)[20.5]
    run_dir = store.layout.run_dir(run_id)
    run_dir.summary_json.write_text('{"acc": 0.9, "bleu": 0.0}')
    apply_parsers(run_dir, rules(bleu=BLEU))
    assert summaries(store)[run_id] == {"acc": 0.9, "bleu": 20.5}


def test_rules_are_plain_values_that_pickle():
    import pickle

    (rule,) = rules(bleu=BLEU)
    assert pickle.loads(pickle.dumps(rule)) == rule
    assert rule.last is True and rule.type == "float" and rule.log == "test"


# -- reading a log backwards -----------------------------------------------------------


@pytest.mark.parametrize("ending", ["\n", "", "\r\n"])
def test_lines_backwards_are_the_lines_reversed_across_blocks(tmp_path, ending):
    rng = random.Random(7)
    lines = ["".join(rng.choice("ab=é ") for _ in range(rng.randrange(0, 300))) for _ in range(900)]
    newline = "\r\n" if ending == "\r\n" else "\n"
    path = tmp_path / "big.log"
    path.write_bytes((newline.join(lines) + ending).encode())
    assert path.stat().st_size > 2 * 65536
    expected = lines[::-1] if ending == "" else ["", *lines[::-1]]
    assert list(_lines_backwards(path)) == expected


def test_last_match_in_a_large_log_is_found_from_the_end(tmp_path):
    (tmp_path / "logs").mkdir()
    body = "".join(f"step {i} loss = {i / 1000}\r\n" for i in range(20000))
    (tmp_path / "logs" / "train.log").write_text(body + "done\n")
    reader = RunReader(tmp_path)
    (last,) = rules(loss={"log": "train", "regex": r"loss = ([0-9.]+)"})
    (first,) = rules(loss={"log": "train", "regex": r"loss = ([0-9.]+)", "last": False})
    assert last(reader) == {"loss": 19.999}
    assert first(reader) == {"loss": 0.0}


def test_several_matches_on_one_line_give_the_last_or_the_first(tmp_path):
    (tmp_path / "stdout.log").write_text("acc 0.1\racc 0.2\racc 0.3\n")
    reader = RunReader(tmp_path)
    assert rules(acc={"log": "stdout", "regex": r"acc (\S+)"})[0](reader) == {"acc": 0.3}
    first = rules(acc={"log": "stdout", "regex": r"acc (\S+)", "last": False})[0]
    assert first(reader) == {"acc": 0.1}


# -- latest_log ---------------------------------------------------------------------------


def touch(path: Path, mtime: float, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return path


def test_latest_log_picks_the_newest_by_mtime(tmp_path):
    run = RunReader(tmp_path)
    now = 1_700_000_000
    current = touch(tmp_path / "logs" / "train.log", now)
    older = touch(tmp_path / "logs" / "attempt-1" / "train.log", now - 100)
    assert run.latest_log("train") == current
    os.utime(older, (now + 100, now + 100))
    assert run.latest_log("train") == older
    assert run.latest_log("test") is None


def test_latest_log_finds_streams_files_and_globs(tmp_path):
    run = RunReader(tmp_path)
    now = 1_700_000_000
    stdout = touch(tmp_path / "stdout.log", now)
    train = touch(tmp_path / "logs" / "train.log", now + 1)
    train2 = touch(tmp_path / "logs" / "train2.log", now + 2)
    test = touch(tmp_path / "logs" / "test.log", now - 5)
    notes = touch(tmp_path / "notes.txt", now)
    assert run.latest_log("stdout") == stdout
    assert run.latest_log("train.log") == train
    assert run.latest_log("train*.log") == train2
    assert run.latest_log("logs/*.log") == train2
    assert run.latest_log("logs/te*.log") == test
    assert run.latest_log("notes.txt") == notes
    assert run.latest_log("*.txt") == notes
    (tmp_path / "logs" / "dir.log").mkdir()
    os.utime(tmp_path / "logs" / "dir.log", (now + 9, now + 9))
    assert run.latest_log("logs/*.log") == train2  # folders are not logs


@pytest.mark.parametrize("name", ["../other/train.log", "/etc/passwd", ""])
def test_latest_log_refuses_paths_outside_the_run(tmp_path, name):
    with pytest.raises(UsageError, match="inside the run folder"):
        RunReader(tmp_path).latest_log(name)


# -- checking metrics: --------------------------------------------------------------------


@pytest.mark.parametrize(
    "options,message",
    [
        (
            {"log": "test", "regex": "BLEU4 = [0-9.]+"},
            "metrics.bleu.regex: 'BLEU4 = [0-9.]+' has no group; put the value in "
            "parentheses, like 'BLEU4 = ([0-9.]+)'",
        ),
        (
            {"log": "test", "regex": "(BLEU4) = ([0-9.]+)"},
            "metrics.bleu.regex: '(BLEU4) = ([0-9.]+)' has 2 groups; keep one, name each "
            "(?P<name>...), or make the others (?:...)",
        ),
        (
            {"log": "test", "regex": "BLEU4 = ([0-9.]+"},
            "metrics.bleu.regex: 'BLEU4 = ([0-9.]+' is not a regular expression "
            "(missing ), unterminated subpattern at position 8)",
        ),
        ({"log": "test"}, "metrics.bleu: regex is missing (like regex: 'BLEU4 = ([0-9.]+)')"),
        ({"regex": "(x)"}, "metrics.bleu: log is missing (like log: test)"),
        (
            {"log": "test", "regex": "(x)", "lst": True},
            "metrics.bleu: unknown option 'lst'; options are log, regex, last, type",
        ),
        ({**BLEU, "last": "yes"}, "metrics.bleu.last: expected true or false, got 'yes'"),
        ({**BLEU, "type": "double"}, "metrics.bleu.type: expected one of float, int, str, got"),
        (
            {**BLEU, "log": "../x.log"},
            "metrics.bleu.log: '../x.log' leaves the run folder; give a path inside it",
        ),
        ({**BLEU, "log": ""}, "metrics.bleu.log: expected a command name or a file glob"),
    ],
)
def test_check_metrics_names_the_metric_and_the_option(options, message):
    with pytest.raises(UsageError) as err:
        check_metrics({"bleu": options})
    assert str(err.value).startswith(message)


def test_check_metrics_accepts_named_groups_and_keeps_the_mapping():
    checked = check_metrics({"d": {"log": "logs/*.log", "regex": "(?P<a>x)(?P<b>y)(?:z)"}})
    assert dict(checked["d"]) == {"log": "logs/*.log", "regex": "(?P<a>x)(?P<b>y)(?:z)"}


def write_sweep(tmp_path: Path, metrics: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            template:
              test: echo BLEU4 = {bleu}
            default:
              bleu: 1.0
            """
        )
        + textwrap.dedent(metrics)
    )
    return path


def test_a_regex_with_no_group_is_one_line_naming_the_file_line_and_metric(tmp_path):
    path = write_sweep(
        tmp_path,
        """\
        metrics:
          bleu:
            log: test
            regex: 'BLEU4 = [0-9.]+'
        """,
    )
    with pytest.raises(UsageError) as err:
        load_sweep(path)
    assert str(err.value) == (
        f"{path}:8: metrics.bleu.regex: 'BLEU4 = [0-9.]+' has no group; put the value in "
        "parentheses, like 'BLEU4 = ([0-9.]+)'"
    )


def test_a_sweep_file_keeps_its_checked_metrics(tmp_path):
    path = write_sweep(tmp_path, "metrics: {bleu: {log: test, regex: 'BLEU4 = (.+)'}}\n")
    sweep = load_sweep(path)
    assert {k: dict(v) for k, v in sweep.metrics.items()} == {
        "bleu": {"log": "test", "regex": "BLEU4 = (.+)"}
    }
    (rule,) = metric_rules(sweep.metrics)
    assert rule.regex == re.compile("BLEU4 = (.+)")
