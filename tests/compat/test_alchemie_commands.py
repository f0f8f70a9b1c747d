"""alchemie's documented usage, run for real: ``runlab create`` and ``runlab run-one`` as processes.

The experiment module implements the five functions with the signatures alchemie's
README gives (``preamble(job_index)``, ``draw_pars(n=1)``, ``load_data(pars)``,
``new_trainer(pars, data)``, ``make_report(pars, trainer, data)``); ``alc.py create
<module> <location> --amount=<n>`` becomes ``runlab create <location> --from <module>
--amount <n>`` and ``alc.py run <module> <location>/<k>`` becomes ``runlab run-one
<location>/<k>``. Its trainer logs every iteration to ``trainer.log`` in the config
folder, so the tests can tell an iteration that ran twice from one that ran once.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runlab.compat.alchemie import read_config

TIMEOUT = 60.0
STEPS = 12

# When its folder holds a file "hold", the trainer stops in iteration WAIT_AT of its
# first attempt and prints "ready", then finishes that iteration only once the test has
# signalled it and created the file "go": the signal lands mid-iteration every time,
# and no test sleeps a fixed time.
EXPERIMENT = f"""
import os
import random
import time

STEPS = {STEPS}
WAIT_AT = 3


def preamble(job_index):
    pre = "#SUBMIT: runner=runlab run-one\\n"
    pre += "#SBATCH -J exp_%d\\n" % job_index
    pre += "#SBATCH --signal=INT@900\\n"
    return pre


def draw_pars(n=1):
    rng = random.Random(n)
    return [
        {{"step_rate": rng.choice([0.1, 0.2, 0.3]), "n_hidden": rng.choice([3, 5]),
          "optimizer": ("rmsprop", {{"decay": 0.9}})}}
        for _ in range(n)
    ]


def load_data(pars):
    return {{"train": [0.0, 1.0], "val": [0.5], "test": [0.25]}}


class Trainer:
    def __init__(self, pars, data):
        self.pars = pars
        self.data = data
        self.n_iter = 0
        self.loss = 1.0
        self.waited = False

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["data"]  # loaded anew at each continuation
        return state

    def _log(self, line):
        with open("trainer.log", "a") as f:
            f.write(line + "\\n")

    def iter_fit(self):
        self._log("start %d" % self.n_iter)
        while self.n_iter < STEPS:
            if self.n_iter + 1 == WAIT_AT and os.path.exists("hold") and not self.waited:
                self.waited = True
                print("ready", flush=True)
                deadline = time.monotonic() + 60
                while not os.path.exists("go") and time.monotonic() < deadline:
                    time.sleep(0.01)
            self.loss *= 1 - self.pars["step_rate"]
            self.n_iter += 1
            self._log("iter %d" % self.n_iter)
            print("iteration %d" % self.n_iter, flush=True)
            yield {{"n_iter": self.n_iter, "train_loss": self.loss}}


def new_trainer(pars, data):
    return Trainer(pars, data)


def make_report(pars, trainer, data):
    return {{"train_loss": trainer.loss, "n_iter": trainer.n_iter,
             "has_data": trainer.data is data, "curve": [1.0, trainer.loss]}}
"""


def runlab(project: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``runlab ARGS`` in the project to its end."""
    return project.python("-m", "runlab", *args)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class Training:
    """``runlab run-one`` as a child process whose stdout lines the test reads as they come."""

    def __init__(self, project: Any, folder: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runlab", "run-one", folder],
            cwd=project.root,
            env=project.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and self.lines.empty()):
                pytest.fail(f"no {text!r} from run-one; it printed {self.seen}")
            try:
                self.seen.append(self.lines.get(timeout=min(left, 0.5)))
            except queue.Empty:
                pass

    def finish(self) -> tuple[int, str]:
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        return self.proc.wait(timeout=TIMEOUT), err

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def exps(project: Any) -> Iterator[Path]:
    """A project with the experiment module committed; yields where the configs go."""
    project.write("exp.py", EXPERIMENT)
    project.commit("exp.py", message="experiment")
    yield project.root / "exps"


def interrupt(project: Any, folder: Path, signum: int) -> tuple[int, str]:
    """Run ``run-one`` on ``folder``, send ``signum`` mid-iteration; return exit code, stderr."""
    (folder / "hold").touch()
    training = Training(project, str(folder.relative_to(project.root)))
    try:
        training.wait_for("ready")
        training.proc.send_signal(signum)
        (folder / "go").touch()
        return training.finish()
    finally:
        training.kill()


def iterations(folder: Path) -> list[str]:
    return (folder / "trainer.log").read_text(encoding="utf-8").splitlines()


def test_the_alchemie_workflow(project, exps):
    # alc.py create exp.py exps --amount=3
    done = runlab(project, "create", "exps", "--from", "exp.py", "--amount", "3")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "created 3 configurations in exps: 1-3\n",
        "",
    )
    assert sorted(p.name for p in exps.iterdir() if not p.name.startswith(".")) == ["1", "2", "3"]
    for k in (1, 2, 3):
        text = (exps / str(k) / "cfg.py").read_text(encoding="utf-8")
        preamble = f"#SUBMIT: runner=runlab run-one\n#SBATCH -J exp_{k}\n#SBATCH --signal=INT@900\n"
        assert text.startswith(preamble + "\npars = {")
        pars = read_config(exps / str(k))
        assert pars["optimizer"] == ("rmsprop", {"decay": 0.9})  # a tuple stays a tuple
        params = read(exps / str(k) / "params.json")
        assert params == {**pars, "optimizer": ["rmsprop", {"decay": 0.9}]}
        assert read(exps / str(k) / "run.json")["status"] == "queued"
        assert read(exps / str(k) / "alchemie.json") == {"module": str(project.root / "exp.py")}
    before = {k: snapshot(exps / str(k)) for k in (1, 2, 3)}

    # Creating again adds 4 and 5 and leaves 1-3 alone, bytes and mtimes.
    done = runlab(project, "create", "exps", "--from", "exp.py", "--amount", "2")
    assert (done.returncode, done.stdout) == (0, "created 2 configurations in exps: 4-5\n")
    assert sorted(int(p.name) for p in exps.iterdir() if p.name.isdigit()) == [1, 2, 3, 4, 5]
    assert {k: snapshot(exps / str(k)) for k in (1, 2, 3)} == before
    assert (
        (exps / "5" / "cfg.py")
        .read_text(encoding="utf-8")
        .startswith("#SUBMIT: runner=runlab run-one\n#SBATCH -J exp_5\n")
    )

    # alc.py run exp.py exps/1, interrupted with SIGINT in the middle of iteration 3.
    one = exps / "1"
    code, err = interrupt(project, one, signal.SIGINT)
    assert code == 9, err
    assert "run 1 interrupted by SIGINT after 3 iterations" in err
    assert "continue with: runlab run-one exps/1" in err
    assert iterations(one) == ["start 0", "iter 1", "iter 2", "iter 3"]  # 3 ended, then stop
    interim = read(one / "report-1.json")
    assert interim == {
        "train_loss": pytest.approx(interim["train_loss"]),
        "n_iter": 3,
        "has_data": True,
        "curve": [1.0, interim["train_loss"]],
    }
    report = read(one / "reports" / "1.json")
    assert {k: report[k] for k in ("attempt", "status", "final", "iterations", "source")} == {
        "attempt": 1,
        "status": "interrupted",
        "final": False,
        "iterations": 3,
        "source": "report-1.json",
    }
    assert report["summary"] == interim
    assert not (one / "report-last.json").exists()
    record = read(one / "run.json")
    assert (record["status"], record["exit_code"], record["attempt"]) == ("interrupted", 9, 1)
    scalars = ("train_loss", "n_iter", "has_data")  # the report's values but its list
    assert read(one / "summary.json") == {k: interim[k] for k in scalars}
    assert (one / "checkpoint.pkl").exists()

    # Run again: it continues from the checkpoint, no iteration is repeated, and completes.
    done = runlab(project, "run-one", "exps/1")
    assert done.returncode == 0, done.stderr
    assert "run 1 completed after 12 iterations: exps/1/report-last.json" in done.stderr
    assert done.stdout.splitlines() == [f"iteration {n}" for n in range(4, STEPS + 1)]
    log = iterations(one)
    assert [line for line in log if line.startswith("start")] == ["start 0", "start 3"]
    assert [line for line in log if line.startswith("iter")] == [
        f"iter {n}" for n in range(1, STEPS + 1)
    ]
    final = read(one / "report-last.json")
    assert (final["n_iter"], final["has_data"]) == (STEPS, True)  # trainer.data set again
    report = read(one / "reports" / "2.json")
    assert (report["attempt"], report["status"], report["final"]) == (2, "completed", True)
    assert report["summary"] == final
    assert read(one / "reports" / "1.json")["final"] is False
    record = read(one / "run.json")
    assert (record["status"], record["exit_code"], record["attempt"]) == ("completed", 0, 2)
    assert read(one / "summary.json") == {k: final[k] for k in scalars}
    assert read(one / "params.json") == read(exps / "1" / "params.json")
    assert not (one / "error.txt").exists()

    # A third call does nothing at all.
    before_third = snapshot(one)
    done = runlab(project, "run-one", "exps/1")
    assert (done.returncode, done.stdout) == (0, "run exps/1 is already complete: nothing to do\n")
    assert snapshot(one) == before_third


def test_sigterm_preemption_then_runlab_queries(project, exps):
    assert runlab(project, "create", "exps", "--from", "exp.py", "--amount", "3").returncode == 0
    # A cluster preempts with SIGTERM: the same interrupted attempt as Ctrl-C.
    code, err = interrupt(project, exps / "2", signal.SIGTERM)
    assert code == 9, err
    assert "run 2 interrupted by SIGTERM after 3 iterations" in err
    record = read(exps / "2" / "run.json")
    assert (record["status"], record["error"]) == (
        "interrupted",
        "interrupted by SIGTERM after 3 iterations",
    )
    assert runlab(project, "run-one", "exps/3").returncode == 0  # never interrupted

    listed = runlab(project, "--store", "exps", "ls", "-c", "id,status,n_iter", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"id": "1", "status": "queued", "metrics.n_iter": None},
        {"id": "2", "status": "interrupted", "metrics.n_iter": 3},
        {"id": "3", "status": "completed", "metrics.n_iter": STEPS},
    ]

    assert runlab(project, "run-one", "exps/2").returncode == 0
    losses = {k: read(exps / k / "summary.json")["train_loss"] for k in ("2", "3")}
    best = min(losses, key=losses.__getitem__)
    done = runlab(
        project, "--store", "exps", "best", "--metric", "train_loss", "--mode", "min", "--json"
    )
    if done.returncode == 2 and "No such command 'best'" in done.stderr:
        pytest.skip("runlab best does not exist yet")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(row["id"], row["metrics.train_loss"]) for row in rows] == [(best, losses[best])]
