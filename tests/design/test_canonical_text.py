"""Canonical text and hashes: fixed forever (stored run keys are hashes of them), and fast paths."""

from __future__ import annotations

import json
import math
from types import MappingProxyType

import pytest

from runlab.canonical import canonical_json, config_hash, hash_text, json_encoder
from runlab.design import Grid
from runlab.design.expansion import private_params
from runlab.launch.plan import run_key
from runlab.tasks import CallableTask, CommandTask

CONFIGS = [
    {"lr": 0.1, "seed": 1},
    {"b": 1.0, "a": "x y", "n": None, "f": True},
    {"nested": {"z": [1, 2.5], "a": "é"}, "inf": math.inf, "nan": math.nan},
]
TASK = CommandTask.from_templates({"train": "python train.py --lr {lr}", "test": "echo [flag]"})
# Computed by runlab before any of the fast paths existed: a store's done runs keep their keys.
GOLDEN = [
    ("bf579a3899ac1776", "61965d12f0a8ce90", "35d2646d48887f29", "9e93eee75caa224d"),
    ("dd54aecdc7fd90bb", "43e2f5c853fa7f28", "39ee5fa534103f0b", "709e9d68306901a0"),
    ("b5379c7da5708cc8", "07d06de0b7e2cfc6", "d75ebcdeb7e29a6b", "d4b0f730f533eb73"),
]


@pytest.mark.parametrize("config,golden", list(zip(CONFIGS, GOLDEN, strict=True)))
def test_hashes_and_run_keys_never_change(config, golden):
    callable_task = CallableTask("tasks:fit")
    found = (
        config_hash(config),
        run_key(config, TASK),
        run_key(config, callable_task),
        run_key(config, None),
    )
    assert found == golden


@pytest.mark.parametrize("config", CONFIGS)
def test_a_run_key_from_the_canonical_text_is_the_same_key(config):
    text = canonical_json(config)
    assert hash_text(text) == config_hash(config)
    for task in (TASK, CallableTask("tasks:fit"), None):
        assert run_key(config, task, canonical=text) == run_key(config, task)


def test_canonical_text_is_sorted_compact_json_of_normalised_values():
    config = {"b": 2.0, "a": [1.0, -0.0, (3, 4.5)], "c": {"y": math.nan, "x": "é"}, 7: True}
    assert canonical_json(config) == (
        '{"7":true,"a":[1,0,[3,4.5]],"b":2,"c":{"x":"\\u00e9","y":"nan"}}'
    )


def test_an_expanded_config_keeps_the_text_its_hash_was_made_from():
    expansion = Grid(lr=[0.5, 1.0], model=["a", "b"]).expand("s")
    for config in expansion:
        assert config.canonical == canonical_json(config.params)
        assert hash_text(config.canonical) == config.hash


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [1.5, None, True], "c": {"z": "é", "a": "x\n"}},
        [1, 2.0, float("inf"), "s"],
        "text",
        {},
    ],
)
@pytest.mark.parametrize(
    "options",
    [{}, {"sort_keys": True, "separators": (",", ":")}, {"default": str}],
)
def test_json_encoder_writes_what_json_dumps_writes(value, options):
    assert json_encoder(**options)(value) == json.dumps(value, **options)


def test_json_encoder_uses_its_default_for_unknown_values():
    assert json_encoder(default=str)({"when": object}) == json.dumps({"when": object}, default=str)
    with pytest.raises(TypeError):
        json_encoder()({"when": object})


def test_private_params_share_nothing_mutable():
    axis_value = [64, 64]
    scalars = {"lr": 0.1, "name": "a"}
    nested = {"hidden": axis_value}
    copy_of_scalars, copy_of_nested = private_params(scalars), private_params(nested)
    assert isinstance(copy_of_scalars, MappingProxyType) and copy_of_scalars == scalars
    axis_value.append(1)
    assert copy_of_nested == {"hidden": [64, 64]}
