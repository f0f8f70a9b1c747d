"""`runlab show`, `logs` and `diff` on runs recorded by real `runlab exec` processes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli import cli
from runlab.record.compare import UNSET, Change, changes, flatten
from runlab.record.logs import follow, tail_lines, tail_offset

# Plain text whatever the terminal asks: rich would style its output when forced to.
RUNNER = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1"})

LINES = """
    import sys
    import runlab
    for i in range(1, 13):
        print(f"line {i}")
    print("warn 1", file=sys.stderr)
    runlab.current().summary(acc=float(sys.argv[1]))
"""


class Recorded:
    """A store with two runs: ``base`` (run 1, clean tree) and ``wide`` (run 2, dirty tree)."""

    def __init__(self, tool, sha_a: str, sha_b: str) -> None:
        self.tool = tool
        self.store: Path = tool.store
        self.sha_a = sha_a
        self.sha_b = sha_b

    def invoke(self, *args: str) -> tuple[int, str]:
        result = RUNNER.invoke(cli, ["--store", str(self.store), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def recorded(runlab_in, tmp_path_factory) -> Recorded:
    tool = runlab_in(tmp_path_factory.mktemp("shared") / "repo")
    script = tool.script("lines.py", LINES)
    sha_a = tool.git("rev-parse", "HEAD")
    first = tool.run("exec", "--name", "base", "-p", "lr=0.1", "-p", "layers=2", "--",
                     sys.executable, str(script), "0.9")  # fmt: skip
    assert first.returncode == 0, first.stderr
    (tool.cwd / "model.txt").write_text("layers: 3\n")
    tool.git("commit", "-q", "-am", "second model")
    sha_b = tool.git("rev-parse", "HEAD")
    (tool.cwd / "model.txt").write_text("layers: 4\n")
    second = tool.run("exec", "--name", "wide", "-p", "lr=0.2", "-p", "layers=2", "-p", "extra=x",
                      "--", sys.executable, str(script), "0.95")  # fmt: skip
    assert second.returncode == 0, second.stderr
    return Recorded(tool, sha_a, sha_b)


# -- show ---------------------------------------------------------------------------------


def test_show_prints_the_record_params_summary_and_log_tails(recorded):
    code, out = recorded.invoke("show", "base")

    assert code == 0
    head, _, rest = out.partition("\n\nparams\n")
    lines = head.splitlines()
    assert lines[0] == "run 1  base  completed"
    assert f"  {'host':<9}  {socket.gethostname()}" in lines
    assert f"  {'exit code':<9}  0" in lines
    assert f"  {'git':<9}  {recorded.sha_a[:12]} (main) first model" in lines
    assert f"  {'folder':<9}  {recorded.store / '1'}" in lines
    assert any(line.startswith("  command    ") and "lines.py 0.9" in line for line in lines)
    assert not any(line.startswith("  error") for line in lines)
    tail = "\n".join(f"  line {i}" for i in range(3, 13))
    assert rest == (
        "  lr      0.1\n"
        "  layers  2\n"
        "\n"
        "summary\n"
        "  acc  0.9\n"
        "\n"
        "stdout (last 10 lines)\n"
        f"{tail}\n"
        "\n"
        "stderr (last 10 lines)\n"
        "  warn 1\n"
    )


def test_show_json_is_one_object_with_everything(recorded):
    code, out = recorded.invoke("show", "2", "--json")

    assert code == 0
    data = json.loads(out)
    assert sorted(data) == sorted(
        [
            "id", "name", "status", "description", "tags", "start", "end", "duration", "host",
            "command", "cwd", "git", "attempt", "exit_code", "error", "dir", "params", "summary",
            "stdout_tail", "stderr_tail",
        ]
    )  # fmt: skip
    assert (data["id"], data["name"], data["status"]) == ("2", "wide", "completed")
    assert data["params"] == {"lr": 0.2, "layers": 2, "extra": "x"}
    assert data["summary"] == {"acc": 0.95}
    assert data["stdout_tail"] == [f"line {i}" for i in range(3, 13)]
    assert data["stderr_tail"] == ["warn 1"]
    assert data["git"]["sha"] == recorded.sha_b
    assert data["git"]["dirty"] is True
    assert (data["exit_code"], data["error"]) == (0, None)
    assert data["host"] == socket.gethostname()
    assert data["duration"] >= 0
    assert data["end"] > data["start"]


def test_show_a_running_run_whose_process_is_gone_says_lost(recorded, tmp_path):
    store = tmp_path / "runs"
    shutil.copytree(recorded.store / "1", store / "9")
    record = json.loads((store / "9" / "run.json").read_text())
    # This process, but started at another time: the pid was recycled, the run is dead.
    record.update(status="running", end=None, pid=os.getpid(), pid_start=0.0)
    (store / "9" / "run.json").write_text(json.dumps(record))

    result = RUNNER.invoke(cli, ["--store", str(store), "show", "9"])
    as_json = RUNNER.invoke(cli, ["--store", str(store), "show", "9", "--json"])
    data = json.loads(as_json.stdout)

    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "run 9  base  lost"
    assert data["status"] == "lost"


# -- logs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], "".join(f"line {i}\n" for i in range(1, 13))),
        (["--stderr"], "warn 1\n"),
        (["-n", "3"], "line 10\nline 11\nline 12\n"),
        (["--tail", "100"], "".join(f"line {i}\n" for i in range(1, 13))),
        (["-n", "0"], ""),
        (["--stderr", "--tail", "1"], "warn 1\n"),
        (["--follow"], "".join(f"line {i}\n" for i in range(1, 13))),
    ],
)
def test_logs_prints_the_log_as_written(recorded, args, expected):
    code, out = recorded.invoke("logs", "base", *args)
    assert code == 0
    assert out == expected


def test_logs_follow_prints_what_a_live_run_appends_until_it_ends(runlab):
    script = runlab.script(
        "slow.py",
        """
        import pathlib, sys, time
        print("zero", flush=True)
        print("first", flush=True)
        go = pathlib.Path(sys.argv[1])
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        print("second", flush=True)
        """,
    )
    run = runlab.start("exec", "--", sys.executable, str(script), str(runlab.cwd / "go"))
    runlab.wait_for_output("first")
    shown = runlab.run("show", "1", "--json")
    assert json.loads(shown.stdout)["status"] == "running"
    out_path = runlab.cwd / "followed.txt"

    with out_path.open("wb") as out:
        follower = runlab.start("logs", "1", "--follow", "-n", "1", stdout=out)
        runlab.wait_until(lambda: "first\n" in runlab.file_text(out_path), "the first line")
        assert follower.poll() is None  # the run is still running: keep following
        (runlab.cwd / "go").touch()
        assert run.wait(timeout=120) == 0
        assert follower.wait(timeout=120) == 0

    assert out_path.read_text() == "first\nsecond\n"


# -- diff ---------------------------------------------------------------------------------


def test_diff_shows_only_what_differs_with_both_values(recorded):
    code, out = recorded.invoke("diff", "base", "wide")

    assert code == 0
    a, b = recorded.sha_a, recorded.sha_b
    assert out == (
        f"{'':12}  {'run 1 (base)':40}  run 2 (wide)\n"
        f"{'params.extra':12}  {'<unset>':40}  x\n"
        f"{'params.lr':12}  {'0.1':40}  0.2\n"
        f"{'summary.acc':12}  {'0.9':40}  0.95\n"
        f"{'git.dirty':12}  {'false':40}  true\n"
        f"{'git.sha':12}  {a:40}  {b}\n"
    )


def test_diff_json(recorded):
    code, out = recorded.invoke("diff", "1", "2", "--json")

    assert code == 0
    assert json.loads(out) == {
        "a": {"id": "1", "name": "base"},
        "b": {"id": "2", "name": "wide"},
        "params": {"extra": [None, "x"], "lr": [0.1, 0.2]},
        "summary": {"acc": [0.9, 0.95]},
        "git": {"dirty": [False, True], "sha": [recorded.sha_a, recorded.sha_b]},
    }


def test_diff_of_a_run_with_itself_says_so(recorded):
    code, out = recorded.invoke("diff", "1", "base")
    assert code == 0
    assert out == "runs 1 and 1 have the same params, summary and git\n"


# -- a run that does not exist ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["show", "nope"],
        ["show", "--json", "nope"],
        ["logs", "nope"],
        ["logs", "--follow", "nope"],
        ["diff", "nope", "1"],
        ["diff", "1", "nope"],
        ["show", "../nope"],
    ],
    ids=" ".join,
)
def test_missing_run_is_one_line_and_exit_2(recorded, args):
    result = recorded.tool.run(*args)

    missing = args[-1] if args[-1] != "1" else args[-2]
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"error: no run with id or name {missing!r} in store {recorded.store}\n"


@pytest.mark.parametrize("command", ["show", "logs", "diff"])
def test_help_shows_a_runnable_example(command):
    result = RUNNER.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert f"runlab {command} " in result.stdout


# -- the library pieces ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content,lines,expected",
    [
        (b"", 3, b""),
        (b"a\nb\nc\n", 2, b"b\nc\n"),
        (b"a\nb\nc", 2, b"b\nc"),
        (b"a\nb\nc\n", 3, b"a\nb\nc\n"),
        (b"a\nb\nc\n", 10, b"a\nb\nc\n"),
        (b"a\nb\nc\n", 0, b""),
        (b"a\n\n\n", 2, b"\n\n"),
        (b"\n", 1, b"\n"),
    ],
)
def test_tail_offset(tmp_path, content, lines, expected):
    path = tmp_path / "log"
    path.write_bytes(content)
    assert content[tail_offset(path, lines) :] == expected


def test_tail_offset_reads_across_blocks_of_a_big_log(tmp_path):
    path = tmp_path / "log"
    lines = [f"{i:06d} " + "x" * 993 for i in range(300)]  # ~300 kB, several 64 kB blocks
    path.write_text("\n".join(lines) + "\n")
    assert tail_lines(path, 150) == lines[150:]
    assert tail_lines(path, 1) == lines[-1:]


def test_tail_of_a_missing_log_is_empty(tmp_path):
    assert tail_offset(tmp_path / "none", 5) == 0
    assert tail_lines(tmp_path / "none", 5) == []


def test_follow_yields_what_was_written_before_the_run_ended(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"one\n")
    asked = []

    def running() -> bool:
        asked.append(True)
        if len(asked) == 2:  # the run writes its last line, then ends, between two polls
            with path.open("ab") as f:
                f.write(b"two\n")
        return len(asked) < 2

    assert b"".join(follow(path, running=running, poll_seconds=0)) == b"one\ntwo\n"


def test_changes_compare_canonical_values_and_flatten_nested_keys():
    a = {"lr": 1, "flag": True, "opt": {"name": "adam", "beta": 0.9}, "only_a": 0}
    b = {"lr": 1.0, "flag": 1, "opt": {"name": "adam", "beta": 0.99}, "nan": float("nan")}
    assert changes(a, b) == [
        Change("flag", True, 1),
        Change("nan", UNSET, b["nan"]),
        Change("only_a", 0, UNSET),
        Change("opt.beta", 0.9, 0.99),
    ]
    assert changes({"x": float("nan")}, {"x": float("nan")}) == []
    assert flatten({"a": {"b": {"c": 1}}, "d": {}}) == {"a.b.c": 1, "d": {}}
