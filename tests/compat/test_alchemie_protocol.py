"""The alchemie protocol in-process: cfg.py as data, what modules may return, trainer shapes.

Each test writes a small experiment module into ``tmp_path`` and calls the library
(``create``, ``run_one``) or the commands through click's runner; the signal tests
send real signals to this process, which ``run_one`` holds until an iteration ends.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runlab.cli import cli
from runlab.cli.alchemie import _ranges
from runlab.compat.alchemie import (
    Experiment,
    create,
    read_config,
    render_config,
    run_one,
)
from runlab.errors import RunConflict, UsageError
from runlab.launch.runfolder import claim, release
from runlab.record.layout import RunDir

# The module every test starts from; a test adds or replaces functions after it.
BASE = """
import os
import signal


def preamble(job_index):
    return "# job %d\\n" % job_index


def draw_pars(n=1):
    return [{"steps": 4, "rate": 0.5 + i} for i in range(n)]


def load_data(pars):
    return {"train": [1, 2], "val": [3]}


class Trainer:
    def __init__(self, pars):
        self.pars = pars
        self.n = 0

    def iter_fit(self):
        while self.n < self.pars["steps"]:
            self.n += 1
            yield {"n": self.n}


def new_trainer(pars, data):
    return Trainer(pars)


def make_report(pars, trainer, data):
    return {"n": trainer.n, "rate": pars["rate"]}
"""


def module(tmp_path: Path, extra: str = "", *, name: str = "exp.py") -> Experiment:
    """Write BASE plus ``extra`` (later definitions win) and load it."""
    path = tmp_path / name
    path.write_text(BASE + textwrap.dedent(extra), encoding="utf-8")
    return Experiment.load(str(path))


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def numbered(store: Path) -> list[str]:
    if not store.exists():
        return []
    return sorted((p.name for p in store.iterdir() if p.name.isdigit()), key=int)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(autouse=True)
def _work_inside(inside: Any) -> None:
    """Every test works in a fresh git project (git recorded, no warnings)."""


# -- cfg.py --------------------------------------------------------------------------


def test_cfg_py_is_the_preamble_then_pars(tmp_path):
    text = render_config("#SBATCH -J a\n#SBATCH --mem=1\n", {"b": 1, "a": "x"})
    assert text == "#SBATCH -J a\n#SBATCH --mem=1\n\npars = {'a': 'x', 'b': 1}\n"
    assert render_config("", {"a": 1}) == "pars = {'a': 1}\n"


def test_cfg_py_round_trips_every_literal(tmp_path):
    pars = {
        "rate": 0.1 + 0.2,
        "tiny": 1e-300,
        "neg": -3,
        "flag": True,
        "none": None,
        "name": "naïve 'quoted' \"text\"",
        "optimizer": ("rmsprop", {"decay": 0.9, "steps": [1, 2]}),
        "layers": [64, 32],
        "nested": {"a": {"b": [0.5, (1, 2)]}},
        "long": ["x" * 40, "y" * 40, "z" * 40],
    }
    (tmp_path / "cfg.py").write_text(render_config("# c\n", pars), encoding="utf-8")
    assert read_config(tmp_path) == pars


def test_parameter_sampler_draws_become_plain_values(tmp_path, inside):
    # alchemie's README: draw_pars "is compatible with sklearn's ParameterSampler".
    experiment = module(
        tmp_path,
        """
        def draw_pars(n=1):
            from scipy.stats import loguniform
            from sklearn.model_selection import ParameterSampler  # was: sklearn.grid_search

            grid = {"step_rate": loguniform(1e-4, 1e-1), "n_hidden": [3, 5],
                    "optimizer": [("rmsprop", {"decay": 0.9})]}
            return ParameterSampler(grid, n, random_state=0)
        """,
    )
    import numpy as np
    from sklearn.model_selection import ParameterSampler

    made = create(tmp_path / "exps", experiment, amount=2)
    assert [run_dir.id for run_dir in made] == ["1", "2"]
    grid = {"n_hidden": [3, 5], "optimizer": [("rmsprop", {"decay": 0.9})]}
    from scipy.stats import loguniform

    drawn = list(ParameterSampler({**grid, "step_rate": loguniform(1e-4, 1e-1)}, 2, random_state=0))
    for run_dir, expected in zip(made, drawn, strict=True):
        pars = read_config(run_dir.path)
        assert isinstance(expected["step_rate"], np.floating)
        assert type(pars["step_rate"]) is float
        assert pars == expected
        assert read(run_dir.params_json)["optimizer"] == ["rmsprop", {"decay": 0.9}]


@pytest.mark.parametrize(
    ("draw", "message"),
    [
        (
            "{'lr': float('nan')}",
            "draw_pars(1) item 0: par 'lr' is nan: cfg.py can hold only finite numbers",
        ),
        ("{'f': open}", "draw_pars(1) item 0: par 'f' is a builtin_function_or_method"),
        ("{1: 2}", "draw_pars(1) item 0: par name 1 is not a str"),
        ("[('lr', 1)]", "draw_pars(1) item 0 is list, not a dict"),
    ],
)
def test_pars_that_are_not_data_are_refused(tmp_path, draw, message):
    experiment = module(tmp_path, f"\ndef draw_pars(n=1):\n    return [{draw}] * n\n")
    result = invoke("create", str(tmp_path / "exps"), "--from", str(tmp_path / "exp.py"))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: exp.py: {message}")
    assert result.output.count("\n") == 1
    assert numbered(tmp_path / "exps") == []
    with pytest.raises(UsageError):
        experiment.draw_pars(1)


ITERABLE = "return an iterable of dicts (a list, or sklearn's ParameterSampler)"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return {'lr': 1}", f"draw_pars(2) returned dict: {ITERABLE}"),
        ("return 3", f"draw_pars(2) returned int: {ITERABLE}"),
        ("return [{'lr': 1}]", "draw_pars(2) gave 1 configurations"),
    ],
)
def test_draw_pars_must_return_n_dicts(tmp_path, body, message):
    module(tmp_path, f"\ndef draw_pars(n=1):\n    {body}\n")
    result = invoke("create", "exps", "--from", str(tmp_path / "exp.py"), "--amount", "2")
    assert (result.exit_code, result.output.splitlines()) == (2, [f"error: exp.py: {message}"])


def test_a_bad_preamble_leaves_nothing_and_touches_nothing(tmp_path):
    store = tmp_path / "exps"
    module(tmp_path)
    assert invoke("create", str(store), "--from", str(tmp_path / "exp.py")).exit_code == 0
    before = (store / "1" / "cfg.py").read_bytes()
    module(
        tmp_path,
        """
        def preamble(job_index):
            return "# fine\\n" if job_index < 3 else "# fine\\nimport os\\n"
        """,
        name="bad.py",
    )
    result = invoke("create", str(store), "--from", str(tmp_path / "bad.py"), "--amount", "3")
    assert result.exit_code == 2
    assert result.output == (
        "error: bad.py: preamble(3) line 2 is not a comment: 'import os' "
        "(start every line with '#')\n"
    )
    assert numbered(store) == ["1"]  # 2, 3 and 4 were claimed, then removed
    assert (store / "1" / "cfg.py").read_bytes() == before
    assert invoke("create", str(store), "--from", str(tmp_path / "exp.py")).output == (
        f"created 1 configuration in {store}: 2\n"
    )


def test_a_module_without_preamble_gets_none(tmp_path):
    experiment = module(tmp_path, "\ndel preamble\n")
    made = create(tmp_path / "exps", experiment, amount=1)
    assert (made[0].path / "cfg.py").read_text(encoding="utf-8") == (
        "pars = {'rate': 0.5, 'steps': 4}\n"
    )


def test_missing_functions_are_named(tmp_path):
    module(tmp_path, "\ndel draw_pars\n")
    result = invoke("create", "exps", "--from", str(tmp_path / "exp.py"))
    assert result.output == (
        "error: alchemie module exp.py has no draw_pars: an experiment module defines "
        "preamble, draw_pars, load_data, new_trainer, make_report (preamble may be left out)\n"
    )
    experiment = module(tmp_path, "\ndel load_data, make_report\n", name="half.py")
    made = create(tmp_path / "exps", experiment, amount=1)
    with pytest.raises(UsageError, match=r"half\.py has no load_data, make_report: "):
        run_one(made[0].path, experiment, capture=False)
    assert read(made[0].run_json)["status"] == "queued"


def test_module_errors_are_one_line(tmp_path):
    missing = str(tmp_path / "nope.py")
    result = invoke("create", "exps", "--from", missing)
    assert (result.exit_code, result.output) == (
        2,
        f"error: alchemie module {missing!r}: no such file {missing}\n",
    )
    (tmp_path / "broken.py").write_text("def draw_pars(n:\n", encoding="utf-8")
    result = invoke("create", "exps", "--from", str(tmp_path / "broken.py"))
    assert result.exit_code == 2
    assert "broken.py:1: " in result.output and result.output.count("\n") == 1


def test_a_dotted_module_name_is_recorded_as_given(inside):
    # Imported by name from the working directory (the project), as alc.py did.
    (inside.root / "alc_dotted_exp.py").write_text(BASE, encoding="utf-8")
    try:
        assert invoke("create", "exps", "--from", "alc_dotted_exp").exit_code == 0
    finally:
        sys.modules.pop("alc_dotted_exp", None)
    assert read(inside.root / "exps" / "1" / "alchemie.json") == {"module": "alc_dotted_exp"}


def test_cfg_py_is_read_as_data(tmp_path):
    folder = tmp_path / "1"
    folder.mkdir()
    with pytest.raises(UsageError, match="is not an alchemie config folder"):
        read_config(folder)
    (folder / "cfg.py").write_text("# p\nimport os\npars = dict(lr=os.getpid())\n")
    with pytest.raises(UsageError) as err:
        read_config(folder)
    assert str(err.value) == (
        f"{folder / 'cfg.py'}:3: pars must be a literal dict (cfg.py is read as data, never "
        "run: write numbers, strings, lists and dicts, no names or calls)"
    )
    (folder / "cfg.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match=r"cfg.py: no 'pars = \{...\}' in it"):
        read_config(folder)
    (folder / "cfg.py").write_text("pars = {'a': 1}\npars = {'a': 2}\n")  # the last one wins
    assert read_config(folder) == {"a": 2}


def test_hand_edited_pars_are_what_runs(tmp_path):
    experiment = module(tmp_path)
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    cfg = folder.path / "cfg.py"
    cfg.write_text(cfg.read_text().replace("'steps': 4", "'steps': 2"))
    assert run_one(folder.path, experiment, capture=False).iterations == 2
    assert read(folder.params_json) == {"rate": 0.5, "steps": 2}


# -- run-one ---------------------------------------------------------------------------


def test_a_signal_is_held_until_the_iteration_ends(tmp_path):
    experiment = module(
        tmp_path,
        """
        class Trainer(Trainer):
            def iter_fit(self):
                while self.n < self.pars["steps"]:
                    if self.n == 1 and not getattr(self, "signalled", False):
                        self.signalled = True
                        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C mid-iteration 2
                    self.n += 1
                    yield {}
        """,
    )
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    handler = signal.getsignal(signal.SIGINT)
    outcome = run_one(folder.path, experiment, capture=False)
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    assert (outcome.status.value, outcome.exit_code, outcome.iterations) == ("interrupted", 9, 2)
    assert outcome.error == "interrupted by SIGINT after 2 iterations"
    assert outcome.report == folder.path / "report-1.json"
    assert read(folder.path / "report-1.json") == {"n": 2, "rate": 0.5}
    assert read(folder.run_json)["exit_code"] == 9
    outcome = run_one(folder.path, experiment, capture=False)
    assert (outcome.status.value, outcome.exit_code, outcome.iterations) == ("completed", 0, 4)
    assert read(folder.path / "report-last.json") == {"n": 4, "rate": 0.5}
    assert [p.name for p in sorted((folder.path / "reports").iterdir())] == ["1.json", "2.json"]
    metrics = (folder.path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["n"] for line in metrics] == [2, 4]  # one point per attempt
    assert not (folder.path / "error.txt").exists()


def test_a_second_signal_stops_at_once(tmp_path):
    experiment = module(
        tmp_path,
        """
        class Trainer(Trainer):
            def iter_fit(self):
                while self.n < self.pars["steps"]:
                    self.half = True
                    if self.n == 1:
                        os.kill(os.getpid(), signal.SIGTERM)
                        os.kill(os.getpid(), signal.SIGINT)
                    self.n += 1
                    self.half = False
                    yield {}

        def make_report(pars, trainer, data):
            return {"n": trainer.n, "half": trainer.half}
        """,
    )
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    outcome = run_one(folder.path, experiment, capture=False)
    assert (outcome.exit_code, outcome.iterations, outcome.error) == (
        9,
        1,
        "interrupted by SIGTERM after 1 iteration",
    )
    assert read(folder.path / "report-1.json") == {"n": 1, "half": True}  # cut short


def test_a_signal_while_loading_data_stops_before_training(tmp_path):
    experiment = module(
        tmp_path,
        """
        def load_data(pars):
            if not os.path.exists("loaded"):
                open("loaded", "w").close()
                os.kill(os.getpid(), signal.SIGINT)
            return {"train": [], "val": []}
        """,
    )
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    outcome = run_one(folder.path, experiment, capture=False)
    assert (outcome.exit_code, outcome.iterations) == (9, 0)
    assert (folder.path / "loaded").exists()  # the module ran in the config folder
    assert read(folder.path / "report-1.json") == {"n": 0, "rate": 0.5}
    assert run_one(folder.path, experiment, capture=False).iterations == 4


FIT_TRAINERS = """
class FitTrainer:
    def __init__(self, pars):
        self.pars = pars
        self.n = 0
        self.calls = 0
        self.stopped = False

    def fit(self):
        self.calls += 1
        while self.n < self.pars["steps"]:
            self.n += 1
            if self.n == 2 and self.calls == 1:
                {interrupt}
        self.stopped = True


def new_trainer(pars, data):
    return FitTrainer(pars)


def make_report(pars, trainer, data):
    return {{"n": trainer.n, "calls": trainer.calls}}
"""


@pytest.mark.parametrize(
    ("interrupt", "error"),
    [
        ("raise KeyboardInterrupt", "interrupted by SIGINT"),
        ("return  # breze: its own SIGINT handler ends fit(), stopped stays False", None),
    ],
)
def test_fit_trainers(tmp_path, interrupt, error):
    experiment = module(tmp_path, FIT_TRAINERS.format(interrupt=interrupt))
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    outcome = run_one(folder.path, experiment, capture=False)
    assert (outcome.status.value, outcome.exit_code, outcome.iterations) == ("interrupted", 9, None)
    assert outcome.error == (error or "interrupted by the trainer")
    assert read(folder.path / "report-1.json") == {"n": 2, "calls": 1}
    outcome = run_one(folder.path, experiment, capture=False)
    assert (outcome.status.value, outcome.exit_code) == ("completed", 0)
    assert read(folder.path / "report-last.json") == {"n": 4, "calls": 2}


def test_a_trainer_that_cannot_train_or_pickle_fails_in_one_line(tmp_path):
    experiment = module(
        tmp_path,
        """
        import threading

        class Locked(Trainer):
            def __init__(self, pars):
                super().__init__(pars)
                self.lock = threading.Lock()

        def new_trainer(pars, data):
            return Locked(pars) if pars["rate"] < 1 else object()
        """,
    )
    first, second = create(tmp_path / "exps", experiment, amount=2)
    outcome = run_one(first.path, experiment, capture=False)
    assert (outcome.status.value, outcome.exit_code) == ("failed", 1)
    assert outcome.error == (
        "cannot checkpoint the trainer (Locked): cannot pickle '_thread.lock' object; "
        "leave unpicklable attributes out with __getstate__/__setstate__"
    )
    assert not (first.path / "report-1.json").exists()
    outcome = run_one(second.path, experiment, capture=False)
    assert outcome.error == (
        "the trainer (object) has neither iter_fit() nor fit(): "
        "new_trainer must return an object with one of them"
    )
    record = read(second.run_json)
    assert (record["status"], record["exit_code"], record["error"]) == (
        "failed",
        1,
        outcome.error,
    )


def test_an_error_in_user_code_fails_the_attempt_with_its_traceback(tmp_path, capsys):
    experiment = module(
        tmp_path,
        """
        def load_data(pars):
            if os.path.exists("broken"):
                return 1 / 0
            return {}
        """,
    )
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    (folder.path / "broken").touch()
    outcome = run_one(folder.path, experiment, capture=False)
    assert (outcome.status.value, outcome.exit_code) == ("failed", 1)
    assert outcome.error == "ZeroDivisionError: division by zero"
    trace = (folder.path / "error.txt").read_text()
    assert trace.startswith("Traceback") and "return 1 / 0" in trace
    assert "return 1 / 0" in capsys.readouterr().err
    (folder.path / "broken").unlink()
    outcome = run_one(folder.path, experiment, capture=False)  # fixed: attempt 2 completes
    assert (outcome.status.value, read(folder.run_json)["attempt"]) == ("completed", 2)
    assert [p.name for p in (folder.path / "reports").iterdir()] == ["2.json"]
    assert not (folder.path / "error.txt").exists()


def test_a_folder_in_use_is_refused(tmp_path):
    experiment = module(tmp_path)
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    assert claim(RunDir(folder.path))  # this live process holds it
    try:
        with pytest.raises(RunConflict, match="is being run by another process right now"):
            run_one(folder.path, experiment, capture=False)
        result = invoke("run-one", str(folder.path))
        assert (result.exit_code, result.output) == (
            2,
            f"error: run {folder.path} is being run by another process right now\n",
        )
    finally:
        release(RunDir(folder.path))
    assert run_one(folder.path, experiment, capture=False).exit_code == 0


def test_run_one_finds_its_module_or_is_told(tmp_path):
    experiment = module(tmp_path)
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    (folder.path / "alchemie.json").unlink()
    result = invoke("run-one", str(folder.path))
    assert (result.exit_code, result.output) == (
        2,
        f"error: {folder.path}/alchemie.json does not name the experiment module: "
        "give it with runlab run-one --module exp.py\n",
    )
    result = invoke("run-one", str(tmp_path))
    assert result.output == (
        f"error: {tmp_path} is not an alchemie config folder (no cfg.py): "
        "give DIR/K, a folder made by runlab create\n"
    )


def test_a_queued_run_keeps_its_name_and_tags(tmp_path):
    experiment = module(tmp_path)
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    record = read(folder.run_json)
    assert (record["status"], record["attempt"], record["start"]) == ("queued", 0, None)
    record.update(name="baseline", tags={"team": "a"})
    folder.run_json.write_text(json.dumps(record))
    run_one(folder.path, experiment, capture=False)
    record = read(folder.run_json)
    assert (record["attempt"], record["name"], record["tags"]) == (1, "baseline", {"team": "a"})


def test_help_names_the_commands_with_examples():
    top = invoke("--help").output
    assert "create" in top and "run-one" in top
    for command in ("create", "run-one"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.output and f"runlab {command} " in result.output


def test_created_ranges_are_short():
    assert _ranges([4, 5, 6]) == "4-6"
    assert _ranges([1, 3, 2, 7, 9, 10]) == "1-3, 7, 9-10"
    assert _ranges([]) == ""


def test_the_working_directory_is_restored(tmp_path):
    experiment = module(tmp_path)
    (folder,) = create(tmp_path / "exps", experiment, amount=1)
    here = os.getcwd()
    run_one(folder.path, experiment, capture=False)
    assert os.getcwd() == here
