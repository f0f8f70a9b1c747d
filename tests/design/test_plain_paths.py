"""The fast paths of a large sweep give what the general paths give, value for value.

A Grid's configs and canonical texts made column by column, default names made key by
key, a sweep file's plain settings without the pydantic model, and YAML read by libyaml:
each is checked here against the slower path it stands in for.
"""

from __future__ import annotations

import itertools
import math

import pytest

from runlab.canonical import canonical_json, config_hash
from runlab.design import Grid, Group, Point, naming
from runlab.design.base import Context
from runlab.design.naming import assign_names
from runlab.design.sweepfile import load_sweep
from runlab.design.sweephead import _plain_settings, _settings_model, read_settings
from runlab.design.sweeptext import _documents, read_documents, yaml_loader
from runlab.errors import UsageError

GRIDS = [
    Grid(a=list(range(30)), b=list(range(7))),
    Grid(model=["mlp", "cnn"], lr=[0.1, 0.01, 1e-05], fixed="x", depth=[2, 4]),
    Grid(z=[1, 1.0, True, None, "1"], a=[[1, 2], {"k": -0.0}, math.nan, "é/."]),
    Grid(b=[0.0012345, 0.0045678], a=["b/c", ".hidden", "index.db", "x y"]),
    Grid(lr=[0.1, 0.2], defaults={"epochs": 3, "lr": 0.5, "opt": "adam"}),
    Grid(only=[1, 2, 3]),
]


def _general(design: Grid, defaults: dict) -> list[dict]:
    """The configs as the general pipeline builds them: product, then defaults under."""
    values = {**design._fixed}
    out = []
    for combo in itertools.product(*design._axes.values()):
        raw = {**values, **dict(zip(design._axes, combo, strict=True))}
        out.append({**defaults, **{key: raw[key] for key in design._order}})
    return out


@pytest.mark.parametrize("design", GRIDS, ids=range(len(GRIDS)))
@pytest.mark.parametrize("defaults", [{}, {"seed": 0, "fixed": "default"}])
def test_a_grid_makes_the_pipeline_configs_and_their_canonical_texts(design, defaults):
    merged = {**defaults, **design._defaults}
    plain = design._plain(merged)
    assert plain is not None
    params, texts = plain
    expected = _general(design, merged)
    assert [list(p.items()) for p in params] == [list(p.items()) for p in expected]
    assert texts == [canonical_json(p) for p in expected]


def test_defaults_that_reorder_the_axes_take_the_general_path():
    design = Grid(a=[1, 2], b=[3, 4])
    assert design._plain({"b": 0}) is None
    expansion = Group(design, defaults={"b": 0}).expand("s")
    assert [dict(c.params) for c in expansion] == [
        {"b": 3, "a": 1},
        {"b": 4, "a": 1},
        {"b": 3, "a": 2},
        {"b": 4, "a": 2},
    ]


@pytest.mark.parametrize("design", GRIDS, ids=range(len(GRIDS)))
def test_an_expanded_grid_keeps_each_configs_canonical_text_and_hash(design):
    expansion = design.expand("s")
    for config in expansion:
        assert config.canonical == canonical_json(config.params)
        assert config.hash == config_hash(config.params)
    candidates = [c.params for c in design._candidates(Context())]
    assert len(expansion) + len(expansion.dropped) == len(candidates)


def test_duplicates_in_a_grid_are_still_dropped_and_reported():
    expansion = Grid(x=[1, 1.0, 2], y=["a"]).expand("s")
    assert [dict(c.params) for c in expansion] == [{"x": 1, "y": "a"}, {"x": 2, "y": "a"}]
    assert [str(d) for d in expansion.dropped] == [
        "{'x': 1.0, 'y': 'a'} dropped: duplicate of #0 x=1"
    ]


NAMED = [
    [{"a": i, "b": s} for i in range(3) for s in ("x", "y/z", ".h")],
    [{"lr": v} for v in (0.0012345, 0.0045678, 1.0, -0.0, 2.5)],
    [{"k": v} for v in (1, True, "1", None)],
    [{"a": 1, "b": 2}, {"a": 2}],
    [{"only": "index.db"}, {"only": "x"}],
    [{"n": n, "x": 5} for n in range(4)],
]


@pytest.mark.parametrize("configs", NAMED, ids=range(len(NAMED)))
def test_default_names_made_key_by_key_are_those_made_config_by_config(configs, monkeypatch):
    hashes = [config_hash(c) for c in configs]
    fast = assign_names(configs, hashes, [None] * len(configs), sweep="s")
    monkeypatch.setattr(naming, "_column_texts", lambda *args: None)
    assert assign_names(configs, hashes, [None] * len(configs), sweep="s") == fast


def test_a_grid_of_floats_is_named_with_the_fewest_distinct_digits():
    names = Grid(lr=[0.0012345, 0.0045678], seed=[1, 2]).expand("s").names
    assert names == ("lr=0.001,seed=1", "lr=0.001,seed=2", "lr=0.005,seed=1", "lr=0.005,seed=2")


PLAIN_HEADS = [
    {},
    {"name": "big", "template": "true {a} {b}"},
    {"template": {"train": "python t.py", "test": "echo"}, "default": {"lr": 0.1, "h": [1]}},
    {"resource": [0, "1,2"], "workers": 2, "repeat": 3, "retries": 0, "timeout": "2h"},
    {"resource": 1, "timeout": 2.5, "where": ["a > 1", "b < 2"], "after": "echo done"},
    {"task": "m:f", "store": "runs", "sample": {"n": 4}, "where": "x"},
    {"sample": {"n": 1, "seed": 7}, "resource": "0"},
]


@pytest.mark.parametrize("data", PLAIN_HEADS, ids=range(len(PLAIN_HEADS)))
def test_plain_settings_are_what_the_model_reads(data):
    plain = _plain_settings(data)
    assert plain is not None
    model = _settings_model().model_validate(data)
    for key in ("template", "default", "resource", "name", "store", "workers", "repeat"):
        assert getattr(plain, key) == getattr(model, key)
    for key in ("where", "timeout", "retries", "after", "metrics", "task", "alias"):
        assert getattr(plain, key) == getattr(model, key)
    if model.sample is None:
        assert plain.sample is None
    else:
        assert (plain.sample.n, plain.sample.seed) == (model.sample.n, model.sample.seed)


@pytest.mark.parametrize(
    "data",
    [
        {"workers": "2"},
        {"workers": True},
        {"workers": 0},
        {"name": ""},
        {"name": None},
        {"timeout": False},
        {"sample": {"n": 0}},
        {"sample": {"n": 2, "sed": 1}},
        {"default": {1: "x"}},
        {"template": {"a": 1}},
        {"resource": [True]},
        {"wokers": 2},
        {"alias": {"lr": ["a", "b"]}},
        {"metrics": {"acc": {"log": "stdout", "regex": "(.*)"}}},
    ],
)
def test_anything_not_plain_is_left_to_the_model(data):
    assert _plain_settings(data) is None


def test_a_bad_setting_is_reported_by_the_model_with_its_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("name: s\nworkers: '2'\ntemplate: echo {x}\n---\nx: [1]\n")
    with pytest.raises(UsageError) as err:
        load_sweep(path)
    assert str(err.value) == f"{path}:2: workers: expected a positive int, got '2'"


def test_settings_the_model_reads_come_back_as_settings(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("template: echo {a}\nalias:\n  lr: [a, b]\n---\nlr: [1, 2]\n")
    head = read_documents(path, str(path))[0]
    settings = read_settings(head, str(path))
    assert settings.alias == {"lr": ["a", "b"]}
    assert [dict(c.params) for c in load_sweep(path).expand()] == [
        {"a": 1, "b": 1},
        {"a": 2, "b": 2},
    ]


YAML_TEXTS = [
    "name: s\ntemplate: 'true {a}'\n---\na: [0, 1, 2]\nb: [x, 'y', 1e-4, 2024-01-01]\n",
    "default: {lr: 1e-3, deep: {x: [1, {y: 2}]}}\n---\n_title: t\nlr: [.5, -1e+2]\n---\n",
    "a: &anchor [1, 2]\nb: *anchor\nc: |\n  two\n  lines\n",
    "---\n- 1\n- [2, 3]\n",
]


@pytest.mark.parametrize("text", YAML_TEXTS, ids=range(len(YAML_TEXTS)))
def test_libyaml_reads_what_the_pure_loader_reads(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    pure = _documents(yaml_loader()(text), str(path))
    assert read_documents(path, str(path)) == pure


@pytest.mark.parametrize(
    "text,message",
    [
        ("a: [1, 2\n", "s.yaml:2: invalid YAML: expected ',' or ']', but got '<stream end>'"),
        ("a: 1\nb: {c: 1\n", "s.yaml:3: invalid YAML: expected ',' or '}', but got '<stream end>'"),
        ("a: 1\na: 2\n", "s.yaml:2: key 'a' is given twice (first at line 1)"),
    ],
)
def test_yaml_errors_keep_the_pure_loaders_words(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        read_documents(path, "s.yaml")
    assert str(err.value) == message


def test_a_point_has_no_plain_path_and_expands_as_before():
    assert Point(a=1)._plain({}) is None
    assert Grid()._plain({}) is None
    assert [dict(c.params) for c in Point(a=1).expand("p")] == [{"a": 1}]
