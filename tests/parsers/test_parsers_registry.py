"""``@runlab.parser`` functions: the mark, finding them in a module, applying them to runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from parsers_helpers import by_bleu

import runlab
from runlab.errors import UsageError
from runlab.record.parsers import (
    PARSER_MARK,
    FunctionParser,
    load_parsers,
    parse_run,
    parse_runs,
    parser_name,
)
from runlab.record.reader import RunReader

PARSERS = """\
import re
import runlab

@runlab.parser
def bleu(run):
    text = run.latest_log("test").read_text()
    return {"bleu": float(re.findall(r"BLEU4 = ([0-9.]+)", text)[-1])}

def helper(run):
    return {"helper": 1}

@runlab.parser
def words(run):
    return {"words": run.params["words"], "bleu_param": run.params["bleu"]}

@runlab.parser
def broken(run):
    if run.params["bleu"] > 20:
        raise ValueError("cannot read this one\\nsecond line")
    return {"broken": False}
"""


def write(tmp_path: Path, text: str = PARSERS, name: str = "myparsers.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_decorator_marks_and_returns_the_function():
    def fn(run):
        return {}

    assert runlab.parser(fn) is fn
    assert getattr(fn, PARSER_MARK) is True
    with pytest.raises(UsageError, match="marks a function"):
        runlab.parser(3)  # type: ignore[type-var]


def test_a_module_gives_its_marked_functions_in_definition_order(tmp_path):
    write(tmp_path)
    found = load_parsers(["myparsers.py"])
    assert [p.name for p in found] == [
        "myparsers.py:bleu",
        "myparsers.py:words",
        "myparsers.py:broken",
    ]
    assert all(Path(p.ref.rpartition(":")[0]).is_absolute() for p in found)


def test_module_function_picks_one_marked_or_not(tmp_path):
    write(tmp_path)
    assert [p.name for p in load_parsers(["myparsers.py:helper", "myparsers.py:bleu"])] == [
        "myparsers.py:helper",
        "myparsers.py:bleu",
    ]
    # The same parser named twice runs once.
    assert len(load_parsers(["myparsers.py", "myparsers.py:bleu"])) == 3


def test_a_dotted_module_name_is_imported_from_the_working_folder(tmp_path):
    write(tmp_path, name="dotted_parsers_mod.py")
    (found,) = load_parsers(["dotted_parsers_mod:words"])
    assert found == FunctionParser("dotted_parsers_mod:words", "dotted_parsers_mod:words")


@pytest.mark.parametrize(
    "ref,message",
    [
        ("myparsers.py:nope", "parser 'myparsers.py:nope': myparsers.py has no function 'nope'"),
        ("plain.py", "parser 'plain.py': plain.py has no @runlab.parser function"),
        ("missing.py", "parser 'missing.py': no such file missing.py"),
        ("no_such_parsers_module", "no module named 'no_such_parsers_module'"),
        ("myparsers.py:", "parser 'myparsers.py:': write module, module:function"),
    ],
)
def test_bad_references_are_one_clear_error(tmp_path, ref, message):
    write(tmp_path)
    write(tmp_path, "def f(run):\n    return {}\n", name="plain.py")
    with pytest.raises(UsageError) as err:
        load_parsers([ref])
    assert message in str(err.value)


def test_a_parser_that_raises_is_one_notice_and_the_others_still_count(store, tmp_path):
    write(tmp_path)
    parsers = load_parsers(["myparsers.py"])
    ids = by_bleu(store)
    result = parse_run(RunReader(store.layout.run_dir(ids[30.75])), parsers)
    assert result.values == {"bleu": 30.75, "words": 7, "bleu_param": 30.75}
    assert result.notices == (
        f"run {ids[30.75]}: parser myparsers.py:broken raised ValueError: cannot read this one",
    )
    ok = parse_run(RunReader(store.layout.run_dir(ids[10.25])), parsers)
    assert ok.values == {"bleu": 10.25, "words": 7, "bleu_param": 10.25, "broken": False}
    assert ok.notices == ()


def test_a_parser_must_return_a_dict(store):
    def listing(run):
        return [1]

    def message_less(run):
        raise KeyError

    run = RunReader(store.layout.run_dir(by_bleu(store)[10.25]))
    result = parse_run(run, [listing, message_less, lambda run: {"x": (1, 2)}])
    assert result.values == {"x": [1, 2]}
    assert result.notices == (
        f"run {run.id}: parser {parser_name(listing)} returned list, not a dict",
        f"run {run.id}: parser {parser_name(message_less)} raised KeyError",
    )
    assert parser_name(listing).endswith(":test_a_parser_must_return_a_dict.<locals>.listing")


def test_parse_runs_writes_summaries_marks_changes_and_counts(store, tmp_path):
    write(tmp_path)
    layout = store.layout
    report = parse_runs(layout, layout.iter_run_dirs(), load_parsers(["myparsers.py"]))
    # 3 runs; values: 3 bleu + 3×2 from words + 1 broken (two raised).
    assert (report.runs, report.values, report.skipped) == (3, 10, 2)
    assert report.line() == "parsed 3 runs, 10 values; skipped 2"
    assert sorted(p.name for p in layout.changed_dir.iterdir()) == sorted(by_bleu(store).values())
    # Parsing again changes nothing on disk, so nothing is marked for the index again.
    for marker in layout.changed_dir.iterdir():
        marker.unlink()
    again = parse_runs(layout, layout.iter_run_dirs(), load_parsers(["myparsers.py"]))
    assert again == report
    assert list(layout.changed_dir.iterdir()) == []


def test_parse_runs_refuses_zero_workers(store):
    with pytest.raises(UsageError, match="workers must be a positive int"):
        parse_runs(store.layout, [], [], workers=0)
