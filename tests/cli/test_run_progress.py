"""`runlab run` progress when stderr is not a terminal: failures and a summary, no line per run."""

from __future__ import annotations


def test_plain_progress_names_failures_only(runlab):
    (runlab.cwd / "sweep.yaml").write_text(
        "name: mixed\ntemplate: \"sh -c 'exit {code}' {i}\"\n---\ncode: [0, 3]\ni: [1, 2]\n"
    )
    out = runlab.run("run", "sweep.yaml", "--workers", "2")
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert {"failed code=3,i=1", "failed code=3,i=2"} <= set(lines)
    assert not [line for line in lines if line.startswith("completed ")]
    assert "done 2 · failed 2 · running 0 · left 0" in lines
    assert "runs that did not complete" in out.stderr

    again = runlab.run("run", "sweep.yaml", "--workers", "2")
    assert "2 configs already done or running: skipped" in again.stderr.splitlines()
