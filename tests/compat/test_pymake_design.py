"""pymake specs as runlab designs: expansion order, _bind rules, _null, defaults, file names."""

from __future__ import annotations

import argparse
from functools import partial

import pytest

from runlab.compat.pymake import ExpGroup, ExpSpace, ExpTensor, ExpVector
from runlab.compat.pymake.bind import BindRule, parse_rules
from runlab.compat.pymake.expand import as_design, experiments, name_runs
from runlab.compat.pymake.gram import (
    add_gram,
    exp_append,
    exp_append_uniq,
    make_parser,
    pmk_settings,
    settings_of,
)
from runlab.compat.pymake.paths import output_path, transcribe
from runlab.errors import UsageError

SEED_FORMAT = "{name}-{size}-{key1}_{key2}"


def public(expes: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if not k.startswith("_")} for e in expes]


# -- expansion ------------------------------------------------------------------------


def test_exp_space_is_one_experiment_whose_lists_are_values() -> None:
    expes = experiments(ExpSpace(name="myexpe", hidden=[64, 64], _format=SEED_FORMAT), "exp1")
    assert public(expes) == [{"hidden": [64, 64], "name": "myexpe"}]
    assert expes[0]["_expe_name"] == "exp1"
    assert expes[0]["_expe_id"] == 0


def test_exp_tensor_is_the_product_over_sorted_keys_last_fastest() -> None:
    tensor = ExpTensor(size=[42, 100], key1=[20, 30], key2="johndoe", name="myexpe")
    expes = experiments(tensor, "exp2")
    assert [(e["key1"], e["size"]) for e in expes] == [(20, 42), (20, 100), (30, 42), (30, 100)]
    assert [e["_expe_id"] for e in expes] == [0, 1, 2, 3]
    assert list(expes[0]) == ["key1", "key2", "name", "size", "_expe_name", "_expe_id"]


def test_sets_are_axes_and_tuples_are_values() -> None:
    expes = experiments(ExpTensor(k={3, 1, 2}, shape=(28, 28)), "t")
    assert [e["k"] for e in expes] == [1, 2, 3]
    assert {tuple(e["shape"]) for e in expes} == {(28, 28)}


def test_group_members_in_order_ids_across_them_and_shared_settings() -> None:
    exp1 = ExpSpace(name="a", size=1)
    exp2 = ExpTensor(name="b", size=[2, 3])
    expes = experiments(ExpGroup([exp1, exp2], seed=7), "exp3")
    assert [(e["name"], e["size"], e["seed"], e["_expe_id"]) for e in expes] == [
        ("a", 1, 7, 0),
        ("b", 2, 7, 1),
        ("b", 3, 7, 2),
    ]
    assert "seed" not in exp1  # the group works on copies, as pymake's did


def test_command_line_settings_replace_spec_values_and_vectors_are_axes() -> None:
    tensor = ExpTensor(size=[42, 100], key1=20)
    expes = experiments(tensor, "t", settings={"size": 7, "key1": ExpVector([1, 2])})
    assert [(e["size"], e["key1"]) for e in expes] == [(7, 1), (7, 2)]


def test_null_removes_a_setting_and_default_expe_fills_it() -> None:
    tensor = ExpTensor(size=[42, 100], key1=20)
    expes = experiments(tensor, "t", settings={"size": "_null"}, defaults={"size": 5, "k": 1})
    assert public(expes) == [{"k": 1, "key1": 20, "size": 5}]
    expes = experiments(tensor, "t", settings={"key1": ExpVector(["_null"])})
    assert public(expes) == [{"size": 42}, {"size": 100}]


def test_an_empty_tensor_axis_is_an_error() -> None:
    with pytest.raises(UsageError, match="ExpTensor entry 'size' is an empty list"):
        experiments(ExpTensor(size=[]), "t")


# -- _bind ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        ("sgd.lr.0.01", [("adam", 0.1), ("adam", 0.01), ("sgd", 0.01)]),
        ("sgd.lr.!0.01", [("adam", 0.1), ("adam", 0.01), ("sgd", 0.1)]),
        ("sgd.0.1", [("adam", 0.1), ("adam", 0.01), ("sgd", 0.1)]),
        ("sgd.!0.1", [("adam", 0.1), ("adam", 0.01), ("sgd", 0.01)]),
        ("0.1.adam", [("adam", 0.1), ("adam", 0.01), ("sgd", 0.01)]),
        ("adam.lr.1e-2", [("adam", 0.01), ("sgd", 0.1), ("sgd", 0.01)]),
    ],
)
def test_bind_rules_with_floats(rule: str, kept: list[tuple[str, float]]) -> None:
    tensor = ExpTensor(opt=["sgd", "adam"], lr=[0.1, 0.01], _bind=[rule])
    expes = experiments(tensor, "binds")
    assert sorted((e["opt"], e["lr"]) for e in expes) == sorted(kept)
    assert "_bind" not in expes[0]


def test_bind_matches_the_last_dotted_word_and_typed_values() -> None:
    rule = BindRule.parse("lda.iterations.100")
    assert rule({"model": "pmk.lda", "iterations": 100})
    assert not rule({"model": "pmk.lda", "iterations": 10})
    assert rule({"model": "mmsb", "iterations": 10})  # the rule does not apply
    assert BindRule.parse("lda.fast.True")({"m": "lda", "fast": True})
    assert not BindRule.parse("lda.fast.True")({"m": "lda", "fast": False})
    assert repr(rule) == "_bind 'lda.iterations.100'"


def test_bind_rule_errors_name_the_rule() -> None:
    with pytest.raises(UsageError, match=r"_bind rule 'lda': write value.value"):
        parse_rules("lda")
    with pytest.raises(UsageError, match="names setting 'iterations'"):
        experiments(ExpTensor(model=["lda"], _bind="lda.iterations.100"), "t")


def test_command_line_bind_rules_apply_to_every_member() -> None:
    expes = experiments(ExpTensor(opt=["sgd", "adam"]), "t", rules=["sgd.!sgd"])
    assert [e["opt"] for e in expes] == ["adam"]


# -- file names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (0.25, "0.25"), (0.123, "0.12"), (1.0, "1"), (1e-05, "1e-05"), (3, "3")],
)
def test_values_are_transcribed_as_pymake_wrote_them(value: float, text: str) -> None:
    assert transcribe(value) == text


def test_output_path_from_format_refdir_and_repeat() -> None:
    expe = {"name": "myexpe", "size": 42, "key1": 100, "key2": "johndoe", "_format": SEED_FORMAT}
    assert str(output_path(expe)) == "default/myexpe-42-100_johndoe"
    expe.update(_refdir="runs_{size}", _repeat=3, _expe_name="exp1", _expe_id=4)
    expe["_format"] = "${name}-{_id}-{size:03d}"
    assert str(output_path(expe)) == "runs_42/3/exp1-4-042"
    assert str(output_path({"_expe_name": "exp1", "_expe_id": 2})) == "default/exp1-2"


def test_output_paths_must_stay_below_the_data_folder() -> None:
    with pytest.raises(UsageError, match="must stay below the data folder"):
        output_path({"_format": "../{k}", "k": 1})
    with pytest.raises(UsageError, match="must stay below the data folder"):
        output_path({"_refdir": "/etc", "k": 1})


def test_a_format_naming_a_missing_setting_is_an_error() -> None:
    with pytest.raises(UsageError, match=r"_format '\{name\}-\{K\}' names 'K'"):
        output_path({"_format": "{name}-{K}", "name": "a", "_expe_name": "s"})


def test_two_experiments_writing_the_same_files_are_an_error() -> None:
    expes = experiments(ExpTensor(lr=[0.001, 0.004], _format="lr{lr}"), "s")
    with pytest.raises(UsageError, match=r"#0 and #1 of spec 's' would both write default/lr0.00"):
        name_runs(expes)


def test_run_names_are_file_names_prefixed_by_folders_only_when_needed() -> None:
    tensor = ExpTensor(opt=["a", "b"], _repeat=[0, 1], _refdir="r", _format="{opt}")
    runs = name_runs(experiments(tensor, "s"))
    assert [r.name for r in runs] == ["r-0-a", "r-0-b", "r-1-a", "r-1-b"]
    assert [str(r.path) for r in runs] == ["r/0/a", "r/0/b", "r/1/a", "r/1/b"]
    design = as_design(runs, "s")
    assert design.expand("s").names == ("r-0-a", "r-0-b", "r-1-a", "r-1-b")


def test_a_spec_whose_rules_drop_everything_is_an_error() -> None:
    expes = experiments(ExpTensor(opt=["sgd"], _bind="sgd.!sgd"), "s")
    with pytest.raises(UsageError, match="has no experiments"):
        as_design(name_runs(expes), "s")


# -- the command-line grammar ---------------------------------------------------------------


def test_gram_options_exp_append_and_uniq() -> None:
    parser = argparse.ArgumentParser()
    gram = [
        "--my_key", dict(nargs="*", action=partial(exp_append, _t=int)),
        "--shape", dict(nargs="*", action=partial(exp_append_uniq, _t=int)),
        "--tag", dict(type=str),
    ]  # fmt: skip
    add_gram(parser, gram, where="gramarg.py")
    args = parser.parse_args(["--my_key", "10", "20", "--shape", "1", "2", "--shape", "3"])
    assert args.my_key == [10, 20] and isinstance(args.my_key, ExpVector)
    assert args.shape == [[1, 2], [3]]
    assert args.tag is None
    assert parser.parse_args(["--my_key", "_null"]).my_key == ["_null"]


def test_gram_mistakes_are_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"gramarg\.py: _gram must alternate"):
        add_gram(argparse.ArgumentParser(), [dict(type=int)], where="gramarg.py")
    with pytest.raises(UsageError, match="ends with"):
        add_gram(argparse.ArgumentParser(), ["--k"], where="gramarg.py")


def test_pmk_settings_and_parsed_settings() -> None:
    assert pmk_settings(["a=1", "b=0.5", "c=text"]) == {"a": 1, "b": 0.5, "c": "text"}
    with pytest.raises(UsageError, match="--pmk 'oops': write key=value"):
        pmk_settings(["oops"])
    args = make_parser(None).parse_args(["exp1", "-x", "fit", "--pmk", "k=3", "--refdir", "r"])
    assert settings_of(args) == {"k": 3, "_refdir": ["r"]}
    with pytest.raises(UsageError, match="unrecognized arguments: --nope"):
        make_parser(None).parse_args(["--nope"])
