"""The YAML sweep file: mlrunner's params.yaml runs unchanged, plus runlab's own keys."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runlab.design import Grid, Sweep, load_sweep
from runlab.design.sweepfile import parse_distribution
from runlab.design.sweeptext import yaml_loader
from runlab.errors import UsageError
from runlab.tasks import CallableTask, CommandTask

# The example of mlrunner's README, byte for byte (its trailing spaces included).
MLRUNNER_README = """\
---
# All commands for each experiment with params to be filled specified as `{param}` or `[param]`
# `{_output}` is a reserved param for the automatically generated output directory
template:
  train: >
    python train.py data-bin/{data} --save-dir {_output} --norm {norm} [moment] [early-stop]

  avg: >
    python checkpoint_avg.py --inputs {_output} --num 5 --output {_output}/avg.pt

  test: >
    python generate.py data-bin/{data} --beam 5 --path {_output}/avg.pt

# default values for all params
default:
  data: iwslt14
  norm: batch
  moment: 0.1
  early-stop: False

# GPU indices to be filled in `CUDA_VISIBLE_DEVICES={}`, each corresponds to a worker.
resource: [ 0, 1, 2, 3 ]

---
# compare the effect of different normalization layer and moment
norm: [ new, batch ]
moment: [ 0.1, 0.05 ]

---
# examine the effect of early stopping
norm: [ batch ]
early-stop: [ True, False ]

""".replace("layer and moment\n", "layer and moment \n")  # the README's trailing space


def write(tmp_path: Path, text: str, name: str = "params.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def rendered(sweep: Sweep, config) -> list[tuple[str, str]]:
    task = sweep.task_for(config)
    assert isinstance(task, CommandTask)
    return task.render(config.params, {"_output": f"out/{config.index}"})


def test_the_mlrunner_readme_example_gives_its_five_configs_and_fifteen_commands(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(MLRUNNER_README, encoding="utf-8")
    sweep = load_sweep(path)
    expansion = sweep.expand()
    rows = [
        (c.params["norm"], c.params["moment"], c.params["early-stop"], c.params["data"])
        for c in expansion
    ]
    # The README's table, in its order: batch/0.1/False of document 2 runs once.
    assert rows == [
        ("new", 0.1, False, "iwslt14"),
        ("new", 0.05, False, "iwslt14"),
        ("batch", 0.1, False, "iwslt14"),
        ("batch", 0.05, False, "iwslt14"),
        ("batch", 0.1, True, "iwslt14"),
    ]
    assert [dict(c.params) for c in expansion.dropped] == [
        {"data": "iwslt14", "norm": "batch", "moment": 0.1, "early-stop": False}
    ]
    assert expansion.dropped[0].duplicate_of == expansion[2]
    assert expansion.names == (
        "early-stop=False,moment=0.1,norm=new",
        "early-stop=False,moment=0.05,norm=new",
        "early-stop=False,moment=0.1,norm=batch",
        "early-stop=False,moment=0.05,norm=batch",
        "early-stop=True,moment=0.1,norm=batch",
    )
    assert sum(len(rendered(sweep, c)) for c in expansion) == 15  # "Tasks: 5, Commands: 15"
    assert rendered(sweep, expansion[0]) == [
        ("train", "python train.py data-bin/iwslt14 --save-dir out/0 --norm new --moment 0.1 "),
        ("avg", "python checkpoint_avg.py --inputs out/0 --num 5 --output out/0/avg.pt"),
        ("test", "python generate.py data-bin/iwslt14 --beam 5 --path out/0/avg.pt"),
    ]
    assert rendered(sweep, expansion[4])[0] == (
        "train",
        "python train.py data-bin/iwslt14 --save-dir out/4 --norm batch --moment 0.1 --early-stop",
    )
    assert sweep.resources == (("0",), ("1",), ("2",), ("3",))
    assert sweep.name == "params"
    assert sweep.source == path
    assert [d.line for d in sweep.documents] == [26, 31]


def test_the_same_file_expands_the_same_every_time(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(MLRUNNER_README, encoding="utf-8")
    first, second = load_sweep(path).expand(), load_sweep(path).expand()
    assert first.to_json() == second.to_json()


def test_a_list_value_is_written_in_double_brackets(tmp_path):
    path = write(
        tmp_path,
        """
        template: train --hidden {hidden} --lr {lr}
        ---
        hidden: [[64, 64]]
        lr: [0.1, 0.01]
        """,
    )
    sweep = load_sweep(path)
    assert [dict(c.params) for c in sweep.expand()] == [
        {"hidden": [64, 64], "lr": 0.1},
        {"hidden": [64, 64], "lr": 0.01},
    ]
    assert isinstance(sweep.task, CommandTask)
    assert [c.name for c in sweep.task.commands] == ["main"]
    assert rendered(sweep, sweep.expand()[0]) == [("main", "train --hidden '[64, 64]' --lr 0.1")]


def test_a_scalar_in_a_document_is_one_value_over_the_default(tmp_path):
    path = write(
        tmp_path,
        """
        template: train {lr} {opt}
        default: {lr: 0.1, opt: sgd}
        ---
        opt: adam
        """,
    )
    assert [dict(c.params) for c in load_sweep(path).expand()] == [{"lr": 0.1, "opt": "adam"}]


def test_a_file_with_only_settings_runs_the_defaults_once(tmp_path):
    path = write(tmp_path, "template: train {lr}\ndefault: {lr: 0.1}\n")
    sweep = load_sweep(path)
    assert [dict(c.params) for c in sweep.expand()] == [{"lr": 0.1}]
    assert sweep.documents == ()


def test_empty_trailing_documents_are_ignored(tmp_path):
    path = write(tmp_path, "template: echo {x}\n---\nx: [1, 2]\n---\n# nothing here\n")
    assert len(load_sweep(path).expand()) == 2


def test_runlab_keys_on_the_first_document(tmp_path):
    path = write(
        tmp_path,
        """
        name: lr-study
        store: results/runs
        workers: 2
        resource: ["0,1", "2,3"]
        repeat: 2
        where: lr < 0.5
        timeout: 10m
        retries: 1
        after: python report.py {_sweep}
        metrics:
          bleu: {log: test, regex: 'BLEU4 = ([0-9.]+)', last: true}
        template: train --lr {lr} --seed {seed}
        ---
        lr: [0.1, 1.0]
        """,
    )
    sweep = load_sweep(path)
    assert sweep.name == "lr-study"
    assert sweep.store == "results/runs"
    assert sweep.workers == 2
    assert sweep.resources == (("0", "1"), ("2", "3"))
    assert sweep.repeat == 2
    assert sweep.timeout == 600.0
    assert sweep.retries == 1
    assert sweep.after == "python report.py {_sweep}"
    assert dict(sweep.metrics["bleu"]) == {
        "log": "test",
        "regex": "BLEU4 = ([0-9.]+)",
        "last": True,
    }
    assert [dict(c.params) for c in sweep.expand()] == [
        {"lr": 0.1, "seed": 0},
        {"lr": 0.1, "seed": 1},
    ]
    assert [(d.rule, dict(d.params)) for d in sweep.expand().dropped] == [
        ("lr < 0.5", {"lr": 1, "seed": 0}),
        ("lr < 0.5", {"lr": 1, "seed": 1}),
    ]


@pytest.mark.parametrize(
    "written,seconds",
    [("30", 30.0), ("2.5", 2.5), ('"30s"', 30.0), ("10m", 600.0), ("2h", 7200.0), ("1d", 86400.0)],
)
def test_timeouts(tmp_path, written, seconds):
    path = write(tmp_path, f"template: echo\ntimeout: {written}\n")
    assert load_sweep(path).timeout == seconds


def test_where_may_be_a_list_of_rules(tmp_path):
    path = write(
        tmp_path,
        """
        template: echo {a} {b}
        where:
          - a != b
          - a + b > 2
        ---
        a: [1, 2, 3]
        b: [1, 2]
        """,
    )
    assert [(c.params["a"], c.params["b"]) for c in load_sweep(path).expand()] == [
        (1, 2),
        (2, 1),
        (3, 1),
        (3, 2),
    ]


def test_task_names_a_python_callable_instead_of_a_template(tmp_path):
    path = write(tmp_path, "task: mypkg.train:main\n---\nlr: [0.1, 0.01]\n")
    sweep = load_sweep(path)
    assert sweep.task == CallableTask("mypkg.train:main")
    assert sweep.task_for(sweep.expand()[0]) == CallableTask("mypkg.train:main")


def test_no_template_and_no_task_leaves_the_task_to_the_caller(tmp_path):
    path = write(tmp_path, "default: {lr: 0.1}\n---\nlr: [0.1, 0.2]\n")
    sweep = load_sweep(path)
    assert sweep.task is None
    assert len(sweep.expand()) == 2


def test_commands_are_joined_onto_one_line_as_mlrunner_does(tmp_path):
    path = write(
        tmp_path,
        """
        template:
          train: |
            python train.py
              --lr {lr} \\
              --epochs 3
        default: {lr: 0.1}
        """,
    )
    sweep = load_sweep(path)
    assert rendered(sweep, sweep.expand()[0]) == [("train", "python train.py --lr 0.1 --epochs 3")]


def test_exponent_floats_read_as_floats_and_dates_as_strings(tmp_path):
    path = write(
        tmp_path,
        """
        template: echo {lr} {day} {n}
        ---
        lr: [1e-4, 1.0e-3, -2E+2]
        day: 2024-01-01
        n: 10
        """,
    )
    params = [dict(c.params) for c in load_sweep(path).expand()]
    assert [p["lr"] for p in params] == [0.0001, 0.001, -200.0]
    assert {p["day"] for p in params} == {"2024-01-01"}
    assert {type(p["n"]) for p in params} == {int}


def test_the_yaml_loader_is_a_safe_loader():
    import yaml

    assert issubclass(yaml_loader(), yaml.SafeLoader)
    yaml_loader()  # built once; PyYAML's own SafeLoader keeps YAML 1.1's reading
    assert yaml.safe_load("[1e-4, 2024-01-01]")[0] == "1e-4"
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=yaml_loader())


# -- _cmd and _title ------------------------------------------------------------------

CMD_FILE = """
template:
  train: python train.py --lr {lr} --out {_output}
  test: python test.py --ckpt {_output}/model.pt --beam {beam}
default: {lr: 0.1, beam: 5}
---
lr: [0.1, 0.01]
_cmd: train
---
_title: beams
_cmd: [test]
beam: [1, 5]
---
_title: beams
lr: [0.5]
"""


def test_cmd_restricts_the_commands_of_its_documents_configs(tmp_path):
    sweep = load_sweep(write(tmp_path, CMD_FILE))
    expansion = sweep.expand()
    assert [dict(c.params) for c in expansion] == [
        {"lr": 0.1, "beam": 5},
        {"lr": 0.01, "beam": 5},
        {"lr": 0.1, "beam": 1},
        {"lr": 0.5, "beam": 5},
    ]
    assert [d.commands for d in sweep.documents] == [("train",), ("test",), None]
    names = [[n for n, _ in rendered(sweep, c)] for c in expansion]
    # lr=0.1,beam=5 comes from document 1 (train) and document 2 (test): it runs both.
    assert names == [["train", "test"], ["train"], ["test"], ["train", "test"]]
    assert rendered(sweep, expansion[2]) == [
        ("test", "python test.py --ckpt out/2/model.pt --beam 1")
    ]


def test_cmd_may_be_a_comma_separated_string_and_keeps_template_order(tmp_path):
    path = write(
        tmp_path,
        """
        template: {a: echo a, b: echo b, c: echo c}
        ---
        x: [1]
        _cmd: c,a
        """,
    )
    sweep = load_sweep(path)
    assert sweep.documents[0].commands == ("a", "c")
    assert [n for n, _ in rendered(sweep, sweep.expand()[0])] == ["a", "c"]


def test_title_selects_documents_and_is_not_a_param(tmp_path):
    sweep = load_sweep(write(tmp_path, CMD_FILE), title="beams")
    assert [dict(c.params) for c in sweep.expand()] == [
        {"lr": 0.1, "beam": 1},
        {"lr": 0.1, "beam": 5},
        {"lr": 0.5, "beam": 5},
    ]
    assert [d.title for d in sweep.documents] == ["beams", "beams"]
    # Without document 1, lr=0.1,beam=5 comes only from the test-only document.
    assert [[n for n, _ in rendered(sweep, c)] for c in sweep.expand()] == [
        ["test"],
        ["test"],
        ["train", "test"],
    ]


def test_an_unknown_title_names_the_known_ones(tmp_path):
    path = write(tmp_path, CMD_FILE)
    with pytest.raises(UsageError) as err:
        load_sweep(path, title="beam")
    assert str(err.value) == f"{path}: no sweep document has _title 'beam'; titles: 'beams'"


def test_a_title_in_a_file_without_titles(tmp_path):
    path = write(tmp_path, "template: echo {x}\n---\nx: [1]\n")
    with pytest.raises(UsageError) as err:
        load_sweep(path, title="a")
    assert str(err.value) == f"{path}: no sweep document has a _title, so none is titled 'a'"


# -- sample ---------------------------------------------------------------------------

SAMPLE_FILE = """
sample: {n: 6, seed: 3}
template: train --lr {lr} --opt {opt} --layers {layers} --wd {wd} --noise {noise}
default: {epochs: 10}
---
lr: "loguniform(1e-4, 1e-1)"
opt: [adam, sgd]
layers: randint(1, 4)
wd: uniform(0, 0.1)
noise: "normal(0, 1)"
act: "choice([relu, tanh])"
"""


def test_sample_documents_draw_from_distribution_strings(tmp_path):
    sweep = load_sweep(write(tmp_path, SAMPLE_FILE))
    configs = [dict(c.params) for c in sweep.expand()]
    assert len(configs) == 6
    for params in configs:
        assert 1e-4 <= params["lr"] < 1e-1
        assert params["opt"] in ("adam", "sgd")
        assert params["layers"] in (1, 2, 3)
        assert 0 <= params["wd"] < 0.1
        assert isinstance(params["noise"], float)
        assert params["act"] in ("relu", "tanh")
        assert params["epochs"] == 10
    assert configs == [dict(c.params) for c in load_sweep(write(tmp_path, SAMPLE_FILE)).expand()]


def test_the_sample_seed_changes_the_draws(tmp_path):
    one = load_sweep(write(tmp_path, SAMPLE_FILE)).expand()
    other = load_sweep(write(tmp_path, SAMPLE_FILE.replace("seed: 3", "seed: 4"))).expand()
    assert [c.params["lr"] for c in one] != [c.params["lr"] for c in other]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("uniform(0.001, 0.1)", "uniform(0.001, 0.1)"),
        ("loguniform(1e-4, 1e-1)", "loguniform(0.0001, 0.1)"),
        ("randint(1, 10)", "randint(1, 10)"),
        ("normal(0, 1)", "normal(0, 1)"),
        ("normal(-1.5, 2)", "normal(-1.5, 2)"),
        ("choice([a, b])", "choice(['a', 'b'])"),
        ("choice([1, 'x y', true, [64, 64]])", "choice([1, 'x y', True, [64, 64]])"),
        (" uniform( low=0 , high=1 ) ", "uniform(0, 1)"),
    ],
)
def test_distribution_strings(text, expected):
    assert repr(parse_distribution(text)) == expected


@pytest.mark.parametrize("text", ["resnet", "relu(x) + 1", "f(1)", "uniform", "my uniform(0, 1)"])
def test_strings_that_are_not_distributions(text):
    assert parse_distribution(text) is None


def test_distribution_strings_never_run_code(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(UsageError):
        parse_distribution(f"uniform(__import__('os').system('touch {marker}'), 1)")
    assert not marker.exists()


# -- alias (mlrunner) ------------------------------------------------------------------


def test_alias_fans_out_and_remaps_values(tmp_path):
    path = write(
        tmp_path,
        """
        template: train [encoder-dim] [decoder-dim] [pre-enc] [pre-dec]
        alias:
          dim: [encoder-dim, decoder-dim]
          arch:
            preln: {pre-enc: true, pre-dec: true}
            postln: {pre-enc: false, pre-dec: false}
        default: {arch: preln}
        ---
        dim: [256, 512]
        ---
        arch: [postln]
        dim: 128
        """,
    )
    sweep = load_sweep(path)
    assert [dict(c.params) for c in sweep.expand()] == [
        {"pre-enc": True, "pre-dec": True, "encoder-dim": 256, "decoder-dim": 256},
        {"pre-enc": True, "pre-dec": True, "encoder-dim": 512, "decoder-dim": 512},
        {"pre-enc": False, "pre-dec": False, "encoder-dim": 128, "decoder-dim": 128},
    ]
    assert rendered(sweep, sweep.expand()[2]) == [
        ("main", "train --encoder-dim 128 --decoder-dim 128  ")
    ]


def test_a_sweep_built_by_hand_is_normalised():
    sweep = Sweep("s", Grid(x=[1, 2]), resources=[0, "1,2", ["3", 4]], timeout="1.5h", retries=0)
    assert sweep.resources == (("0",), ("1", "2"), ("3", "4"))
    assert sweep.timeout == 5400.0
    assert sweep.task_for(sweep.expand()[0]) is None
    sweep.check()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"workers": 0}, "workers must be a positive int, got 0"),
        ({"retries": -1}, "retries must be an int >= 0, got -1"),
        ({"timeout": "soon"}, "timeout: expected a positive number of seconds"),
        ({"resources": [True]}, "resources: True is not a device id"),
        ({"after": "report {x}"}, "command 'after': placeholder {x} has no value"),
        ({"metrics": {"bleu": 1}}, "metrics.bleu: expected a mapping of options"),
    ],
)
def test_a_sweep_built_by_hand_is_checked(kwargs, message):
    with pytest.raises(UsageError) as err:
        Sweep("s", Grid(x=[1]), **kwargs)
    assert message in str(err.value)


def test_check_reports_an_empty_sweep():
    sweep = Sweep("s", Grid(x=[1, 2], where="x > 5"))
    with pytest.raises(UsageError) as err:
        sweep.check()
    assert str(err.value) == "sweep 's' has no configs: its where rules drop all 2"
