"""runlab.compat.mlrunner: the README's Examiner usage over a runlab store and mlrunner folders.

The script is the README's, with only its import line changed (and the ``parse_bleu``
the README leaves to the user). It runs as a real process over two output folders: one
``runlab run`` wrote from mlrunner's README sweep (``examples/mlrunner``), and one laid
out as mlrunner itself wrote it (``param``, ``stat``, ``log.<command>.<time>``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from runlab.compat.mlrunner import Examiner, Experiment, latest_log, load_params, match_output
from runlab.errors import UsageError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mlrunner"
TIMEOUT = 120

PARSE_BLEU = """\
import re


def parse_bleu(path):
    return float(re.findall(r"BLEU4 = ([0-9.]+)", path.read_text())[-1])


"""
# mlrunner README, "Example", verbatim but for the first line (was: from mlrunner.examine ...).
README_USAGE = """\
from runlab.compat.mlrunner import Examiner, latest_log


# define a metric parser for each directory (experiment)
def add_bleu(output_dir, experiment, caches):
    # Each parser follows the same signature
    # It can read/write to a global cache dict `caches`,
    # and read/write each experiment:
    # collections.namedtuple("Experiment", ["cache", "metric", "param"])
    latest_test_log = latest_log("test", output_dir)
    bleu = parse_bleu(latest_test_log)  # a user-defined log parser
    experiment.metric["bleu"] = bleu


examiner = Examiner()  # container for parsed results
# register parser for each directory (experiment)
examiner.add(add_bleu)
# run all parsers for directories matched by regex
examiner.exam(output="output", regex=".*")
# print the tsv table with all (different) params and metrics of each experiment
# return a pandas DataFrame object.
df = examiner.table(print_tsv=True)
"""

# The README's five experiments: (norm, moment, early-stop) -> BLEU.
BLEU = {
    ("new", 0.1, False): 11.0,
    ("new", 0.05, False): 12.3,
    ("batch", 0.1, False): 14.4,
    ("batch", 0.05, False): 16.5,
    ("batch", 0.1, True): 15.0,
}
TIME = "20220316.030151"


def child_env() -> dict[str, str]:
    """No RUNLAB_* from outside; this Python's ``python3`` first on PATH for the example."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_script(folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "analyse.py").write_text(PARSE_BLEU + README_USAGE, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "analyse.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
    )


@pytest.fixture(scope="module")
def runlab_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/mlrunner run by ``runlab run params.yaml -o output`` (mlrunner's -o)."""
    folder = tmp_path_factory.mktemp("runlab-project")
    for path in EXAMPLE.iterdir():
        if path.suffix in (".py", ".yaml"):
            shutil.copy(path, folder / path.name)
    done = subprocess.run(
        [sys.executable, "-m", "runlab", "run", "params.yaml", "-o", "output"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def write_mlrunner_experiment(
    output: Path, name: str, spec: dict[str, object], bleu: float, *, stat: str = "finished"
) -> Path:
    """One folder as mlrunner's ``run`` leaves it: param, stat and one log per command."""
    folder = output / name
    folder.mkdir(parents=True)
    scripts = {
        command: f"CUDA_VISIBLE_DEVICES=0 python {command}.py > {folder}/log.{command}.{TIME} 2>&1"
        for command in ("train", "avg", "test")
    }
    param = {**spec, "_name": name, "_output": str(folder), "_time": TIME, "_scripts": scripts}
    (folder / "param").write_text(yaml.safe_dump(param, width=1000000), encoding="utf-8")
    (folder / "stat").write_text(
        yaml.safe_dump({"train": "finished", "avg": "finished", "test": stat}), encoding="utf-8"
    )
    (folder / f"log.train.{TIME}").write_text("epoch 001 | loss 4.3\n")
    (folder / f"log.avg.{TIME}").write_text("averaged\n")
    # An earlier launch's test log: the newest one must win.
    (folder / "log.test.20220101.000000").write_text("Generate test: BLEU4 = 1.00\n")
    (folder / f"log.test.{TIME}").write_text(f"Generate test: BLEU4 = {bleu:.2f}\n")
    return folder


@pytest.fixture(scope="module")
def mlrunner_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder as mlrunner wrote it for the README sweep, names from its spec2name."""
    folder = tmp_path_factory.mktemp("mlrunner-project")
    output = folder / "output"
    names = {
        ("new", 0.1, False): "Norm_new-Moment_0.1",
        ("new", 0.05, False): "Norm_new-Moment_0.05",
        ("batch", 0.1, False): "Norm_batch-Moment_0.1",
        ("batch", 0.05, False): "Norm_batch-Moment_0.05",
        ("batch", 0.1, True): "Norm_batch-EaStop_T",
    }
    for (norm, moment, early), name in names.items():
        spec = {"data": "iwslt14", "norm": norm, "moment": moment, "early-stop": early}
        write_mlrunner_experiment(output, name, spec, BLEU[(norm, moment, early)])
    (output / "params.yaml").write_text("# mlrunner's copy of the sweep file\n")
    return folder


def test_readme_usage_over_a_runlab_store(runlab_project: Path) -> None:
    done = run_script(runlab_project)
    assert done.returncode == 0, done.stderr
    # Folders by name; columns in the order params.json lists them; data never varies.
    assert done.stdout.splitlines() == [
        "norm\tmoment\tearly-stop\tbleu",
        "batch\t0.05\tFalse\t16.5",
        "new\t0.05\tFalse\t12.3",
        "batch\t0.1\tFalse\t14.4",
        "new\t0.1\tFalse\t11.0",
        "batch\t0.1\tTrue\t15.0",
    ]


def test_readme_usage_over_folders_mlrunner_wrote(mlrunner_project: Path) -> None:
    done = run_script(mlrunner_project)
    assert done.returncode == 0, done.stderr
    # mlrunner's YAML dump sorted the keys, so the columns come sorted.
    assert done.stdout.splitlines() == [
        "early-stop\tmoment\tnorm\tbleu",
        "True\t0.1\tbatch\t15.0",
        "False\t0.05\tbatch\t16.5",
        "False\t0.1\tbatch\t14.4",
        "False\t0.05\tnew\t12.3",
        "False\t0.1\tnew\t11.0",
    ]


def test_table_is_a_dataframe_of_the_varying_params_and_the_metrics(
    runlab_project: Path,
) -> None:
    examiner = Examiner()
    examiner.add(lambda path, exp, caches: exp.metric.update(bleu=_bleu(path)))
    examiner.exam(output=runlab_project / "output", regex="norm=new")
    frame = examiner.table()
    assert list(frame.columns) == ["moment", "bleu"]
    assert frame.to_dict("records") == [
        {"moment": 0.05, "bleu": 12.3},
        {"moment": 0.1, "bleu": 11.0},
    ]
    full = examiner.table(concise=False)
    assert list(full.columns) == ["data", "norm", "moment", "early-stop", "bleu"]


def _bleu(path: Path) -> float:
    log = latest_log("test", path)
    assert log is not None
    return float(log.read_text().rsplit("BLEU4 = ", 1)[1].split()[0])


def test_runlab_runs_have_mlrunner_reserved_params(runlab_project: Path) -> None:
    folder = runlab_project / "output" / "early-stop=True,moment=0.1,norm=batch"
    params = load_params(folder)
    assert params is not None
    assert params["_name"] == params["_id"] == folder.name
    assert params["_output"] == str(folder)
    assert params["early-stop"] is True
    assert latest_log("test", folder) == folder / "logs" / "test.log"
    assert latest_log("nothing", folder) is None


def test_one_examiner_reads_both_kinds_and_parsers_share_caches(
    runlab_project: Path, mlrunner_project: Path
) -> None:
    calls: list[str] = []

    def count(path: Path, experiment: Experiment, caches: dict[str, object]) -> None:
        calls.append(path.name)
        caches["seen"] = int(caches.get("seen", 0)) + 1  # type: ignore[call-overload]
        experiment.cache["folder"] = path
        experiment.metric["bleu"] = _bleu(path)

    examiner = Examiner()
    examiner.add(count)
    examiner.add(count)  # registered once, as in mlrunner
    examiner.exam(runlab_project / "output")
    examiner.exam(mlrunner_project / "output", regex="^Norm_new")
    assert len(calls) == 7 and examiner.caches == {"seen": 7}
    assert len(examiner.experiments) == 7
    assert examiner.experiments["Norm_new-Moment_0.1"].metric == {"bleu": 11.0}
    assert examiner.experiments["Norm_new-Moment_0.1"].param["_time"] == TIME


def test_parallel_exam_gives_the_same_table(runlab_project: Path) -> None:
    tables = []
    for workers in (-1, 3):
        examiner = Examiner()
        examiner.add(lambda path, exp, caches: exp.metric.update(bleu=_bleu(path)))
        examiner.exam(runlab_project / "output", workers=workers)
        tables.append(examiner.table().to_dict("records"))
    assert tables[0] == tables[1]
    assert len(tables[0]) == 5


def test_folders_without_params_are_skipped(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_mlrunner_experiment(tmp_path, "Lr_0.1", {"lr": 0.1}, 3.0)
    (tmp_path / "notes").mkdir()
    (tmp_path / ".hidden").mkdir()
    assert [p.name for p in match_output(tmp_path)] == ["Lr_0.1", "notes"]
    examiner = Examiner()
    examiner.exam(tmp_path, verbose=True)
    assert list(examiner.experiments) == ["Lr_0.1"]
    assert capsys.readouterr().out.splitlines() == [
        f"skip {tmp_path / 'notes'}: no param file or run.json",
        "Lr_0.1",
    ]


def test_a_param_missing_in_some_experiments_counts_as_varying(tmp_path: Path) -> None:
    write_mlrunner_experiment(tmp_path, "a", {"lr": 0.1, "beam": 5}, 3.0)
    write_mlrunner_experiment(tmp_path, "b", {"lr": 0.1}, 4.0)
    examiner = Examiner()
    examiner.exam(tmp_path)
    frame = examiner.table()
    assert list(frame.columns) == ["beam"]
    assert frame["beam"].tolist()[0] == 5 and frame["beam"].isna().tolist() == [False, True]


def test_print_tsv_leaves_missing_values_empty(tmp_path: Path, capsys) -> None:
    write_mlrunner_experiment(tmp_path, "a", {"lr": 0.1}, 3.0)
    write_mlrunner_experiment(tmp_path, "b", {"lr": 0.2}, 4.0)
    examiner = Examiner()
    examiner.add(lambda p, e, c: e.metric.update({"acc": 0.5} if p.name == "a" else {}))
    examiner.exam(tmp_path)
    examiner.table(print_tsv=True)
    assert capsys.readouterr().out.splitlines() == ["lr\tacc", "0.1\t0.5", "0.2\t"]


def test_latest_log_orders_mlrunner_logs_then_runlab_attempts(tmp_path: Path) -> None:
    (tmp_path / "log.test.20220101.000000").write_text("1")
    (tmp_path / "log.test.20220316.030151").write_text("2")
    for attempt in (10, 2):
        (tmp_path / "logs" / f"attempt-{attempt}").mkdir(parents=True)
        (tmp_path / "logs" / f"attempt-{attempt}" / "test.log").write_text(str(attempt))
    (tmp_path / "logs" / "test.log").write_text("now")
    (tmp_path / "log.test-big.20230101.000000").write_text("another command")
    found = [latest_log("test", tmp_path, i) for i in range(-6, 6)]
    texts = [p.read_text() if p else None for p in found]
    assert texts == [None, "1", "2", "2", "10", "now", "1", "2", "2", "10", "now", None]


def test_usage_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no output folder"):
        Examiner().exam(tmp_path / "missing")
    with pytest.raises(UsageError, match="is not a regular expression"):
        Examiner().exam(tmp_path, regex="(")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "param").write_text("- a list\n")
    with pytest.raises(UsageError, match=r"bad/param: expected a mapping"):
        Examiner().exam(tmp_path)


def test_import_line_documented_in_the_package_works() -> None:
    import runlab.compat.mlrunner as compat

    assert compat.__all__ == sorted(compat.__all__)
    assert textwrap.dedent(compat.__doc__ or "").count("from runlab.compat.mlrunner import") == 1
