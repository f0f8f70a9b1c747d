"""meticulous's documented usage, run for real: scripts in a git repository, as processes.

The scripts are the ones meticulous's README shows, with only the import line changed.
"""

from __future__ import annotations

import json
import os
import pickle
from datetime import datetime

import runlab

# meticulous's README example, import line adapted. FAIL / EXIT make it end badly.
TRAIN = """
    from runlab.compat.meticulous import Experiment  # was: from meticulous import Experiment
    import argparse
    import os
    import pickle as pkl
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    # Adds the "meticulous" argument group to your script
    Experiment.add_argument_group(parser)
    # Creates experiment object using original experiment args and "meticulous" args
    experiment = Experiment.from_parser(parser)
    args = parser.parse_args()
    print(f"training with batch size {args.batch_size}")
    print("a warning on stderr", file=sys.stderr)
    loss, accuracy = 1.0 / args.batch_size, 0.75
    weights = [0.5, -1.5]
    # Overwrites summary.json in experiment directory
    experiment.summary({'loss': loss, 'accuracy': accuracy})
    # Writes model file to the experiment directory
    with experiment.open('model.pkl', 'wb') as f:
        pkl.dump(weights, f)
    if os.environ.get("FAIL"):
        raise RuntimeError("diverged")
    if os.environ.get("EXIT"):
        sys.exit(int(os.environ["EXIT"]))
"""

# The README's loop of experiments; k == 2 fails, and the loop must go on.
LOOP = """
    from runlab.compat.meticulous import Experiment

    for k in range(1, 4):
        with Experiment({"k": k}) as exp:
            print(f"running kmeans with k={k}")
            if k == 2:
                raise ValueError(f"k={k} is unlucky")
            exp.summary({"loss": 12.0 / k})
    print("loop done")
"""


def add_train(project) -> str:
    project.write("train.py", TRAIN)
    return project.commit("train.py", message="add train.py")


def test_the_readme_script_records_a_meticulous_folder_that_is_a_runlab_run(project):
    sha = add_train(project)
    done = project.python("train.py", "--batch-size", "32", "--description", "first try")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "training with batch size 32\n"
    assert project.expids() == ["1"]
    folder = project.experiments / "1"

    assert project.text("1", "STATUS") == "SUCCESS"
    assert project.json("1", "args.json") == {"batch_size": 32}
    assert project.json("1", "default_args.json") == {"batch_size": 64}
    metadata = project.json("1", "metadata.json")
    assert list(metadata) == [
        "githead-sha",
        "githead-message",
        "description",
        "timestamp",
        "command",
    ]
    assert metadata["githead-sha"] == sha
    assert metadata["githead-message"] == "add train.py"
    assert metadata["description"] == "first try"
    assert datetime.fromisoformat(metadata["timestamp"]).tzinfo is None  # local, as meticulous
    assert metadata["command"] == ["train.py", "--batch-size", "32", "--description", "first try"]
    assert os.readlink(folder / "stdout") == "stdout.log"
    assert os.readlink(folder / "stderr") == "stderr.log"
    assert project.text("1", "stdout") == "training with batch size 32\n"
    assert project.text("1", "stderr") == "a warning on stderr\n"
    assert project.json("1", "summary.json") == {"loss": 1 / 32, "accuracy": 0.75}
    with open(folder / "model.pkl", "rb") as f:
        assert pickle.load(f) == [0.5, -1.5]

    # The same folder is a runlab run: run.json, params.json, the index, `runlab ls`.
    record = project.json("1", "run.json")
    assert (record["status"], record["description"], record["git"]["sha"]) == (
        "completed",
        "first try",
        sha,
    )
    assert project.json("1", "params.json") == {"batch_size": 32}
    listed = project.python("-m", "runlab", "--store", "experiments", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["status"], row["params.batch_size"]) == ("1", "completed", 32)
    frame = runlab.load(project.experiments).df()
    assert frame["metrics.loss"].tolist() == [1 / 32]

    # git is only read: no commit made, no .gitignore written.
    assert project.git("log", "--format=%s").splitlines() == ["add train.py", "start"]
    assert not (project.root / ".gitignore").exists()
    assert project.git("status", "--porcelain") == "?? experiments/\n"


def test_an_uncaught_exception_is_an_error_with_its_traceback(project):
    add_train(project)
    project.env["FAIL"] = "1"
    done = project.python("train.py")
    assert done.returncode == 1
    assert done.stderr.endswith("RuntimeError: diverged\n")
    status = project.text("1", "STATUS")
    assert status.startswith("ERROR\nTraceback (most recent call last):\n")
    assert status.endswith('    raise RuntimeError("diverged")\nRuntimeError: diverged')
    assert project.text("1", "stderr").endswith("RuntimeError: diverged\n")
    # What was recorded before the failure stays.
    assert project.json("1", "summary.json") == {"loss": 1 / 64, "accuracy": 0.75}
    assert project.json("1", "run.json")["status"] == "failed"


def test_a_clean_sys_exit_is_a_success_and_an_exit_code_an_error(project):
    add_train(project)
    project.env["EXIT"] = "0"
    assert project.python("train.py").returncode == 0
    project.env["EXIT"] = "3"
    assert project.python("train.py").returncode == 3
    assert project.text("1", "STATUS") == "SUCCESS"  # meticulous said ERROR here
    assert project.text("2", "STATUS") == "ERROR\nSystemExit: 3"


def test_the_loop_records_each_experiment_and_goes_on_after_a_failure(project):
    project.write("loop.py", LOOP)
    sha = project.commit("loop.py")
    done = project.python("loop.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "loop done"
    assert done.stderr.endswith("ValueError: k=2 is unlucky\n")  # shown, then the loop went on
    assert project.expids() == ["1", "2", "3"]
    assert [project.json(i, "args.json") for i in ("1", "2", "3")] == [{"k": 1}, {"k": 2}, {"k": 3}]
    assert [project.json(i, "default_args.json") for i in ("1", "2", "3")] == [{}, {}, {}]
    assert project.text("1", "STATUS") == "SUCCESS"
    assert project.text("3", "STATUS") == "SUCCESS"
    error = project.text("2", "STATUS")
    assert error.startswith("ERROR\nTraceback (most recent call last):\n")
    assert error.endswith("ValueError: k=2 is unlucky")
    # Each experiment captured its own output, and only while it ran.
    assert [project.text(i, "stdout") for i in ("1", "2", "3")] == [
        f"running kmeans with k={k}\n" for k in (1, 2, 3)
    ]
    assert project.text("2", "stderr").endswith("ValueError: k=2 is unlucky\n")
    assert project.text("3", "stderr") == ""
    assert project.json("3", "summary.json") == {"loss": 4.0}
    assert project.json("2", "metadata.json")["githead-sha"] == sha
    assert [project.json(i, "run.json")["status"] for i in ("1", "2", "3")] == [
        "completed",
        "failed",
        "completed",
    ]


def test_norecord_records_nothing_and_allows_uncommitted_changes(project):
    add_train(project)
    (project.root / "train.py").write_text((project.root / "train.py").read_text() + "# wip\n")
    done = project.python("train.py", "--norecord")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "training with batch size 64\n"
    assert not project.experiments.exists()


def test_uncommitted_changes_are_refused_before_any_folder_is_made(project):
    add_train(project)
    (project.root / "train.py").write_text((project.root / "train.py").read_text() + "# wip\n")
    done = project.python("train.py")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith(
        "has uncommitted changes: train.py (commit them to record an experiment, "
        "or pass --norecord)"
    )
    assert project.expids() == []


def test_resume_reuses_the_experiment_with_the_same_args_and_commit(project):
    add_train(project)
    project.env["FAIL"] = "1"
    assert project.python("train.py", "--resume").returncode == 1
    del project.env["FAIL"]
    assert project.python("train.py", "--resume").returncode == 0
    assert project.expids() == ["1"]
    assert project.text("1", "STATUS") == "SUCCESS"
    assert project.json("1", "run.json")["attempt"] == 2
    # Other args, or another commit, make a new experiment.
    assert project.python("train.py", "--resume", "--batch-size", "8").returncode == 0
    project.write("notes.txt", "more\n")
    project.commit("notes.txt")
    assert project.python("train.py", "--resume").returncode == 0
    assert project.expids() == ["1", "2", "3"]


def test_experiment_id_names_the_folder_and_refuses_other_args(project):
    add_train(project)
    assert project.python("train.py", "--experiment-id", "best").returncode == 0
    assert project.text("best", "STATUS") == "SUCCESS"
    done = project.python("train.py", "--experiment-id", "best", "--batch-size", "8")
    assert done.returncode == 1
    assert "run best was recorded with batch_size=64, this run has batch_size=8" in done.stderr
    assert project.json("best", "args.json") == {"batch_size": 64}


def test_a_killed_experiment_reads_as_an_error_not_running_forever(project):
    project.write(
        "killed.py",
        """
        import os
        from runlab.compat.meticulous import Experiment

        exp = Experiment({"k": 1})
        os._exit(9)  # as SIGKILL would: no exit hook runs
        """,
    )
    project.commit("killed.py")
    assert project.python("killed.py").returncode == 9
    assert project.text("1", "STATUS") == "RUNNING"
    from runlab.compat.meticulous import ExperimentReader

    exp = ExperimentReader(project.experiments / "1")
    assert (exp.status, exp.status_message) == (
        "ERROR",
        "the process ended without recording an outcome (runlab status: lost)",
    )
