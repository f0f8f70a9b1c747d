"""A pymake project run by runlab for real: ``runlab run SPEC -x ACTION``, ``runlab list``,
and ``python -m runlab.compat.pymake`` with the project's gramarg options.

The project is ``pymake_project/`` (the seed's spec, script and gramarg, with the import
lines adapted), copied into a git repository; every command is a real subprocess.
"""

from __future__ import annotations

import gzip
import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymake_helpers import TIMEOUT, Pmk

SMALL = ["myexpe-42-20_johndoe", "myexpe-100-20_johndoe", "myexpe-42-30_johndoe"]
SMALL.append("myexpe-100-30_johndoe")


@pytest.fixture(scope="module")
def pmk(make_project: Callable[[Path], Any], tmp_path_factory: pytest.TempPathFactory) -> Pmk:
    return Pmk(make_project(tmp_path_factory.mktemp("pymake") / "pmkdemo"))


@pytest.fixture(scope="module")
def fitted(pmk: Pmk) -> subprocess.CompletedProcess[str]:
    """``runlab run small -x fit``: the seed's ExpTensor, four experiments."""
    return pmk.runlab("run", "small", "-x", "fit")


# -- runlab run SPEC -x ACTION ---------------------------------------------------------------


def test_run_writes_pymake_files_where_pymake_wrote_them(pmk: Pmk, fitted: Any) -> None:
    assert fitted.returncode == 0, fitted.stderr
    inf = pmk.data("default/myexpe-42-20_johndoe.inf").read_text(encoding="utf-8")
    assert inf == "#it loss\n0 0.02381\n1 0.023256\n2 0.022727\n# terminated\n"
    results = json.loads(pmk.data("default/myexpe-100-30_johndoe.json").read_text())
    assert results == {"score": 200, "name": "myexpe"}
    with gzip.open(pmk.data("default/myexpe-42-30_johndoe.pk.gz"), "rb") as f:
        assert pickle.load(f) == {"weights": [1, 2, 3]}
    written = sorted(p.name for p in pmk.data("default").iterdir())
    assert written == sorted(
        f"{stem}{ext}" for stem in SMALL for ext in (".inf", ".json", ".pk.gz")
    )


def test_every_experiment_is_a_runlab_run(pmk: Pmk, fitted: Any) -> None:
    record = pmk.run_json("myexpe-100-20_johndoe")
    assert record["status"] == "completed"
    assert record["sweep"] == "small"
    assert pmk.run_json("myexpe-100-20_johndoe", "params.json") == {
        "_format": "{name}-{size}-{key1}_{key2}",
        "key1": 20,
        "key2": "johndoe",
        "name": "myexpe",
        "size": 100,
        "_expe_name": "small",
        "_expe_id": 1,
    }
    summary = pmk.run_json("myexpe-100-20_johndoe", "summary.json")
    assert summary == {"it": 2, "loss": 0.009804, "score": 200, "name": "myexpe", "extra": 1}
    rows = json.loads(pmk.ok(pmk.runlab("ls", "--json")))
    assert sorted(r["id"] for r in rows) == sorted(SMALL)


def test_running_again_runs_nothing(pmk: Pmk, fitted: Any) -> None:
    again = pmk.runlab("run", "small", "-x", "fit")
    assert again.returncode == 0, again.stderr
    assert "4 configs already done" in again.stderr


def test_the_pymake_importer_reads_the_files_back(pmk: Pmk, fitted: Any) -> None:
    pmk.ok(
        pmk.runlab(
            "import", "data", "--format", "pymake", "--name-format", "{name}-{size}-{key1}_{key2}",
            "--into", "imported",
        )
    )  # fmt: skip
    rows = json.loads(pmk.ok(pmk.runlab("--store", "imported", "ls", "--json")))
    found = {(r["params.size"], r["params.key1"]): r for r in rows}
    assert set(found) == {(42, 20), (100, 20), (42, 30), (100, 30)}
    assert found[(100, 30)]["status"] == "completed"
    assert found[(100, 30)]["metrics.score"] == 200


def test_shared_D_in_a_sequential_batch(pmk: Pmk) -> None:
    pmk.ok(pmk.runlab("run", "binds", "-x", "count"))
    assert pmk.log("binds-0-adam-0.1").startswith("expe 1/4: ")
    assert "Expe total" not in pmk.log("binds-1-adam-0.1")
    last = pmk.log("binds-1-sgd-0.01")
    assert last.splitlines()[-1] == "Expe total: 4"
    assert str(pmk.data("binds/1/sgd-0.01")) in last
    assert not (pmk.root / "runs" / ".pymake" / "binds.json").exists()


def test_the_seed_script_runs_unchanged(pmk: Pmk) -> None:
    pmk.ok(pmk.runlab("run", "both", "-x", "my_action"))
    # The seed's action reads self.D.my_shared_var into a local and never writes it back.
    logs = {p.parent.name: p.read_text() for p in (pmk.root / "runs").glob("*/stdout.log")}
    said = [name for name, text in logs.items() if "Expe total: 0" in text]
    assert len(said) == 1


def test_default_expe_and_gramarg_options_after_dashdash(pmk: Pmk) -> None:
    pmk.ok(pmk.runlab("run", "_default_expe", "-x", "fit"))
    assert pmk.data("default/dflt-5.inf").exists()
    pmk.ok(pmk.runlab("run", "_default_expe", "-x", "fit", "--", "--pmk", "size=7", "--tag", "x"))
    params = pmk.run_json("dflt-7", "params.json")
    assert (params["size"], params["tag"], params["name"]) == (7, "x", "dflt")


def test_native_overrides_re_expand_the_spec(pmk: Pmk) -> None:
    plan = json.loads(pmk.ok(pmk.runlab("plan", "numbered", "-x", "fit", "lr=0.5,0.25", "--json")))
    assert [r["name"] for r in plan["runs"]] == ["numbered-0-0.5", "numbered-1-0.25"]
    bad = pmk.runlab("plan", "small", "-x", "fit", "K=1,2")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: experiments #0 and #4 of spec 'small' would both write "
        "default/myexpe-42-20_johndoe: add K or {_id} to _format"
    )


def test_bind_rules_refdir_and_repeat_folders(pmk: Pmk) -> None:
    plan = json.loads(pmk.ok(pmk.runlab("plan", "binds", "-x", "fit", "--json")))
    names = [r["name"] for r in plan["runs"]]
    assert names == ["binds-0-adam-0.1", "binds-0-sgd-0.01", "binds-1-adam-0.1", "binds-1-sgd-0.01"]


def test_a_failing_action_fails_its_run_and_leaves_an_open_inf(pmk: Pmk) -> None:
    failed = pmk.runlab("run", "numbered", "-x", "broken", "--only", "0")
    assert failed.returncode == 1
    assert pmk.run_json("numbered-0-0.1")["status"] == "failed"
    assert "ValueError: diverged" in (pmk.root / "runs/numbered-0-0.1/error.txt").read_text()
    assert "terminated" not in pmk.data("default/numbered-0-0.1.inf").read_text()


def test_unknown_spec_and_action_are_one_line_errors(pmk: Pmk) -> None:
    result = pmk.runlab("run", "nosuch", "-x", "fit")
    assert result.returncode == 2
    assert result.stderr.startswith("error: no spec 'nosuch' in this pymake project; specs: exp1")
    result = pmk.runlab("run", "small", "-x", "nope")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: no action 'nope' in this pymake project; actions: MyScripts.my_action, "
        "Fit.fit, Fit.count, Fit.broken, Reports.report, Learn.train, Learn.resume"
    )
    result = pmk.runlab("run", "small")
    assert result.returncode == 2
    assert "-x ACTION of the pymake scripts" in result.stderr


# -- runlab list ------------------------------------------------------------------------------


def test_runlab_list_shows_specs_and_actions(pmk: Pmk) -> None:
    listed = pmk.runlab("list", "designs", "--json")
    designs = json.loads(pmk.ok(listed))
    # The seed's exp3 holds exp1 and exp2, which both name a file myexpe-42-100_johndoe.
    assert listed.stderr == (
        "warning: exp3: cannot expand: experiments #0 and #161 of spec 'exp3' would both write "
        "default/myexpe-42-100_johndoe: add their settings or {_id} to _format\n"
    )
    assert [(d["ref"], d["kind"], d["configs"]) for d in designs] == [
        ("exp1", "ExpSpace", 1),
        ("exp2", "ExpTensor", 1960),
        ("exp3", "ExpGroup", None),
        ("small", "ExpTensor", 4),
        ("both", "ExpGroup", 5),
        ("numbered", "ExpTensor", 4),
        ("binds", "ExpTensor", 4),
        ("learn", "ExpTensor", 2),
        ("scaled", "ExpSpace", 1),
        ("kept", "ExpSpace", 1),
    ]
    tasks = json.loads(pmk.ok(pmk.runlab("list", "tasks", "--json")))
    assert [(t["ref"], t["doc"]) for t in tasks] == [
        ("MyScripts.my_action", ""),
        ("Fit.fit", "Iterate, then save the results and the model."),
        ("Fit.count", "Count the experiments of the batch in the shared self.D."),
        ("Fit.broken", "Fail after one iteration."),
        ("Reports.report", "Save the settings of each experiment."),
        ("Learn.train", "Build the experiment's model and fit it."),
        ("Learn.resume", "Fit the model an earlier run saved once more."),
    ]


# -- the pmk command ------------------------------------------------------------------------


def test_pmk_lists_and_shows(pmk: Pmk) -> None:
    assert pmk.ok(pmk.pmk("-l", "spec")).splitlines()[:3] == [
        "MyDesign.exp1",
        "MyDesign.exp2",
        "MyDesign.exp3",
    ]
    assert pmk.ok(pmk.pmk("-l", "script")).splitlines()[0] == "MyScripts.my_action"
    assert pmk.ok(pmk.pmk("small")) == pmk.ok(pmk.pmk("show", "small"))
    shown = pmk.ok(pmk.pmk("small")).splitlines()
    assert shown[0] == "0  myexpe-42-20_johndoe  " + str(
        {"key1": 20, "key2": "johndoe", "name": "myexpe", "size": 42}
    )
    paths = pmk.ok(pmk.pmk("path", "numbered", "inf")).splitlines()
    assert paths == [str(pmk.data(f"default/numbered-{i}-{lr}.inf")) for i, lr in
                     enumerate(["0.1", "0.00", "1e-05", "2"])]  # fmt: skip
    # "The filename for this unique experiment will be 'myexpe-42-100_johndoe'"
    assert (
        pmk.ok(pmk.pmk("path", "exp1", "json"))
        == f"{pmk.data('default')}/myexpe-42-100_johndoe.json\n"
    )
    assert pmk.ok(pmk.pmk("diff", "exp1", "small")).splitlines() == [
        "key1: 100  ->  20, 30",
        "size: 42  ->  42, 100",
        "0 experiments in both, 1 only in exp1, 4 only in small",
    ]


def test_pmk_runs_with_gramarg_options_pmk_and_indexes(pmk: Pmk) -> None:
    result = pmk.pmk(
        "numbered", "0", "7", "-x", "fit", "--my_key", "10", "20",
        "--format", "k{my_key}-{lr}", "--pmk", "size=3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # 8 experiments (lr, then my_key the fastest): 0 and 7 are the first and the last.
    written = sorted(p.name for p in pmk.data("default").glob("k*.inf"))
    assert written == ["k10-0.1.inf", "k20-2.inf"]
    params = pmk.run_json("k20-2", "params.json")
    assert (params["my_key"], params["size"], params["lr"]) == (20, 3, 2)
    nulled = pmk.pmk("run", "numbered", "--script", "fit", "--format", "{lr}", "--my_key", "_null")
    assert nulled.returncode == 0, nulled.stderr
    assert "my_key" not in pmk.run_json("1e-05", "params.json")


def test_pmk_errors_are_one_line(pmk: Pmk) -> None:
    result = pmk.pmk("small", "-x", "fit", "--my_key", "ten")
    assert result.returncode == 2
    assert result.stderr == "error: --my_key: invalid literal for int() with base 10: 'ten'\n"
    outside = subprocess.run(
        [sys.executable, "-m", "runlab.compat.pymake", "-l", "spec"],
        cwd=pmk.root.parent,
        env=pmk.project.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert outside.returncode == 2
    assert "no pymake.cfg" in outside.stderr


def test_pmk_default_expe_names_a_spec_and_cores_run_in_parallel(pmk: Pmk) -> None:
    # exp_append_uniq: `--shape 1 2` is the one value [1, 2], not two experiments.
    result = pmk.pmk("-x", "report", "--cores", "2", "--shape", "1", "2")
    assert result.returncode == 0, result.stderr
    saved = json.loads(pmk.data("default/numbered-3-2.json").read_text())
    assert (saved["lr"], saved["size"], saved["shape"]) == (2, 1, [1, 2])
    assert sorted(p.name for p in pmk.data("default").glob("numbered-*.json")) == [
        "numbered-0-0.1.json", "numbered-1-0.00.json", "numbered-2-1e-05.json",
        "numbered-3-2.json",
    ]  # fmt: skip
