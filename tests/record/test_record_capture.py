"""Output capture: each run's logs hold its own output, which still reaches the terminal."""

from __future__ import annotations

from pathlib import Path

from record_helpers import read_json

from runlab.record.reader import RunReader


def test_each_run_of_a_loop_logs_only_its_own_output(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import os, sys, runlab

        print("before", flush=True)
        for i in range(3):
            with runlab.start({"i": i}, store="runs", catch=True) as run:
                print(f"py {i}", flush=True)
                os.system(f"echo child {i}; echo child-err {i} >&2")
                os.write(1, f"c-level {i}\\n".encode())
                os.write(2, f"c-level-err {i}\\n".encode())
                print(f"py-err {i}", file=sys.stderr, flush=True)
                if i == 1:
                    raise ValueError(f"bad {i}")
            print(f"between {i}", flush=True)
        print("after", flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    # The script's own stdout got everything, in order, run or no run.
    assert result.stdout == "".join(
        ["before\n"]
        + [f"py {i}\nchild {i}\nc-level {i}\nbetween {i}\n" for i in range(3)]
        + ["after\n"]
    )
    for i in range(3):
        assert f"child-err {i}\nc-level-err {i}\npy-err {i}\n" in result.stderr
    store = tmp_path / "runs"
    for i in range(3):
        run_dir = store / str(i + 1)
        assert read_json(run_dir / "params.json") == {"i": i}
        assert (run_dir / "stdout.log").read_text() == f"py {i}\nchild {i}\nc-level {i}\n"
        err = f"child-err {i}\nc-level-err {i}\npy-err {i}\n"
        assert (run_dir / "stderr.log").read_text() == err
    # catch=True recorded the failure and let the loop go on.
    failed = read_json(store / "2" / "run.json")
    assert failed["status"] == "failed"
    assert failed["error"] == "ValueError: bad 1"
    assert (store / "2" / "error.txt").read_text().endswith("ValueError: bad 1\n")
    assert [read_json(store / n / "run.json")["status"] for n in "13"] == ["completed"] * 2
    assert not (store / "1" / "error.txt").exists()


def test_a_child_outliving_its_run_corrupts_nothing(run_script, tmp_path: Path) -> None:
    # The child keeps run 1's pipes open past run 1's end, while run 2 opens files that
    # would get the freed descriptor numbers.
    result = run_script(
        """
        import subprocess, time, runlab

        with runlab.start({"i": 1}, store="runs") as run:
            print("run 1", flush=True)
            child = subprocess.Popen(
                ["sh", "-c", "read line; echo late-out; echo late-err >&2"],
                stdin=subprocess.PIPE,
            )
        with runlab.start({"i": 2}, store="runs") as run:
            print("run 2", flush=True)
            run.summary(a=1)
            child.communicate(b"go\\n")  # now the child writes, after run 1 ended
            run.log(step=0, x=1)
            # Run 1's copying thread outlived it; wait (bounded) until it has copied.
            out1, err1 = run.dir.parent / "1" / "stdout.log", run.dir.parent / "1" / "stderr.log"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (
                b"late-out" in out1.read_bytes() and b"late-err" in err1.read_bytes()
            ):
                time.sleep(0.01)
            print("run 2 end", flush=True)
        print("done", flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Exception" not in result.stderr
    # Two copying threads reach the terminal, so only the order within each is fixed.
    lines = result.stdout.splitlines()
    assert sorted(lines) == sorted(["run 1", "run 2", "late-out", "run 2 end", "done"])
    assert lines[0] == "run 1" and lines[-2:] == ["run 2 end", "done"]
    assert "late-err" in result.stderr
    store = tmp_path / "runs"
    assert (store / "2" / "stdout.log").read_text() == "run 2\nrun 2 end\n"
    assert (store / "2" / "stderr.log").read_text() == ""
    # The late output belongs to run 1's child; it lands in run 1's log, nowhere else.
    assert (store / "1" / "stdout.log").read_text() == "run 1\nlate-out\n"
    assert (store / "1" / "stderr.log").read_text() == "late-err\n"
    for n in "12":
        assert read_json(store / n / "run.json")["status"] == "completed"
    assert read_json(store / "2" / "summary.json") == {"a": 1, "x": 1}
    assert [r["x"] for r in RunReader(store / "2").metrics().to_dict("records")] == [1]


def test_without_capture_nothing_is_logged(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import runlab
        with runlab.start({}, store="runs", capture=False):
            print("hello", flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\n"
    names = {p.name for p in (tmp_path / "runs" / "1").iterdir()}
    assert "stdout.log" not in names


def test_output_of_a_run_finished_at_exit_is_captured(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import os, runlab
        run = runlab.start({}, store="runs")
        print("buffered, never flushed by the script")
        os.system("echo from a child")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "from a child\nbuffered, never flushed by the script\n"
    log = (tmp_path / "runs" / "1" / "stdout.log").read_text()
    assert log == "from a child\nbuffered, never flushed by the script\n"


def test_a_run_inside_a_run_logs_to_both_without_blocking(run_script, tmp_path: Path) -> None:
    # The inner run's output goes through the outer run's pipe; more than a pipe holds
    # (64 KiB) must not block the copying of either.
    result = run_script(
        """
        import os, runlab
        line = "x" * 99 + "\\n"
        with runlab.start({"r": "outer"}, store="runs") as outer:
            print("outer start", flush=True)
            with runlab.start({"r": "inner"}, store="runs") as inner:
                for _ in range(2000):
                    os.write(1, line.encode())
                print("inner end", flush=True)
            print("outer end", flush=True)
        print("done", flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    inner_text = "x" * 99 + "\n"
    inner = inner_text * 2000 + "inner end\n"
    assert result.stdout == "outer start\n" + inner + "outer end\ndone\n"
    store = tmp_path / "runs"
    assert (store / "1" / "stdout.log").read_text() == "outer start\n" + inner + "outer end\n"
    assert (store / "2" / "stdout.log").read_text() == inner
    assert [read_json(store / n / "params.json")["r"] for n in "12"] == ["outer", "inner"]


def test_many_runs_in_one_process_each_log_their_own_output(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import sys, runlab
        for i in range(50):
            with runlab.start({"i": i}, store="runs") as run:
                print(f"out {i}", flush=True)
                print(f"err {i}", file=sys.stderr, flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(f"out {i}\n" for i in range(50))
    for i in range(50):
        run_dir = tmp_path / "runs" / str(i + 1)
        assert (run_dir / "stdout.log").read_text() == f"out {i}\n"
        assert (run_dir / "stderr.log").read_text() == f"err {i}\n"


def test_a_forked_child_ending_leaves_the_parents_capture_working(
    run_script, tmp_path: Path
) -> None:
    # The child exits normally, so its atexit finishes the inherited run; the parent's
    # pipes must still be copied after that (more than a pipe holds, or it would block).
    result = run_script(
        """
        import os, runlab
        with runlab.start({}, store="runs") as run:
            pid = os.fork()
            if pid == 0:
                print("child", flush=True)
                raise SystemExit(0)
            os.waitpid(pid, 0)
            for i in range(2000):
                print("parent", "y" * 90, i, flush=True)
        print("done", flush=True)
        """
    )
    assert result.returncode == 0, result.stderr
    parent = "".join(f"parent {'y' * 90} {i}\n" for i in range(2000))
    assert result.stdout == "child\n" + parent + "done\n"
    assert (tmp_path / "runs" / "1" / "stdout.log").read_text() == "child\n" + parent
