"""Every mistake in a sweep file is one line naming file:line and the key, before anything runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runlab.design import load_sweep
from runlab.errors import UsageError


def error_of(tmp_path: Path, text: str, **kwargs) -> str:
    path = tmp_path / "params.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_sweep(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    prefix = f"{path}:"
    assert message.startswith(prefix)
    return message[len(prefix) :]


CASES = {
    "unknown key, with the closest known key": (
        """
        template: train {lr}
        default:
          lr: 0.1
        resource: [0, 1]


        wokers: 4
        """,
        "7: unknown key 'wokers' (did you mean 'workers'?)",
    ),
    "unknown key that looks like a param": (
        """
        template: train {lr}
        lr: [0.1, 0.01]
        """,
        "2: unknown key 'lr'; params go under default: or in a sweep document after ---",
    ),
    "unknown key under sample": (
        """
        template: train {lr}
        sample:
          n: 3
          sed: 1
        """,
        "4: sample: unknown key 'sed' (did you mean 'seed'?)",
    ),
    "missing key under sample": (
        """
        template: train {lr}
        sample: {seed: 1}
        """,
        "2: sample: missing key 'n'",
    ),
    "the first error by line wins": (
        """
        template: train
        retries: many
        wokers: 4
        """,
        "2: retries: expected an int >= 0, got 'many'",
    ),
    "a wrongly typed value": (
        """
        template: train
        workers: four
        """,
        "2: workers: expected a positive int, got 'four'",
    ),
    "a bool is not an int": (
        """
        template: train
        repeat: true
        """,
        "2: repeat: expected a positive int, got True",
    ),
    "an out-of-range value": (
        """
        template: train
        sample: {n: 0}
        """,
        "2: sample.n: expected a positive int, got 0",
    ),
    "a bad item of a list, on its own line": (
        """
        template: train
        resource:
          - 0
          - 1.5
        """,
        "4: resource: expected a list of device ids like [0, 1] or ['0,1', '2,3'], got 1.5",
    ),
    "a key with no value": (
        """
        template: train
        default:
        """,
        "2: default: expected a mapping of param names to default values, got nothing",
    ),
    "a bad timeout": (
        """
        template: train
        timeout: 10 minutes
        """,
        "2: timeout: expected a positive number of seconds or a duration like 30s, 10m, 2h; "
        "got '10 minutes'",
    ),
    "workers and resource disagree": (
        """
        template: train
        resource: [0, 1, 2]
        workers: 2
        """,
        "3: workers: 2 but resource gives 3 slots; remove one or make them agree",
    ),
    "an empty resource list": (
        """
        template: train
        resource: []
        """,
        "2: resource: empty; give device ids",
    ),
    "a placeholder with no value in any config": (
        """
        template:
          train: python train.py data-bin/{data} --lr {lr}
          test: python test.py
        default: {lr: 0.1}
        ---
        lr: [0.1, 0.01]
        """,
        "2: command 'train': placeholder {data} has no value in the document at line 6",
    ),
    "a flag placeholder with no value": (
        """
        template: train [early-stop]
        """,
        "1: command 'main': placeholder [early-stop] has no value in default:",
    ),
    "a placeholder missing from one document only": (
        """
        template: train --lr {lr} --wd {wd}
        default: {lr: 0.1}
        ---
        wd: [0.1]
        ---
        lr: [0.5]
        """,
        "1: command 'main': placeholder {wd} has no value in the document at line 6",
    ),
    "a param used both as {p} and [p]": (
        """
        template:
          train: train {lr} [lr]
        default: {lr: 0.1}
        """,
        "2: command 'train' uses 'lr' both as {lr} and [lr]",
    ),
    "both template and task": (
        """
        template: train
        task: mypkg:main
        """,
        "2: task: give template: or task:, not both",
    ),
    "a task that is not module:function": (
        """
        task: train.py
        """,
        "1: task: expected a Python callable written module:function, got 'train.py'",
    ),
    "an after command with a param placeholder": (
        """
        template: train
        after: python report.py {lr}
        """,
        "2: command 'after': placeholder {lr} has no value",
    ),
    "a bad command name": (
        """
        template:
          train model: train
        """,
        "2: command name 'train model' must be letters, digits, '_', '.' or '-'",
    ),
    "an empty sweep": (
        """
        template: train {lr}
        where: lr > 1
        ---
        lr: [0.1, 0.01]
        """,
        "2: no configs to run: the where rules drop all 2 generated configs",
    ),
    "a where rule that is not an expression": (
        """
        template: train
        where:
          - lr > 0
          - lr >
        """,
        "4: where rule 'lr >' is not a valid expression: invalid syntax",
    ),
    "a where rule naming a missing key": (
        """
        template: train {lr}
        where: [lr > 0, lrr < 1]
        ---
        lr: [0.1]
        """,
        "2: where rule 'lrr < 1' names key 'lrr', which config {'lr': 0.1} does not have",
    ),
    "repeat over a seed param": (
        """
        template: train {seed}
        repeat: 3
        ---
        seed: [1, 2]
        """,
        "2: repeat: it sets 'seed', which a config already has as a param; "
        "rename that param or drop repeat",
    ),
    "a bad distribution: missing argument": (
        """
        template: train {lr}
        sample: {n: 4}
        ---
        lr: uniform(0.1)
        """,
        "4: lr: distribution 'uniform(0.1)': uniform() missing 1 required positional "
        "argument: 'high'",
    ),
    "a bad distribution: bad bounds": (
        """
        template: train {lr}
        sample: {n: 4}
        ---
        opt: [adam]
        lr: "loguniform(0, 1)"
        """,
        "5: lr: loguniform(0, 1): need 0 < low < high",
    ),
    "a bad distribution: a misspelt name": (
        """
        template: train {lr}
        sample: {n: 4}
        ---
        lr: lognormal(0, 1)
        """,
        "4: lr: unknown distribution 'lognormal' in 'lognormal(0, 1)' (did you mean 'normal'?)",
    ),
    "a bad distribution: code, not a value": (
        """
        template: train {lr}
        sample: {n: 4}
        ---
        lr: uniform(0, x.y)
        """,
        "4: lr: distribution 'uniform(0, x.y)': 'x.y' is not a plain value",
    ),
    "a distribution without sample:": (
        """
        template: train {lr}
        ---
        lr: uniform(0, 1)
        """,
        "3: lr: 'uniform(0, 1)' is a distribution, but this file has no sample:; "
        "add sample: {n: N} to the first document to draw from it",
    ),
    "a distribution as a default": (
        """
        template: train {lr}
        sample: {n: 2}
        default:
          lr: uniform(0, 1)
        """,
        "4: lr: 'uniform(0, 1)' is a distribution, but default values are fixed; "
        "add sample: {n: N} to the first document to draw from it",
    ),
    "YAML syntax": (
        """
        template: train {lr}
        default:
          lr: [0.1, 0.2
        ---
        lr: 1
        """,
        "4: invalid YAML: expected ',' or ']', but got '<document start>'",
    ),
    "YAML indentation": (
        """
        template: train
        default:
          lr: 0.1
         wd: 0.2
        """,
        "4: invalid YAML: expected <block end>, but found '<block mapping start>'",
    ),
    "a key given twice": (
        """
        template: train {lr}
        default:
          lr: 0.1
          lr: 0.2
        """,
        "4: key 'lr' is given twice (first at line 3)",
    ),
    "a sweep document that is not a mapping": (
        """
        template: train {lr}
        ---
        lr: [0.1]
        ---
        - lr: 0.2
        """,
        "5: a sweep document must be a mapping of params, not a list",
    ),
    "a first document that is not a mapping": (
        """
        - train
        """,
        "1: the first document is a list; it must be a mapping of settings such as "
        "template:, default: and resource:",
    ),
    "an empty list value": (
        """
        template: train {lr}
        ---
        wd: [0.1]
        lr: []
        """,
        "4: lr: empty list; give at least one value (write [[]] for the value [])",
    ),
    "an unknown reserved document key": (
        """
        template: train {lr}
        ---
        lr: [0.1]
        _cmds: [train]
        """,
        "4: '_cmds' is reserved (document keys are _title and _cmd; did you mean '_cmd'?)",
    ),
    "_cmd naming a command the template lacks": (
        """
        template:
          train: train
          test: test
        ---
        x: [1]
        _cmd: [train, tset]
        """,
        "6: _cmd: no command 'tset' in template (did you mean 'test'?)",
    ),
    "_cmd without a template": (
        """
        task: pkg:main
        ---
        x: [1]
        _cmd: train
        """,
        "4: _cmd picks commands of template:, and there is none",
    ),
    "_cmd checks only the commands it picks": (
        """
        template:
          train: train {lr}
          test: test {beam}
        default: {lr: 0.1}
        ---
        _cmd: train
        lr: [0.2]
        ---
        lr: [0.3]
        """,
        "3: command 'test': placeholder {beam} has no value in the document at line 9",
    ),
    "an alias named in a template": (
        """
        template: train [arch]
        alias:
          arch:
            preln: {pre: true}
        default: {arch: preln}
        """,
        "1: command 'main': 'arch' is an alias; name the params it sets (pre)",
    ),
    "an alias whose cases set different params": (
        """
        template: train
        alias:
          arch:
            preln: {pre: true}
            postln: {post: true}
        """,
        "3: alias 'arch': every value must set the same non-empty set of params",
    ),
    "a value an alias does not know": (
        """
        template: train [pre]
        alias:
          arch:
            preln: {pre: true}
        ---
        arch: [preln, postln]
        """,
        "3: alias 'arch': value 'postln' is not one of 'preln'",
    ),
    "a YAML anchor that contains itself": (
        """
        template: train
        default:
          a: &x [1, *x]
        """,
        "3: values are nested too deeply",
    ),
    "a value that is not JSON data": (
        """
        template: train
        default:
          blob: !!binary aGVsbG8=
        """,
        "3: param blob: bytes value b'hello' is not JSON data",
    ),
}


@pytest.mark.parametrize("text,expected", list(CASES.values()), ids=list(CASES))
def test_errors_name_file_line_and_key(tmp_path, text, expected):
    assert error_of(tmp_path, text) == expected


def test_a_missing_file(tmp_path):
    with pytest.raises(UsageError) as err:
        load_sweep(tmp_path / "nope.yaml")
    assert str(err.value) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_an_empty_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_sweep(path)
    assert str(err.value) == f"{path}:1: the file is empty; start with a settings document"


def test_an_empty_sweep_after_title_selection(tmp_path):
    text = """
    template: train {lr}
    where: lr < 1
    ---
    lr: [0.1]
    ---
    _title: big
    lr: [5, 6]
    """
    assert error_of(tmp_path, text, title="big") == (
        "2: no configs to run: the where rules drop all 2 generated configs "
        "of the documents titled 'big'"
    )
