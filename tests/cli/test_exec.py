"""`runlab exec`: any command recorded as a run, through real processes, fds and signals."""

from __future__ import annotations

import json
import math
import os
import signal
import sys

import psutil
import pytest
from click.testing import CliRunner

from runlab.cli import cli
from runlab.record.command import outcome_of_returncode, parse_params, parse_value
from runlab.record.reader import RunReader
from runlab.record.status import RunStatus

PRINTS = """
    import sys
    print("out 1")
    print("out 2")
    print("err 1", file=sys.stderr)
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""

# Prints "ready" once its signal dispositions are in place, then waits for the file
# named in argv[1] (at most two minutes) and prints "finished".
WAITS = """
    import pathlib, sys, time
    print("ready", flush=True)
    go = pathlib.Path(sys.argv[1])
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("finished", flush=True)
"""


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


# -- a command that succeeds, fails, or is killed --------------------------------------


def test_exec_records_a_completed_run_with_its_output_on_the_terminal_and_in_the_logs(runlab):
    script = runlab.script("prints.py", PRINTS)
    head = runlab.git("rev-parse", "HEAD")

    result = runlab.run("exec", "--", sys.executable, str(script))

    assert result.returncode == 0
    assert result.stdout == "out 1\nout 2\n"
    assert result.stderr == "err 1\nrunlab: run 1 completed\n"
    assert (runlab.run_dir() / "stdout.log").read_text() == "out 1\nout 2\n"
    assert (runlab.run_dir() / "stderr.log").read_text() == "err 1\n"
    record = runlab.record()
    assert record["status"] == "completed"
    assert record["exit_code"] == 0
    assert record["error"] is None
    assert record["argv"] == [sys.executable, str(script)]
    assert record["command"] == f"{sys.executable} {script}"
    assert record["cwd"] == str(runlab.cwd)
    assert record["git"]["sha"] == head
    assert record["git"]["branch"] == "main"
    assert record["git"]["dirty"] is False
    assert record["end"] is not None and record["duration"] >= 0
    assert not (runlab.run_dir() / "error.txt").exists()


def test_exec_failing_command_fails_the_run_and_runlab_exits_with_its_code(runlab):
    script = runlab.script("prints.py", PRINTS)

    result = runlab.run("exec", "--", sys.executable, str(script), "3")

    assert result.returncode == 3
    assert result.stdout == "out 1\nout 2\n"
    assert last_line(result.stderr) == "runlab: run 1 failed: command exited with code 3"
    record = runlab.record()
    assert (record["status"], record["exit_code"]) == ("failed", 3)
    assert record["error"] == "command exited with code 3"
    assert (runlab.run_dir() / "error.txt").read_text() == "command exited with code 3\n"
    assert (runlab.run_dir() / "stdout.log").read_text() == "out 1\nout 2\n"


@pytest.mark.parametrize(
    "signame,status",
    [("SIGKILL", "failed"), ("SIGTERM", "interrupted"), ("SIGINT", "interrupted")],
)
def test_exec_child_killed_by_a_signal(runlab, signame, status):
    number = getattr(signal, signame)
    script = runlab.script(
        "killed.py",
        f"""
        import os, signal
        print("before", flush=True)
        if {number} != signal.SIGKILL:  # the default action, whatever this process inherited
            signal.signal({number}, signal.SIG_DFL)
        os.kill(os.getpid(), {number})
        """,
    )

    result = runlab.run("exec", "--", sys.executable, str(script))

    assert result.returncode == 128 + number
    assert result.stdout == "before\n"
    assert last_line(result.stderr) == f"runlab: run 1 {status}: killed by {signame}"
    record = runlab.record()
    assert (record["status"], record["exit_code"]) == (status, 128 + number)
    assert record["error"] == f"killed by {signame}"


def test_exec_command_not_found_is_recorded_failed_with_127(runlab):
    result = runlab.run("exec", "--", "no-such-command-for-runlab", "--flag")

    assert result.returncode == 127
    assert result.stdout == ""
    assert last_line(result.stderr) == "error: command not found: no-such-command-for-runlab"
    assert "Traceback" not in result.stderr
    record = runlab.record()
    assert (record["status"], record["exit_code"]) == ("failed", 127)
    assert record["error"] == "command not found: no-such-command-for-runlab"
    assert record["argv"] == ["no-such-command-for-runlab", "--flag"]


def test_exec_file_that_is_not_executable_is_recorded_failed_with_126(runlab):
    script = runlab.script("not_executable.py", "print('never')\n")

    result = runlab.run("exec", "--", str(script))

    assert result.returncode == 126
    assert last_line(result.stderr) == f"error: cannot execute {script}: Permission denied"
    record = runlab.record()
    assert (record["status"], record["exit_code"]) == ("failed", 126)


# -- params, names, tags -----------------------------------------------------------------


def test_exec_params_are_typed_from_yaml_scalars(runlab):
    result = runlab.run(
        "exec",
        "-p", "lr=0.1",
        "-p", "n=3",
        "-p", "flag=true",
        "-p", "name=abc",
        "-p", "small=1e-3",
        "-p", "nothing=null",
        "-p", "empty=",
        "-p", "switch=on",
        "-p", "seed=010",
        "-p", "ratio=1:30",
        "--", sys.executable, "-c", "pass",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    params = runlab.params()
    assert params == {
        "lr": 0.1,
        "n": 3,
        "flag": True,
        "name": "abc",
        "small": 0.001,
        "nothing": None,
        "empty": "",
        "switch": "on",
        "seed": 10,
        "ratio": "1:30",
    }
    assert [type(params[k]) for k in ("lr", "n", "flag")] == [float, int, bool]


def test_exec_param_values_are_recorded_literally_and_never_reach_a_shell(runlab):
    nasty = """a b; touch pwned1 && echo "dq" 'sq' $(touch pwned2) `touch pwned3` | cat > pwned4"""
    script = runlab.script(
        "argv.py",
        """
        import json, sys
        print(json.dumps(sys.argv[1:]))
        """,
    )

    result = runlab.run("exec", "-p", f"note={nasty}", "--", sys.executable, str(script), nasty)

    assert result.returncode == 0, result.stderr
    assert runlab.params() == {"note": nasty}
    assert json.loads(result.stdout) == [nasty]
    assert runlab.record()["argv"] == [sys.executable, str(script), nasty]
    assert sorted(p.name for p in runlab.cwd.iterdir() if p.name.startswith("pwned")) == []


@pytest.mark.parametrize(
    "bad,message",
    [
        ("lr", "error: -p 'lr': expected KEY=VALUE, e.g. -p lr=0.1"),
        ("=3", "error: -p '=3': expected KEY=VALUE, e.g. -p lr=0.1"),
    ],
)
def test_exec_malformed_param_is_one_line_usage_error(runlab, bad, message):
    result = runlab.run("exec", "-p", bad, "--", sys.executable, "-c", "pass")

    assert result.returncode == 2
    assert result.stderr == message + "\n"
    assert result.stdout == ""
    assert not runlab.store.exists() or not any(runlab.store.iterdir())


def test_exec_param_given_twice_is_a_usage_error(runlab):
    result = runlab.run("exec", "-p", "lr=1", "-p", "lr=2", "--", sys.executable, "-c", "pass")

    assert result.returncode == 2
    assert result.stderr == "error: -p lr: given twice; give each key once\n"


def test_exec_records_name_description_tags_and_run_id(runlab):
    result = runlab.run(
        "exec",
        "--name", "baseline",
        "--description", "the first try",
        "--tag", "team=nlp",
        "--tag", "ticket=0042",
        "--run-id", "exp-1",
        "--", sys.executable, "-c", "pass",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert last_line(result.stderr) == "runlab: run exp-1 completed"
    record = runlab.record("exp-1")
    assert record["name"] == "baseline"
    assert record["description"] == "the first try"
    assert record["tags"] == {"team": "nlp", "ticket": "0042"}


def test_exec_without_double_dash_passes_the_command_options_through(runlab):
    script = runlab.script("argv.py", "import json, sys\nprint(json.dumps(sys.argv[1:]))\n")

    result = runlab.run("exec", "-p", "lr=0.1", sys.executable, str(script), "--lr", "0.1", "-p")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["--lr", "0.1", "-p"]
    assert runlab.params() == {"lr": 0.1}


def test_exec_require_clean_refuses_a_dirty_tree_and_records_nothing(runlab):
    (runlab.cwd / "model.txt").write_text("layers: 3\n")

    result = runlab.run("exec", "--require-clean", "--", sys.executable, "-c", "pass")

    assert result.returncode == 2
    assert result.stderr == (
        f"error: git tree {runlab.cwd} has uncommitted changes: model.txt "
        "(commit or stash them, or drop --require-clean)\n"
    )
    assert not runlab.store.exists() or not any(runlab.store.iterdir())


def test_exec_records_a_dirty_tree_and_its_diff(runlab):
    (runlab.cwd / "model.txt").write_text("layers: 3\n")

    result = runlab.run("exec", "--", sys.executable, "-c", "pass")

    assert result.returncode == 0, result.stderr
    assert runlab.record()["git"]["dirty"] is True
    assert "+layers: 3" in (runlab.run_dir() / "git.diff").read_text()


# -- the run seen from inside the command -------------------------------------------------


def test_current_inside_the_command_logs_metrics_into_the_same_run(runlab):
    script = runlab.script(
        "train.py",
        """
        import os
        import runlab
        run = runlab.current()
        for step in range(3):
            run.log(loss=1 / (step + 1))
        run.summary(acc=0.9)
        print(os.environ["RUNLAB_RUN_ID"], os.environ["RUNLAB_STORE"], run.params["lr"])
        """,
    )

    result = runlab.run("exec", "-p", "lr=0.5", "--", sys.executable, str(script))

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"1 {runlab.store} 0.5\n"
    reader = RunReader(runlab.run_dir())
    assert reader.status is RunStatus.COMPLETED
    assert reader.summary == {"acc": 0.9, "loss": 1 / 3}
    metrics = reader.metrics()
    assert list(metrics["step"]) == [0, 1, 2]
    assert list(metrics["loss"]) == [1.0, 0.5, 1 / 3]
    assert reader.dir == runlab.run_dir()


# -- signals sent to runlab while the command runs ----------------------------------------


def test_sigterm_to_runlab_is_forwarded_and_the_run_recorded_interrupted(runlab):
    script = runlab.script(
        "waits.py",
        WAITS.replace('print("ready"', 'import os; print(os.getpid()); print("ready"'),
    )
    proc = runlab.start("exec", "--", sys.executable, str(script), str(runlab.cwd / "go"))
    runlab.wait_for_output("ready")
    child_pid = int((runlab.run_dir() / "stdout.log").read_text().split()[0])

    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=120) == 143
    record = runlab.record()
    assert (record["status"], record["exit_code"]) == ("interrupted", 143)
    assert record["error"] == "killed by SIGTERM"
    assert not psutil.pid_exists(child_pid) or psutil.Process(child_pid).status() == "zombie"
    assert "finished" not in (runlab.run_dir() / "stdout.log").read_text()


def test_ctrl_c_stops_the_command_and_runlab_records_interrupted(runlab):
    # Ctrl-C sends SIGINT to the whole foreground process group: runlab and the command.
    script = runlab.script("waits.py", WAITS)
    proc = runlab.start("exec", "--", sys.executable, str(script), str(runlab.cwd / "go"))
    runlab.wait_for_output("ready")

    os.killpg(proc.pid, signal.SIGINT)

    assert proc.wait(timeout=120) == 130
    record = runlab.record()
    assert (record["status"], record["exit_code"]) == ("interrupted", 130)
    assert "KeyboardInterrupt" in (runlab.run_dir() / "stderr.log").read_text()


def test_sigint_to_runlab_alone_lets_the_command_finish(runlab):
    script = runlab.script("waits.py", WAITS)
    proc = runlab.start("exec", "--", sys.executable, str(script), str(runlab.cwd / "go"))
    runlab.wait_for_output("ready")

    proc.send_signal(signal.SIGINT)
    (runlab.cwd / "go").touch()

    assert proc.wait(timeout=120) == 0
    assert runlab.record()["status"] == "completed"
    assert (runlab.run_dir() / "stdout.log").read_text() == "ready\nfinished\n"


# -- the pieces, without processes -------------------------------------------------------


@pytest.mark.parametrize(
    "text,value",
    [
        ("0.1", 0.1),
        ("3", 3),
        ("-3", -3),
        ("+7", 7),
        ("1e-3", 0.001),
        ("2.5E+2", 250.0),
        (".5", 0.5),
        ("0x1F", 31),
        ("0o17", 15),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("null", None),
        ("~", None),
        ("", ""),
        ("abc", "abc"),
        ("yes", "yes"),
        ("off", "off"),
        ("'quoted'", "'quoted'"),
        ('"0.1"', '"0.1"'),
        ("[1, 2]", "[1, 2]"),
        ("a: b", "a: b"),
        ("x # y", "x # y"),
        ("1.2.3", "1.2.3"),
        ("2024-01-01", "2024-01-01"),
        ("-.inf", -math.inf),
        (".inf", math.inf),
    ],
)
def test_parse_value_reads_yaml_core_scalars_and_keeps_other_text_literally(text, value):
    parsed = parse_value(text)
    assert parsed == value
    assert type(parsed) is type(value)


def test_parse_value_nan():
    assert math.isnan(parse_value(".nan"))


def test_parse_params_keeps_everything_after_the_first_equals_sign():
    assert parse_params(["expr=a=b", " key =1"]) == {"expr": "a=b", "key": 1}


@pytest.mark.parametrize(
    "returncode,terminated,expected",
    [
        (0, False, (RunStatus.COMPLETED, 0, None)),
        (3, False, (RunStatus.FAILED, 3, "command exited with code 3")),
        (-9, False, (RunStatus.FAILED, 137, "killed by SIGKILL")),
        (-15, False, (RunStatus.INTERRUPTED, 143, "killed by SIGTERM")),
        (-2, False, (RunStatus.INTERRUPTED, 130, "killed by SIGINT")),
        (-15, True, (RunStatus.INTERRUPTED, 143, "killed by SIGTERM")),
        (
            0,
            True,
            (
                RunStatus.INTERRUPTED,
                0,
                "terminated by SIGTERM (the command exited with code 0)",
            ),
        ),
    ],
)
def test_outcome_of_returncode(returncode, terminated, expected):
    outcome = outcome_of_returncode(returncode, terminated=terminated)
    assert (outcome.status, outcome.exit_code, outcome.error) == expected


def test_exec_help_shows_a_runnable_example():
    result = CliRunner().invoke(cli, ["exec", "--help"])
    assert result.exit_code == 0
    assert "runlab exec -p lr=0.1 -p layers=2 -- python train.py" in result.output


def test_exec_without_a_command_is_a_usage_error(runlab):
    result = runlab.run("exec", "-p", "lr=0.1")
    assert result.returncode == 2
    assert "Missing argument 'COMMAND...'" in result.stderr
    assert "Traceback" not in result.stderr
